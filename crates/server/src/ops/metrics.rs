//! Prometheus metrics, served on their own address (`metrics_bind`).
//!
//! Two kinds: what happens in this process (requests, outbox steps, live
//! streams), counted as it happens through the `metrics` facade; and what
//! the database holds (orders by status, each outbox's depth and age, dead
//! letters, the pool), read at each scrape, so every instance reports the
//! same truth about the shared database.

use crate::db::Db;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::Row;
use std::fmt::Write;
use std::sync::OnceLock;
use std::time::Duration;

const REQUESTS: &str = "legitka_http_requests_total";
const LATENCY: &str = "legitka_http_request_duration_seconds";
const RATE_LIMITED: &str = "legitka_rate_limited_total";
const OUTBOX_STEPS: &str = crate::outbox::STEPS_METRIC;
const LIVE_STREAMS: &str = crate::feed::LIVE_STREAMS_METRIC;

/// The process's recorder, installed once (the tests run many servers in
/// one process; they share it, as the counters are per process anyway).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(LATENCY.to_owned()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .expect("non-empty buckets")
            .install_recorder()
            .expect("the one metrics recorder of the process");
        metrics::describe_counter!(
            REQUESTS,
            "HTTP requests answered, by method, route and status"
        );
        metrics::describe_histogram!(
            LATENCY,
            metrics::Unit::Seconds,
            "Time to answer a request (to the first byte of a live stream)"
        );
        metrics::describe_counter!(RATE_LIMITED, "Requests refused by a rate limit, by route");
        metrics::describe_counter!(OUTBOX_STEPS, "Outbox jobs handled, by queue and outcome");
        metrics::describe_gauge!(LIVE_STREAMS, "Live event streams open in this process");
        handle
    })
}

/// Starts counting (idempotent); call before serving, inside the runtime.
/// Histogram samples wait in the recorder until they are folded into their
/// buckets: a task does that every few seconds, so a server nobody scrapes
/// does not keep every request's latency in memory.
pub fn install() {
    static UPKEEP: std::sync::Once = std::sync::Once::new();
    let h = handle();
    UPKEEP.call_once(|| {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                h.run_upkeep();
            }
        });
    });
}

/// One route's series, registered the first time they are seen: a request
/// then costs two atomic updates instead of new label strings and two
/// registry look-ups (routes are templates and `unmatched`, so the map
/// stays as small as the router).
#[derive(Default)]
struct Route {
    /// Latency by method; requests by method and status.
    latency: Vec<(String, metrics::Histogram)>,
    requests: Vec<(String, u16, metrics::Counter)>,
}

fn routes() -> &'static std::sync::RwLock<std::collections::HashMap<Box<str>, Route>> {
    static ROUTES: OnceLock<std::sync::RwLock<std::collections::HashMap<Box<str>, Route>>> =
        OnceLock::new();
    ROUTES.get_or_init(Default::default)
}

pub fn request_done(method: &str, route: &str, status: u16, latency: Duration) {
    let seconds = latency.as_secs_f64();
    let recorded = routes().read().ok().is_some_and(|routes| {
        let Some(r) = routes.get(route) else {
            return false;
        };
        let latency = r.latency.iter().find(|(m, _)| m == method);
        let requests = r
            .requests
            .iter()
            .find(|(m, s, _)| m == method && *s == status);
        match (latency, requests) {
            (Some((_, h)), Some((_, _, c))) => {
                h.record(seconds);
                c.increment(1);
                true
            }
            _ => false,
        }
    });
    if !recorded && let Ok(mut routes) = routes().write() {
        // The handles belong to the recorder they were made with: ours.
        let _ = handle();
        let r = routes.entry(route.into()).or_default();
        let labels = [("method", method.to_owned()), ("route", route.to_owned())];
        if !r.latency.iter().any(|(m, _)| m == method) {
            r.latency
                .push((method.to_owned(), metrics::histogram!(LATENCY, &labels)));
        }
        if !r
            .requests
            .iter()
            .any(|(m, s, _)| m == method && *s == status)
        {
            let counter = metrics::counter!(
                REQUESTS,
                &[
                    labels[0].clone(),
                    labels[1].clone(),
                    ("status", status.to_string())
                ]
            );
            r.requests.push((method.to_owned(), status, counter));
        }
        drop(routes);
        request_done(method, route, status, latency);
        return;
    }
    if status == 429 {
        metrics::counter!(RATE_LIMITED, "route" => route.to_owned()).increment(1);
    }
}

/// The exposition: this process's counters, then what the database holds.
pub async fn render(db: &Db, now_ms: i64) -> anyhow::Result<String> {
    let h = handle();
    h.run_upkeep();
    let mut out = h.render();
    out.push_str(&database_gauges(db, now_ms).await?);
    Ok(out)
}

/// One gauge family in the text format.
struct Family<'a> {
    out: &'a mut String,
}

impl<'a> Family<'a> {
    fn new(out: &'a mut String, name: &str, help: &str) -> Self {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        Self { out }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let _ = write!(self.out, "{name}");
        if !labels.is_empty() {
            let body: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(self.out, "{{{}}}", body.join(","));
        }
        let _ = writeln!(self.out, " {value}");
    }
}

/// A label value in the text format: backslash, quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

async fn database_gauges(db: &Db, now_ms: i64) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut f = Family::new(&mut out, "legitka_orders", "Orders by status");
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM orders GROUP BY status")
        .fetch_all(&db.pool)
        .await?;
    for status in legitka_wire::OrderStatus::ALL {
        let n = rows
            .iter()
            .find(|r| r.try_get::<String, _>("status").ok().as_deref() == Some(status.as_str()))
            .map_or(Ok(0), |r| r.try_get::<i64, _>("n"))?;
        f.sample("legitka_orders", &[("status", status.as_str())], n as f64);
    }
    let depths = super::depths(db, now_ms).await?;
    let mut f = Family::new(
        &mut out,
        "legitka_outbox_depth",
        "Jobs waiting in an outbox, by channel (push by provider)",
    );
    for d in &depths {
        f.sample(
            "legitka_outbox_depth",
            &[("channel", &d.channel)],
            d.waiting as f64,
        );
    }
    let mut f = Family::new(
        &mut out,
        "legitka_outbox_oldest_due_seconds",
        "How long the oldest due job of a channel has been waiting (0: none due)",
    );
    for d in &depths {
        f.sample(
            "legitka_outbox_oldest_due_seconds",
            &[("channel", &d.channel)],
            d.oldest_due_ms as f64 / 1000.0,
        );
    }
    let mut f = Family::new(
        &mut out,
        "legitka_dead_letters",
        "Jobs an outbox gave up on, kept for an operator (dead-letters list)",
    );
    for d in &depths {
        f.sample(
            "legitka_dead_letters",
            &[("channel", &d.channel)],
            d.dead as f64,
        );
    }
    let mut f = Family::new(
        &mut out,
        "legitka_db_pool_connections",
        "Database connections of this process, by state",
    );
    let size = db.pool.size() as f64;
    let idle = db.pool.num_idle() as f64;
    f.sample("legitka_db_pool_connections", &[("state", "idle")], idle);
    f.sample(
        "legitka_db_pool_connections",
        &[("state", "busy")],
        size - idle,
    );
    let mut f = Family::new(
        &mut out,
        "legitka_db_pool_max_connections",
        "The most database connections this process opens",
    );
    f.sample(
        "legitka_db_pool_max_connections",
        &[],
        f64::from(db.pool.options().get_max_connections()),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
