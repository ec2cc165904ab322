//! Server processes sharing one PostgreSQL hear each other's order changes
//! through LISTEN/NOTIFY: a change committed by one instance enters the
//! change feed (`feed`) of every other instance at once, and from there its
//! read cache, outboxes and live streams. (An SQLite deployment is one process.)

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
