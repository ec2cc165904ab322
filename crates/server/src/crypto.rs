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

/// Encrypts activation data at rest with ChaCha20-Poly1305 and a random nonce.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl SecretBox {
    /// `key_hex` is 64 hex digits (32 bytes).
    pub fn from_hex(key_hex: &Secret<String>) -> anyhow::Result<Self> {
        let bytes = hex::decode(key_hex.expose().trim()).context("activation key is not hex")?;
        if bytes.len() != 32 {
            return Err(anyhow!(
                "activation key must be 32 bytes (64 hex digits), got {}",
                bytes.len()
            ));
        }
        Ok(Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
        })
    }

    pub fn seal(&self, plaintext: &[u8]) -> anyhow::Result<String> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .map_err(|_| anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(hex::encode(out))
    }

    pub fn open(&self, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let bytes = hex::decode(sealed).context("sealed value is not hex")?;
        if bytes.len() < 12 {
            return Err(anyhow!("sealed value too short"));
        }
        let (nonce, ct) = bytes.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| anyhow!("decryption failed (wrong key or tampered data)"))
    }
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
    fn bad_keys_are_rejected() {
        assert!(SecretBox::from_hex(&Secret::new("zz".into())).is_err());
        assert!(SecretBox::from_hex(&Secret::new("11".repeat(16))).is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("1234")), "Secret(***)");
    }
}
