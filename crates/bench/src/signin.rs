//! `--part signin`: the server's memory under a flood of sign-ins. The real
//! server binary (release) gets 120 sign-ins at once from 120 addresses
//! (through a trusted proxy's `X-Forwarded-For`), with password checks
//! bounded as shipped (one per core) and, interleaved in the same run, with
//! the bound lifted to 120 (what the server did before the bound). Reported:
//! peak resident memory (VmHWM) once started and after the flood, resident
//! memory 5 s after it, the answers (200 or 503 busy) and the time until
//! the last answer.

use crate::processes::status_kib;
use anyhow::bail;
use std::time::{Duration, Instant};

pub struct Round {
    pub checks_at_once: usize,
    pub before_mib: f64,
    pub peak_mib: f64,
    pub after_mib: f64,
    pub ok: usize,
    pub busy: usize,
    pub secs: f64,
}

async fn round(
    dir: &std::path::Path,
    issuer: &str,
    checks_at_once: usize,
    n: usize,
) -> anyhow::Result<Round> {
    let db = dir.join(format!(
        "signin-{checks_at_once}-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let (server, base) = crate::processes::server(
        dir,
        issuer,
        &["--demo"],
        &[
            ("APP_DATABASE_URL", format!("sqlite://{}", db.display())),
            ("APP_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
            ("APP_RATE_SIGN_IN_PER_ADDRESS", "1000".to_owned()),
            ("APP_RATE_SIGN_IN_PER_ACCOUNT", "1000".to_owned()),
            ("APP_PASSWORD_CHECKS_AT_ONCE", checks_at_once.to_string()),
            ("APP_METRICS_BIND", "127.0.0.1:0".to_owned()),
            ("RUST_LOG", "error".to_owned()),
        ],
    )
    .await?;
    let pid = server.0.id();
    let before_mib = status_kib(pid, "VmHWM:")? / 1024.0;
    let http = reqwest::Client::new();
    let started = Instant::now();
    let answers = futures_util::future::join_all((0..n).map(|i| {
        http.post(format!("{base}/api/v1/session"))
            .header("x-forwarded-for", format!("198.51.100.{}", i % 250 + 1))
            .json(&serde_json::json!({"username": "anna", "password": "legitka"}))
            .send()
    }))
    .await;
    let secs = started.elapsed().as_secs_f64();
    let (mut ok, mut busy) = (0, 0);
    for a in answers {
        match a?.status().as_u16() {
            200 => ok += 1,
            503 => busy += 1,
            other => bail!("a sign-in answered {other}"),
        }
    }
    let peak_mib = status_kib(pid, "VmHWM:")? / 1024.0;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after_mib = status_kib(pid, "VmRSS:")? / 1024.0;
    Ok(Round {
        checks_at_once,
        before_mib,
        peak_mib,
        after_mib,
        ok,
        busy,
        secs,
    })
}

/// Five rounds each way, interleaved; returns every round.
pub async fn run(n: usize) -> anyhow::Result<Vec<Round>> {
    let dir = tempfile::tempdir()?;
    let (_issuer, issuer) = crate::processes::issuer_stand_in(dir.path()).await?;
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let mut rounds = Vec::new();
    for _ in 0..5 {
        for checks in [cores, n] {
            rounds.push(round(dir.path(), &issuer, checks, n).await?);
        }
    }
    Ok(rounds)
}
