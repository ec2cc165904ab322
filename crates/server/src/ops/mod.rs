//! What the university's IT team runs the server by: request logs and ids
//! (`requests`), metrics (`metrics`), readiness (`ready`), the data's
//! lifecycle (`lifecycle`: pruning, erasure), key rotation (`keys`),
//! backups (`backup`), who did what (`audit`), and the views of the
//! outboxes the operator tools, `/ready` and the metrics share.

pub mod audit;
pub mod backup;
pub mod keys;
pub mod lifecycle;
pub mod metrics;
pub mod ready;
pub mod requests;

use crate::db::Db;
use crate::outbox::Queue;
use sqlx::Row;

/// Every outbox, by the name operators use (`dead-letters --queue`).
pub fn queues() -> [&'static Queue; 4] {
    [
        &crate::issuer::COMMANDS,
        &crate::push::dispatcher::DELIVERIES,
        &crate::push::email::EMAILS,
        &crate::usos_gateway::POLLS,
    ]
}

/// One channel's backlog: the issuer, each push provider, e-mail, the USOS watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Depth {
    /// `issuer`, `push:fcm`, `push:apns`, `push:web_push`, `email`, `usos-watch`.
    pub channel: String,
    /// Jobs in the outbox (due or not yet).
    pub waiting: i64,
    /// How long the oldest due job has waited past its time (0: none due).
    pub oldest_due_ms: i64,
    /// Jobs given up on (dead letters).
    pub dead: i64,
    /// The newest error any of its jobs met, if one is waiting or dead.
    pub last_error: Option<String>,
}

/// Each channel's backlog, push split by provider (a delivery whose device
/// is gone counts under `push:gone`).
pub async fn depths(db: &Db, now_ms: i64) -> sqlx::Result<Vec<Depth>> {
    let mut out = Vec::new();
    for q in queues() {
        if q.table == crate::push::dispatcher::DELIVERIES.table {
            for platform in push_channels() {
                out.push(depth(db, q, now_ms, Some(platform)).await?);
            }
        } else {
            out.push(depth(db, q, now_ms, None).await?);
        }
    }
    Ok(out)
}

fn push_channels() -> impl Iterator<Item = &'static str> {
    use strum::VariantArray;
    legitka_wire::PushPlatform::VARIANTS
        .iter()
        .map(|p| -> &'static str { p.into() })
        .chain(["gone"])
}

/// The join and condition that keep one push provider's rows (`$n` is the platform).
fn of_platform(platform: Option<&str>, n: u8) -> (&'static str, String) {
    const JOIN: &str = " LEFT JOIN devices d ON d.id = x.device_id";
    match platform {
        None => ("", String::new()),
        Some("gone") => (JOIN, " AND d.platform IS NULL".to_owned()),
        Some(_) => (JOIN, format!(" AND d.platform = ${n}")),
    }
}

async fn depth(db: &Db, q: &Queue, now: i64, platform: Option<&str>) -> sqlx::Result<Depth> {
    let named = platform.filter(|p| *p != "gone");
    let (join, cond) = of_platform(platform, 2);
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS waiting, \
         MIN(CASE WHEN x.next_attempt_at <= $1 THEN x.next_attempt_at END) AS oldest \
         FROM {t} x{join} WHERE 1 = 1{cond}",
        t = q.table
    ));
    let mut query = sqlx::query(sql).bind(now);
    if let Some(p) = named {
        query = query.bind(p);
    }
    let live = query.fetch_one(&db.pool).await?;
    let oldest: Option<i64> = live.try_get("oldest")?;

    let (join, cond) = of_platform(platform, 1);
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS dead FROM {t} x{join} WHERE 1 = 1{cond}",
        t = q.dead_table
    ));
    let mut query = sqlx::query(sql);
    if let Some(p) = named {
        query = query.bind(p);
    }
    let dead: i64 = query.fetch_one(&db.pool).await?.try_get("dead")?;

    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT last_error FROM (\
           SELECT x.last_error, x.next_attempt_at AS at FROM {t} x{join} \
           WHERE x.last_error IS NOT NULL{cond} \
           UNION ALL \
           SELECT x.last_error, x.dead_at AS at FROM {dt} x{join} \
           WHERE x.last_error IS NOT NULL{cond}) e \
         ORDER BY at DESC LIMIT 1",
        t = q.table,
        dt = q.dead_table,
    ));
    let mut query = sqlx::query(sql);
    if let Some(p) = named {
        query = query.bind(p);
    }
    let last_error: Option<String> = query
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("last_error"))
        .transpose()?;
    Ok(Depth {
        channel: match platform {
            Some(p) => format!("push:{p}"),
            None => q.name.to_owned(),
        },
        waiting: live.try_get("waiting")?,
        oldest_due_ms: oldest.map_or(0, |o| (now - o).max(0)),
        dead,
        last_error,
    })
}

/// `stats`: what an operator looks at first.
pub async fn stats(db: &Db, now_ms: i64) -> anyhow::Result<String> {
    use std::fmt::Write;
    let mut out = String::new();
    let rows =
        sqlx::query("SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY status")
            .fetch_all(&db.pool)
            .await?;
    let _ = writeln!(out, "orders by status:");
    if rows.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for r in &rows {
        let status: String = r.try_get("status")?;
        let n: i64 = r.try_get("n")?;
        let _ = writeln!(out, "  {status:<26} {n}");
    }
    let students: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM students WHERE erased_at IS NULL")
        .fetch_one(&db.pool)
        .await?;
    let sessions: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND refresh_expires_at > $1",
    )
    .bind(now_ms)
    .fetch_one(&db.pool)
    .await?;
    let _ = writeln!(out, "students: {students}; signed-in sessions: {sessions}");
    let _ = writeln!(
        out,
        "outboxes (waiting / oldest due / dead letters / last error):"
    );
    for d in depths(db, now_ms).await? {
        let _ = writeln!(
            out,
            "  {:<14} {:>6} {:>8} {:>6}  {}",
            d.channel,
            d.waiting,
            format!("{}s", d.oldest_due_ms / 1000),
            d.dead,
            d.last_error.as_deref().unwrap_or("-")
        );
    }
    let actions = audit::latest(db, 5).await?;
    if !actions.is_empty() {
        let _ = writeln!(out, "latest admin actions:");
        for a in actions {
            let _ = writeln!(
                out,
                "  {} {} {} {}",
                crate::calendar::day_of(a.at),
                a.operator,
                a.action,
                a.subject.as_deref().unwrap_or("")
            );
        }
    }
    Ok(out)
}

/// The queue an operator names (`issuer`, `push`, `email`, `usos-watch`).
pub fn queue_named(name: &str) -> Option<&'static Queue> {
    queues().into_iter().find(|q| q.name == name)
}
