//! The issuer-bridge stand-in, with mObywatel's side. It plays what sits
//! behind the bridge contract (`legitka_wire::bridge`) and enforces it:
//! the shared secret, an `Idempotency-Key` on every command (a repeat gets
//! the first answer; the same key with another command is refused), the
//! card data's shape, and "invalidation is final" (a late submit is
//! refused). An accepted order goes in progress after `accept_delay` and
//! ready after `ready_delay` (or a scripted error / return for
//! correction); each event is posted to the order's callback URL with the
//! secret, in order, retried until the backend answers 2xx or 409.
//!
//! mObywatel (`POST /mobywatel/activate`) takes the QR payload or the
//! manual code plus the activation code, once: void, expired or activated
//! cards are refused with their own codes, and a code that was typed wrong
//! five times is locked. Its records live in its own SQLite database; the
//! activation data and the card data are sealed there, and codes are found
//! by keyed hashes, never stored in the clear.

use crate::push::{listen, now_ms, serve_on};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use legitka_wire::Reason;
use legitka_wire::bridge::{
    BridgeError, BridgeErrorCode, CardData, CommandAccepted, CommandState, InvalidateOrder,
    IssuedCodes, IssuerEvent, IssuerStatus, SubmitOrder,
};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Activation data is accepted for 30 days after it is generated.
pub const ACTIVATION_VALIDITY_MS: i64 = 30 * 24 * 3600 * 1000;

/// Wrong activation codes a card takes before it is locked.
pub const MAX_WRONG_CODES: i64 = 5;

/// Letters and digits that cannot be mistaken for each other when typed.
const MANUAL_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// What the issuer answers to an order (scripted by tests; then ready).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ready,
    Error,
    ReturnForCorrection(Reason),
}

/// The time the issuer's records use (tests share the backend's clock).
pub type ClockFn = Arc<dyn Fn() -> i64 + Send + Sync>;

pub struct IssuerConfig {
    /// The bridge's shared secret.
    pub secret: String,
    /// `sqlite://…` file, or `sqlite::memory:`.
    pub database_url: String,
    pub accept_delay: Duration,
    pub ready_delay: Duration,
    pub clock: ClockFn,
}

pub struct IssuerEmulator {
    pub base_url: String,
    db: SqlitePool,
    /// Sent with events (the backend checks it), compared by hash on commands.
    secret: String,
    secret_hash: String,
    cipher: ChaCha20Poly1305,
    /// Keys the lookup hashes of codes.
    lookup_key: [u8; 32],
    delays: Mutex<(Duration, Duration)>,
    outcomes: Mutex<VecDeque<Outcome>>,
    /// Answers the next commands give instead of taking them: (status).
    refusals: Mutex<VecDeque<u16>>,
    clock: ClockFn,
    http: reqwest::Client,
    wake_events: tokio::sync::Notify,
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS commands (idem_key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, \
     status INTEGER NOT NULL, body TEXT NOT NULL)",
    // stage: accepted, in_progress, ready, error, returned, received, invalidated
    "CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, callback_url TEXT, \
     card TEXT, stage TEXT NOT NULL, qr_lookup TEXT UNIQUE, manual_lookup TEXT UNIQUE, \
     codes TEXT, expires_at INTEGER, wrong_codes INTEGER NOT NULL DEFAULT 0, \
     activated_at INTEGER, invalidated_at INTEGER, submits INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, order_id TEXT NOT NULL, \
     seq INTEGER NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, \
     next_at INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS events_by_order ON events (order_id, seq)",
    "CREATE INDEX IF NOT EXISTS events_due ON events (done, next_at)",
];

impl IssuerEmulator {
    /// Opens its records, resumes unfinished work, and serves on a loopback port.
    pub async fn start(config: IssuerConfig) -> anyhow::Result<Arc<Self>> {
        let (listener, base_url) = listen().await?;
        let this = Self::open(config, base_url).await?;
        serve_on(listener, router(Arc::clone(&this)));
        Ok(this)
    }

    /// As `start`, on a listener of the caller's.
    pub async fn open(config: IssuerConfig, base_url: String) -> anyhow::Result<Arc<Self>> {
        let options = SqliteConnectOptions::from_str(&config.database_url)?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let memory = config.database_url.contains(":memory:");
        if !memory {
            // One connection makes the file, switches it to WAL and lays the
            // schema before the pool opens several: connections opening a
            // fresh file at once can find it locked, busy timeout or not.
            use sqlx::Connection;
            let mut first = sqlx::SqliteConnection::connect_with(&options).await?;
            for stmt in SCHEMA {
                sqlx::query(*stmt).execute(&mut first).await?;
            }
            first.close().await?;
        }
        let db = SqlitePoolOptions::new()
            // One connection keeps an in-memory database alive and shared.
            .max_connections(if memory { 1 } else { 4 })
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        for stmt in SCHEMA {
            sqlx::query(*stmt).execute(&db).await?;
        }
        let key: [u8; 32] = Sha256::digest(format!("seal:{}", config.secret)).into();
        let lookup_key: [u8; 32] = Sha256::digest(format!("lookup:{}", config.secret)).into();
        let this = Arc::new(Self {
            base_url,
            db,
            secret_hash: sha256_hex(&[config.secret.as_bytes()]),
            secret: config.secret,
            cipher: ChaCha20Poly1305::new(&key.into()),
            lookup_key,
            delays: Mutex::new((config.accept_delay, config.ready_delay)),
            outcomes: Mutex::default(),
            refusals: Mutex::default(),
            clock: config.clock,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            wake_events: tokio::sync::Notify::new(),
        });
        let unfinished: Vec<String> = sqlx::query_scalar(
            "SELECT order_id FROM orders WHERE stage IN ('accepted', 'in_progress')",
        )
        .fetch_all(&this.db)
        .await?;
        for id in unfinished {
            Arc::clone(&this).spawn_process(id);
        }
        tokio::spawn(Arc::clone(&this).deliver_events());
        Ok(this)
    }

    /// How long the issuer takes from now on: pending → in progress → ready.
    pub fn set_delays(&self, accept: Duration, ready: Duration) {
        *self.delays.lock().expect("lock") = (accept, ready);
    }

    /// The answers to the next orders, in turn; then ready.
    pub fn script(&self, outcomes: impl IntoIterator<Item = Outcome>) {
        self.outcomes.lock().expect("lock").extend(outcomes);
    }

    /// The next commands are refused with `status` (503, 429 …) before being taken.
    pub fn fail_next(&self, status: u16) {
        self.refusals.lock().expect("lock").push_back(status);
    }

    /// Whether the issuer holds this order as invalidated.
    pub async fn is_invalidated(&self, order_id: &str) -> anyhow::Result<bool> {
        Ok(self.stage(order_id).await?.as_deref() == Some("invalidated"))
    }

    /// The order's stage as the issuer sees it (None: never heard of).
    pub async fn stage(&self, order_id: &str) -> anyhow::Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT stage FROM orders WHERE order_id = ?")
                .bind(order_id)
                .fetch_optional(&self.db)
                .await?,
        )
    }

    /// How many times submits of this order were taken (repeats excluded).
    pub async fn submits(&self, order_id: &str) -> anyhow::Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT submits FROM orders WHERE order_id = ?")
                .bind(order_id)
                .fetch_optional(&self.db)
                .await?
                .unwrap_or(0),
        )
    }

    /// The card data the issuer was sent for an order (opened from its seal).
    pub async fn card(&self, order_id: &str) -> anyhow::Result<Option<CardData>> {
        let sealed: Option<Option<String>> =
            sqlx::query_scalar("SELECT card FROM orders WHERE order_id = ?")
                .bind(order_id)
                .fetch_optional(&self.db)
                .await?;
        match sealed.flatten() {
            Some(s) => Ok(Some(serde_json::from_slice(&self.open_sealed(&s)?)?)),
            None => Ok(None),
        }
    }

    /// Events not yet taken by the backend.
    pub async fn undelivered_events(&self) -> anyhow::Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE done = 0")
                .fetch_one(&self.db)
                .await?,
        )
    }

    fn seal(&self, plain: &[u8]) -> String {
        let nonce: [u8; 12] = rand::random();
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain)
            .expect("sealing cannot fail");
        format!("{}.{}", hex::encode(nonce), hex::encode(sealed))
    }

    fn open_sealed(&self, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let (nonce, body) = sealed
            .split_once('.')
            .ok_or_else(|| anyhow::anyhow!("not sealed"))?;
        self.cipher
            .decrypt(
                Nonce::from_slice(&hex::decode(nonce)?),
                hex::decode(body)?.as_ref(),
            )
            .map_err(|_| anyhow::anyhow!("cannot open a sealed value"))
    }

    fn lookup(&self, kind: &str, value: &str) -> String {
        sha256_hex(&[&self.lookup_key, kind.as_bytes(), value.as_bytes()])
    }

    fn spawn_process(self: Arc<Self>, order_id: String) {
        tokio::spawn(async move {
            if let Err(e) = self.process(&order_id).await {
                tracing::warn!(order_id, error = %e, "issuer stand-in stopped processing");
            }
        });
    }

    /// accepted → in progress → ready (or the scripted outcome).
    async fn process(self: &Arc<Self>, order_id: &str) -> anyhow::Result<()> {
        let (accept, ready) = *self.delays.lock().expect("lock");
        if self.stage(order_id).await?.as_deref() == Some("accepted") {
            tokio::time::sleep(accept).await;
            if !self.advance(order_id, "accepted", "in_progress").await? {
                return Ok(());
            }
            self.queue_event(order_id, IssuerStatus::InProgress, None, None)
                .await?;
        }
        tokio::time::sleep(ready).await;
        let outcome = self
            .outcomes
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or(Outcome::Ready);
        match outcome {
            Outcome::Ready => {
                let codes = generate();
                let now = (self.clock)();
                let sealed = self.seal(&serde_json::to_vec(&Sealed::from(&codes))?);
                let done = sqlx::query(
                    "UPDATE orders SET stage = 'ready', qr_lookup = ?, manual_lookup = ?, \
                     codes = ?, expires_at = ?, wrong_codes = 0 \
                     WHERE order_id = ? AND stage = 'in_progress'",
                )
                .bind(self.lookup("qr", &codes.qr_payload))
                .bind(self.lookup("manual", &normalize_manual(&codes.manual_code)))
                .bind(sealed)
                .bind(now + ACTIVATION_VALIDITY_MS)
                .bind(order_id)
                .execute(&self.db)
                .await?;
                if done.rows_affected() == 1 {
                    self.queue_event(order_id, IssuerStatus::Ready, None, Some(codes))
                        .await?;
                }
            }
            Outcome::Error => {
                if self.advance(order_id, "in_progress", "error").await? {
                    self.queue_event(
                        order_id,
                        IssuerStatus::Error,
                        Some(Reason::IssuerError),
                        None,
                    )
                    .await?;
                }
            }
            Outcome::ReturnForCorrection(reason) => {
                if self.advance(order_id, "in_progress", "returned").await? {
                    let status = IssuerStatus::ReturnedForCorrection;
                    self.queue_event(order_id, status, Some(reason), None)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Moves an order between stages if it is still in `from` (not invalidated meanwhile).
    async fn advance(&self, order_id: &str, from: &str, to: &str) -> anyhow::Result<bool> {
        let done = sqlx::query("UPDATE orders SET stage = ? WHERE order_id = ? AND stage = ?")
            .bind(to)
            .bind(order_id)
            .bind(from)
            .execute(&self.db)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records an event for the backend (sealed: it may carry codes).
    async fn queue_event(
        &self,
        order_id: &str,
        status: IssuerStatus,
        reason: Option<Reason>,
        activation: Option<IssuedCodes>,
    ) -> anyhow::Result<()> {
        let event = IssuerEvent {
            event_id: uuid::Uuid::new_v4().to_string(),
            order_id: order_id.to_owned(),
            status,
            reason,
            activation,
        };
        sqlx::query(
            "INSERT INTO events (id, order_id, seq, body, next_at) VALUES (?, ?, \
             (SELECT COUNT(*) + 1 FROM events WHERE order_id = ?), ?, ?)",
        )
        .bind(&event.event_id)
        .bind(order_id)
        .bind(order_id)
        .bind(self.seal(&serde_json::to_vec(&event)?))
        .bind(now_ms())
        .execute(&self.db)
        .await?;
        self.wake_events.notify_one();
        Ok(())
    }

    /// Posts events to the backend: per order in order, retried with backoff.
    async fn deliver_events(self: Arc<Self>) {
        loop {
            match self.deliver_due().await {
                Ok(true) => {}
                Ok(false) => {
                    let wait = tokio::time::timeout(
                        Duration::from_millis(100),
                        self.wake_events.notified(),
                    );
                    let _ = wait.await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "issuer stand-in: delivering events failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    /// Sends what is due; whether anything was.
    async fn deliver_due(&self) -> anyhow::Result<bool> {
        let due = sqlx::query(
            "SELECT e.id, e.body, e.attempts, o.callback_url FROM events e \
             JOIN orders o ON o.order_id = e.order_id \
             WHERE e.done = 0 AND e.next_at <= ? AND NOT EXISTS \
             (SELECT 1 FROM events p WHERE p.order_id = e.order_id AND p.done = 0 AND p.seq < e.seq) \
             ORDER BY e.next_at LIMIT 32",
        )
        .bind(now_ms())
        .fetch_all(&self.db)
        .await?;
        if due.is_empty() {
            return Ok(false);
        }
        let sends = due.iter().map(|row| async move {
            let id: String = row.try_get("id")?;
            let attempts: i64 = row.try_get("attempts")?;
            let url: Option<String> = row.try_get("callback_url")?;
            let body = self.open_sealed(&row.try_get::<String, _>("body")?)?;
            let sent = self
                .http
                .post(url.unwrap_or_default())
                .bearer_auth(&self.secret)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await;
            let finished = match &sent {
                Ok(r) => r.status().is_success() || r.status() == StatusCode::CONFLICT,
                Err(_) => false,
            };
            if let Ok(r) = &sent
                && !r.status().is_success()
                && !finished
            {
                tracing::warn!(event = id, status = %r.status(), "backend refused an event; retrying");
            }
            if finished {
                sqlx::query("UPDATE events SET done = 1 WHERE id = ?")
                    .bind(&id)
                    .execute(&self.db)
                    .await?;
            } else {
                let backoff = 50i64 << attempts.clamp(0, 8);
                sqlx::query("UPDATE events SET attempts = attempts + 1, next_at = ? WHERE id = ?")
                    .bind(now_ms() + backoff)
                    .bind(&id)
                    .execute(&self.db)
                    .await?;
            }
            anyhow::Ok(())
        });
        for sent in futures_util::future::join_all(sends).await {
            sent?;
        }
        Ok(true)
    }
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    qr_payload: String,
    manual_code: String,
    activation_code: String,
}

impl From<&IssuedCodes> for Sealed {
    fn from(c: &IssuedCodes) -> Self {
        Self {
            qr_payload: c.qr_payload.clone(),
            manual_code: c.manual_code.clone(),
            activation_code: c.activation_code.clone(),
        }
    }
}

fn generate() -> IssuedCodes {
    let mut rng = rand::rng();
    let qr: [u8; 16] = rng.random();
    let manual: String = (0..16)
        .map(|i| {
            let c = MANUAL_ALPHABET[rng.random_range(0..MANUAL_ALPHABET.len())] as char;
            if i > 0 && i % 4 == 0 {
                format!("-{c}")
            } else {
                c.to_string()
            }
        })
        .collect();
    let code: String = (0..8)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    IssuedCodes {
        qr_payload: format!("MLEG1.{}", hex::encode(qr)),
        manual_code: manual,
        activation_code: code,
    }
}

/// Manual codes are compared without separators and case.
fn normalize_manual(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn bridge_error(status: StatusCode, code: BridgeErrorCode, message: &str) -> Response {
    let body = BridgeError {
        code,
        message: message.to_owned(),
    };
    (status, Json(body)).into_response()
}

/// The bridge's and mObywatel's routes.
pub fn router(emu: Arc<IssuerEmulator>) -> Router {
    Router::new()
        .route("/bridge/v1/orders", post(submit))
        .route("/bridge/v1/orders/{order_id}/invalidate", post(invalidate))
        .route("/mobywatel/activate", post(activate))
        .with_state(emu)
}

/// The checks every command passes: the secret, a scripted refusal, an
/// `Idempotency-Key`, and a repeat of that key.
async fn command_gate(
    emu: &IssuerEmulator,
    headers: &HeaderMap,
    request: &[u8],
) -> Result<(String, String), Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer.is_none_or(|b| sha256_hex(&[b.as_bytes()]) != emu.secret_hash) {
        return Err(bridge_error(
            StatusCode::UNAUTHORIZED,
            BridgeErrorCode::Unauthorized,
            "wrong shared secret",
        ));
    }
    if let Some(status) = emu.refusals.lock().expect("lock").pop_front() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return Err(bridge_error(
            status,
            BridgeErrorCode::Unavailable,
            "scripted refusal",
        ));
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| {
            bridge_error(
                StatusCode::BAD_REQUEST,
                BridgeErrorCode::BadRequest,
                "an Idempotency-Key header is required",
            )
        })?
        .to_owned();
    let hash = sha256_hex(&[request]);
    let earlier = sqlx::query("SELECT request_hash, status, body FROM commands WHERE idem_key = ?")
        .bind(&key)
        .fetch_optional(&emu.db)
        .await
        .map_err(|_| unavailable())?;
    if let Some(row) = earlier {
        let same: String = row.get("request_hash");
        if same != hash {
            return Err(bridge_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                BridgeErrorCode::IdempotencyConflict,
                "this Idempotency-Key came with another command",
            ));
        }
        let status: i64 = row.get("status");
        let body: String = row.get("body");
        let status = u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::OK);
        return Err((status, [(header::CONTENT_TYPE, "application/json")], body).into_response());
    }
    Ok((key, hash))
}

fn unavailable() -> Response {
    bridge_error(
        StatusCode::SERVICE_UNAVAILABLE,
        BridgeErrorCode::Unavailable,
        "try again later",
    )
}

/// Keeps the answer to a command, so a repeat of its key gets the same.
async fn remember(
    emu: &IssuerEmulator,
    (key, hash): &(String, String),
    status: StatusCode,
    body: serde_json::Value,
) -> Response {
    let text = body.to_string();
    let kept = sqlx::query(
        "INSERT INTO commands (idem_key, request_hash, status, body) VALUES (?, ?, ?, ?) \
         ON CONFLICT (idem_key) DO NOTHING",
    )
    .bind(key)
    .bind(hash)
    .bind(i64::from(status.as_u16()))
    .bind(&text)
    .execute(&emu.db)
    .await;
    if kept.is_err() {
        return unavailable();
    }
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// What the card must carry for the issuer to take it.
fn check_card(o: &SubmitOrder) -> Result<(), &'static str> {
    let c = &o.card;
    if c.first_name.trim().is_empty() || c.last_name.trim().is_empty() {
        return Err("the card needs a first and a last name");
    }
    if c.pesel.len() != 11 || !c.pesel.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the card's PESEL must be 11 digits");
    }
    if ![&c.birth_date, &c.issued_on, &c.valid_until]
        .iter()
        .all(|d| is_date(d))
    {
        return Err("card dates are YYYY-MM-DD");
    }
    if c.valid_until < c.issued_on {
        return Err("the card would end before it is issued");
    }
    if c.university.trim().is_empty() || o.order_id.trim().is_empty() {
        return Err("the card needs a university and the order an id");
    }
    if !(o.callback_url.starts_with("https://") || o.callback_url.starts_with("http://")) {
        return Err("callback_url must be an http(s) URL");
    }
    Ok(())
}

async fn submit(
    State(emu): State<Arc<IssuerEmulator>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let gate = match command_gate(&emu, &headers, &body).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let order: SubmitOrder = match serde_json::from_slice(&body) {
        Ok(o) => o,
        Err(e) => {
            let why = format!("not a submit of this contract: {e}");
            return bridge_error(StatusCode::BAD_REQUEST, BridgeErrorCode::BadRequest, &why);
        }
    };
    if let Err(why) = check_card(&order) {
        return bridge_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            BridgeErrorCode::BadRequest,
            why,
        );
    }
    let stage = match emu.stage(&order.order_id).await {
        Ok(s) => s,
        Err(_) => return unavailable(),
    };
    let start = match stage.as_deref() {
        Some("invalidated") => {
            let body = json!({"code": "invalidated", "message": "this order was invalidated"});
            return remember(&emu, &gate, StatusCode::CONFLICT, body).await;
        }
        None => {
            let inserted = sqlx::query(
                "INSERT INTO orders (order_id, callback_url, card, stage, submits) \
                 VALUES (?, ?, ?, 'accepted', 1)",
            )
            .bind(&order.order_id)
            .bind(&order.callback_url)
            .bind(emu.seal(&serde_json::to_vec(&order.card).unwrap_or_default()))
            .execute(&emu.db)
            .await;
            inserted.is_ok()
        }
        // Sent back for correction: taken again.
        Some("returned") => {
            let again = sqlx::query(
                "UPDATE orders SET stage = 'accepted', card = ?, submits = submits + 1 \
                 WHERE order_id = ? AND stage = 'returned'",
            )
            .bind(emu.seal(&serde_json::to_vec(&order.card).unwrap_or_default()))
            .bind(&order.order_id)
            .execute(&emu.db)
            .await;
            again.is_ok_and(|r| r.rows_affected() == 1)
        }
        // Already taken (another key for the same order): nothing new.
        Some(_) => false,
    };
    if start {
        Arc::clone(&emu).spawn_process(order.order_id.clone());
    }
    let accepted = CommandAccepted {
        order_id: order.order_id,
        state: CommandState::Accepted,
    };
    let body = serde_json::to_value(accepted).unwrap_or_default();
    remember(&emu, &gate, StatusCode::ACCEPTED, body).await
}

async fn invalidate(
    State(emu): State<Arc<IssuerEmulator>>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let gate = match command_gate(&emu, &headers, &body).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    if let Err(e) = serde_json::from_slice::<InvalidateOrder>(&body) {
        let why = format!("not an invalidation of this contract: {e}");
        return bridge_error(StatusCode::BAD_REQUEST, BridgeErrorCode::BadRequest, &why);
    }
    // Final, even for an order whose submit has not arrived yet.
    let now = (emu.clock)();
    let done = sqlx::query(
        "INSERT INTO orders (order_id, stage, invalidated_at) VALUES (?, 'invalidated', ?) \
         ON CONFLICT (order_id) DO UPDATE SET stage = 'invalidated', \
         invalidated_at = COALESCE(orders.invalidated_at, excluded.invalidated_at)",
    )
    .bind(&order_id)
    .bind(now)
    .execute(&emu.db)
    .await;
    if done.is_err() {
        return unavailable();
    }
    let accepted = CommandAccepted {
        order_id,
        state: CommandState::Invalidated,
    };
    let body = serde_json::to_value(accepted).unwrap_or_default();
    remember(&emu, &gate, StatusCode::OK, body).await
}

/// What mObywatel sends to activate a card: the scanned QR payload or the
/// typed manual code, plus the activation code.
#[derive(Deserialize)]
struct ActivationRequest {
    #[serde(default)]
    qr_payload: Option<String>,
    #[serde(default)]
    manual_code: Option<String>,
    activation_code: String,
}

fn mobywatel_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

async fn activate(State(emu): State<Arc<IssuerEmulator>>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<ActivationRequest>(&body) else {
        return mobywatel_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "give qr_payload or manual_code, and activation_code",
        );
    };
    match try_activate(&emu, req).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "mObywatel stand-in failed");
            mobywatel_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "try again later",
            )
        }
    }
}

async fn try_activate(emu: &IssuerEmulator, req: ActivationRequest) -> anyhow::Result<Response> {
    let lookup = match (&req.qr_payload, &req.manual_code) {
        (Some(qr), _) => ("qr_lookup", emu.lookup("qr", qr.trim())),
        (None, Some(code)) => (
            "manual_lookup",
            emu.lookup("manual", &normalize_manual(code)),
        ),
        (None, None) => {
            return Ok(mobywatel_error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "give the QR payload or the manual-entry code",
            ));
        }
    };
    let invalid = || {
        mobywatel_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_activation_code",
            "wrong code or activation code",
        )
    };
    let sql = format!(
        "SELECT order_id, stage, codes, expires_at, wrong_codes, activated_at FROM orders WHERE {} = ?",
        lookup.0
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&lookup.1)
        .fetch_optional(&emu.db)
        .await?
    else {
        return Ok(invalid());
    };
    let order_id: String = row.try_get("order_id")?;
    let stage: String = row.try_get("stage")?;
    let wrong: i64 = row.try_get("wrong_codes")?;
    let expires_at: Option<i64> = row.try_get("expires_at")?;
    let activated: Option<i64> = row.try_get("activated_at")?;
    if stage == "invalidated" {
        return Ok(mobywatel_error(
            StatusCode::GONE,
            "card_voided",
            "this mLegitymacja was cancelled, revoked or replaced",
        ));
    }
    if wrong >= MAX_WRONG_CODES {
        return Ok(mobywatel_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "the activation code was typed wrong too many times; order again",
        ));
    }
    let now = (emu.clock)();
    if expires_at.is_none_or(|t| now >= t) {
        return Ok(mobywatel_error(
            StatusCode::GONE,
            "activation_expired",
            "this activation data has expired",
        ));
    }
    if activated.is_some() || stage == "received" {
        return Ok(mobywatel_error(
            StatusCode::CONFLICT,
            "already_activated",
            "already activated",
        ));
    }
    let sealed: String = row.try_get("codes")?;
    let codes: Sealed = serde_json::from_slice(&emu.open_sealed(&sealed)?)?;
    let given = sha256_hex(&[req.activation_code.trim().as_bytes()]);
    if given != sha256_hex(&[codes.activation_code.as_bytes()]) {
        sqlx::query("UPDATE orders SET wrong_codes = wrong_codes + 1 WHERE order_id = ?")
            .bind(&order_id)
            .execute(&emu.db)
            .await?;
        return Ok(invalid());
    }
    let done = sqlx::query(
        "UPDATE orders SET activated_at = ?, stage = 'received' \
         WHERE order_id = ? AND stage = 'ready' AND activated_at IS NULL",
    )
    .bind(now)
    .bind(&order_id)
    .execute(&emu.db)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(mobywatel_error(
            StatusCode::CONFLICT,
            "already_activated",
            "already activated",
        ));
    }
    emu.queue_event(&order_id, IssuerStatus::Received, None, None)
        .await?;
    Ok(Json(json!({ "activated": true })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_have_their_shapes() {
        let a = generate();
        assert!(a.qr_payload.starts_with("MLEG1.") && a.qr_payload.len() == 38);
        assert_eq!(a.manual_code.len(), 19);
        assert_eq!(a.manual_code.matches('-').count(), 3);
        assert!(
            normalize_manual(&a.manual_code)
                .bytes()
                .all(|b| MANUAL_ALPHABET.contains(&b))
        );
        let code = &a.activation_code;
        assert!(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(generate().qr_payload, a.qr_payload);
    }

    #[test]
    fn manual_codes_compare_loosely() {
        assert_eq!(normalize_manual(" abcd-EFGH 2345 "), "ABCDEFGH2345");
    }
}
