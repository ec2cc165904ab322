//! The activation data at rest: what the issuer hands over when an order is
//! ready, sealed with the server's key before it touches the database and
//! opened only to reveal it to its student.

use crate::crypto::{Secret, SecretBox};
use crate::error::AppResult;
use legitka_wire::ActivationData;
use serde::{Deserialize, Serialize};

/// What the issuer hands over when an order is ready.
pub struct IssuedActivation {
    pub qr_payload: String,
    pub manual_code: String,
    pub activation_code: Secret<String>,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    qr_payload: String,
    manual_code: String,
    activation_code: String,
}

/// The sealed form stored in `orders.activation_secret`.
pub fn seal(secrets: &SecretBox, activation: &IssuedActivation) -> AppResult<String> {
    let plain = serde_json::to_vec(&Sealed {
        qr_payload: activation.qr_payload.clone(),
        manual_code: activation.manual_code.clone(),
        activation_code: activation.activation_code.expose().clone(),
    })
    .map_err(anyhow::Error::from)?;
    Ok(secrets.seal(&plain)?)
}

/// The codes again, for the student who reveals them.
pub fn open(
    secrets: &SecretBox,
    sealed: &str,
    expires_at: i64,
    reveals_left: u8,
) -> AppResult<ActivationData> {
    let plain = secrets.open(sealed)?;
    let codes: Sealed = serde_json::from_slice(&plain).map_err(anyhow::Error::from)?;
    Ok(ActivationData {
        qr_payload: codes.qr_payload,
        manual_code: codes.manual_code,
        activation_code: codes.activation_code,
        expires_at,
        reveals_left,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_codes_open_only_with_their_key() {
        let key = SecretBox::from_hex(&Secret::new("11".repeat(32))).unwrap();
        let issued = IssuedActivation {
            qr_payload: "MLEG1.payload".into(),
            manual_code: "ABCD-EFGH".into(),
            activation_code: Secret::new("12345678".into()),
        };
        let sealed = seal(&key, &issued).unwrap();
        for plain in ["MLEG1.payload", "ABCD-EFGH", "12345678"] {
            assert!(!sealed.contains(plain));
        }
        let data = open(&key, &sealed, 7, 2).unwrap();
        assert_eq!(data.activation_code, "12345678");
        assert_eq!((data.expires_at, data.reveals_left), (7, 2));
        let other = SecretBox::from_hex(&Secret::new("22".repeat(32))).unwrap();
        assert!(open(&other, &sealed, 7, 2).is_err());
    }
}
