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

/// The string forms of the wire enums come from one derive (strum, with the
/// same snake_case serde writes; a test checks they agree): the name on the
/// wire and in the database (`as_str`), the way back (`parse`) and every
/// variant in declaration order (`ALL`).
macro_rules! wire_names {
    ($($t:ty),* $(,)?) => {$(
        impl $t {
            pub const ALL: &'static [$t] = <$t as strum::VariantArray>::VARIANTS;

            /// The stable name used on the wire and in the database.
            pub fn as_str(self) -> &'static str {
                self.into()
            }

            pub fn parse(s: &str) -> Option<Self> {
                s.parse().ok()
            }
        }
    )*};
}

wire_names!(
    OrderStatus,
    ErrorCode,
    CheckCode,
    OrderKind,
    Reason,
    Actor,
    StudentAction,
    PushPlatform,
    Locale,
    notice::NoticeKind,
);

/// Path prefix of the versioned student API.
pub const API_PREFIX: &str = "/api/v1";

/// The student API's routes under [`API_PREFIX`]: the server routes them,
/// the app shell calls them (a server test checks the API document names
/// exactly these).
pub mod paths {
    pub const SESSION: &str = "/session";
    pub const SESSION_REFRESH: &str = "/session/refresh";
    pub const SESSION_PAIR: &str = "/session/pair";
    pub const UNIVERSITY: &str = "/university";
    pub const ME: &str = "/me";
    /// The photo the card will show (the registry's, for the preview).
    pub const ME_PHOTO: &str = "/me/photo";
    pub const ORDERS: &str = "/orders";
    pub const REVEAL: &str = "/orders/current/reveal";
    pub const CANCEL: &str = "/orders/current/cancel";
    pub const REVOKE: &str = "/orders/current/revoke";
    pub const RESUBMIT: &str = "/orders/current/resubmit";
    pub const REPLACE: &str = "/orders/current/replace";
    /// A one-time code for showing the codes on a computer (`/show`).
    pub const SECOND_SCREEN: &str = "/orders/current/second-screen";
    /// With the order's id for `{id}`: [`timeline`].
    pub const TIMELINE: &str = "/orders/{id}/timeline";
    pub const EVENTS: &str = "/events";
    pub const DEVICES: &str = "/devices";
    /// The API document itself (not one of its operations).
    pub const OPENAPI: &str = "/openapi.json";

    /// Every operation's path, as the API document lists them.
    pub const OPERATIONS: [&str; 16] = [
        SESSION,
        SESSION_REFRESH,
        SESSION_PAIR,
        UNIVERSITY,
        ME,
        ME_PHOTO,
        ORDERS,
        REVEAL,
        CANCEL,
        REVOKE,
        RESUBMIT,
        REPLACE,
        SECOND_SCREEN,
        TIMELINE,
        EVENTS,
        DEVICES,
    ];

    /// One order's history.
    pub fn timeline(order_id: &str) -> String {
        TIMELINE.replace("{id}", order_id)
    }
}

/// The names of the events on the live stream (`GET /api/v1/events`, SSE).
pub mod live {
    /// An order changed; the data is a [`StatusEvent`](super::StatusEvent).
    /// A stream opens with one for the current order.
    pub const STATUS: &str = "status";
    /// A stream opens with this when the student has no order yet.
    pub const HELLO: &str = "hello";
    /// The stream fell behind: read the whole state again.
    pub const RESYNC: &str = "resync";
    /// The server ends the stream; the data says why (one of the `ENDED_…`).
    pub const ENDED: &str = "ended";
    /// The access token it was opened with expired: renew it, reconnect.
    pub const ENDED_TOKEN: &str = "token";
    /// Its session ended (signed out, revoked): renewing will tell.
    pub const ENDED_SESSION: &str = "session";
    /// The server is stopping: reconnect in a moment.
    pub const ENDED_STOPPING: &str = "stopping";
    /// The student opened more streams than the server keeps: this, the
    /// oldest, ends (reconnect in a moment, if still wanted).
    pub const ENDED_REPLACED: &str = "replaced";
}

/// How many times the activation data of one order may be revealed (`docs/rules.md`, "The activation data").
pub const MAX_REVEALS: u8 = 3;

/// After revocation the card may stay valid this long (`docs/rules.md`, "Revocation"): 24 hours.
pub const REVOCATION_GRACE_MS: i64 = 24 * 60 * 60 * 1000;

/// The life cycle of an mLegitymacja order, as USOSweb names it (`docs/rules.md`, "The order's life").
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
    /// An open order is the student's current one: on its way, ready, in
    /// use, or returned for correction. It blocks a new order unless it may
    /// give way to one (views spent, data or card expired, ELS extended).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Pending
                | Self::InProgress
                | Self::Ready
                | Self::Received
                | Self::ReturnedForCorrection
        )
    }
}

/// Stable machine codes for every error the API or the app shell reports.
/// Clients translate them; the `message` beside them is for logs and developers.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
    /// The university's own system (USOS) is not answering: try later.
    UniversityUnavailable,
    /// The university's own system (USOS) no longer accepts the student's
    /// sign-in there: sign in again through it.
    UniversitySignInNeeded,
    /// The university's system does not offer mLegitymacja through its API.
    NotOffered,
    /// The push token is registered by another signed-in student.
    DeviceInUse,
    /// The server is at capacity for the moment: try again shortly.
    Busy,
    /// The request's body is larger than the server takes.
    TooLarge,
    /// The request's body is not JSON (`Content-Type: application/json`).
    UnsupportedMediaType,
    /// The endpoint exists but not with this method.
    MethodNotAllowed,
    /// The university knows the student, but its student register does not
    /// list them (not yet imported, or not a student).
    NotInRegister,
    /// The university's directory has locked the account.
    AccountLocked,
    /// The university's sign-in service (its directory) is not answering.
    SignInUnavailable,
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
    /// Not blank (it is trimmed).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
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

/// "Show the QR on a computer": a one-time code to type at `address` (the
/// university server's `/show` page) within minutes; the page then shows
/// the QR code and the activation code, which spends one view. The code
/// itself carries nothing secret about the card.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecondScreen {
    pub code: String,
    pub address: String,
    pub expires_at: i64,
}

/// A pairing code from the university's web page, traded for a session.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub code: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub refresh_token: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudentSummary {
    pub first_name: String,
    pub last_name: String,
    pub album_number: Option<String>,
}

/// One eligibility rule (`docs/rules.md`, "Who may order").
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
    /// At a USOS university: why USOS says the student may not order now,
    /// in its own words (shown as given, never recomputed). `checks` is
    /// then empty: USOS applies its rules itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub university_says: Option<UniversityText>,
    /// What the card will show, from the university's registry, for the
    /// student to check before ordering (`None` at a USOS university, whose
    /// own pages show it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardPreview>,
    /// At a USOS university: when USOS was last read for this student
    /// (Unix ms), so the app can say how fresh the status is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub university_checked_at: Option<i64>,
}

/// What the mLegitymacja will show (the registry's data). The PESEL is
/// masked: the student recognises it, a shoulder-surfer learns nothing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardPreview {
    pub first_name: String,
    pub last_name: String,
    /// `YYYY-MM-DD`, from the PESEL.
    pub birth_date: Option<String>,
    /// All but the last two digits hidden: `*********12`.
    pub pesel_masked: Option<String>,
    pub album_number: Option<String>,
    /// The ELS (plastic student ID) number, as the card carries it.
    pub els_number: Option<String>,
    /// The last day the card will be valid (the ELS's), Unix ms.
    pub valid_until: Option<i64>,
    pub university: String,
    /// The registry has the student's photo (the card shows it).
    pub has_photo: bool,
    /// The server can show that photo (`GET /me/photo`).
    #[serde(default)]
    pub photo_available: bool,
}

/// The photo the card will show, ready for an `<img src>`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardPhoto {
    /// `data:image/jpeg;base64,…` or `data:image/png;base64,…`.
    pub data_url: String,
}

/// A sentence from the university's own system, in both languages as it
/// gave them (either may be missing).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UniversityText {
    pub pl: Option<String>,
    pub en: Option<String>,
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
    /// The codes also went to the student's university e-mail (the
    /// university's choice), which took one of the views.
    #[serde(default)]
    pub codes_emailed: bool,
}

/// Why an order was made.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OrderKind {
    /// The first mLegitymacja, or a new one after the previous ended.
    New,
    /// After an ELS extension: the next semester.
    Renewal,
    /// New codes after a lost phone; the old card is invalidated.
    Replacement,
}

/// Machine codes for why an order reached its status; the app translates them.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Reason {
    /// Shown three times without receipt: the process starts again.
    RevealLimitReached,
    /// Not activated within 30 days.
    ActivationExpired,
    /// The card's validity (the ELS's) ended.
    CardExpired,
    /// Replaced by a renewal after an ELS extension.
    Renewed,
    /// Replaced after a lost phone.
    LostPhone,
    /// Graduation or removal from the student list.
    StudentRemoved,
    /// The issuer reported an error.
    IssuerError,
    /// Returned for correction: the photo does not meet the requirements.
    PhotoRejected,
    /// Returned for correction: registry data does not match the state registers.
    DataMismatch,
    /// The university's system (USOS) no longer accepts the student's
    /// sign-in: sign in again to go on.
    SignInAgain,
}

/// Who made a change in an order's history.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Actor {
    Student,
    Issuer,
    Admin,
    System,
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
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum StudentAction {
    Order,
    Renew,
    Reveal,
    Cancel,
    Revoke,
    Resubmit,
    ReplaceLostPhone,
}

/// The answer to a revocation: the card may stay valid up to 24 hours.
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
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PushPlatform {
    /// Firebase Cloud Messaging (Android).
    Fcm,
    /// Apple Push Notification service (iOS).
    Apns,
    /// Web Push / UnifiedPush (RFC 8030).
    WebPush,
}

/// The languages notices are written in : Polish and English.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Locale {
    Pl,
    En,
}

/// A university's id on a server (the `[[usos]]` table's `id`): short and
/// plain, `[a-z0-9-]`, 1–32, so it goes into URLs as it is. The server
/// checks its settings with it, the app the links it is handed.
pub fn is_university_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// How a university's students sign in to Legitka.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// The university's accounts in Legitka's own registry: username and password.
    #[default]
    Password,
    /// Through the university's USOS, in the system browser.
    Usos,
    /// Through the university's own sign-in page (OpenID Connect), in the
    /// system browser.
    Browser,
}

/// Which university a Legitka server serves (one server may serve several:
/// its own registry and USOS installations): the app shows the name before
/// the student signs in, so a mistyped address is caught early, and offers
/// the sign-in the university has.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UniversityInfo {
    /// The university's id on this server: `None` for the server's own registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub sign_in: SignInMethod,
    /// Where students get help with mLegitymacja (as the university words it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_contact: Option<String>,
    /// The university's rules for issuing mLegitymacja (a web address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_url: Option<String>,
}

/// A device asking for push notices. The token is the push service's.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceRegistration {
    pub platform: PushPlatform,
    /// The push service's token; for `web_push` the subscription as JSON
    /// (`{"endpoint": "https://…", "keys": {"p256dh", "auth"}}`).
    /// Printable characters, not blank.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 4096,
            pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
        )
    )]
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

    /// The setup link: scanning it picks the university at `server`
    /// (`university`: one of several the server serves).
    pub fn setup_link(server: &str, university: Option<&str>) -> String {
        format!(
            "{LINK_SCHEME}setup?server={}{}",
            query_value(server),
            university_param('&', university)
        )
    }

    /// The pairing link: scanning it signs in at `server` with `code`.
    pub fn pair_link(server: &str, university: Option<&str>, code: &str) -> String {
        format!(
            "{LINK_SCHEME}pair?server={}{}&code={}",
            query_value(server),
            university_param('&', university),
            query_value(code)
        )
    }

    /// The setup link as an https App Link / Universal Link: a phone with
    /// the app opens it in the app (the university's domain vouches for
    /// the app in `/.well-known/`), one without it shows the setup page.
    pub fn setup_app_link(server: &str, university: Option<&str>) -> String {
        format!(
            "{}{SETUP_PATH}{}",
            server.trim_end_matches('/'),
            university_param('?', university)
        )
    }

    /// The pairing link as an https App Link / Universal Link: without the
    /// app, the page shows the code to type.
    pub fn pair_app_link(server: &str, university: Option<&str>, code: &str) -> String {
        format!(
            "{}{PAIR_PATH}?code={}{}",
            server.trim_end_matches('/'),
            query_value(code),
            university_param('&', university)
        )
    }

    /// Where on the server the https links into the app live: everything
    /// under [`APP_LINK_PREFIX`] opens the app on a phone that has it, so
    /// the server's other pages (the `/pair` sign-in form) stay in the browser.
    pub const APP_LINK_PREFIX: &str = "/open/";
    pub const SETUP_PATH: &str = "/open/setup";
    pub const PAIR_PATH: &str = "/open/pair";

    fn university_param(sep: char, university: Option<&str>) -> String {
        university.map_or_else(String::new, |u| {
            format!("{sep}university={}", query_value(u))
        })
    }

    /// A value in a link's query, percent-encoded: every byte but RFC
    /// 3986's unreserved characters, so an address with `&`, `?` or `#`
    /// stays one value (the app reads it back decoded).
    fn query_value(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    /// What follows the scheme when `input` is a `legitka://` link (the
    /// scheme in any case, as URI schemes are); `None` for anything else.
    pub fn link_rest(input: &str) -> Option<&str> {
        let input = input.trim();
        let scheme = input.get(..LINK_SCHEME.len())?;
        scheme
            .eq_ignore_ascii_case(LINK_SCHEME)
            .then(|| &input[LINK_SCHEME.len()..])
    }

    /// Whether `input` is a link into the app (whole or broken) rather than
    /// an address or a code to type.
    pub fn is_link(input: &str) -> bool {
        link_rest(input).is_some() || matches!(parse_link(input), Ok(Some(_)))
    }

    /// What a link into the app names, as written in it: the server's
    /// address (its form is the app's to check), which of the server's
    /// universities, and for a pairing link its code.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct LinkTarget {
        pub server: String,
        pub university: Option<String>,
        /// `Some` for a pairing link: eight letters and digits, in capitals.
        pub code: Option<String>,
    }

    /// A link into the app that is broken: a part missing or not allowed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct BrokenLink;

    /// Reads a link into the app: `legitka://setup?server=…[&university=…]`,
    /// `legitka://pair?server=…[&university=…]&code=…`, or their https
    /// forms, `https://<server>/open/setup[?university=…]` and
    /// `https://<server>/open/pair?code=…[&university=…]` (a server may live
    /// under a path). `Ok(None)` when `input` is no such link (an address, a
    /// code); `Err` when it is one but broken. Every part is checked: the
    /// university is an id, the code eight letters and digits, nothing
    /// else in the query, no user name in an https address.
    pub fn parse_link(input: &str) -> Result<Option<LinkTarget>, BrokenLink> {
        let input = input.trim();
        if let Some(rest) = link_rest(input) {
            let (kind, query) = rest.split_once('?').ok_or(BrokenLink)?;
            let mut q = Query::read(query, &["server", "university", "code"])?;
            let server = q.take("server").ok_or(BrokenLink)?;
            return target(kind, server, q).map(Some);
        }
        let Some((scheme, rest)) = input.split_once("://") else {
            return Ok(None);
        };
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            return Ok(None);
        }
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (base, kind) = if let Some(base) = path.strip_suffix(SETUP_PATH) {
            (base, "setup")
        } else if let Some(base) = path.strip_suffix(PAIR_PATH) {
            (base, "pair")
        } else {
            return Ok(None);
        };
        let host = base.split('/').next().unwrap_or_default();
        if host.is_empty() || host.contains('@') || base.chars().any(char::is_whitespace) {
            return Err(BrokenLink);
        }
        let q = Query::read(query, &["university", "code"])?;
        target(kind, format!("{scheme}://{base}"), q).map(Some)
    }

    fn target(kind: &str, server: String, mut q: Query) -> Result<LinkTarget, BrokenLink> {
        let university = q.take("university");
        if university
            .as_deref()
            .is_some_and(|u| !crate::is_university_id(u))
        {
            return Err(BrokenLink);
        }
        let code = match kind {
            "setup" if q.take("code").is_none() => None,
            "pair" => {
                let code: String = q
                    .take("code")
                    .ok_or(BrokenLink)?
                    .chars()
                    .filter(|c| !matches!(c, '-' | ' '))
                    .map(|c| c.to_ascii_uppercase())
                    .collect();
                if code.len() != 8 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(BrokenLink);
                }
                Some(code)
            }
            _ => return Err(BrokenLink),
        };
        Ok(LinkTarget {
            server,
            university,
            code,
        })
    }

    /// A link's query: each allowed name at most once, values decoded and
    /// trimmed, empty ones as missing.
    struct Query(Vec<(String, String)>);

    impl Query {
        fn read(query: &str, allowed: &[&str]) -> Result<Self, BrokenLink> {
            let mut pairs: Vec<(String, String)> = Vec::new();
            for (name, value) in form_urlencoded::parse(query.as_bytes()) {
                if !allowed.contains(&name.as_ref()) || pairs.iter().any(|(n, _)| *n == name) {
                    return Err(BrokenLink);
                }
                if value.contains(char::is_control) {
                    return Err(BrokenLink);
                }
                pairs.push((name.into_owned(), value.trim().to_owned()));
            }
            Ok(Self(pairs))
        }

        fn take(&mut self, name: &str) -> Option<String> {
            let i = self.0.iter().position(|(n, _)| n == name)?;
            Some(self.0.remove(i).1).filter(|v| !v.is_empty())
        }
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

    /// A university the app signs in to: its name, its Legitka server, and
    /// which of the server's universities it is.
    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
    #[serde(rename_all = "camelCase")]
    pub struct University {
        pub name: String,
        pub server: String,
        /// The university's id on the server: `None` for its own registry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<String>,
        #[serde(default)]
        pub sign_in: crate::SignInMethod,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub help_contact: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub terms_url: Option<String>,
    }

    /// Whether the app may raise notices on this device (the OS's answer,
    /// or on desktop that none is needed).
    #[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
    #[serde(rename_all = "kebab-case")]
    pub enum Permission {
        Granted,
        /// Not asked yet: the app may ask, with a sentence why.
        Prompt,
        /// Refused: only the phone's settings can change it.
        Denied,
        /// Desktop: notices need no permission.
        NotNeeded,
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

    impl Link {
        /// The university the link leads to.
        pub fn university(&self) -> &University {
            match self {
                Self::Setup { university } | Self::Pair { university, .. } => university,
            }
        }
    }

    /// What the shell tells its UI without being asked: each event's name
    /// and payload are one type here, emitted by the shell and heard by the
    /// UI through the same [`ShellEvent`](events::ShellEvent).
    pub mod events {
        use serde::de::DeserializeOwned;
        use serde::{Deserialize, Serialize};

        /// A shell→UI event: its name and its payload, defined once.
        pub trait ShellEvent: Serialize + DeserializeOwned + Clone + 'static {
            const NAME: &'static str;
        }

        /// An order changed (from the live stream).
        #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
        pub struct OrderStatus {
            pub order: crate::OrderView,
        }

        /// Read the whole state again (the stream lagged or reconnected).
        #[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
        pub struct Resync;

        /// The live stream is up or down.
        #[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
        pub struct Connection {
            pub online: bool,
        }

        /// The server no longer accepts the session.
        #[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
        pub struct SignedOut;

        /// The system handed the app a `legitka://` link (the USOS
        /// sign-in's way back, a scanned setup or pairing QR): the UI takes
        /// it with the `take_opened_link` command.
        #[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
        pub struct LinkOpened;

        /// The student tapped a notice about this order.
        #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
        pub struct OpenOrder {
            pub order: crate::OrderView,
        }

        impl ShellEvent for OrderStatus {
            const NAME: &'static str = "order-status";
        }
        impl ShellEvent for Resync {
            const NAME: &'static str = "resync";
        }
        impl ShellEvent for Connection {
            const NAME: &'static str = "connection";
        }
        impl ShellEvent for SignedOut {
            const NAME: &'static str = "signed-out";
        }
        impl ShellEvent for LinkOpened {
            const NAME: &'static str = "link-opened";
        }
        impl ShellEvent for OpenOrder {
            const NAME: &'static str = "open-order";
        }
    }

    /// A step the student takes on their current order.
    #[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
    #[serde(rename_all = "snake_case")]
    pub enum OrderAction {
        Cancel,
        Revoke,
        Resubmit,
        /// Lost phone: new codes, the old card stops working.
        Replace,
    }

    impl OrderAction {
        pub fn path(self) -> &'static str {
            use crate::paths;
            match self {
                Self::Cancel => paths::CANCEL,
                Self::Revoke => paths::REVOKE,
                Self::Resubmit => paths::RESUBMIT,
                Self::Replace => paths::REPLACE,
            }
        }
    }

    /// The order after a step; after a revocation, until when the card may
    /// still work (up to 24 hours).
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

    /// Every variant's name is serde's name and parses back; nothing else parses.
    fn names_agree<T>(all: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: Copy + std::fmt::Debug + PartialEq + Serialize,
    {
        for &v in all {
            assert_eq!(parse(as_str(v)), Some(v));
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{}\"", as_str(v)), "{v:?}");
        }
        assert_eq!(parse("gotowy"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn every_wire_enum_names_itself_as_serde_does() {
        names_agree(OrderStatus::ALL, OrderStatus::as_str, OrderStatus::parse);
        names_agree(ErrorCode::ALL, ErrorCode::as_str, ErrorCode::parse);
        names_agree(CheckCode::ALL, CheckCode::as_str, CheckCode::parse);
        names_agree(OrderKind::ALL, OrderKind::as_str, OrderKind::parse);
        names_agree(Reason::ALL, Reason::as_str, Reason::parse);
        names_agree(Actor::ALL, Actor::as_str, Actor::parse);
        names_agree(
            StudentAction::ALL,
            StudentAction::as_str,
            StudentAction::parse,
        );
        names_agree(PushPlatform::ALL, PushPlatform::as_str, PushPlatform::parse);
        names_agree(Locale::ALL, Locale::as_str, Locale::parse);
        use notice::NoticeKind;
        names_agree(NoticeKind::ALL, NoticeKind::as_str, NoticeKind::parse);
        // The database holds these names: they must never change.
        assert_eq!(
            OrderStatus::ReturnedForCorrection.as_str(),
            "returned_for_correction"
        );
        assert_eq!(PushPlatform::WebPush.as_str(), "web_push");
        assert_eq!(Reason::RevealLimitReached.as_str(), "reveal_limit_reached");
        assert_eq!(OrderStatus::ALL.len(), 9);
        assert_eq!(ErrorCode::ALL.len(), 29);
    }

    #[test]
    fn open_statuses_are_the_ones_that_block_a_new_order() {
        let open: Vec<_> = OrderStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.is_open())
            .collect();
        assert_eq!(
            open,
            [
                OrderStatus::Pending,
                OrderStatus::InProgress,
                OrderStatus::Ready,
                OrderStatus::Received,
                OrderStatus::ReturnedForCorrection
            ]
        );
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
            link_rest(&setup_link("https://u.example", None)),
            Some("setup?server=https%3A%2F%2Fu.example")
        );
        assert_eq!(
            link_rest(&setup_link("https://u.example", Some("uwu"))),
            Some("setup?server=https%3A%2F%2Fu.example&university=uwu")
        );
        assert_eq!(
            link_rest(&format!(
                " {} ",
                pair_link("http://127.0.0.1:8080", None, "WXYZ6789")
            )),
            Some("pair?server=http%3A%2F%2F127.0.0.1%3A8080&code=WXYZ6789")
        );
        assert_eq!(
            link_rest(&pair_link("http://127.0.0.1:8080", Some("uwu"), "WXYZ6789")),
            Some("pair?server=http%3A%2F%2F127.0.0.1%3A8080&university=uwu&code=WXYZ6789")
        );
        // An address with query characters stays one value.
        assert_eq!(
            link_rest(&setup_link("https://u.example/l?a=1&b=2#x", None)),
            Some("setup?server=https%3A%2F%2Fu.example%2Fl%3Fa%3D1%26b%3D2%23x")
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

    #[test]
    fn every_link_the_server_writes_reads_back_whole() {
        use super::shell::*;
        let target = |server: &str, university: Option<&str>, code: Option<&str>| LinkTarget {
            server: server.into(),
            university: university.map(Into::into),
            code: code.map(Into::into),
        };
        for server in [
            "https://u.example",
            "https://u.example/legitka",
            "http://127.0.0.1:8080",
        ] {
            for university in [None, Some("uwu")] {
                let setup = target(server, university, None);
                let pair = target(server, university, Some("WXYZ6789"));
                assert_eq!(
                    parse_link(&setup_link(server, university)),
                    Ok(Some(setup.clone()))
                );
                assert_eq!(
                    parse_link(&setup_app_link(server, university)),
                    Ok(Some(setup))
                );
                assert_eq!(
                    parse_link(&pair_link(server, university, "WXYZ6789")),
                    Ok(Some(pair.clone()))
                );
                assert_eq!(
                    parse_link(&pair_app_link(server, university, "WXYZ6789")),
                    Ok(Some(pair))
                );
                assert!(is_link(&pair_app_link(server, university, "WXYZ6789")));
            }
        }
        // The server's address with query characters in a legitka:// link.
        assert_eq!(
            parse_link(&setup_link("https://u.example/l?a=1&b=2#x", None))
                .unwrap()
                .unwrap()
                .server,
            "https://u.example/l?a=1&b=2#x"
        );
        // A code as people write it: grouped, in small letters.
        assert_eq!(
            parse_link("https://u.example/open/pair?code=wxyz-6789#top")
                .unwrap()
                .unwrap()
                .code
                .as_deref(),
            Some("WXYZ6789")
        );
        // Not links: addresses, other pages, codes.
        for other in [
            "https://u.example",
            "https://u.example/show",
            "https://u.example/pair",
            "https://u.example/setup",
            "u.example/open/setup",
            "ABCD-2345",
            "",
        ] {
            assert_eq!(parse_link(other), Ok(None), "{other:?}");
            assert!(!is_link(other), "{other:?}");
        }
        // Links, broken: every part is checked.
        for broken in [
            "legitka://setup",
            "legitka://setup?server=",
            "legitka://pair?server=https%3A%2F%2Fu.example",
            "legitka://other?server=https%3A%2F%2Fu.example",
            "legitka://setup?server=https%3A%2F%2Fu.example&university=..%2Fme",
            "legitka://setup?server=https%3A%2F%2Fu.example&server=https%3A%2F%2Fevil.example",
            "legitka://setup?server=https%3A%2F%2Fu.example&code=WXYZ6789",
            "legitka://setup?server=https%3A%2F%2Fu.example&next=x",
            "legitka://pair?server=https%3A%2F%2Fu.example&code=WXYZ678",
            "legitka://pair?server=https%3A%2F%2Fu.example&code=WXYZ678%C4%85",
            "legitka://setup?server=https%3A%2F%2Fu.example%0A",
            "https://evil.example@u.example/open/setup",
            "https:///open/setup",
            "https://u.example/open/pair",
            "https://u.example/open/pair?code=WXYZ6789&server=https%3A%2F%2Fevil.example",
            "https://u.example/open/setup?university=UWU",
        ] {
            assert_eq!(parse_link(broken), Err(BrokenLink), "{broken:?}");
        }
    }
}
