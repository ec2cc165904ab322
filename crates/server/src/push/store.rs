//! The only SQL on `devices`, `notices` and `deliveries`: registering and
//! forgetting devices, queuing a notice with one delivery per device, and
//! what the dispatcher reads to send one delivery.

use super::Device;
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult};
use legitka_wire::notice::NoticeKind;
use legitka_wire::{DeviceRegistration, Locale, OrderStatus, OrderView, PushPlatform, Reason};
use sqlx::Row;

/// The most devices one student has; registering another forgets the
/// one registered longest ago (a phone sold or reset never signs out).
pub const MAX_DEVICES: i64 = 10;

/// Registers a device for a session's student. A token names one device.
/// Registering it again moves it to this session when it is the same
/// student's (a token refresh, a new sign-in on the same phone) or when
/// the session holding it has ended (signed out, expired, revoked: the
/// phone changed hands). A token held by another student's live session
/// is refused: knowing someone's token must not divert their notices.
pub async fn register(
    db: &Db,
    student_id: &str,
    session_id: &str,
    device: &DeviceRegistration,
    token: &str,
    now: i64,
) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let held: Option<String> = sqlx::query_scalar(
        "SELECT d.student_id FROM devices d JOIN sessions s ON s.id = d.session_id \
         WHERE d.platform = $1 AND d.token = $2 AND d.student_id <> $3 \
         AND s.revoked_at IS NULL AND s.refresh_expires_at > $4",
    )
    .bind(device.platform.as_str())
    .bind(token)
    .bind(student_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if held.is_some() {
        return Err(AppError::client(
            legitka_wire::ErrorCode::DeviceInUse,
            "this push token is registered by another signed-in student",
        ));
    }
    sqlx::query(
        "INSERT INTO devices (id, student_id, session_id, platform, token, locale, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (platform, token) DO UPDATE SET student_id = $2, session_id = $3, \
         locale = $6, created_at = $7",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(student_id)
    .bind(session_id)
    .bind(device.platform.as_str())
    .bind(token)
    .bind(device.locale.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // Beyond the cap, the oldest go (with what was queued for them).
    let keep = "SELECT id FROM devices WHERE student_id = $1 \
                ORDER BY created_at DESC, id DESC LIMIT $2";
    for (table, column) in [("deliveries", "device_id"), ("devices", "id")] {
        let sql = sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE {column} IN (SELECT id FROM devices WHERE student_id = $1) \
             AND {column} NOT IN ({keep})"
        ));
        sqlx::query(sql)
            .bind(student_id)
            .bind(MAX_DEVICES)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Stops notices to one of the student's devices; false if it is not theirs.
pub async fn unregister(
    db: &Db,
    student_id: &str,
    platform: PushPlatform,
    token: &str,
) -> AppResult<bool> {
    let done =
        sqlx::query("DELETE FROM devices WHERE platform = $1 AND token = $2 AND student_id = $3")
            .bind(platform.as_str())
            .bind(token)
            .bind(student_id)
            .execute(&db.pool)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// A session ended: its devices get no more notices.
pub async fn forget_session(tx: &mut Tx, session_id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM devices WHERE session_id = $1")
        .bind(session_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The provider calls this device's token dead: it goes with its deliveries.
pub async fn forget_device(db: &Db, device_id: &str) -> AppResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM deliveries WHERE device_id = $1")
        .bind(device_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM devices WHERE id = $1")
        .bind(device_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The push outbox: a notice of `kind` about `order` and one delivery per
/// device of the student, in the transaction of the change that causes it.
/// The notice id is the same on every device, so the app drops duplicates.
/// It supersedes the order's older notices still waiting to be pushed (a
/// push service would only replace them: the collapse key is the order),
/// and goes first when it calls for action ([`super::calls_for_action`]).
/// Returns the notice's id.
pub async fn queue_notice(
    tx: &mut Tx,
    student_id: &str,
    order: &OrderView,
    kind: NoticeKind,
    email: bool,
    now: i64,
) -> AppResult<String> {
    let notice_id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO notices (id, student_id, order_id, kind, status, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&notice_id)
    .bind(student_id)
    .bind(&order.id)
    .bind(kind.as_str())
    .bind(order.status.as_str())
    .bind(order.reason.map(Reason::as_str))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    // Stale once this one exists; those in flight (leased) are let be.
    sqlx::query(
        "DELETE FROM deliveries WHERE notice_id IN \
         (SELECT id FROM notices WHERE order_id = $1 AND id <> $2) \
         AND (lease_until IS NULL OR lease_until < $3)",
    )
    .bind(&order.id)
    .bind(&notice_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let priority = i64::from(super::calls_for_action(kind, order.status));
    // Delivery ids: the notice id plus the device id, unique per pair.
    sqlx::query(
        "INSERT INTO deliveries (id, notice_id, device_id, next_attempt_at, priority) \
         SELECT $1 || ':' || d.id, $1, d.id, $2, $4 FROM devices d WHERE d.student_id = $3",
    )
    .bind(&notice_id)
    .bind(now)
    .bind(student_id)
    .bind(priority)
    .execute(&mut **tx)
    .await?;
    // And an e-mail to the university address, when SMTP is configured.
    if email {
        sqlx::query(
            "INSERT INTO email_deliveries (id, notice_id, student_id, next_attempt_at, priority) \
             SELECT $1 || ':email', $1, s.id, $2, $4 FROM students s \
             WHERE s.id = $3 AND s.email IS NOT NULL",
        )
        .bind(&notice_id)
        .bind(now)
        .bind(student_id)
        .bind(priority)
        .execute(&mut **tx)
        .await?;
    }
    Ok(notice_id)
}

/// The codes ride with the notice's e-mail, sealed: `true` when the notice
/// has an e-mail to carry them (the student has an address).
pub async fn email_codes(tx: &mut Tx, notice_id: &str, sealed: &str) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE email_deliveries SET sealed_codes = $1 WHERE notice_id = $2 AND sealed_codes IS NULL",
    )
    .bind(sealed)
    .bind(notice_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One delivery's device and notice, as the dispatcher sends them.
pub struct Outgoing {
    pub device: Device,
    pub order_id: String,
    pub kind: NoticeKind,
    pub status: OrderStatus,
}

/// What one delivery sends to whom; `None` when the device is gone.
pub async fn outgoing(db: &Db, notice_id: &str, device_id: &str) -> AppResult<Option<Outgoing>> {
    let row = sqlx::query(
        "SELECT d.platform, d.token, d.locale, n.order_id, n.kind, n.status \
         FROM devices d, notices n WHERE d.id = $1 AND n.id = $2",
    )
    .bind(device_id)
    .bind(notice_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let column = |name: &str| -> AppResult<String> { Ok(row.try_get::<String, _>(name)?) };
    let unknown = |what: &str, value: String| -> AppError {
        anyhow::anyhow!("unknown {what} {value:?} in the database").into()
    };
    let platform = column("platform")?;
    let status = column("status")?;
    let kind = column("kind")?;
    Ok(Some(Outgoing {
        device: Device {
            id: device_id.to_owned(),
            platform: PushPlatform::parse(&platform)
                .ok_or_else(|| unknown("platform", platform))?,
            token: column("token")?,
            locale: Locale::parse(&column("locale")?).unwrap_or(Locale::Pl),
        },
        order_id: column("order_id")?,
        kind: NoticeKind::parse(&kind).ok_or_else(|| unknown("notice kind", kind))?,
        status: OrderStatus::parse(&status).ok_or_else(|| unknown("status", status))?,
    }))
}

/// What notices leave behind once they have done their work: notices
/// older than `cutoff` with nothing left to deliver, and the devices of
/// sessions that ended before it (a signed-out device is forgotten at
/// once; this catches sessions that simply ran out). Returns the rows removed.
pub async fn prune(db: &Db, cutoff: i64) -> AppResult<u64> {
    let mut tx = db.begin().await?;
    let statements = [
        "DELETE FROM devices WHERE session_id IN (SELECT id FROM sessions \
         WHERE revoked_at < $1 OR refresh_expires_at < $1)",
        "DELETE FROM notices WHERE created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notice_id = notices.id) \
         AND NOT EXISTS (SELECT 1 FROM email_deliveries e WHERE e.notice_id = notices.id)",
    ];
    let removed = crate::db::each_with(&mut tx, &statements, cutoff).await?;
    tx.commit().await?;
    Ok(removed)
}

/// Everything notices kept of a student, for `erase`: devices, notices
/// and their deliveries, pending or dead.
pub async fn erase_student(tx: &mut Tx, student_id: &str) -> AppResult<()> {
    let statements = [
        "DELETE FROM deliveries WHERE notice_id IN (SELECT id FROM notices WHERE student_id = $1)",
        "DELETE FROM dead_deliveries WHERE notice_id IN \
         (SELECT id FROM notices WHERE student_id = $1)",
        "DELETE FROM email_deliveries WHERE student_id = $1",
        "DELETE FROM dead_email_deliveries WHERE student_id = $1",
        "DELETE FROM notices WHERE student_id = $1",
        "DELETE FROM devices WHERE student_id = $1",
    ];
    crate::db::each_with(tx, &statements, student_id).await?;
    Ok(())
}

/// The e-mail outbox's sealed codes (`rotate-key` re-seals them).
pub const SEALED: crate::crypto::SealedColumn = crate::crypto::SealedColumn {
    table: "email_deliveries",
    key: "id",
    column: "sealed_codes",
};
