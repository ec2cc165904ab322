//! Wire types shared by the Legitka server, the app shell and the UI.
//!
//! Everything here is plain data with serde derives: no I/O, no clocks, no
//! randomness, so it compiles unchanged for the server, the Tauri shell and
//! the wasm UI. Times on the wire are Unix milliseconds (UTC).

use serde::{Deserialize, Serialize};

pub mod bridge;
pub mod notice;
#[cfg(feature = "qr")]
pub mod qr;

/// Path prefix of the versioned student API.
pub const API_PREFIX: &str = "/api/v1";

/// How many times the activation data of one order may be revealed (seed 000).
pub const MAX_REVEALS: u8 = 3;

/// After revocation the card may stay valid this long (seed 004): 24 hours.
pub const REVOCATION_GRACE_MS: i64 = 24 * 60 * 60 * 1000;

/// The life cycle of an mLegitymacja order, as USOSweb names it (seed 001).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    InvalidCredentials,
    /// A pairing code that is unknown, already used or expired.
    InvalidPairingCode,
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
    pub const ALL: [ErrorCode; 18] = [
        Self::BadRequest,
        Self::InvalidCredentials,
        Self::InvalidPairingCode,
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

    /// The wire name (what serde writes).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidPairingCode => "invalid_pairing_code",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::NotEligible => "not_eligible",
            Self::OrderExists => "order_exists",
            Self::NoOrder => "no_order",
            Self::NotReady => "not_ready",
            Self::InvalidTransition => "invalid_transition",
            Self::RevealLimitReached => "reveal_limit_reached",
            Self::ActivationExpired => "activation_expired",
            Self::InvalidActivationCode => "invalid_activation_code",
            Self::AlreadyActivated => "already_activated",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::ServerUnreachable => "server_unreachable",
            Self::BadResponse => "bad_response",
        }
    }
}

/// The one error shape of the API (and of the app shell's commands).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInResponse {
    #[serde(flatten)]
    pub tokens: TokenPair,
    pub student: StudentSummary,
}

/// A short-lived access token and the one-use refresh token that renews it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at: i64,
}

/// A pairing code from the university's web page, traded for a session.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairRequest {
    pub code: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudentSummary {
    pub first_name: String,
    pub last_name: String,
    pub album_number: Option<String>,
}

/// One eligibility rule (seeds 001, 002, 004).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

impl CheckCode {
    pub const ALL: [CheckCode; 8] = [
        Self::ActiveStudent,
        Self::HasPesel,
        Self::HasAlbumNumber,
        Self::HasPhoto,
        Self::HasEls,
        Self::ElsValid,
        Self::DataUnchangedSinceEls,
        Self::StudyLevel,
    ];

    /// The wire name (what serde writes).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ActiveStudent => "active_student",
            Self::HasPesel => "has_pesel",
            Self::HasAlbumNumber => "has_album_number",
            Self::HasPhoto => "has_photo",
            Self::HasEls => "has_els",
            Self::ElsValid => "els_valid",
            Self::DataUnchangedSinceEls => "data_unchanged_since_els",
            Self::StudyLevel => "study_level",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EligibilityCheck {
    pub code: CheckCode,
    pub ok: bool,
}

/// What the home screen shows: who, whether they may order, and the current order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudentState {
    pub student: StudentSummary,
    pub eligible: bool,
    pub checks: Vec<EligibilityCheck>,
    pub order: Option<OrderView>,
    /// What the student may do now.
    pub actions: Vec<StudentAction>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderView {
    pub id: String,
    pub kind: OrderKind,
    pub status: OrderStatus,
    pub created_at: i64,
    pub updated_at: i64,
    /// How many more times the activation data may be revealed.
    pub reveals_left: u8,
    /// When the activation data stops being accepted (30 days after generation).
    pub activation_expires_at: Option<i64>,
    /// Until when the card is valid (follows the ELS; set when it is issued).
    pub card_valid_until: Option<i64>,
    /// Why the order reached its status, when there is a reason.
    pub reason: Option<Reason>,
}

/// Why an order was made.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// The first mLegitymacja, or a new one after the previous ended.
    New,
    /// After an ELS extension: the next semester (seeds 000, 002, 004).
    Renewal,
    /// New codes after a lost phone; the old card is invalidated (seed 003).
    Replacement,
}

/// Machine codes for why an order reached its status; the app translates them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Shown three times without receipt: the process starts again (seed 000).
    RevealLimitReached,
    /// Not activated within 30 days (seed 002).
    ActivationExpired,
    /// The card's validity (the ELS's) ended.
    CardExpired,
    /// Replaced by a renewal after an ELS extension.
    Renewed,
    /// Replaced after a lost phone.
    LostPhone,
    /// Graduation or removal from the student list (seeds 000, 002).
    StudentRemoved,
    /// The issuer reported an error.
    IssuerError,
    /// Returned for correction: the photo does not meet the requirements.
    PhotoRejected,
    /// Returned for correction: registry data does not match the state registers.
    DataMismatch,
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Self::RevealLimitReached,
        Self::ActivationExpired,
        Self::CardExpired,
        Self::Renewed,
        Self::LostPhone,
        Self::StudentRemoved,
        Self::IssuerError,
        Self::PhotoRejected,
        Self::DataMismatch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RevealLimitReached => "reveal_limit_reached",
            Self::ActivationExpired => "activation_expired",
            Self::CardExpired => "card_expired",
            Self::Renewed => "renewed",
            Self::LostPhone => "lost_phone",
            Self::StudentRemoved => "student_removed",
            Self::IssuerError => "issuer_error",
            Self::PhotoRejected => "photo_rejected",
            Self::DataMismatch => "data_mismatch",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Renewal => "renewal",
            Self::Replacement => "replacement",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::New, Self::Renewal, Self::Replacement]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Who made a change in an order's history.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Student,
    Issuer,
    Admin,
    System,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Student => "student",
            Self::Issuer => "issuer",
            Self::Admin => "admin",
            Self::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Student, Self::Issuer, Self::Admin, Self::System]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// One step of an order's history, as the student sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub status: OrderStatus,
    pub actor: Actor,
    pub reason: Option<Reason>,
    pub at: i64,
}

/// What the student may do now; the server decides, the app shows buttons.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StudentAction {
    Order,
    Renew,
    Reveal,
    Cancel,
    Revoke,
    Resubmit,
    ReplaceLostPhone,
}

/// The answer to a revocation: the card may stay valid up to 24 hours (seed 004).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokeResponse {
    pub order: OrderView,
    pub may_stay_valid_until: i64,
}

/// The secret part: shown to the student, typed into mObywatel. Never pushed, never stored by the app.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivationData {
    pub qr_payload: String,
    pub manual_code: String,
    pub activation_code: String,
    pub expires_at: i64,
    pub reveals_left: u8,
}

/// A live status notice on the event stream.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusEvent {
    pub order: OrderView,
}

/// Which push service reaches a device.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PushPlatform {
    /// Firebase Cloud Messaging (Android).
    Fcm,
    /// Apple Push Notification service (iOS).
    Apns,
    /// Web Push / UnifiedPush (RFC 8030).
    WebPush,
}

impl PushPlatform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fcm => "fcm",
            Self::Apns => "apns",
            Self::WebPush => "web_push",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Fcm, Self::Apns, Self::WebPush]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// The languages notices are written in (seed 004: Polish and English).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    Pl,
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pl => "pl",
            Self::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pl, Self::En].into_iter().find(|l| l.as_str() == s)
    }
}

/// Who runs a Legitka server: the app shows it before the student signs in,
/// so a mistyped address is caught early.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UniversityInfo {
    pub name: String,
}

/// A device asking for push notices. The token is the push service's.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceRegistration {
    pub platform: PushPlatform,
    pub token: String,
    pub locale: Locale,
}

/// The app shell's answers to its UI (Tauri commands), in the webview's
/// camelCase. Not part of the server's API.
pub mod shell {
    use serde::{Deserialize, Serialize};

    /// The scheme of the links the university's QR codes carry: the setup
    /// link (`legitka://setup?server=…`) and the pairing link
    /// (`legitka://pair?server=…&code=…`). The server writes them, the app
    /// reads them.
    pub const LINK_SCHEME: &str = "legitka://";

    /// The setup link: scanning it picks the university at `server`.
    pub fn setup_link(server: &str) -> String {
        format!("{LINK_SCHEME}setup?server={server}")
    }

    /// The pairing link: scanning it signs in at `server` with `code`.
    pub fn pair_link(server: &str, code: &str) -> String {
        format!("{LINK_SCHEME}pair?server={server}&code={code}")
    }

    /// What follows the scheme when `input` is a Legitka link (the scheme
    /// in any case, as URI schemes are); `None` for anything else.
    pub fn link_rest(input: &str) -> Option<&str> {
        let input = input.trim();
        let scheme = input.get(..LINK_SCHEME.len())?;
        scheme
            .eq_ignore_ascii_case(LINK_SCHEME)
            .then(|| &input[LINK_SCHEME.len()..])
    }

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
    #[serde(rename_all = "camelCase")]
    pub struct AppConfig {
        /// The universities this build knows (the bundled list).
        pub universities: Vec<University>,
        /// A camera to scan the university's setup and pairing QR codes (phones).
        pub can_scan: bool,
        /// mObywatel can be opened from here (phones).
        pub can_open_mobywatel: bool,
    }

    /// A university the app signs in to: its name and its Legitka server.
    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
    #[serde(rename_all = "camelCase")]
    pub struct University {
        pub name: String,
        pub server: String,
    }

    /// What a scanned or pasted `legitka://` link asks for.
    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
    #[serde(rename_all = "camelCase", tag = "kind")]
    pub enum Link {
        /// `legitka://setup?server=…`: the university's setup QR.
        Setup { university: University },
        /// `legitka://pair?server=…&code=…`: a pairing code, from `/pair`.
        Pair {
            university: University,
            code: String,
        },
    }

    /// A step the student takes on their current order.
    #[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
    #[serde(rename_all = "snake_case")]
    pub enum OrderAction {
        Cancel,
        Revoke,
        Resubmit,
        /// Lost phone: new codes, the old card stops working (seed 003).
        Replace,
    }

    impl OrderAction {
        pub fn path(self) -> &'static str {
            match self {
                Self::Cancel => "/orders/current/cancel",
                Self::Revoke => "/orders/current/revoke",
                Self::Resubmit => "/orders/current/resubmit",
                Self::Replace => "/orders/current/replace",
            }
        }
    }

    /// The order after a step; after a revocation, until when the card may
    /// still work (up to 24 hours, seed 004).
    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
    #[serde(rename_all = "camelCase")]
    pub struct ActionOutcome {
        pub order: super::OrderView,
        pub may_stay_valid_until: Option<i64>,
    }

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
    #[serde(rename_all = "camelCase")]
    pub struct SessionInfo {
        pub server: String,
        /// False when there is no OS keystore: the session lasts for this run only.
        pub persisted: bool,
    }

    /// What the ready screen shows. Held in memory only while that screen is open.
    #[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
    #[serde(rename_all = "camelCase")]
    pub struct RevealedCodes {
        pub qr_svg: String,
        pub qr_payload: String,
        pub manual_code: String,
        pub activation_code: String,
        pub expires_at: i64,
        pub reveals_left: u8,
    }

    /// Codes never print, even in a debug log.
    impl std::fmt::Debug for RevealedCodes {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("RevealedCodes")
                .field("expires_at", &self.expires_at)
                .field("reveals_left", &self.reveals_left)
                .finish_non_exhaustive()
        }
    }
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
    fn error_and_check_names_match_serde() {
        for c in ErrorCode::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        for c in CheckCode::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
    }

    #[test]
    fn reason_kind_and_actor_names_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        for k in [OrderKind::New, OrderKind::Renewal, OrderKind::Replacement] {
            assert_eq!(OrderKind::parse(k.as_str()), Some(k));
        }
        for a in [Actor::Student, Actor::Issuer, Actor::Admin, Actor::System] {
            assert_eq!(Actor::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn revealed_codes_never_print() {
        let c = shell::RevealedCodes {
            qr_svg: "<svg/>".into(),
            qr_payload: "MLEG1.abc".into(),
            manual_code: "ABCD-EFGH".into(),
            activation_code: "12345678".into(),
            expires_at: 1,
            reveals_left: 2,
        };
        let shown = format!("{c:?}");
        for secret in ["MLEG1.abc", "ABCD-EFGH", "12345678"] {
            assert!(!shown.contains(secret), "{shown}");
        }
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
    fn links_the_server_writes_are_the_links_the_app_reads() {
        use super::shell::{link_rest, pair_link, setup_link};
        assert_eq!(
            link_rest(&setup_link("https://u.example")),
            Some("setup?server=https://u.example")
        );
        assert_eq!(
            link_rest(&format!(
                " {} ",
                pair_link("http://127.0.0.1:8080", "WXYZ6789")
            )),
            Some("pair?server=http://127.0.0.1:8080&code=WXYZ6789")
        );
        // The scheme in any case; anything else is not a link.
        assert_eq!(
            link_rest("LEGITKA://setup?server=x"),
            Some("setup?server=x")
        );
        for other in [
            "https://u.example",
            "legitka:/setup",
            "ABCD-2345",
            "",
            "legitk",
        ] {
            assert_eq!(link_rest(other), None, "{other:?}");
        }
    }
}
