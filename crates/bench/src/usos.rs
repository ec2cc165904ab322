//! `scripts/bench --part usos`: N orders watched at one USOS installation
//! (the USOS stand-in on loopback), simulated over the hour USOS takes to
//! ready them. The server runs on a manual clock that the benchmark moves
//! 5 s at a time, so an hour of polling takes minutes; everything else
//! (HTTP to USOS, the database, the outboxes, FCM) is real and timed in
//! real time.
//!
//! Measured:
//! - USOS requests per order from placing until our order is ready (the
//!   order itself, the read that links it, every look) — goal ≤ 12;
//! - USOS change → push: how long after USOS readied an order our look
//!   came (simulated time, against the poll interval then in force), and
//!   from that look reaching USOS to FCM accepting the push (real time;
//!   every look due in a 5 s step runs in one burst, so this includes
//!   waiting behind the others) — goal ≤ poll interval + 100 ms;
//! - memory per watched order: this process's resident memory before the
//!   orders and with all of them watched (server and USOS stand-in share
//!   the process: an upper bound), and the watch's row.

use anyhow::{Context, bail};
use futures_util::StreamExt;
use legitka_emulators::fcm::FcmEmulator;
use legitka_emulators::usos::{UsosEmulator, guess};
use legitka_server::clock::{Clock, ManualClock};
use legitka_server::crypto::Secret;
use legitka_server::push::fcm::FcmSettings;
use legitka_server::state::AppState;
use legitka_server::usos::oauth::Token;
use legitka_server::usos::{SCOPES, UsosUniversity, store};
use legitka_server::usos_gateway::next_look;
use legitka_server::{Settings, auth, registry};
use legitka_testkit::Stack;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const STEP_MS: i64 = 5_000;
const START: i64 = 1_790_000_000_000;

pub struct UsosFigures {
    pub orders: usize,
    /// USOS requests made for a student until their order was ready: mean, p99, max.
    pub requests: (f64, u64, u64),
    /// USOS change → our look, simulated: (p50, p99, max) seconds.
    pub detect_secs: (f64, f64, f64),
    /// Share of changes found within the poll interval then in force (+10 % jitter).
    pub within_interval: f64,
    /// The look at USOS → FCM accepted, real: (p50, p99) ms.
    pub push_ms: (i64, i64),
    pub rss_per_order_bytes: f64,
    pub simulated_minutes: i64,
    pub real_secs: f64,
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn percentile<T: Copy>(sorted: &[T], p: f64) -> T {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// When USOS readies order `i`: spread over 1 to 60 minutes (the help
/// pages' "after a few minutes", with a long tail), the same every run.
fn ready_after_ms(i: usize) -> i64 {
    let spread = (i as u64).wrapping_mul(2_654_435_761) % 3_540_000;
    60_000 + i64::try_from(spread).unwrap_or(0)
}

pub async fn run(db_url: String, n: usize) -> anyhow::Result<UsosFigures> {
    let usos = UsosEmulator::start().await?;
    usos.add_consumer("bench-key", "bench-secret");
    let (private, public) = crate::push::rsa_pair()?;
    let fcm = FcmEmulator::start("bench", "bench@bench.iam.gserviceaccount.com", &public).await?;
    let mut settings = Settings::for_tests(db_url);
    settings.fcm = Some(FcmSettings {
        project_id: fcm.project_id.clone(),
        endpoint: fcm.base_url.clone(),
        token_uri: fcm.token_uri.clone(),
        client_email: fcm.client_email.clone(),
        private_key_pem: Secret::new(private),
    });
    let mut university = UsosUniversity::new(
        "bench",
        "Uniwersytet USOS",
        &usos.base_url,
        "bench-key",
        "bench-secret",
    )?;
    // The budget counts real minutes; the benchmark's are simulated.
    university.limits.looks_per_minute = 10_000_000;
    settings.usos = vec![university];
    let clock = ManualClock::new(START);
    let dir = tempfile::tempdir()?;
    let stack = Stack::start(settings, Arc::new(clock.clone()), dir.path()).await?;
    let (state, base) = (stack.state.clone(), stack.base.clone());

    eprintln!("[usos] seeding {n} students signed in through USOS");
    let tokens = seed(&state, &usos, n).await?;
    crate::push::devices(&base, &tokens).await?;
    let rss_before = rss_bytes();

    eprintln!("[usos] placing {n} orders");
    crate::place_all(&base, &tokens, 64).await?;
    wait_for(
        &state,
        "SELECT COUNT(*) FROM orders WHERE external_id IS NOT NULL",
        n,
    )
    .await?;
    // When USOS readies each order (simulated ms after placing).
    let at_usos: Vec<(String, i64)> = usos
        .orders()
        .into_iter()
        .enumerate()
        .map(|(k, o)| (o.id, ready_after_ms(k)))
        .collect();
    drain(&state, &clock).await?;
    let rss_watched = rss_bytes();

    eprintln!("[usos] an hour at USOS, {} s per step", STEP_MS / 1000);
    let started = Instant::now();
    let mut readied: HashMap<String, i64> = HashMap::new(); // USOS id → simulated ms
    // Per ready notice: when USOS was last called for its student (the look
    // that found it ready: the next look comes 30 s or more later).
    let mut noticed: HashMap<String, i64> = HashMap::new();
    let mut requests: Vec<u64> = Vec::new(); // per order, when it turned ready
    let mut t = 0;
    loop {
        t += STEP_MS;
        clock.advance(STEP_MS);
        for (id, at) in &at_usos {
            if *at <= t && !readied.contains_key(id) {
                usos.set_status(id, guess::READY);
                readied.insert(id.clone(), t);
            }
        }
        drain(&state, &clock).await?;
        let ready: Vec<(String, String)> = sqlx::query_as(
            "SELECT n.id, s.external_id FROM notices n JOIN students s ON s.id = n.student_id \
             WHERE n.status = 'ready'",
        )
        .fetch_all(&state.db.pool)
        .await?;
        for (id, user) in ready {
            if let std::collections::hash_map::Entry::Vacant(e) = noticed.entry(id) {
                let (calls, last_at) = usos.calls_of(&user);
                e.insert(last_at);
                requests.push(calls);
            }
        }
        if noticed.len() >= n {
            break;
        }
        if t > 3 * 3_600_000 {
            bail!(
                "only {} of {n} orders ready after 3 simulated hours",
                noticed.len()
            );
        }
    }
    let real_secs = started.elapsed().as_secs_f64();
    requests.sort_unstable();

    // When each of our orders turned ready (simulated), against when USOS did.
    let ours: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT o.external_id, e.at, o.created_at FROM orders o \
         JOIN order_events e ON e.order_id = o.id AND e.status = 'ready'",
    )
    .fetch_all(&state.db.pool)
    .await
    .context("reading when orders turned ready")?;
    let mut detect = Vec::new();
    let mut within = 0usize;
    for (external, ready_at, placed_at) in &ours {
        let Some(usos_at) = readied.get(external) else {
            continue;
        };
        let lag = ready_at - (START + usos_at);
        detect.push(lag);
        // The interval in force when USOS changed it, one step's slack.
        let interval = next_look(START + usos_at - placed_at, 1.0);
        if lag <= i64::try_from(interval.as_millis())? + STEP_MS {
            within += 1;
        }
    }
    detect.sort_unstable();
    let arrived: HashMap<String, i64> = fcm.receipt_times().into_iter().collect();
    let mut push: Vec<i64> = noticed
        .iter()
        .filter_map(|(id, looked)| arrived.get(id).map(|at| at - looked))
        .collect();
    push.sort_unstable();
    if detect.is_empty() || push.is_empty() {
        bail!("no ready order was measured");
    }
    let secs = |ms: i64| ms as f64 / 1000.0;
    #[allow(clippy::cast_precision_loss)]
    Ok(UsosFigures {
        orders: n,
        requests: (
            requests.iter().sum::<u64>() as f64 / requests.len() as f64,
            percentile(&requests, 0.99),
            *requests.last().expect("some"),
        ),
        detect_secs: (
            secs(percentile(&detect, 0.5)),
            secs(percentile(&detect, 0.99)),
            secs(*detect.last().expect("some")),
        ),
        within_interval: within as f64 / detect.len() as f64,
        push_ms: (percentile(&push, 0.5), percentile(&push, 0.99)),
        rss_per_order_bytes: rss_watched.saturating_sub(rss_before) as f64 / n as f64,
        simulated_minutes: t / 60_000,
        real_secs,
    })
}

/// `n` students of the USOS university, each with a USOS token (as after
/// signing in) and a Legitka session.
async fn seed(state: &AppState, usos: &UsosEmulator, n: usize) -> anyhow::Result<Vec<String>> {
    let now = state.clock.now_ms();
    let sessions = futures_util::stream::iter(0..n)
        .map(|i| async move {
            let user = format!("{}", 100_000 + i);
            usos.add_user(&user, &format!("s{i}"), "bench", "Student", &i.to_string());
            let (key, secret) = usos.grant(&user, "bench-key", &SCOPES);
            let id = registry::upsert_external(
                &state.db.pool,
                "bench",
                &user,
                "Student",
                &i.to_string(),
            )
            .await?;
            let token = Token {
                key,
                secret: Secret::new(secret),
            };
            store::save_token(
                &state.db,
                &state.secrets,
                &id,
                &token,
                "cards|offline_access",
                now,
            )
            .await?;
            auth::create_session(state, &id)
                .await
                .map(|t| t.access_token)
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    sessions
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("seeding: {e:?}"))
}

async fn wait_for(state: &AppState, count_sql: &'static str, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let got: i64 = sqlx::query_scalar(count_sql)
            .fetch_one(&state.db.pool)
            .await?;
        if usize::try_from(got)? >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{count_sql}: {got} of {n}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Until nothing is due: no look due or under way, no push waiting.
async fn drain(state: &AppState, clock: &ManualClock) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let now = clock.now_ms();
        let (looks, pushes): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM usos_polls WHERE next_attempt_at <= $1 OR lease_owner IS NOT NULL), \
                    (SELECT COUNT(*) FROM deliveries)",
        )
        .bind(now)
        .fetch_one(&state.db.pool)
        .await?;
        if looks == 0 && pushes == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("still {looks} looks and {pushes} pushes due after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
