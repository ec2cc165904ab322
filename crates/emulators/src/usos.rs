//! A USOS API installation as the gateway meets it: the OAuth 1.0a provider
//! (`services/oauth/*`: request token, an authorize page with a login form,
//! access token, revoke), `services/apisrv/installation`,
//! `services/users/user` and `services/cards/*` (mcard, mcard_order,
//! make_mcard_order, revoke_mcard), with mObywatel's side
//! (`/mobywatel/activate`) reporting receipt back. It checks what USOS
//! checks — HMAC-SHA1 signatures over query, form body and Authorization
//! header, nonce replay, the timestamp window, token scopes and expiry —
//! and answers with USOS's error JSON (`message`, `error`, `reason`,
//! `user_messages`), so a test against it can fail.
//!
//! What public sources do not settle is marked GUESS and kept in [`guess`],
//! to be replaced by the installation's own method specifications
//! (`services/apiref/method?name=…`).

use crate::push::{listen, serve_on};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Map, Value, json};
use sha1::Sha1;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Behaviour the public sources leave open, in one place.
pub mod guess {
    /// Raw `mcard_order.status` values (GUESS: USOSweb's labels; no source
    /// shows the raw values). Pending → in progress → ready → received;
    /// error, cancelled and revoked end an order.
    pub const PENDING: &str = "Oczekuje";
    pub const IN_PROGRESS: &str = "W trakcie";
    pub const READY: &str = "Do odbioru";
    pub const RECEIVED: &str = "Odebrana";
    pub const ERROR: &str = "Błąd";
    pub const CANCELLED: &str = "Anulowane";
    pub const REVOKED: &str = "Unieważnione";
    /// The timestamp window (GUESS: ±5 minutes).
    pub const TIMESTAMP_WINDOW_SECS: u64 = 300;
    /// An access token without `offline_access` lives this long (GUESS: an hour).
    pub const SHORT_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(3600);
    /// A method this installation lacks answers 404 (GUESS: 400 or 404).
    pub const MISSING_METHOD_STATUS: u16 = 404;
    /// `*_forbidden` errors come as 403 (GUESS).
    pub const FORBIDDEN_STATUS: u16 = 403;
}

const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

/// `{"pl": …, "en": …}`.
pub fn lang_dict(pl: &str, en: &str) -> Value {
    json!({"pl": pl, "en": en})
}

#[derive(Clone)]
struct User {
    id: String,
    login: String,
    password: String,
    first_name: String,
    last_name: String,
    why_cannot_order: Option<Value>,
}

struct RequestToken {
    secret: String,
    consumer: String,
    callback: String,
    scopes: Vec<String>,
    verifier: Option<(String, String)>,
}

struct AccessToken {
    secret: String,
    consumer: String,
    user: String,
    scopes: Vec<String>,
    expires: Option<Instant>,
}

/// One mLegitymacja order at the installation.
#[derive(Clone, Debug)]
pub struct Order {
    pub id: String,
    pub user: String,
    pub status: String,
    pub order_date: String,
    pub token: Option<String>,
    pub distribution_pass: Option<String>,
    pub expiration_date: String,
    /// When it was placed (for the stand-in's own progress).
    pub placed: Instant,
}

#[derive(Default)]
struct World {
    consumers: HashMap<String, String>,
    users: Vec<User>,
    request_tokens: HashMap<String, RequestToken>,
    access_tokens: HashMap<String, AccessToken>,
    nonces: HashSet<(String, String, String)>,
    orders: Vec<Order>,
    next_order: u64,
    faults: VecDeque<u16>,
    missing: HashSet<String>,
    calls: HashMap<String, u64>,
    /// Per student: how many calls, and when the last one came (Unix ms).
    calls_by_user: HashMap<String, (u64, i64)>,
}

pub struct UsosEmulator {
    pub base_url: String,
    world: Mutex<World>,
    slow: Mutex<Duration>,
    mcards_support: Mutex<bool>,
    /// When set, orders move on by themselves: in progress after the first
    /// delay, ready after the second (as a real installation does; tests
    /// leave it off and move them with [`Self::set_status`]).
    progress: Mutex<Option<(Duration, Duration)>>,
}

impl UsosEmulator {
    /// Serves an installation on a loopback port of its own.
    pub async fn start() -> anyhow::Result<Arc<Self>> {
        let (listener, base) = listen().await?;
        Ok(Self::serve(listener, &base))
    }

    /// Serves an installation on `listener` (the emulators' process binds
    /// a fixed port for the demo).
    pub fn serve(listener: tokio::net::TcpListener, base: &str) -> Arc<Self> {
        let this = Arc::new(Self {
            base_url: format!("{base}/"),
            world: Mutex::default(),
            slow: Mutex::new(Duration::ZERO),
            mcards_support: Mutex::new(true),
            progress: Mutex::new(None),
        });
        serve_on(listener, router(Arc::clone(&this)));
        this
    }

    /// Orders move on by themselves: in progress after `accept`, ready
    /// `ready` later.
    pub fn set_progress(&self, accept: Duration, ready: Duration) {
        *self.progress.lock().expect("progress lock") = Some((accept, ready));
    }

    /// Moves orders on by the clock, when they do so by themselves.
    fn progress(&self) {
        let Some((accept, ready)) = *self.progress.lock().expect("progress lock") else {
            return;
        };
        let due: Vec<(String, &str)> = self
            .world()
            .orders
            .iter()
            .filter_map(|o| {
                let age = o.placed.elapsed();
                match o.status.as_str() {
                    guess::PENDING | guess::IN_PROGRESS if age >= accept + ready => {
                        Some((o.id.clone(), guess::READY))
                    }
                    guess::PENDING if age >= accept => Some((o.id.clone(), guess::IN_PROGRESS)),
                    _ => None,
                }
            })
            .collect();
        for (id, status) in due {
            self.set_status(&id, status);
        }
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().expect("usos lock")
    }

    /// A consumer key registered at the installation's `/developers/` page.
    pub fn add_consumer(&self, key: &str, secret: &str) {
        self.world()
            .consumers
            .insert(key.to_owned(), secret.to_owned());
    }

    /// A student who can sign in to USOS.
    pub fn add_user(&self, id: &str, login: &str, password: &str, first: &str, last: &str) {
        self.world().users.push(User {
            id: id.to_owned(),
            login: login.to_owned(),
            password: password.to_owned(),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            why_cannot_order: None,
        });
    }

    /// USOS's own reason why the student may not order (`None`: may order).
    pub fn set_why_cannot_order(&self, user_id: &str, why: Option<Value>) {
        if let Some(u) = self.world().users.iter_mut().find(|u| u.id == user_id) {
            u.why_cannot_order = why;
        }
    }

    pub fn orders(&self) -> Vec<Order> {
        self.world().orders.clone()
    }

    /// Moves an order to a raw status; ready hands out the codes.
    pub fn set_status(&self, order_id: &str, raw: &str) {
        let mut w = self.world();
        if let Some(o) = w.orders.iter_mut().find(|o| o.id == order_id) {
            o.status = raw.to_owned();
            if raw == guess::READY && o.token.is_none() {
                o.token = Some(format!("MCARD1.{}", uuid::Uuid::new_v4().simple()));
                o.distribution_pass = Some(format!("{:08}", rand::random::<u32>() % 100_000_000));
            }
        }
    }

    /// The next calls answer with these HTTP statuses (401, 500, 503 …).
    pub fn fail_next(&self, status: u16) {
        self.world().faults.push_back(status);
    }

    /// Every answer waits this long.
    pub fn set_slow(&self, delay: Duration) {
        *self.slow.lock().expect("slow lock") = delay;
    }

    /// This installation lacks `method` (e.g. `services/cards/mcard`).
    pub fn remove_method(&self, method: &str) {
        self.world().missing.insert(method.to_owned());
    }

    pub fn set_mcards_support(&self, on: bool) {
        *self.mcards_support.lock().expect("lock") = on;
    }

    /// The student's access tokens stop working (revoked at USOS).
    pub fn revoke_tokens_of(&self, user_id: &str) {
        self.world().access_tokens.retain(|_, t| t.user != user_id);
    }

    /// An access token for `user_id` as if they had signed in through
    /// `consumer` with `scopes` (benchmarks seed thousands this way).
    pub fn grant(&self, user_id: &str, consumer: &str, scopes: &[&str]) -> (String, String) {
        let (key, secret) = (random(20), random(40));
        let offline = scopes.contains(&"offline_access");
        self.world().access_tokens.insert(
            key.clone(),
            AccessToken {
                secret: secret.clone(),
                consumer: consumer.to_owned(),
                user: user_id.to_owned(),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                expires: (!offline).then(|| Instant::now() + guess::SHORT_TOKEN_TTL),
            },
        );
        (key, secret)
    }

    /// How many calls were made on behalf of a student, and when the last
    /// one came (Unix ms; 0 when none).
    pub fn calls_of(&self, user_id: &str) -> (u64, i64) {
        self.world()
            .calls_by_user
            .get(user_id)
            .copied()
            .unwrap_or_default()
    }

    /// How many calls each method got.
    pub fn calls(&self, method: &str) -> u64 {
        self.world().calls.get(method).copied().unwrap_or(0)
    }
}

/// USOS's error JSON.
fn error(status: u16, message: &str, code: Option<&str>, extra: Value) -> Response {
    let mut body = Map::new();
    body.insert("message".into(), json!(message));
    if let Some(code) = code {
        body.insert("error".into(), json!(code));
    }
    if let Value::Object(extra) = extra {
        body.extend(extra);
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        axum::Json(Value::Object(body)),
    )
        .into_response()
}

fn parse_form(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// `OAuth k="v", …` from the Authorization header.
fn parse_auth_header(headers: &HeaderMap) -> Vec<(String, String)> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("OAuth "))
    else {
        return vec![];
    };
    value
        .split(',')
        .filter_map(|part| {
            let (k, v) = part.trim().split_once('=')?;
            let v = v.trim_matches('"');
            let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            (k != "realm").then(|| (decode(k), decode(v)))
        })
        .collect()
}

/// Every parameter of a request: query, form body and Authorization header.
struct Request {
    method: Method,
    path: String,
    params: Vec<(String, String)>,
}

impl Request {
    fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

type Refusal = Box<Response>;

impl UsosEmulator {
    /// Checks the signature: the consumer's, and the token's when the
    /// method needs one. Returns the consumer key and the token (if any).
    fn verify(
        &self,
        req: &Request,
        token_kind: TokenKind,
    ) -> Result<(String, Option<String>), Refusal> {
        let unauthorized = |m: &str| Box::new(error(401, m, None, json!({})));
        let consumer = req
            .get("oauth_consumer_key")
            .ok_or_else(|| {
                Box::new(error(
                    401,
                    "Consumer key required",
                    Some("method_forbidden"),
                    json!({"reason": "consumer_missing"}),
                ))
            })?
            .to_owned();
        if req.get("oauth_signature_method") != Some("HMAC-SHA1") {
            return Err(unauthorized("Unsupported signature method"));
        }
        let timestamp: u64 = req
            .get("oauth_timestamp")
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| unauthorized("Missing timestamp"))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if now.abs_diff(timestamp) > guess::TIMESTAMP_WINDOW_SECS {
            return Err(unauthorized("Timestamp out of range"));
        }
        let nonce = req.get("oauth_nonce").unwrap_or_default().to_owned();
        let mut w = self.world();
        let consumer_secret = w
            .consumers
            .get(&consumer)
            .cloned()
            .ok_or_else(|| unauthorized("Invalid consumer"))?;
        let token = req.get("oauth_token").map(str::to_owned);
        let token_secret = match (token_kind, &token) {
            (TokenKind::None, _) => String::new(),
            (TokenKind::Request, Some(t)) => w
                .request_tokens
                .get(t)
                .filter(|r| r.consumer == consumer)
                .map(|r| r.secret.clone())
                .ok_or_else(|| unauthorized("Invalid request token"))?,
            (TokenKind::Access, Some(t)) => {
                let access = w
                    .access_tokens
                    .get(t)
                    .filter(|a| a.consumer == consumer)
                    .ok_or_else(|| unauthorized("Invalid access token"))?;
                if access.expires.is_some_and(|e| e <= Instant::now()) {
                    return Err(unauthorized("Access token expired"));
                }
                access.secret.clone()
            }
            (_, None) => {
                return Err(Box::new(error(
                    401,
                    "Token required",
                    Some("method_forbidden"),
                    json!({"reason": "user_missing"}),
                )));
            }
        };
        let url = format!("{}{}", self.base_url, req.path.trim_start_matches('/'));
        let mut sorted: Vec<(String, String)> = req
            .params
            .iter()
            .filter(|(k, _)| k != "oauth_signature")
            .map(|(k, v)| (enc(k), enc(v)))
            .collect();
        sorted.sort();
        let joined: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let base = format!(
            "{}&{}&{}",
            req.method.as_str(),
            enc(&url),
            enc(&joined.join("&"))
        );
        let key = format!("{}&{}", enc(&consumer_secret), enc(&token_secret));
        let sign = |b: &str| {
            let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("any key");
            mac.update(b.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        };
        let given = req.get("oauth_signature").unwrap_or_default();
        if given != sign(&base) {
            return Err(unauthorized("Invalid signature"));
        }
        if !w
            .nonces
            .insert((consumer.clone(), nonce, timestamp.to_string()))
        {
            return Err(unauthorized("Nonce already used"));
        }
        Ok((consumer, token))
    }
}

#[derive(Clone, Copy)]
enum TokenKind {
    None,
    Request,
    Access,
}

fn form(pairs: &[(&str, &str)]) -> Response {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    (
        [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
        body.join("&"),
    )
        .into_response()
}

fn random(n: usize) -> String {
    use rand::Rng;
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// Keeps only the `fields` asked for; an unknown one is `field_not_found`.
fn select(method: &str, value: Value, fields: Option<&str>, known: &[&str]) -> Response {
    let Some(fields) = fields else {
        return axum::Json(value).into_response();
    };
    let mut out = Map::new();
    for f in fields.split('|').filter(|f| !f.is_empty()) {
        if !known.contains(&f) {
            return error(
                400,
                &format!("Unknown field: {f}"),
                Some("field_not_found"),
                json!({"field_name": f, "method_name": method}),
            );
        }
        out.insert(f.to_owned(), value.get(f).cloned().unwrap_or(Value::Null));
    }
    axum::Json(Value::Object(out)).into_response()
}

fn order_json(o: &Order) -> Value {
    json!({
        "id": o.id, "order_date": o.order_date, "status": o.status,
        "token": o.token, "distribution_pass": o.distribution_pass,
        "student_number": null, "expiration_date": o.expiration_date,
    })
}

const ORDER_FIELDS: [&str; 7] = [
    "id",
    "order_date",
    "status",
    "token",
    "distribution_pass",
    "student_number",
    "expiration_date",
];

fn is_open(status: &str) -> bool {
    ![guess::ERROR, guess::CANCELLED, guess::REVOKED].contains(&status)
}

async fn service(
    State(emu): State<Arc<UsosEmulator>>,
    Path(path): Path<String>,
    method: Method,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let slow = *emu.slow.lock().expect("slow lock");
    if !slow.is_zero() {
        tokio::time::sleep(slow).await;
    }
    let name = format!("services/{path}");
    emu.progress();
    *emu.world().calls.entry(name.clone()).or_default() += 1;
    if let Some(status) = emu.world().faults.pop_front() {
        return error(status, "Scripted failure", None, json!({}));
    }
    if emu.world().missing.contains(&name) {
        return error(
            guess::MISSING_METHOD_STATUS,
            "Method not found",
            None,
            json!({}),
        );
    }
    let mut params = query;
    if method == Method::POST {
        params.extend(parse_form(&String::from_utf8_lossy(&body)));
    }
    params.extend(parse_auth_header(&headers));
    let req = Request {
        method: method.clone(),
        path: format!("/{name}"),
        params,
    };
    match name.as_str() {
        "services/apisrv/installation" => {
            let support = *emu.mcards_support.lock().expect("lock");
            let value = json!({"base_url": emu.base_url, "version": "7.2.0-emulated",
                "institution_name": lang_dict("Uniwersytet Emulowany", "Emulated University"),
                "mcards_support": support});
            select(
                &name,
                value,
                req.get("fields"),
                &["base_url", "version", "institution_name", "mcards_support"],
            )
        }
        "services/oauth/request_token" => request_token(&emu, &req),
        "services/oauth/access_token" => access_token(&emu, &req),
        "services/oauth/revoke_token" => match emu.verify(&req, TokenKind::Access) {
            Ok((_, Some(token))) => {
                emu.world().access_tokens.remove(&token);
                axum::Json(json!({"success": true})).into_response()
            }
            Ok(_) => error(401, "Token required", None, json!({})),
            Err(r) => *r,
        },
        _ => user_method(&emu, &name, &req),
    }
}

fn request_token(emu: &UsosEmulator, req: &Request) -> Response {
    let consumer = match emu.verify(req, TokenKind::None) {
        Ok((c, _)) => c,
        Err(r) => return *r,
    };
    let Some(callback) = req.get("oauth_callback") else {
        return error(
            400,
            "oauth_callback is required",
            Some("param_missing"),
            json!({"param_name": "oauth_callback"}),
        );
    };
    let scopes: Vec<String> = req
        .get("scopes")
        .unwrap_or_default()
        .split('|')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let (key, secret) = (random(20), random(40));
    emu.world().request_tokens.insert(
        key.clone(),
        RequestToken {
            secret: secret.clone(),
            consumer,
            callback: callback.to_owned(),
            scopes,
            verifier: None,
        },
    );
    form(&[
        ("oauth_token", &key),
        ("oauth_token_secret", &secret),
        ("oauth_callback_confirmed", "true"),
    ])
}

fn access_token(emu: &UsosEmulator, req: &Request) -> Response {
    if let Err(r) = emu.verify(req, TokenKind::Request) {
        return *r;
    }
    let token = req.get("oauth_token").unwrap_or_default().to_owned();
    let verifier = req.get("oauth_verifier").unwrap_or_default();
    let mut w = emu.world();
    let Some(rt) = w.request_tokens.get(&token) else {
        return error(401, "Invalid request token", None, json!({}));
    };
    let Some((expected, user)) = rt.verifier.clone() else {
        return error(401, "Request token not authorized", None, json!({}));
    };
    if expected != verifier {
        return error(401, "Invalid verifier", None, json!({}));
    }
    let rt = w.request_tokens.remove(&token).expect("present");
    let offline = rt.scopes.iter().any(|s| s == "offline_access");
    let (key, secret) = (random(20), random(40));
    w.access_tokens.insert(
        key.clone(),
        AccessToken {
            secret: secret.clone(),
            consumer: rt.consumer,
            user,
            scopes: rt.scopes,
            expires: (!offline).then(|| Instant::now() + guess::SHORT_TOKEN_TTL),
        },
    );
    form(&[("oauth_token", &key), ("oauth_token_secret", &secret)])
}

/// Methods on behalf of a signed-in student.
fn user_method(emu: &UsosEmulator, name: &str, req: &Request) -> Response {
    let token = match emu.verify(req, TokenKind::Access) {
        Ok((_, Some(t))) => t,
        Ok(_) => return error(401, "Token required", None, json!({})),
        Err(r) => return *r,
    };
    let mut w = emu.world();
    let (user_id, scopes) = {
        let t = &w.access_tokens[&token];
        (t.user.clone(), t.scopes.clone())
    };
    let seen = w.calls_by_user.entry(user_id.clone()).or_default();
    *seen = (seen.0 + 1, crate::push::now_ms());
    let user = w
        .users
        .iter()
        .find(|u| u.id == user_id)
        .cloned()
        .expect("a token's user exists");
    if name.starts_with("services/cards/") && !scopes.iter().any(|s| s == "cards") {
        return error(
            guess::FORBIDDEN_STATUS,
            "Scope missing",
            Some("method_forbidden"),
            json!({"reason": "scope_missing", "missing_scopes": ["cards"]}),
        );
    }
    let open = |w: &World| {
        w.orders
            .iter()
            .any(|o| o.user == user_id && is_open(&o.status))
    };
    match name {
        "services/users/user" => select(
            name,
            json!({"id": user.id, "first_name": user.first_name, "last_name": user.last_name}),
            req.get("fields"),
            &["id", "first_name", "last_name"],
        ),
        "services/cards/mcard" => {
            let why_not = user.why_cannot_order.clone().or_else(|| {
                open(&w).then(|| {
                    lang_dict(
                        "Masz już zamówioną mLegitymację.",
                        "You already have an mLegitymacja order.",
                    )
                })
            });
            let orders: Vec<Value> = w
                .orders
                .iter()
                .filter(|o| o.user == user_id)
                .map(order_json)
                .collect();
            let why_not_revoke = (!open(&w)).then(|| {
                lang_dict(
                    "Nie masz mLegitymacji do unieważnienia.",
                    "You have no mLegitymacja to revoke.",
                )
            });
            select(
                name,
                json!({"why_cannot_order": why_not, "why_cannot_revoke": why_not_revoke,
                       "orders": orders}),
                req.get("fields"),
                &["why_cannot_order", "why_cannot_revoke", "orders"],
            )
        }
        "services/cards/make_mcard_order" => {
            let why_not = user.why_cannot_order.clone().or_else(|| {
                open(&w).then(|| {
                    lang_dict(
                        "Masz już zamówioną mLegitymację.",
                        "You already have an mLegitymacja order.",
                    )
                })
            });
            if let Some(why) = why_not {
                return error(
                    guess::FORBIDDEN_STATUS,
                    "Cannot order an mStudentCard",
                    Some("method_forbidden"),
                    json!({"reason": "cannot_order", "user_messages": {"generic_message": why}}),
                );
            }
            w.next_order += 1;
            let id = w.next_order.to_string();
            w.orders.push(Order {
                id,
                user: user_id,
                status: guess::PENDING.to_owned(),
                order_date: "2026-11-29 10:00:00".to_owned(),
                token: None,
                distribution_pass: None,
                expiration_date: "2027-03-31".to_owned(),
                placed: Instant::now(),
            });
            axum::Json(json!({"success": true})).into_response()
        }
        "services/cards/mcard_order" | "services/cards/revoke_mcard" => {
            let Some(order_id) = req.get("order_id") else {
                return error(
                    400,
                    "order_id is required",
                    Some("param_missing"),
                    json!({"param_name": "order_id"}),
                );
            };
            let Some(order) = w
                .orders
                .iter_mut()
                .find(|o| o.id == order_id && o.user == user_id)
            else {
                return error(
                    400,
                    "No such order",
                    Some("object_not_found"),
                    json!({"param_name": "order_id", "method_name": name}),
                );
            };
            if name.ends_with("mcard_order") {
                let value = order_json(order);
                return select(name, value, req.get("fields"), &ORDER_FIELDS);
            }
            if !is_open(&order.status) {
                return error(
                    guess::FORBIDDEN_STATUS,
                    "Nothing to revoke",
                    Some("object_invalid"),
                    json!({"user_messages": {"generic_message": lang_dict(
                        "Tego zamówienia nie można już unieważnić.",
                        "This order can no longer be revoked.")}}),
                );
            }
            let issued = order.status == guess::RECEIVED || order.status == guess::READY;
            order.status = if issued {
                guess::REVOKED
            } else {
                guess::CANCELLED
            }
            .to_owned();
            axum::Json(json!({"success": true})).into_response()
        }
        _ => error(
            guess::MISSING_METHOD_STATUS,
            "Method not found",
            None,
            json!({}),
        ),
    }
}

/// The authorize page: a login form for the student.
async fn authorize_page(Query(q): Query<BTreeMap<String, String>>) -> Html<String> {
    let token = q.get("oauth_token").cloned().unwrap_or_default();
    Html(format!(
        "<!doctype html><html lang=\"pl\"><head><meta charset=\"utf-8\"><title>USOS — logowanie</title></head>\
         <body><h1>Centralny System Uwierzytelniania</h1>\
         <form method=\"post\" action=\"authorize\">\
         <input type=\"hidden\" name=\"oauth_token\" value=\"{token}\">\
         <label>Login <input id=\"username\" name=\"username\"></label>\
         <label>Hasło <input id=\"password\" name=\"password\" type=\"password\"></label>\
         <button id=\"allow\" type=\"submit\" name=\"decision\" value=\"allow\">Zaloguj i zezwól</button>\
         <button id=\"deny\" type=\"submit\" name=\"decision\" value=\"deny\">Odmów</button>\
         </form></body></html>",
        token = html_escape(&token)
    ))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// The student signs in and allows access: back to the callback with the
/// verifier (or, for `oob`, a PIN to type).
async fn authorize_submit(State(emu): State<Arc<UsosEmulator>>, body: Bytes) -> Response {
    let params: HashMap<String, String> = parse_form(&String::from_utf8_lossy(&body))
        .into_iter()
        .collect();
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or_default();
    let mut w = emu.world();
    let user = w
        .users
        .iter()
        .find(|u| u.login == get("username") && u.password == get("password"))
        .map(|u| u.id.clone());
    let Some(rt) = w.request_tokens.get_mut(get("oauth_token")) else {
        return (StatusCode::BAD_REQUEST, Html("Nieznany token.".to_owned())).into_response();
    };
    let Some(user) = user else {
        return (
            StatusCode::UNAUTHORIZED,
            Html("Błędny login lub hasło.".to_owned()),
        )
            .into_response();
    };
    if get("decision") == "deny" {
        let sep = if rt.callback.contains('?') { '&' } else { '?' };
        return Redirect::to(&format!("{}{sep}error=access_denied", rt.callback)).into_response();
    }
    let verifier = format!("{:08}", rand::random::<u32>() % 100_000_000);
    rt.verifier = Some((verifier.clone(), user));
    if rt.callback == "oob" {
        return Html(format!(
            "<p>PIN: <span class=\"local-pin\">{verifier}</span></p>"
        ))
        .into_response();
    }
    let sep = if rt.callback.contains('?') { '&' } else { '?' };
    Redirect::to(&format!(
        "{}{sep}oauth_token={}&oauth_verifier={verifier}",
        rt.callback,
        enc(get("oauth_token"))
    ))
    .into_response()
}

/// mObywatel: the student enters the codes USOS handed out; USOS then sees
/// the card as received.
async fn mobywatel_activate(State(emu): State<Arc<UsosEmulator>>, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let (qr, pass) = (
        body["qr_payload"].as_str(),
        body["activation_code"].as_str(),
    );
    let mut w = emu.world();
    let Some(order) = w
        .orders
        .iter_mut()
        .find(|o| o.token.as_deref() == qr && o.token.is_some())
    else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"code": "invalid_activation_code"})),
        )
            .into_response();
    };
    if order.status != guess::READY {
        return (StatusCode::GONE, axum::Json(json!({"code": "card_voided"}))).into_response();
    }
    if order.distribution_pass.as_deref() != pass {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"code": "invalid_activation_code"})),
        )
            .into_response();
    }
    order.status = guess::RECEIVED.to_owned();
    axum::Json(json!({"status": "received"})).into_response()
}

pub fn router(emu: Arc<UsosEmulator>) -> Router {
    Router::new()
        .route(
            "/services/oauth/authorize",
            get(authorize_page).post(authorize_submit),
        )
        .route("/services/{*path}", any(service))
        .route("/mobywatel/activate", post(mobywatel_activate))
        .with_state(emu)
}
