//! Processes sharing one database hear each other's order changes: a change
//! committed by one enters the change feed (`feed`) of every server process
//! at once, and from there its read cache, outboxes and live streams.
//! Server instances on PostgreSQL tell each other through LISTEN/NOTIFY,
//! batched. The admin tools (another process, on either database) tell
//! right after their commit ([`tell`]): on PostgreSQL by NOTIFY, on SQLite
//! (one server process) through `peer_changes`, which the server reads
//! every 250 ms ([`follow_sqlite`]).

use crate::clock::Clock as _;
use crate::db::{Backend, Db};
use crate::error::AppResult;
use crate::feed::{Change, ChangeFeed, PeerSender};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use tokio::sync::mpsc;

pub const CHANNEL: &str = "legitka_events";
/// Changes per NOTIFY: well under PostgreSQL's 8000-byte payload limit.
const BATCH: usize = 16;

#[derive(Serialize, Deserialize)]
struct Batch {
    /// The process that made the changes; it ignores its own.
    origin: String,
    changes: Vec<Change>,
}

/// Starts telling the other instances of this process's committed changes.
pub fn spawn_sender(pool: AnyPool, origin: String) -> PeerSender {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut changes = Vec::with_capacity(BATCH);
        while rx.recv_many(&mut changes, BATCH).await > 0 {
            let batch = Batch {
                origin: origin.clone(),
                changes: std::mem::take(&mut changes),
            };
            let Ok(payload) = serde_json::to_string(&batch) else {
                continue;
            };
            if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, "telling other instances failed");
            }
        }
    });
    tx
}

/// Hears the other instances' changes and hands them to this one's listeners.
pub async fn listen(database_url: String, origin: String, feed: ChangeFeed) {
    let mut listener = loop {
        match sqlx::postgres::PgListener::connect(&database_url).await {
            Ok(mut l) => match l.listen(CHANNEL).await {
                Ok(()) => break l,
                Err(e) => tracing::warn!(error = %e, "LISTEN failed"),
            },
            Err(e) => tracing::warn!(error = %e, "connecting the instance listener failed"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    };
    loop {
        // `recv` reconnects by itself after a lost connection.
        match listener.recv().await {
            Ok(n) => {
                let Ok(batch) = serde_json::from_str::<Batch>(n.payload()) else {
                    continue;
                };
                if batch.origin != origin {
                    feed.heard_from_peer(batch.changes);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "instance listener");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

/// Tells the server processes of changes this (tool) process committed.
pub async fn tell(db: &Db, origin: &str, changes: &[Change]) -> AppResult<()> {
    for chunk in changes.chunks(BATCH) {
        let payload = serde_json::to_string(&Batch {
            origin: origin.to_owned(),
            changes: chunk.to_vec(),
        })
        .map_err(anyhow::Error::from)?;
        match db.backend {
            Backend::Postgres => {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(payload)
                    .execute(&db.pool)
                    .await?;
            }
            Backend::Sqlite => {
                sqlx::query("INSERT INTO peer_changes (origin, payload, at) VALUES ($1, $2, $3)")
                    .bind(origin)
                    .bind(payload)
                    .bind(crate::clock::SystemClock.now_ms())
                    .execute(&db.pool)
                    .await?;
            }
        }
    }
    Ok(())
}

/// How often an SQLite server looks for other processes' changes.
const SQLITE_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// Rows older than this are gone: every server has read them.
const SQLITE_KEEP_MS: i64 = 60_000;

/// An SQLite server hears the admin tools' changes.
pub async fn follow_sqlite(db: Db, origin: String, feed: ChangeFeed) {
    let mut seen: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM peer_changes")
        .fetch_one(&db.pool)
        .await
        .unwrap_or(0);
    let mut ticks = 0u32;
    loop {
        tokio::time::sleep(SQLITE_EVERY).await;
        let rows: Vec<(i64, String, String)> = match sqlx::query_as(
            "SELECT seq, origin, payload FROM peer_changes WHERE seq > $1 ORDER BY seq",
        )
        .bind(seen)
        .fetch_all(&db.pool)
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "reading other processes' changes");
                continue;
            }
        };
        for (seq, from, payload) in rows {
            seen = seen.max(seq);
            if from == origin {
                continue;
            }
            if let Ok(batch) = serde_json::from_str::<Batch>(&payload) {
                feed.heard_from_peer(batch.changes);
            }
        }
        ticks = ticks.wrapping_add(1);
        if ticks.is_multiple_of(240) {
            let before = crate::clock::SystemClock.now_ms() - SQLITE_KEEP_MS;
            let _ = sqlx::query("DELETE FROM peer_changes WHERE at < $1")
                .bind(before)
                .execute(&db.pool)
                .await;
        }
    }
}
