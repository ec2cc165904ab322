//! Wire types shared by the Legitka server, the app shell and the UI.
//!
//! Everything here is plain data with serde derives: no I/O, no clocks, no
//! randomness, so it compiles unchanged for the server, the Tauri shell and
//! the wasm UI. Times on the wire are Unix milliseconds (UTC).

use serde::{Deserialize, Serialize};

/// Path prefix of the versioned student API.
pub const API_PREFIX: &str = "/api/v1";

/// How many times the activation data of one order may be revealed (seed 000).
pub const MAX_REVEALS: u8 = 3;

/// The life cycle of an mLegitymacja order, as USOSweb names it (seed 001).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// "oczekujący": accepted, not yet taken by the issuer.
    Pending,
    /// "w toku": the issuer is preparing the activation data.
    InProgress,
    /// "gotowy do pobrania": activation data can be revealed.
    Ready,
    /// "odebrane": mObywatel activated the card.
    Received,
    /// "cofnięty do poprawy": the student must correct and resubmit.
    ReturnedForCorrection,
    /// "Błąd": the issuer failed.
    Error,
    /// "Anulowane": the student cancelled before pickup.
    Cancelled,
    /// "Unieważnione": revoked.
    Revoked,
    /// Activation data or the card itself is no longer valid.
    Expired,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        Self::Pending,
        Self::InProgress,
        Self::Ready,
        Self::Received,
        Self::ReturnedForCorrection,
        Self::Error,
        Self::Cancelled,
        Self::Revoked,
        Self::Expired,
    ];

    /// The stable name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Ready => "ready",
            Self::Received => "received",
            Self::ReturnedForCorrection => "returned_for_correction",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// An open order blocks a new one: the student already has a card on the way or in hand.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Pending | Self::InProgress | Self::Ready | Self::Received
        )
    }
}

/// Stable machine codes for every error the API or the app shell reports.
/// Clients translate them; the `message` beside them is for logs and developers.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    InvalidCredentials,
    Unauthorized,
    NotFound,
    NotEligible,
    OrderExists,
    NoOrder,
    NotReady,
    /// The order is not in a state that allows this step.
    InvalidTransition,
    RevealLimitReached,
    ActivationExpired,
    InvalidActivationCode,
    AlreadyActivated,
    RateLimited,
    Internal,
    /// App shell only: the university server could not be reached.
    ServerUnreachable,
    /// App shell only: the server answered something that is not our API.
    BadResponse,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 17] = [
        Self::BadRequest,
        Self::InvalidCredentials,
        Self::Unauthorized,
        Self::NotFound,
        Self::NotEligible,
        Self::OrderExists,
        Self::NoOrder,
        Self::NotReady,
        Self::InvalidTransition,
        Self::RevealLimitReached,
        Self::ActivationExpired,
        Self::InvalidActivationCode,
        Self::AlreadyActivated,
        Self::RateLimited,
        Self::Internal,
        Self::ServerUnreachable,
        Self::BadResponse,
    ];
}

/// The one error shape of the API (and of the app shell's commands).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SignInResponse {
    pub access_token: String,
    pub student: StudentSummary,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StudentSummary {
    pub first_name: String,
    pub last_name: String,
    pub album_number: Option<String>,
}

/// One eligibility rule (seeds 001, 002, 004).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum CheckCode {
    ActiveStudent,
    HasPesel,
    HasAlbumNumber,
    HasPhoto,
    HasEls,
    ElsValid,
    DataUnchangedSinceEls,
    StudyLevel,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct EligibilityCheck {
    pub code: CheckCode,
    pub ok: bool,
}

/// What the home screen shows: who, whether they may order, and the current order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StudentState {
    pub student: StudentSummary,
    pub eligible: bool,
    pub checks: Vec<EligibilityCheck>,
    pub order: Option<OrderView>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OrderView {
    pub id: String,
    pub status: OrderStatus,
    pub created_at: i64,
    pub updated_at: i64,
    /// How many more times the activation data may be revealed.
    pub reveals_left: u8,
    /// When the activation data stops being accepted (30 days after generation).
    pub activation_expires_at: Option<i64>,
    /// Why the issuer returned or failed the order, as a machine code.
    pub reason: Option<String>,
}

/// The secret part: shown to the student, typed into mObywatel. Never pushed, never stored by the app.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ActivationData {
    pub qr_payload: String,
    pub manual_code: String,
    pub activation_code: String,
    pub expires_at: i64,
    pub reveals_left: u8,
}

/// A live status notice on the event stream.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StatusEvent {
    pub order: OrderView,
}

/// What mObywatel sends to activate a card: the scanned QR payload or the
/// manually typed code, plus the activation code.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ActivationRequest {
    #[serde(default)]
    pub qr_payload: Option<String>,
    #[serde(default)]
    pub manual_code: Option<String>,
    pub activation_code: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ActivationResponse {
    pub activated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip_and_match_serde() {
        for st in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(st.as_str()), Some(st));
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(json, format!("\"{}\"", st.as_str()));
        }
        assert_eq!(OrderStatus::parse("gotowy"), None);
    }

    #[test]
    fn open_statuses_are_the_ones_that_block_a_new_order() {
        let open: Vec<_> = OrderStatus::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .collect();
        assert_eq!(
            open,
            [
                OrderStatus::Pending,
                OrderStatus::InProgress,
                OrderStatus::Ready,
                OrderStatus::Received
            ]
        );
    }

    #[test]
    fn error_shape_is_code_plus_message() {
        let e = ApiError {
            code: ErrorCode::RevealLimitReached,
            message: "no reveals left".into(),
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":"reveal_limit_reached","message":"no reveals left"}"#
        );
    }

    #[test]
    fn activation_request_accepts_either_code() {
        let r: ActivationRequest =
            serde_json::from_str(r#"{"manual_code":"AB12","activation_code":"1"}"#).unwrap();
        assert_eq!(r.qr_payload, None);
        assert_eq!(r.manual_code.as_deref(), Some("AB12"));
    }
}
