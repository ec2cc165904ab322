//! `scripts/bench`: the backend's throughput and the semester wave, on
//! SQLite and PostgreSQL, in one reproducible run. Server and load share
//! the machine (2 cores here): the figures are for the whole system.
//!
//! 1. Status reads: `wrk` against `GET /api/v1/me` (auth, registry,
//!    eligibility, current order) and, in the same run, against a bare axum
//!    handler returning a JSON body of the same size class, interleaved
//!    (ours, bare, ours, bare … `--pairs` times): the machine is shared and
//!    noisy, so each pair gives a ratio and the median ratio is reported
//!    with its spread. `--part reads` runs only this.
//! 2. Order throughput: fresh students each place one order over HTTP.
//!
//! `--part wave` runs the semester wave with the server and the issuer
//! stand-in as their own processes, and `--part memory` the server's memory
//! with 10,000 live streams open (`processes.rs`); `--part push` measures
//! push delivery (`push.rs`), `--part usos` the USOS
//! watcher with 10,000 watched orders (`usos.rs`), `--part signin` the
//! server's memory under 120 sign-ins at once (`signin.rs`).

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::StreamExt;
use legitka_server::clock::SystemClock;
use legitka_server::state::AppState;
use legitka_server::{Settings, auth, import, pesel::Pesel};
use legitka_testkit::Stack;
use serde::Serialize;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod processes;
mod push;
mod signin;
mod usos;

#[derive(Parser)]
struct Args {
    /// sqlite, postgres or both (postgres needs LEGITKA_TEST_PG, as in scripts/test).
    #[arg(long, default_value = "both")]
    db: String,
    /// Students in the wave.
    #[arg(long, default_value_t = 50_000)]
    wave: usize,
    /// Live streams open at once (`--part memory`).
    #[arg(long, default_value_t = 10_000)]
    streams: usize,
    /// Students for the order-throughput run.
    #[arg(long, default_value_t = 5_000)]
    orders: usize,
    /// Seconds per wrk run.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Status-read pairs (ours, then bare axum), interleaved.
    #[arg(long, default_value_t = 5)]
    pairs: usize,
    /// Concurrent HTTP clients for orders and the wave.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// all, backend, reads (the status-read ratio alone), wave, memory, push, usos or signin.
    #[arg(long, default_value = "all")]
    part: String,
    /// Orders watched at one USOS installation (`--part usos`).
    #[arg(long, default_value_t = 10_000)]
    usos_orders: usize,
    /// Push part: skip the live waves (measure the drain on a quiet machine).
    #[arg(long)]
    skip_live_waves: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let dbs: Vec<&str> = match args.db.as_str() {
        "both" => vec!["sqlite", "postgres"],
        one => vec![one],
    };
    let part = |p: &str| args.part == "all" || args.part == p;
    if part("backend") || args.part == "reads" {
        backend(&args, &dbs).await?;
    }
    if part("wave") {
        println!();
        println!(
            "| database | wave: students | seconds | server RSS idle | after the wave | peak |"
        );
        println!("| --- | --- | --- | --- | --- | --- |");
        for db in &dbs {
            let w = processes::wave(db, args.wave)
                .await
                .with_context(|| format!("the wave on {db}"))?;
            println!(
                "| {db} | {} | {:.1} | {:.0} MiB | {:.0} MiB | {:.0} MiB |",
                w.students, w.secs, w.idle_mib, w.after_mib, w.peak_mib
            );
        }
    }
    if part("memory") {
        println!();
        println!(
            "| database | live streams | server RSS idle | with the streams open | per stream |"
        );
        println!("| --- | --- | --- | --- | --- |");
        for db in &dbs {
            let m = processes::streams(db, args.streams)
                .await
                .with_context(|| format!("live streams on {db}"))?;
            println!(
                "| {db} | {} | {:.1} MiB | {:.1} MiB | {:.1} KiB |",
                m.streams, m.idle_mib, m.open_mib, m.per_stream_kib
            );
        }
    }
    if part("usos") {
        println!();
        println!(
            "| database | watched orders | USOS requests per order until ready: mean | p99 | max | USOS change → our look p50 | p99 | max | within the poll interval | look at USOS → FCM p50 | p99 | resident memory per watched order | simulated | real |"
        );
        println!(
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        );
        for db in &dbs {
            let dir = tempfile::tempdir()?;
            let url = database(db, &dir).await?;
            let u = usos::run(url, args.usos_orders)
                .await
                .with_context(|| format!("USOS benchmark on {db}"))?;
            println!(
                "| {db} | {} | {:.2} | {} | {} | {:.0} s | {:.0} s | {:.0} s | {:.1} % | {} ms | {} ms | {:.0} B | {} min | {:.0} s |",
                u.orders,
                u.requests.0,
                u.requests.1,
                u.requests.2,
                u.detect_secs.0,
                u.detect_secs.1,
                u.detect_secs.2,
                100.0 * u.within_interval,
                u.push_ms.0,
                u.push_ms.1,
                u.rss_per_order_bytes,
                u.simulated_minutes,
                u.real_secs
            );
        }
    }
    if part("signin") {
        println!();
        println!(
            "| password checks at once | peak RSS started | peak RSS after the flood | RSS 5 s later | 200 | 503 busy | last answer after |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- |");
        let rounds = signin::run(120).await.context("sign-in flood benchmark")?;
        for r in &rounds {
            println!(
                "| {} | {:.0} MiB | {:.0} MiB | {:.0} MiB | {} | {} | {:.1} s |",
                r.checks_at_once, r.before_mib, r.peak_mib, r.after_mib, r.ok, r.busy, r.secs
            );
        }
        let mut ratios: Vec<f64> = rounds
            .chunks(2)
            .map(|pair| pair[0].peak_mib / pair[1].peak_mib)
            .collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "\nmedian peak RSS, bounded / unbounded: {:.2}",
            ratios[ratios.len() / 2]
        );
    }
    if part("push") {
        println!();
        println!(
            "| database | single order: ready → FCM p50 | p99 | wave: notices | 1 dispatcher: s | 2 dispatchers: s |"
        );
        println!("| --- | --- | --- | --- | --- | --- |");
        for db in &dbs {
            let name = (*db).to_owned();
            let p = push::run(args.skip_live_waves, move || {
                let db = name.clone();
                Box::pin(async move {
                    let dir = tempfile::tempdir()?;
                    let url = database(&db, &dir).await?;
                    Ok((url, dir))
                })
            })
            .await
            .with_context(|| format!("push benchmark on {db}"))?;
            println!(
                "| {db} | {} ms | {} ms | {} | {:.2} | {:.2} |",
                p.single_p50_ms, p.single_p99_ms, p.wave_notices, p.wave_one_secs, p.wave_two_secs
            );
            for (n, instances, p50, p99) in &p.live {
                println!(
                    "| {db} | live wave of {n} orders on {instances} instance(s): ready → FCM p50 {p50} ms | p99 {p99} ms | | | |"
                );
            }
        }
    }
    Ok(())
}

async fn backend(args: &Args, dbs: &[&str]) -> anyhow::Result<()> {
    let bare = bare_axum().await?;
    println!(
        "| database | bare axum req/s (median) | status read req/s (median) | ratio: median of {} pairs (min – max) | orders/s |",
        args.pairs
    );
    println!("| --- | --- | --- | --- | --- |");
    for db in dbs.iter().copied() {
        let r = run(db, args, &bare)
            .await
            .with_context(|| format!("benchmark on {db}"))?;
        let orders = r
            .orders_per_sec
            .map_or_else(|| "—".to_owned(), |o| format!("{o:.0}"));
        println!(
            "| {db} | {:.0} | {:.0} | {:.0} % ({:.0} – {:.0} %) | {orders} |",
            r.reads.bare,
            r.reads.status,
            100.0 * r.reads.ratio,
            100.0 * r.reads.ratio_min,
            100.0 * r.reads.ratio_max,
        );
    }
    Ok(())
}

struct Figures {
    reads: Reads,
    /// Orders per second (not with `--part reads`).
    orders_per_sec: Option<f64>,
}

/// Status reads against bare axum, interleaved pair by pair.
struct Reads {
    status: f64,
    bare: f64,
    /// The median of the pairs' ratios, and their spread.
    ratio: f64,
    ratio_min: f64,
    ratio_max: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// Ours, then bare, `pairs` times: each pair runs under the same load of
/// the shared machine, so their ratio is what is compared.
fn interleaved(
    ours: &str,
    token: &str,
    bare: &str,
    pairs: usize,
    seconds: u32,
) -> anyhow::Result<Reads> {
    let (mut status, mut reference, mut ratios) = (vec![], vec![], vec![]);
    for i in 0..pairs.max(1) {
        let s = wrk(ours, Some(token), seconds)?;
        let b = wrk(bare, None, seconds)?;
        eprintln!(
            "  pair {}: status {s:.0} req/s, bare {b:.0} req/s, {:.0} %",
            i + 1,
            100.0 * s / b
        );
        status.push(s);
        reference.push(b);
        ratios.push(s / b);
    }
    let ratio_min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let ratio_max = ratios.iter().copied().fold(0.0, f64::max);
    Ok(Reads {
        status: median(status),
        bare: median(reference),
        ratio: median(ratios),
        ratio_min,
        ratio_max,
    })
}

#[derive(Serialize)]
struct Small {
    status: &'static str,
    count: u32,
}

/// The reference: axum returning a small JSON body, nothing else.
async fn bare_axum() -> anyhow::Result<String> {
    let app = axum::Router::new().route(
        "/json",
        axum::routing::get(|| async {
            axum::Json(Small {
                status: "ready",
                count: 3,
            })
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/json", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

/// wrk's requests per second for one URL.
fn wrk(url: &str, token: Option<&str>, seconds: u32) -> anyhow::Result<f64> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency"]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = cmd
        .arg(url)
        .output()
        .context("running wrk (apt install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") {
        bail!("wrk saw errors:\n{text}");
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk output:\n{text}"))
}

async fn database(db: &str, dir: &tempfile::TempDir) -> anyhow::Result<String> {
    match db {
        "sqlite" => Ok(format!(
            "sqlite://{}",
            dir.path().join("bench.db").display()
        )),
        "postgres" => {
            sqlx::any::install_default_drivers();
            let admin = std::env::var("LEGITKA_TEST_PG").context("LEGITKA_TEST_PG not set")?;
            let name = format!("legitka_test_bench_{}", uuid::Uuid::new_v4().simple());
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await?;
            Ok(format!(
                "{}/{name}",
                admin.rsplit_once('/').context("admin URL")?.0
            ))
        }
        other => bail!("unknown database {other}"),
    }
}

/// `count` eligible students named `{prefix}{i}`, imported through the CSV path.
async fn students(state: &AppState, prefix: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let hash = auth::hash_password("bench".into()).await?;
    let mut csv = format!("{}\n", import::COLUMNS);
    for i in 0..count {
        let pesel = Pesel::with_check_digit(&format!(
            "0{}2{}08{:04}",
            i % 10,
            1 + (i / 10) % 9,
            i % 10_000
        ))?;
        csv.push_str(&format!(
            "{prefix}{i},\"{hash}\",Student,{i},{},{i},true,true,ELS/{i},2099-12-31,2020-01-01,,first_cycle\n",
            pesel.expose()
        ));
    }
    import::import_students(state, csv.as_bytes())
        .await
        .map_err(|e| anyhow::anyhow!("importing students: {e:?}"))?;
    let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM students WHERE username LIKE '{prefix}%'"
    )))
    .fetch_all(&state.db.pool)
    .await?;
    // Sessions directly: an argon2 check per student would measure argon2.
    let tokens = futures_util::stream::iter(ids)
        .map(|id| async move {
            auth::create_session(state, &id)
                .await
                .map(|t| t.access_token)
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    tokens
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("creating sessions: {e:?}"))
}

async fn place_all(base: &str, tokens: &[String], concurrency: usize) -> anyhow::Result<Duration> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let results = futures_util::stream::iter(tokens)
        .map(|t| {
            let req = http.post(format!("{base}/api/v1/orders")).bearer_auth(t);
            async move { req.send().await.map(|r| r.status()) }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let elapsed = started.elapsed();
    for r in results {
        let status = r?;
        if status != reqwest::StatusCode::CREATED {
            bail!("an order failed: {status}");
        }
    }
    Ok(elapsed)
}

async fn run(db: &str, args: &Args, bare_url: &str) -> anyhow::Result<Figures> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::for_tests(database(db, &dir).await?);
    settings.access_ttl = Duration::from_secs(3600);
    // The issuer is another system: its stand-in runs beside the server,
    // reached over HTTP through the issuer outbox.
    let stack = Stack::start(settings, Arc::new(SystemClock), dir.path()).await?;
    stack
        .issuer
        .set_delays(Duration::from_millis(100), Duration::from_millis(100));
    let (state, base) = (stack.state.clone(), stack.base.clone());
    eprintln!("[{db}] seeding");

    // 1. Status reads, one student with an order in progress.
    let reader = students(&state, "reader", 1).await?;
    let reads = interleaved(
        &format!("{base}/api/v1/me"),
        &reader[0],
        bare_url,
        args.pairs,
        args.seconds,
    )?;
    eprintln!(
        "[{db}] status/bare: median {:.0} % ({:.0} – {:.0} %)",
        100.0 * reads.ratio,
        100.0 * reads.ratio_min,
        100.0 * reads.ratio_max
    );
    if args.part == "reads" {
        return Ok(Figures {
            reads,
            orders_per_sec: None,
        });
    }

    // 2. Order throughput.
    let orderers = students(&state, "orderer", args.orders).await?;
    let took = place_all(&base, &orderers, args.concurrency).await?;
    #[allow(clippy::cast_precision_loss)]
    let orders_per_sec = orderers.len() as f64 / took.as_secs_f64();
    eprintln!("[{db}] {orders_per_sec:.0} orders/s");
    wait_all_ready(&state, args.orders).await?;
    Ok(Figures {
        reads,
        orders_per_sec: Some(orders_per_sec),
    })
}

/// Until `n` orders are ready. Each "ready" notice is published right after
/// its commit, so this is also when the last notice went out (±50 ms).
async fn wait_all_ready(state: &AppState, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let ready: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE status = 'ready'")
            .fetch_one(&state.db.pool)
            .await?;
        if usize::try_from(ready)? >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {ready} of {n} orders became ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
