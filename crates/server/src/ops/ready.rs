//! `/health` says the process answers; `/ready` says it can serve: the
//! database answers, its schema is this version's, and no outbox has a job
//! waiting past its time for longer than [`STUCK_AFTER_MS`] (its workers
//! are gone or the other side has been down that long).

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

/// A due job older than this makes the server not ready.
pub const STUCK_AFTER_MS: i64 = 5 * 60 * 1000;

#[derive(Serialize, Debug)]
pub struct Readiness {
    pub ready: bool,
    /// Each check: `ok`, or what is wrong.
    pub database: String,
    pub schema: String,
    pub outboxes: String,
}

pub async fn health() -> &'static str {
    "ok"
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let r = check(&state).await;
    let status = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(r))
}

pub async fn check(state: &AppState) -> Readiness {
    let now = state.clock.now_ms();
    let database = match sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&state.db.pool)
        .await
    {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("not answering: {e}"),
    };
    let schema = match state.db.schema().await {
        Ok(s) if s.applied == s.known => "ok".to_owned(),
        Ok(s) => format!("behind: {} of {} migrations applied", s.applied, s.known),
        Err(e) => format!("unreadable: {e:#}"),
    };
    let outboxes = match super::depths(&state.db, now).await {
        Ok(depths) => {
            let stuck: Vec<String> = depths
                .iter()
                .filter(|d| d.oldest_due_ms > STUCK_AFTER_MS)
                .map(|d| format!("{} ({} s overdue)", d.channel, d.oldest_due_ms / 1000))
                .collect();
            if stuck.is_empty() {
                "ok".to_owned()
            } else {
                format!("stuck: {}", stuck.join(", "))
            }
        }
        Err(e) => format!("unreadable: {e}"),
    };
    Readiness {
        ready: [&database, &schema, &outboxes].iter().all(|c| *c == "ok"),
        database,
        schema,
        outboxes,
    }
}
