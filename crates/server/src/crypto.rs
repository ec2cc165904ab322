//! Secrets: the activation-data cipher (key from settings, never from the
//! database), session tokens, and a wrapper that refuses to print.

use anyhow::{Context, anyhow};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

/// A value that must never reach a log: `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(v: T) -> Self {
        Self(v)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Encrypts what the server keeps secret at rest (activation data, the
/// PESEL, USOS tokens) with ChaCha20-Poly1305 and a random nonce.
///
/// A sealed value names its key: `<key id>:<hex of nonce and ciphertext>`,
/// the key id being the first 8 hex digits of a hash of the key (never the
/// key). Sealing uses the current key; opening finds the key by its id
/// among the current and the previous ones, so `rotate-key` can re-seal
/// while the old key still opens. Values sealed before key ids (bare hex)
/// are tried with each key.
#[derive(Clone)]
pub struct SecretBox {
    current: Key32,
    previous: Vec<Key32>,
}

#[derive(Clone)]
struct Key32 {
    id: String,
    cipher: ChaCha20Poly1305,
}

impl Key32 {
    fn from_hex(key_hex: &Secret<String>) -> anyhow::Result<Self> {
        let bytes = hex::decode(key_hex.expose().trim()).context("the key is not hex")?;
        if bytes.len() != 32 {
            return Err(anyhow!(
                "a key must be 32 bytes (64 hex digits), got {}",
                bytes.len()
            ));
        }
        let mut h = Sha256::new();
        h.update(b"legitka key id\0");
        h.update(&bytes);
        Ok(Self {
            id: hex::encode(&h.finalize()[..4]),
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
        })
    }

    fn open(&self, bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        if bytes.len() < 12 {
            return Err(anyhow!("sealed value too short"));
        }
        let (nonce, ct) = bytes.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| anyhow!("decryption failed (wrong key or tampered data)"))
    }
}

impl SecretBox {
    /// `key_hex` is 64 hex digits (32 bytes).
    pub fn from_hex(key_hex: &Secret<String>) -> anyhow::Result<Self> {
        Self::with_previous(key_hex, &[])
    }

    /// The current key, and keys that still open what they sealed.
    pub fn with_previous(
        current: &Secret<String>,
        previous: &[Secret<String>],
    ) -> anyhow::Result<Self> {
        let current = Key32::from_hex(current)?;
        let previous = previous
            .iter()
            .enumerate()
            .map(|(i, k)| Key32::from_hex(k).with_context(|| format!("previous key {}", i + 1)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(
            previous.iter().all(|p| p.id != current.id),
            "a previous key is the current key"
        );
        Ok(Self { current, previous })
    }

    /// The current key's id (what `rotate-key` re-seals towards).
    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    pub fn seal(&self, plaintext: &[u8]) -> anyhow::Result<String> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .current
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .map_err(|_| anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{}:{}", self.current.id, hex::encode(out)))
    }

    pub fn open(&self, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let keys = || std::iter::once(&self.current).chain(&self.previous);
        match sealed.split_once(':') {
            Some((id, body)) => {
                let bytes = hex::decode(body).context("sealed value is not hex")?;
                let key = keys().find(|k| k.id == id).ok_or_else(|| {
                    anyhow!("sealed with key {id}, which is neither the current nor a previous key")
                })?;
                key.open(&bytes)
            }
            None => {
                let bytes = hex::decode(sealed).context("sealed value is not hex")?;
                keys()
                    .find_map(|k| k.open(&bytes).ok())
                    .ok_or_else(|| anyhow!("decryption failed (wrong key or tampered data)"))
            }
        }
    }

    /// The value sealed with the current key, or `None` if it already is.
    pub fn reseal(&self, sealed: &str) -> anyhow::Result<Option<String>> {
        if sealed
            .split_once(':')
            .is_some_and(|(id, _)| id == self.current.id)
        {
            return Ok(None);
        }
        self.seal(&self.open(sealed)?).map(Some)
    }
}

/// A column holding sealed values, declared by the module that owns its
/// table, so `rotate-key` can re-seal it without knowing what it means.
#[derive(Clone, Copy, Debug)]
pub struct SealedColumn {
    pub table: &'static str,
    /// The row's key (unique).
    pub key: &'static str,
    pub column: &'static str,
}

/// A fresh opaque token: 32 random bytes as hex.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Tokens and codes are stored only as their SHA-256.
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secret<String> {
        Secret::new("11".repeat(32))
    }

    #[test]
    fn seal_then_open_round_trips_and_hides_the_plaintext() {
        let b = SecretBox::from_hex(&key()).unwrap();
        let sealed = b.seal(b"12345678").unwrap();
        assert!(!sealed.contains(&hex::encode(b"12345678")));
        assert_eq!(b.open(&sealed).unwrap(), b"12345678");
        // Random nonces: the same plaintext seals differently.
        assert_ne!(sealed, b.seal(b"12345678").unwrap());
    }

    #[test]
    fn wrong_key_or_tampering_is_refused() {
        let b = SecretBox::from_hex(&key()).unwrap();
        let sealed = b.seal(b"x").unwrap();
        let other = SecretBox::from_hex(&Secret::new("22".repeat(32))).unwrap();
        assert!(other.open(&sealed).is_err());
        let mut t = sealed.into_bytes();
        let last = t.len() - 1;
        t[last] = if t[last] == b'0' { b'1' } else { b'0' };
        assert!(b.open(std::str::from_utf8(&t).unwrap()).is_err());
    }

    #[test]
    fn a_value_names_its_key_and_opens_while_that_key_is_kept() {
        let old = SecretBox::from_hex(&key()).unwrap();
        let sealed = old.seal(b"codes").unwrap();
        let (id, _) = sealed.split_once(':').unwrap();
        assert_eq!(id, old.key_id());
        assert_eq!(id.len(), 8);
        assert!(!key().expose().contains(id), "the id is not the key");

        let new_key = Secret::new("33".repeat(32));
        let rotated = SecretBox::with_previous(&new_key, &[key()]).unwrap();
        assert_ne!(rotated.key_id(), old.key_id());
        assert_eq!(rotated.open(&sealed).unwrap(), b"codes");
        let resealed = rotated
            .reseal(&sealed)
            .unwrap()
            .expect("an old key's value is re-sealed");
        assert!(resealed.starts_with(rotated.key_id()));
        assert_eq!(rotated.reseal(&resealed).unwrap(), None, "already current");

        // Without the old key, its values no longer open; the new ones do.
        let only_new = SecretBox::from_hex(&new_key).unwrap();
        let err = only_new.open(&sealed).unwrap_err().to_string();
        assert!(err.contains(old.key_id()), "{err}");
        assert_eq!(only_new.open(&resealed).unwrap(), b"codes");

        // A value from before key ids (bare hex) is tried with each key.
        let bare = sealed.split_once(':').unwrap().1;
        assert_eq!(rotated.open(bare).unwrap(), b"codes");
        assert!(rotated.reseal(bare).unwrap().is_some());
        assert!(SecretBox::with_previous(&key(), &[key()]).is_err());
    }

    #[test]
    fn bad_keys_are_rejected() {
        assert!(SecretBox::from_hex(&Secret::new("zz".into())).is_err());
        assert!(SecretBox::from_hex(&Secret::new("11".repeat(16))).is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("1234")), "Secret(***)");
    }
}
