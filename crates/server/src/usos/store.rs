//! The only SQL on `usos_logins` and `usos_tokens`. Secrets are sealed
//! before they are written.

use super::oauth::Token;
use crate::crypto::{Secret, SecretBox};
use crate::db::{Db, Tx};
use crate::error::AppResult;
use legitka_wire::UniversityText;

/// How long a student may take at USOS's sign-in page.
pub const LOGIN_TTL_MS: i64 = 10 * 60 * 1000;

/// A sign-in sent to USOS: its request token, until the student comes back.
pub async fn save_login(
    db: &Db,
    secrets: &SecretBox,
    university_id: &str,
    request: &Token,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO usos_logins (request_token, university_id, sealed_secret, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&request.key)
    .bind(university_id)
    .bind(secrets.seal(request.secret.expose().as_bytes())?)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The sign-in a callback finishes, once: `None` if unknown, used or too old.
pub async fn take_login(
    db: &Db,
    secrets: &SecretBox,
    university_id: &str,
    request_token: &str,
    now: i64,
) -> AppResult<Option<Token>> {
    let sealed: Option<String> = sqlx::query_scalar(
        "DELETE FROM usos_logins WHERE request_token = $1 AND university_id = $2 \
         AND created_at > $3 RETURNING sealed_secret",
    )
    .bind(request_token)
    .bind(university_id)
    .bind(now - LOGIN_TTL_MS)
    .fetch_optional(&db.pool)
    .await?;
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let secret = String::from_utf8(secrets.open(&sealed)?).map_err(anyhow::Error::from)?;
    Ok(Some(Token {
        key: request_token.to_owned(),
        secret: Secret::new(secret),
    }))
}

/// Keeps the student's USOS access token, sealed (one per student).
pub async fn save_token(
    db: &Db,
    secrets: &SecretBox,
    student_id: &str,
    token: &Token,
    scopes: &str,
    now: i64,
) -> AppResult<()> {
    let sealed = secrets.seal(
        serde_json::to_string(&(&token.key, token.secret.expose()))
            .map_err(anyhow::Error::from)?
            .as_bytes(),
    )?;
    sqlx::query(
        "INSERT INTO usos_tokens (student_id, sealed, scopes, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (student_id) DO UPDATE SET sealed = $2, scopes = $3, updated_at = $4",
    )
    .bind(student_id)
    .bind(sealed)
    .bind(scopes)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The student's USOS access token, if they signed in through USOS.
pub async fn token_of(db: &Db, secrets: &SecretBox, student_id: &str) -> AppResult<Option<Token>> {
    let sealed: Option<String> =
        sqlx::query_scalar("SELECT sealed FROM usos_tokens WHERE student_id = $1")
            .bind(student_id)
            .fetch_optional(&db.pool)
            .await?;
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let (key, secret): (String, String) =
        serde_json::from_slice(&secrets.open(&sealed)?).map_err(anyhow::Error::from)?;
    Ok(Some(Token {
        key,
        secret: Secret::new(secret),
    }))
}

/// Watches the student's orders at USOS from now on (again from the
/// start of the schedule), in the transaction of the order that needs it.
pub async fn watch(tx: &mut Tx, student_id: &str, now: i64) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO usos_polls (id, student_id, started_at, next_attempt_at) \
         VALUES ($1, $2, $3, $3) ON CONFLICT (student_id) DO UPDATE \
         SET started_at = $3, next_attempt_at = $3, attempts = 0",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(student_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The student's app is open (its live stream connected) until `until`:
/// their watched order is looked at more often meanwhile, and at once when
/// the app was closed before. A student USOS last refused is looked at
/// once as the app opens, so a reason they have since put right (a photo
/// added in USOSweb) does not keep them from ordering. Only USOS students
/// (who have a state row) are marked. A look brought forward this way goes
/// before routine ones: the student is waiting for it.
pub async fn app_open(db: &Db, student_id: &str, now: i64, until: i64) -> AppResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO usos_polls (id, student_id, started_at, next_attempt_at, priority) \
         SELECT $3, $1, $2, $2, 1 WHERE EXISTS (SELECT 1 FROM usos_state WHERE student_id = $1 \
         AND app_open_until < $2 AND why_cannot_order IS NOT NULL) \
         ON CONFLICT (student_id) DO NOTHING",
    )
    .bind(student_id)
    .bind(now)
    .bind(uuid::Uuid::new_v4().to_string())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE usos_polls SET next_attempt_at = $2, priority = 1 \
         WHERE student_id = $1 AND next_attempt_at > $2 AND EXISTS \
         (SELECT 1 FROM usos_state WHERE student_id = $1 AND app_open_until < $2)",
    )
    .bind(student_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE usos_state SET app_open_until = $2 WHERE student_id = $1")
        .bind(student_id)
        .bind(until)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Until when the student's app counts as open (Unix ms; 0: never seen).
pub async fn app_open_until(db: &Db, student_id: &str) -> AppResult<i64> {
    let until: Option<i64> =
        sqlx::query_scalar("SELECT app_open_until FROM usos_state WHERE student_id = $1")
            .bind(student_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(until.unwrap_or(0))
}

/// What USOS last said of a student's ordering, and when.
#[derive(Debug, Default)]
pub struct LastSaid {
    /// Why they may not order (`None`: they may).
    pub why_not: Option<UniversityText>,
    /// When USOS was last read for them (Unix ms).
    pub checked_at: Option<i64>,
}

pub async fn last_said(db: &Db, student_id: &str) -> AppResult<LastSaid> {
    let row: Option<(Option<String>, i64)> =
        sqlx::query_as("SELECT why_cannot_order, checked_at FROM usos_state WHERE student_id = $1")
            .bind(student_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map_or_else(LastSaid::default, |(json, at)| LastSaid {
        why_not: json.and_then(|j| serde_json::from_str(&j).ok()),
        checked_at: Some(at),
    }))
}

/// Keeps what USOS says now about the student's ordering.
pub async fn save_why_not(
    db: &Db,
    student_id: &str,
    why: Option<&UniversityText>,
    now: i64,
) -> AppResult<()> {
    let json = why
        .map(serde_json::to_string)
        .transpose()
        .map_err(anyhow::Error::from)?;
    sqlx::query(
        "INSERT INTO usos_state (student_id, why_cannot_order, checked_at) VALUES ($1, $2, $3) \
         ON CONFLICT (student_id) DO UPDATE SET why_cannot_order = $2, checked_at = $3",
    )
    .bind(student_id)
    .bind(json)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Sign-ins at USOS that were never finished, once past their time.
pub async fn prune(db: &Db, now: i64) -> AppResult<u64> {
    Ok(sqlx::query("DELETE FROM usos_logins WHERE created_at < $1")
        .bind(now - LOGIN_TTL_MS)
        .execute(&db.pool)
        .await?
        .rows_affected())
}

/// Everything USOS's side kept of a student, for `erase`: the token, what
/// USOS last said, the watch.
pub async fn erase_student(tx: &mut Tx, student_id: &str) -> AppResult<()> {
    let statements = [
        "DELETE FROM usos_tokens WHERE student_id = $1",
        "DELETE FROM usos_state WHERE student_id = $1",
        "DELETE FROM usos_polls WHERE student_id = $1",
        "DELETE FROM dead_usos_polls WHERE student_id = $1",
    ];
    crate::db::each_with(tx, &statements, student_id).await?;
    Ok(())
}

/// USOS's sealed columns (`rotate-key` re-seals them).
pub const SEALED: [crate::crypto::SealedColumn; 2] = [
    crate::crypto::SealedColumn {
        table: "usos_logins",
        key: "request_token",
        column: "sealed_secret",
    },
    crate::crypto::SealedColumn {
        table: "usos_tokens",
        key: "student_id",
        column: "sealed",
    },
];
