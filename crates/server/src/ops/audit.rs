//! Who did what: every admin command that changes or reads a student's
//! data leaves a row in `admin_actions` with the operator's name (the
//! `--operator` flag, `LEGITKA_OPERATOR`, or the account that ran it).
//! The subject is a student's id or a queue, never a name or a PESEL.

use crate::db::Db;
use crate::error::AppResult;
use sqlx::Row;

/// One admin action, as `stats` lists the latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub at: i64,
    pub operator: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
}

/// Records an action (inside the change's own transaction where it has one).
pub async fn record<'e, E>(
    executor: E,
    at: i64,
    operator: &str,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> AppResult<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO admin_actions (id, at, operator, action, subject, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(at)
    .bind(operator)
    .bind(action)
    .bind(subject)
    .bind(detail)
    .execute(executor)
    .await?;
    Ok(())
}

/// The latest actions, newest first.
pub async fn latest(db: &Db, limit: i64) -> AppResult<Vec<Action>> {
    let rows = sqlx::query(
        "SELECT at, operator, action, subject, detail FROM admin_actions \
         ORDER BY at DESC, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Action {
                at: r.try_get("at")?,
                operator: r.try_get("operator")?,
                action: r.try_get("action")?,
                subject: r.try_get("subject")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}

/// Who runs an admin command: the name given, or the account's.
pub fn operator(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
