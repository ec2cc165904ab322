//! kill -9 in the middle of a wave: the real server binary, with FCM push
//! configured against the loopback emulator, is killed while students are
//! ordering, then started again. Clients retry failed requests with the same
//! Idempotency-Key, as the app does. Afterwards: one order per student, every
//! order ready, and every notice delivered to its device — at least once;
//! re-sends are bounded by what was in flight at the kill (the app drops
//! them by notice id).
//!
//! Two server processes on one database share a wave and its outbox.
//!
//! `LEGITKA_DURABILITY_ORDERS` sets the kill -9 wave's size (default 10,000),
//! `LEGITKA_TWO_INSTANCE_ORDERS` the two-instance wave's (default 2,000).

mod common;

use common::{Db, database_url, postgres_available, rsa_pair};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use legitka_emulators::fcm::FcmEmulator;
use legitka_emulators::issuer::IssuerEmulator;
use legitka_server::crypto::Secret;
use legitka_server::settings::Settings;
use legitka_server::state::AppState;
use legitka_server::{auth, clock::SystemClock, import, pesel::Pesel};
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "4242424242424242424242424242424242424242424242424242424242424242";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_wave_loses_no_notice_and_no_order_on_sqlite() {
    kill_9_mid_wave(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_wave_loses_no_notice_and_no_order_on_postgres() {
    if postgres_available() {
        kill_9_mid_wave(Db::Postgres).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_outbox_on_sqlite() {
    two_instances(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_outbox_and_events_on_postgres() {
    if postgres_available() {
        two_instances(Db::Postgres).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issuer_commands_committed_before_a_kill_9_are_delivered_after_it_on_sqlite() {
    commands_survive_kill_9(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issuer_commands_committed_before_a_kill_9_are_delivered_after_it_on_postgres() {
    if postgres_available() {
        commands_survive_kill_9(Db::Postgres).await;
    }
}

/// Orders and cancels are committed while the server delivers nothing to
/// the issuer (no issuer workers), then it is killed with SIGKILL: every
/// command is only in the outbox. Started again, it submits every order
/// and voids every cancelled one at the issuer.
async fn commands_survive_kill_9(db: Db) {
    let w = prepare(db, 60).await;
    let port = free_port();
    let mut held = w.env.clone();
    held.push(("APP_ISSUER_WORKERS".into(), "0".into()));
    let server = start(&held, port).await;
    let http = reqwest::Client::new();
    assert!(order_pairs(&http, &server.base, &w.tokens).await.is_empty());
    let (cancelled, kept) = w.tokens.split_at(w.n / 2);
    for (token, _) in cancelled {
        let r = http
            .post(format!("{}/api/v1/orders/current/cancel", server.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
    }
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM issuer_commands")
        .fetch_one(&w.state.db.pool)
        .await
        .unwrap();
    assert_eq!(usize::try_from(queued).unwrap(), w.n + cancelled.len());
    drop(server); // SIGKILL, with every command still queued

    let _server = start(&w.env, port).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE status = 'ready'")
            .fetch_one(&w.state.db.pool)
            .await
            .unwrap();
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM issuer_commands")
            .fetch_one(&w.state.db.pool)
            .await
            .unwrap();
        if usize::try_from(ready).unwrap() == kept.len() && left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{ready} ready, {left} commands left"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let orders: Vec<(String, String)> = sqlx::query_as("SELECT id, status FROM orders")
        .fetch_all(&w.state.db.pool)
        .await
        .unwrap();
    for (id, status) in orders {
        let stage = w.issuer.stage(&id).await.unwrap();
        match status.as_str() {
            "cancelled" => assert_eq!(stage.as_deref(), Some("invalidated"), "{id}"),
            _ => assert_eq!(stage.as_deref(), Some("ready"), "{id} is {status}"),
        }
    }
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(env: &[(String, String)], port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_legitka-server"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("RUST_LOG", "error")
        .env("APP_METRICS_BIND", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if reqwest::get(format!("{base}/health")).await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Server { child, base }
}

/// A wave's fixture: students with sessions and one FCM device each, and
/// the environment that starts the real server binary against the emulator.
struct Wave {
    _dir: tempfile::TempDir,
    state: AppState,
    fcm: Arc<FcmEmulator>,
    /// The issuer-bridge stand-in both runs of the server talk to.
    issuer: Arc<IssuerEmulator>,
    env: Vec<(String, String)>,
    tokens: Vec<(String, String)>,
    n: usize,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wave_size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn prepare(db: Db, n: usize) -> Wave {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(db, &dir).await;
    let (private, public) = rsa_pair();
    let fcm = FcmEmulator::start("durable", "push@durable.iam.gserviceaccount.com", &public)
        .await
        .unwrap();
    let key_file = dir.path().join("fcm.pem");
    std::fs::write(&key_file, private).unwrap();
    let issuer = legitka_testkit::start_issuer(
        dir.path(),
        Arc::new(SystemClock),
        (Duration::from_millis(20), Duration::from_millis(20)),
    )
    .await
    .unwrap();
    let secret_file = dir.path().join("bridge.secret");
    std::fs::write(&secret_file, legitka_testkit::BRIDGE_SECRET).unwrap();

    // The registry, sessions and devices, written straight to the database.
    let mut settings = Settings::for_tests(url.clone());
    settings.activation_key = Secret::new(KEY.to_owned());
    let state = AppState::build(settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let tokens = seed(&state, n).await;

    let env: Vec<(String, String)> = [
        ("APP_DATABASE_URL", url.as_str()),
        ("APP_ACTIVATION_KEY", KEY),
        ("APP_ISSUER_URL", issuer.base_url.as_str()),
        ("APP_ISSUER_SECRET_FILE", secret_file.to_str().unwrap()),
        ("APP_FCM_PROJECT_ID", fcm.project_id.as_str()),
        ("APP_FCM_CLIENT_EMAIL", fcm.client_email.as_str()),
        ("APP_FCM_PRIVATE_KEY_FILE", key_file.to_str().unwrap()),
        ("APP_FCM_ENDPOINT", fcm.base_url.as_str()),
        ("APP_FCM_TOKEN_URI", fcm.token_uri.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Wave {
        _dir: dir,
        state,
        fcm,
        issuer,
        env,
        tokens,
        n,
    }
}

impl Wave {
    /// Waits until every order is ready and the outbox is empty.
    async fn wait_all_ready_and_delivered(&self) {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let ready: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE status = 'ready'")
                    .fetch_one(&self.state.db.pool)
                    .await
                    .unwrap();
            let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
                .fetch_one(&self.state.db.pool)
                .await
                .unwrap();
            if usize::try_from(ready).unwrap() == self.n && left == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{ready} of {} ready, {left} deliveries left",
                self.n
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every committed order's submit reached the issuer, and was taken
    /// once (a command resent after the kill carries the same idempotency key).
    async fn check_each_order_reached_the_issuer_once(&self) {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM orders")
            .fetch_all(&self.state.db.pool)
            .await
            .unwrap();
        for id in ids {
            assert_eq!(self.issuer.submits(&id).await.unwrap(), 1, "order {id}");
        }
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM issuer_commands")
            .fetch_one(&self.state.db.pool)
            .await
            .unwrap();
        assert_eq!(left, 0, "issuer commands left undelivered");
    }

    /// One order per student; every queued (notice, device) reached FCM and
    /// nothing else did. Returns how many were sent more than once.
    async fn check_orders_and_deliveries(&self) -> usize {
        let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
            .fetch_one(&self.state.db.pool)
            .await
            .unwrap();
        assert_eq!(
            usize::try_from(orders).unwrap(),
            self.n,
            "one order per student"
        );
        let notices = |sql: &'static str| async move {
            sqlx::query_as::<_, (String, String)>(sql)
                .fetch_all(&self.state.db.pool)
                .await
                .unwrap()
                .into_iter()
                .collect::<HashSet<(String, String)>>()
        };
        let queued = notices(
            "SELECT n.id, d.token FROM notices n JOIN devices d ON d.student_id = n.student_id",
        )
        .await;
        assert_eq!(
            queued.len(),
            3 * self.n,
            "pending, in progress, ready for each"
        );
        // "pending" and "in progress" may be superseded unsent; "ready" never.
        let expected = notices(
            "SELECT n.id, d.token FROM notices n JOIN devices d ON d.student_id = n.student_id \
             WHERE n.status = 'ready'",
        )
        .await;
        let mut got: HashMap<(String, String), usize> = HashMap::new();
        for m in self.fcm.received() {
            let key = (
                m["data"]["notice_id"].as_str().unwrap().to_owned(),
                m["token"].as_str().unwrap().to_owned(),
            );
            *got.entry(key).or_default() += 1;
        }
        let missing = expected.iter().filter(|k| !got.contains_key(*k)).count();
        assert_eq!(missing, 0, "notices lost");
        assert!(
            got.keys().all(|k| queued.contains(k)),
            "a notice nobody queued"
        );
        got.values().map(|c| c - 1).sum()
    }
}

async fn kill_9_mid_wave(db: Db) {
    let w = prepare(db, wave_size("LEGITKA_DURABILITY_ORDERS", 10_000)).await;
    let (n, port) = (w.n, free_port());

    // Order; kill -9 once a third of the orders are in; start again; retry.
    let server = start(&w.env, port).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let placed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let wave = {
        let (http, base, placed) = (http.clone(), server.base.clone(), Arc::clone(&placed));
        let tokens = w.tokens.clone();
        tokio::spawn(async move { order_all(&http, &base, &tokens, &placed).await })
    };
    while placed.load(std::sync::atomic::Ordering::SeqCst) < n / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(server); // SIGKILL
    let failed = wave.await.unwrap();
    assert!(
        !failed.is_empty(),
        "the kill should have cut some orders off"
    );
    let server = start(&w.env, port).await;
    let still = order_pairs(&http, &server.base, &failed).await;
    assert!(
        still.is_empty(),
        "{} orders failed after the restart",
        still.len()
    );

    // Everything ready, everything delivered.
    w.wait_all_ready_and_delivered().await;
    drop(server);
    let resent = w.check_orders_and_deliveries().await;
    w.check_each_order_reached_the_issuer_once().await;
    // At most what the dispatcher had in flight at the kill: 4 workers
    // with a batch of 32 each (a batch leaves the outbox once all its
    // sends are done).
    assert!(resent <= 4 * 32, "{resent} notices sent twice");
}

/// Two server processes on one database take a wave's orders between them
/// and share its outbox: every notice reaches its device exactly once. On
/// PostgreSQL a student following one instance's event stream also sees
/// what the other instance did, at once.
async fn two_instances(db: Db) {
    let w = prepare(db, wave_size("LEGITKA_TWO_INSTANCE_ORDERS", 2_000)).await;
    let a = start(&w.env, free_port()).await;
    let b = start(&w.env, free_port()).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // The first student follows A's stream and orders through B.
    let (first_token, first_key) = w.tokens[0].clone();
    let mut events = http
        .get(format!("{}/api/v1/events", a.base))
        .bearer_auth(&first_token)
        .send()
        .await
        .unwrap()
        .bytes_stream()
        .eventsource();
    assert_eq!(events.next().await.unwrap().unwrap().event, "hello");
    let still = order_pairs(&http, &b.base, &[(first_token, first_key)]).await;
    assert!(still.is_empty());
    if db == Db::Postgres {
        let seen = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(ev)) = events.next().await {
                if ev.event == "status" && ev.data.contains("\"ready\"") {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(seen, Ok(true), "A's stream never showed B's change");
    }

    // The rest order through both, half each.
    let (even, odd): (Vec<_>, Vec<_>) = w.tokens[1..]
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    let strip =
        |v: Vec<(usize, (String, String))>| v.into_iter().map(|(_, t)| t).collect::<Vec<_>>();
    let (even, odd) = (strip(even), strip(odd));
    let (left_a, left_b) = tokio::join!(
        order_pairs(&http, &a.base, &even),
        order_pairs(&http, &b.base, &odd)
    );
    assert!(left_a.is_empty() && left_b.is_empty());
    w.wait_all_ready_and_delivered().await;
    drop((a, b));
    assert_eq!(
        w.check_orders_and_deliveries().await,
        0,
        "a notice sent twice"
    );
}

/// `n` eligible students, each with a session and one FCM device.
/// Returns their (access token, idempotency key).
async fn seed(state: &AppState, n: usize) -> Vec<(String, String)> {
    let hash = auth::hash_password("x".into()).await.unwrap();
    let mut csv = format!("{}\n", import::COLUMNS);
    for i in 0..n {
        let pesel = Pesel::with_check_digit(&format!(
            "0{}2{}08{:04}",
            i % 10,
            1 + (i / 10) % 9,
            i % 10_000
        ))
        .unwrap();
        csv.push_str(&format!(
            "s{i},\"{hash}\",S,{i},{},{i},true,true,ELS/{i},2099-12-31,2020-01-01,,first_cycle\n",
            pesel.expose()
        ));
    }
    import::import_students(state, csv.as_bytes())
        .await
        .unwrap();
    let ids: Vec<(String, String)> = sqlx::query_as("SELECT id, username FROM students")
        .fetch_all(&state.db.pool)
        .await
        .unwrap();
    let mut out = vec![];
    for chunk in ids.chunks(256) {
        let made = futures_util::future::join_all(chunk.iter().map(|(id, username)| async move {
            let t = auth::create_session(state, id).await.unwrap();
            let session: String = sqlx::query_scalar(
                "SELECT session_id FROM access_tokens WHERE token_hash = $1",
            )
            .bind(legitka_server::crypto::sha256_hex(&t.access_token))
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO devices (id, student_id, session_id, platform, token, locale, created_at) \
                 VALUES ($1, $2, $3, 'fcm', $4, 'pl', 0)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(id)
            .bind(session)
            .bind(format!("device-{username}"))
            .execute(&state.db.pool)
            .await
            .unwrap();
            (t.access_token, uuid::Uuid::new_v4().to_string())
        }))
        .await;
        out.extend(made);
    }
    out
}

/// Places every order (64 at a time); returns those whose request failed.
async fn order_all(
    http: &reqwest::Client,
    base: &str,
    tokens: &[(String, String)],
    placed: &std::sync::atomic::AtomicUsize,
) -> Vec<(String, String)> {
    use futures_util::StreamExt;
    futures_util::stream::iter(tokens.iter().cloned())
        .map(|(token, key)| async move {
            let r = http
                .post(format!("{base}/api/v1/orders"))
                .bearer_auth(&token)
                .header("Idempotency-Key", &key)
                .send()
                .await;
            placed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match r {
                Ok(r) if r.status().is_success() => None,
                _ => Some((token, key)),
            }
        })
        .buffer_unordered(64)
        .filter_map(|x| async move { x })
        .collect()
        .await
}

async fn order_pairs(
    http: &reqwest::Client,
    base: &str,
    pairs: &[(String, String)],
) -> Vec<(String, String)> {
    let counter = std::sync::atomic::AtomicUsize::new(0);
    order_all(http, base, pairs, &counter).await
}
