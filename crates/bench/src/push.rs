//! Push figures: (1) single orders, one at a time — latency from the
//! issuer's "ready" commit to the request arriving at the FCM emulator;
//! (2) live waves of orders on one and two instances, the same latency;
//! (3) a 10,000-notice wave queued while no dispatcher runs (3,334
//! students with three devices each), then drained by one instance's
//! dispatcher (its `workers` loops, a batch each), and again by two
//! instances sharing the outbox.

use anyhow::Context;
use legitka_emulators::fcm::FcmEmulator;
use legitka_server::Settings;
use legitka_server::clock::SystemClock;
use legitka_server::crypto::Secret;
use legitka_server::push::Sender;
use legitka_server::push::dispatcher::{Dispatcher, ExecutionOutcome};
use legitka_server::push::fcm::{FcmSender, FcmSettings};
use legitka_server::state::AppState;
use legitka_testkit::Stack;
use legitka_wire::PushPlatform;
use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct PushFigures {
    pub single_p50_ms: i64,
    pub single_p99_ms: i64,
    /// (orders, server instances, p50 ms, p99 ms) of ready → provider inside live waves.
    pub live: Vec<(usize, usize, i64, i64)>,
    pub wave_notices: usize,
    pub wave_one_secs: f64,
    pub wave_two_secs: f64,
}

pub(crate) fn rsa_pair() -> anyhow::Result<(String, String)> {
    let private = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .context("openssl")?;
    let mut child = Command::new("openssl")
        .args(["pkey", "-pubout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    std::io::Write::write_all(&mut child.stdin.take().context("stdin")?, &private.stdout)?;
    let public = child.wait_with_output()?;
    Ok((
        String::from_utf8(private.stdout)?,
        String::from_utf8(public.stdout)?,
    ))
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) async fn devices(base: &str, tokens: &[String]) -> anyhow::Result<()> {
    devices_each(base, tokens, 1).await
}

/// `each` FCM devices per student.
async fn devices_each(base: &str, tokens: &[String], each: usize) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let all = tokens
        .iter()
        .enumerate()
        .flat_map(|(i, t)| (0..each).map(move |k| (i, k, t)));
    futures_util::StreamExt::collect::<Vec<_>>(futures_util::StreamExt::buffer_unordered(
        futures_util::stream::iter(all.map(|(i, k, t)| {
            let req = http
                .post(format!("{base}/api/v1/devices"))
                .bearer_auth(t)
                .json(&serde_json::json!({"platform": "fcm", "token": format!("bench-{i}-{k}"), "locale": "pl"}));
            async move { req.send().await }
        })),
        64,
    ))
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    Ok(())
}

async fn drain_with(
    state: &AppState,
    fcm: &FcmSettings,
    dispatchers: usize,
) -> anyhow::Result<Duration> {
    let sender: Arc<dyn Sender> = Arc::new(FcmSender::new(fcm.clone()));
    let first = Dispatcher::new(
        state.db.clone(),
        Arc::clone(&state.clock),
        HashMap::from([(PushPlatform::Fcm, sender)]),
    );
    let started = Instant::now();
    let mut tasks = vec![];
    for i in 0..dispatchers {
        let instance = if i == 0 {
            first.clone()
        } else {
            first.clone_as_another_process()
        };
        // Each instance runs its workers, a batch at a time, as
        // `Dispatcher::run` does.
        for _ in 0..instance.workers {
            let d = instance.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    match d.try_execute_batch(d.batch).await {
                        Ok(done) if done.is_empty() => return Ok(()),
                        Ok(done) => anyhow::ensure!(
                            done.iter().all(|o| *o == ExecutionOutcome::Delivered),
                            "not all delivered: {done:?}"
                        ),
                        Err(e) => return Err(anyhow::anyhow!("{e}")),
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await??;
    }
    Ok(started.elapsed())
}

/// A finished step's servers let go of their database connections, so
/// they neither load the next step nor exhaust PostgreSQL's connections
/// (their background work then fails quietly).
async fn retire(states: &[AppState]) {
    for s in states {
        s.db.pool.close().await;
    }
}

/// The server with a 10 ms + 10 ms issuer, pushing through `fcm` if given.
/// The issuer stand-in's records live here for the whole run.
fn issuer_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
        .path()
}

async fn serve(url: String, fcm: Option<FcmSettings>) -> anyhow::Result<(AppState, String)> {
    let mut settings = Settings::for_tests(url);
    settings.fcm = fcm;
    let dir = issuer_dir().join(uuid::Uuid::new_v4().simple().to_string());
    std::fs::create_dir_all(&dir)?;
    let stack = Stack::start(settings, Arc::new(SystemClock), &dir)
        .await
        .context("starting the server")?;
    stack
        .issuer
        .set_delays(Duration::from_millis(10), Duration::from_millis(10));
    Ok((stack.state, stack.base))
}

/// (ready notices, sorted ready-commit → emulator latencies in ms of those that arrived).
async fn ready_latencies(state: &AppState, emu: &FcmEmulator) -> anyhow::Result<(usize, Vec<i64>)> {
    let ready: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, created_at FROM notices WHERE status = 'ready'")
            .fetch_all(&state.db.pool)
            .await?;
    let arrived: HashMap<String, i64> = emu.receipt_times().into_iter().collect();
    let mut lat: Vec<i64> = ready
        .iter()
        .filter_map(|(id, at)| arrived.get(id).map(|r| r - at))
        .collect();
    lat.sort_unstable();
    Ok((ready.len(), lat))
}

pub async fn run(
    skip_live_waves: bool,
    db_url: impl Fn() -> futures_util::future::BoxFuture<
        'static,
        anyhow::Result<(String, tempfile::TempDir)>,
    >,
) -> anyhow::Result<PushFigures> {
    let (private, public) = rsa_pair()?;
    let emu = FcmEmulator::start("bench", "bench@bench.iam.gserviceaccount.com", &public).await?;
    let fcm = FcmSettings {
        project_id: emu.project_id.clone(),
        endpoint: emu.base_url.clone(),
        token_uri: emu.token_uri.clone(),
        client_email: emu.client_email.clone(),
        private_key_pem: Secret::new(private),
    };

    // 1. Single orders: the server's own dispatcher, woken by each commit.
    let (url, _dir) = db_url().await?;
    let (state, base) = serve(url, Some(fcm.clone())).await?;
    let tokens = crate::students(&state, "single", 200)
        .await
        .context("seeding single-order students")?;
    devices(&base, &tokens)
        .await
        .context("registering devices")?;
    let http = reqwest::Client::new();
    for (i, t) in tokens.iter().enumerate() {
        http.post(format!("{base}/api/v1/orders"))
            .bearer_auth(t)
            .send()
            .await?;
        // This order's "ready" arrived, then the next order.
        let deadline = Instant::now() + Duration::from_secs(10);
        while ready_latencies(&state, &emu).await?.1.len() <= i {
            anyhow::ensure!(
                Instant::now() < deadline,
                "a single order's notices never arrived"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let (_, lat) = ready_latencies(&state, &emu).await?;
    anyhow::ensure!(
        lat.len() == tokens.len(),
        "{} of {} ready notices arrived",
        lat.len(),
        tokens.len()
    );
    retire(&[state]).await;

    // 2. Live waves: the servers' own dispatchers work while orders pour in,
    //    on one server, then on two sharing the database (orders split).
    let mut live = vec![];
    let instance_counts: &[usize] = if skip_live_waves { &[] } else { &[1, 2] };
    for &instances in instance_counts {
        for n in [1_000, 10_000] {
            let (url, _dir) = db_url().await?;
            let mut servers = vec![];
            for _ in 0..instances {
                servers.push(serve(url.clone(), Some(fcm.clone())).await?);
            }
            let state = servers[0].0.clone();
            let tokens = crate::students(&state, "live", n)
                .await
                .context("seeding live students")?;
            devices(&servers[0].1, &tokens)
                .await
                .context("registering live devices")?;
            let share = tokens.len().div_ceil(instances);
            futures_util::future::try_join_all(
                servers
                    .iter()
                    .zip(tokens.chunks(share))
                    .map(|((_, base), part)| crate::place_all(base, part, 64 / instances)),
            )
            .await
            .context("placing live orders")?;
            crate::wait_all_ready(&state, n).await?;
            let deadline = Instant::now() + Duration::from_secs(300);
            let l = loop {
                let (ready, lat) = ready_latencies(&state, &emu).await?;
                if lat.len() == ready {
                    break lat;
                }
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "live wave notices never all arrived"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            live.push((n, instances, percentile(&l, 0.50), percentile(&l, 0.99)));
            retire(&servers.into_iter().map(|(s, _)| s).collect::<Vec<_>>()).await;
        }
    }

    // 3. A 10,000-notice wave: queued without a dispatcher, then drained.
    let mut wave = vec![];
    for dispatchers in [1, 2] {
        let (url, _dir) = db_url().await?;
        // No push configured: the notices wait for the dispatchers below.
        let (state, base) = serve(url, None).await?;
        let tokens = crate::students(&state, "wave", 3_334)
            .await
            .context("seeding wave students")?;
        // Three devices each: each order's "ready" is 3 deliveries (the
        // pending and in-progress ones before it are superseded unsent).
        devices_each(&base, &tokens, 3)
            .await
            .context("registering wave devices")?;
        crate::place_all(&base, &tokens, 64)
            .await
            .context("placing wave orders")?;
        crate::wait_all_ready(&state, tokens.len())
            .await
            .context("waiting for ready")?;
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
            .fetch_one(&state.db.pool)
            .await?;
        let took = drain_with(&state, &fcm, dispatchers)
            .await
            .context("draining the wave")?;
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
            .fetch_one(&state.db.pool)
            .await?;
        anyhow::ensure!(left == 0, "{left} deliveries left");
        wave.push((usize::try_from(queued)?, took));
        retire(&[state]).await;
    }
    Ok(PushFigures {
        single_p50_ms: percentile(&lat, 0.50),
        single_p99_ms: percentile(&lat, 0.99),
        live,
        wave_notices: wave[0].0,
        wave_one_secs: wave[0].1.as_secs_f64(),
        wave_two_secs: wave[1].1.as_secs_f64(),
    })
}
