//! The server and the issuer stand-in as the separate processes they are
//! in production (the release binaries), for the figures that need the
//! server's own memory or the issuer out of the server's process:
//! `--part wave` (the semester wave, and the server's memory before and
//! after it) and `--part memory` (the server's memory idle and with
//! 10,000 live streams open).

use anyhow::{Context, bail};
use legitka_server::Settings;
use legitka_server::clock::SystemClock;
use legitka_server::state::AppState;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn target(bin: &str) -> std::path::PathBuf {
    let dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    std::path::Path::new(&dir).join("release").join(bin)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub(crate) fn status_kib(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .with_context(|| format!("{field} in /proc/{pid}/status"))?;
    let kib: f64 = line
        .split_whitespace()
        .nth(1)
        .context("a number")?
        .parse()?;
    Ok(kib)
}

pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for(url: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if reqwest::get(url).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{url} did not answer")
}

/// The activation key the seeding and the server share (the tests' key).
const KEY_HEX: &str = "4242424242424242424242424242424242424242424242424242424242424242";

/// `n` eligible students with a session each, in a new database at `url`
/// (migrated); their access tokens, valid two hours.
async fn seed(url: &str, prefix: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let mut settings = Settings::for_tests(url.to_owned());
    settings.access_ttl = Duration::from_secs(7200);
    let state = AppState::build(settings, Arc::new(SystemClock)).await?;
    let tokens = crate::students(&state, prefix, n).await?;
    state.db.pool.close().await;
    Ok(tokens)
}

/// The issuer stand-in (100 ms to accept, 100 ms to issue, its records in
/// `dir`) and the release server on `url`, each its own process.
struct Running {
    base: String,
    server: Killed,
    _issuer: Killed,
}

impl Running {
    fn pid(&self) -> u32 {
        self.server.0.id()
    }

    fn rss_mib(&self) -> anyhow::Result<f64> {
        Ok(status_kib(self.pid(), "VmRSS:")? / 1024.0)
    }

    fn peak_mib(&self) -> anyhow::Result<f64> {
        Ok(status_kib(self.pid(), "VmHWM:")? / 1024.0)
    }
}

/// The issuer stand-in as its own process (100 ms to accept, 100 ms to
/// issue; its records and the bridge's secret in `dir`); its address.
pub(crate) async fn issuer_stand_in(dir: &std::path::Path) -> anyhow::Result<(Killed, String)> {
    let secret = dir.join("bridge.secret");
    std::fs::write(&secret, "b".repeat(64))?;
    let port = free_port()?;
    let issuer = Killed(
        Command::new(target("legitka-emulators"))
            .args(["--issuer-port", &port.to_string()])
            .args(["--accept-ms", "100", "--ready-ms", "100"])
            .arg("--secret-file")
            .arg(&secret)
            .arg("--data")
            .arg(dir.join("issuer.db"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the issuer stand-in (cargo build --release -p legitka-emulators)")?,
    );
    let url = format!("http://127.0.0.1:{port}");
    wait_for(&format!("{url}/")).await.ok();
    Ok((issuer, url))
}

/// The release server (`serve`, then `args`) on a free loopback port,
/// reaching the issuer stand-in at `issuer` (its secret in `dir`), with
/// `env` besides; once it answers, its address.
pub(crate) async fn server(
    dir: &std::path::Path,
    issuer: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> anyhow::Result<(Killed, String)> {
    let port = free_port()?;
    let mut command = Command::new(target("legitka-server"));
    command
        .arg("serve")
        .args(args)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("APP_ISSUER_URL", issuer)
        .env("APP_ISSUER_SECRET_FILE", dir.join("bridge.secret"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let server = Killed(
        command
            .spawn()
            .context("starting the release server (cargo build --release -p legitka-server)")?,
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&format!("{base}/health")).await?;
    Ok((server, base))
}

async fn start(url: &str, dir: &std::path::Path) -> anyhow::Result<Running> {
    let key = dir.join("activation.key");
    std::fs::write(&key, KEY_HEX)?;
    let (issuer, issuer_url) = issuer_stand_in(dir).await?;
    let (server, base) = server(
        dir,
        &issuer_url,
        &[],
        &[
            ("APP_DATABASE_URL", url.to_owned()),
            ("APP_ACTIVATION_KEY_FILE", key.display().to_string()),
            ("APP_ACCESS_TTL_MINUTES", "120".to_owned()),
            ("APP_MAX_CONNECTIONS", "30000".to_owned()),
            ("APP_METRICS_BIND", "off".to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ],
    )
    .await?;
    Ok(Running {
        base,
        server,
        _issuer: issuer,
    })
}

pub struct Wave {
    pub students: usize,
    pub secs: f64,
    pub idle_mib: f64,
    pub after_mib: f64,
    pub peak_mib: f64,
}

/// `n` students order at once (64 clients); the clock stops when the last
/// order is ready at the server. The server's memory idle before, and
/// after (resident, and its peak).
pub async fn wave(db: &str, n: usize) -> anyhow::Result<Wave> {
    let dir = tempfile::tempdir()?;
    let url = crate::database(db, &dir).await?;
    let tokens = seed(&url, "wave", n).await.context("seeding the wave")?;
    let running = start(&url, dir.path()).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_mib = running.rss_mib()?;
    sqlx::any::install_default_drivers();
    let counter = sqlx::AnyPool::connect(&url).await?;
    eprintln!("[{db}] wave of {n}, server and issuer stand-in in their own processes");
    let started = Instant::now();
    crate::place_all(&running.base, &tokens, 64).await?;
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let ready: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE status = 'ready'")
            .fetch_one(&counter)
            .await?;
        if usize::try_from(ready)? >= n {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {ready} of {n} orders became ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    counter.close().await;
    Ok(Wave {
        students: n,
        secs,
        idle_mib,
        after_mib: running.rss_mib()?,
        peak_mib: running.peak_mib()?,
    })
}

pub struct Streams {
    pub streams: usize,
    pub idle_mib: f64,
    pub open_mib: f64,
    pub per_stream_kib: f64,
}

/// The server idle, then with one live stream open per student
/// (`GET /api/v1/events`, each its own connection), `n` in all.
pub async fn streams(db: &str, n: usize) -> anyhow::Result<Streams> {
    let dir = tempfile::tempdir()?;
    let url = crate::database(db, &dir).await?;
    let tokens = seed(&url, "stream", n).await.context("seeding students")?;
    let running = start(&url, dir.path()).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_mib = running.rss_mib()?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let url = format!(
        "{}{}{}",
        running.base,
        legitka_wire::API_PREFIX,
        legitka_wire::paths::EVENTS
    );
    // Opened 200 at a time; each answer's body stays open (held below).
    let mut open = Vec::with_capacity(n);
    for chunk in tokens.chunks(200) {
        let answers = futures_util::future::join_all(
            chunk.iter().map(|t| http.get(&url).bearer_auth(t).send()),
        )
        .await;
        for a in answers {
            let a = a.context("opening a live stream")?;
            if a.status() != reqwest::StatusCode::OK {
                bail!("a live stream answered {}", a.status());
            }
            open.push(a);
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let open_mib = running.rss_mib()?;
    #[allow(clippy::cast_precision_loss)]
    let per_stream_kib = (open_mib - idle_mib) * 1024.0 / open.len() as f64;
    let streams = open.len();
    drop(open);
    Ok(Streams {
        streams,
        idle_mib,
        open_mib,
        per_stream_kib,
    })
}
