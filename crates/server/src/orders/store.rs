//! The only SQL on `orders`, `order_events`, `idempotency_keys` and
//! `reminders_sent`. Status sets in the SQL come from `rules`, so "open" and
//! "may move to" mean the same here as in the rules.

use super::rules;
use crate::db::{Db, Tx};
use crate::error::AppResult;
use legitka_wire::notice::NoticeKind;
use legitka_wire::{Actor, MAX_REVEALS, OrderKind, OrderStatus, OrderView, Reason, TimelineEntry};
use sqlx::Row;
use sqlx::any::AnyRow;

const ORDER_COLUMNS: &str = "id, student_id, kind, status, created_at, updated_at, reveals, \
                             activation_expires_at, card_valid_until, reason, codes_emailed_at";

/// `'a', 'b'` for `status IN (…)`; `NULL` (matches nothing) when empty.
/// The names are the wire enum's own, never input.
fn sql_list(statuses: impl Iterator<Item = OrderStatus>) -> String {
    let list: Vec<String> = statuses.map(|s| format!("'{}'", s.as_str())).collect();
    if list.is_empty() {
        "NULL".to_owned()
    } else {
        list.join(", ")
    }
}

fn parse_col<T>(row: &AnyRow, col: &str, parse: fn(&str) -> Option<T>) -> AppResult<T> {
    let s: String = row.try_get(col)?;
    parse(&s).ok_or_else(|| anyhow::anyhow!("unknown {col} {s:?} in the database").into())
}

/// An order row as (student id, view).
fn view_from_row(row: &AnyRow) -> AppResult<(String, OrderView)> {
    let reveals: i64 = row.try_get("reveals")?;
    let used = u8::try_from(reveals.clamp(0, i64::from(MAX_REVEALS))).unwrap_or(MAX_REVEALS);
    let reason: Option<String> = row.try_get("reason")?;
    Ok((
        row.try_get("student_id")?,
        OrderView {
            id: row.try_get("id")?,
            kind: parse_col(row, "kind", OrderKind::parse)?,
            status: parse_col(row, "status", OrderStatus::parse)?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            reveals_left: MAX_REVEALS - used,
            activation_expires_at: row.try_get("activation_expires_at")?,
            card_valid_until: row.try_get("card_valid_until")?,
            reason: reason.as_deref().and_then(Reason::parse),
            codes_emailed: row.try_get::<Option<i64>, _>("codes_emailed_at")?.is_some(),
        },
    ))
}

fn view_only(row: &AnyRow) -> AppResult<OrderView> {
    view_from_row(row).map(|(_, v)| v)
}

/// The student's latest order, if any.
pub async fn current(db: &Db, student_id: &str) -> AppResult<Option<OrderView>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE student_id = $1 ORDER BY seq DESC LIMIT 1"
    ));
    let row = sqlx::query(sql)
        .bind(student_id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(view_only).transpose()
}

/// All of a student's orders, newest first.
pub async fn all_for(db: &Db, student_id: &str) -> AppResult<Vec<OrderView>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE student_id = $1 ORDER BY seq DESC"
    ));
    let rows = sqlx::query(sql)
        .bind(student_id)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(view_only).collect()
}

/// An order's status now, if it exists.
pub async fn status_of(db: &Db, order_id: &str) -> AppResult<Option<OrderStatus>> {
    let s: Option<String> = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(s.and_then(|s| OrderStatus::parse(&s)))
}

/// One order as (student id, view), inside a transaction.
pub async fn load(tx: &mut Tx, order_id: &str) -> AppResult<Option<(String, OrderView)>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"));
    let row = sqlx::query(sql)
        .bind(order_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(view_from_row).transpose()
}

/// The student's open order (see `rules::open_statuses`), if any.
pub async fn open_order(tx: &mut Tx, student_id: &str) -> AppResult<Option<OrderView>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE student_id = $1 AND status IN ({}) \
         ORDER BY seq DESC LIMIT 1",
        sql_list(rules::open_statuses())
    ));
    let row = sqlx::query(sql)
        .bind(student_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(view_only).transpose()
}

/// Moves an order to `to` in one statement, only from a status the life
/// cycle allows; `None` when it is in no such status (or does not exist).
pub async fn move_status(
    tx: &mut Tx,
    order_id: &str,
    to: OrderStatus,
    reason: Option<Reason>,
    now: i64,
) -> AppResult<Option<(String, OrderView)>> {
    // Activation data that can no longer be used is not kept.
    let clear = if rules::keeps_activation(to) {
        ""
    } else {
        ", activation_secret = NULL"
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "UPDATE orders SET status = $1, updated_at = $2, reason = $3{clear} \
         WHERE id = $4 AND status IN ({}) RETURNING {ORDER_COLUMNS}",
        sql_list(rules::statuses_before(to))
    ));
    let row = sqlx::query(sql)
        .bind(to.as_str())
        .bind(now)
        .bind(reason.map(Reason::as_str))
        .bind(order_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(view_from_row).transpose()
}

/// A new pending order, numbered after the student's earlier ones.
pub async fn insert(
    tx: &mut Tx,
    student_id: &str,
    kind: OrderKind,
    now: i64,
) -> AppResult<OrderView> {
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO orders (id, student_id, seq, kind, status, created_at, updated_at, reveals) \
         VALUES ($1, $2, (SELECT COUNT(*) + 1 FROM orders WHERE student_id = $2), \
                 $3, $4, $5, $5, 0) RETURNING {ORDER_COLUMNS}"
    ));
    let row = sqlx::query(sql)
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(student_id)
        .bind(kind.as_str())
        .bind(OrderStatus::Pending.as_str())
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
    view_only(&row)
}

/// Appends a step to the order's history (its `seq` counts per order).
pub async fn record_event(
    tx: &mut Tx,
    order_id: &str,
    status: OrderStatus,
    actor: Actor,
    reason: Option<Reason>,
    at: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO order_events (id, order_id, seq, status, actor, reason, at) \
         VALUES ($1, $2, (SELECT COUNT(*) + 1 FROM order_events WHERE order_id = $2), \
                 $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(order_id)
    .bind(status.as_str())
    .bind(actor.as_str())
    .bind(reason.map(Reason::as_str))
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The order an idempotency key already placed, if any.
pub async fn order_for_key(tx: &mut Tx, student_id: &str, key: &str) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT order_id FROM idempotency_keys WHERE student_id = $1 AND idem_key = $2",
    )
    .bind(student_id)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn remember_key(
    tx: &mut Tx,
    student_id: &str,
    key: &str,
    order_id: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (student_id, idem_key, order_id, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(student_id)
    .bind(key)
    .bind(order_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The issuer's activation data, sealed, on an order in progress: its
/// 30 days start, no view spent yet, and the card's validity becomes the
/// student's ELS's (or `default_valid_until` without an ELS date).
pub async fn store_activation(
    tx: &mut Tx,
    order_id: &str,
    sealed: &str,
    expires_at: i64,
    default_valid_until: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE orders SET activation_secret = $1, activation_expires_at = $2, reveals = 0, \
         card_valid_until = (SELECT COALESCE(s.els_valid_until, $3) FROM students s \
                             WHERE s.id = orders.student_id) \
         WHERE id = $4 AND status = $5",
    )
    .bind(sealed)
    .bind(expires_at)
    .bind(default_valid_until)
    .bind(order_id)
    .bind(OrderStatus::InProgress.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The ready order's codes went by e-mail: that took one view.
pub async fn codes_emailed(tx: &mut Tx, order_id: &str, now: i64) -> AppResult<()> {
    sqlx::query(
        "UPDATE orders SET reveals = reveals + 1, codes_emailed_at = $1, updated_at = $1 \
         WHERE id = $2",
    )
    .bind(now)
    .bind(order_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A view taken: the sealed data, the views spent and its expiry.
pub struct Reveal {
    /// The sealed codes; none at a USOS university (USOS keeps them).
    pub sealed: Option<String>,
    pub reveals: i64,
    pub expires_at: i64,
}

/// Spends one view of the student's ready order in one conditional UPDATE,
/// so concurrent reveals never spend more than the limit. `None` when no
/// view may be taken now. The caller commits only once the codes are in
/// hand, so a view that could not be shown is not spent.
pub async fn take_view(tx: &mut Tx, student_id: &str, now: i64) -> AppResult<Option<Reveal>> {
    let row = sqlx::query(
        "UPDATE orders SET reveals = reveals + 1, updated_at = $1 \
         WHERE student_id = $2 AND status = $3 AND reveals < $4 \
         AND activation_expires_at > $1 \
         RETURNING activation_secret, reveals, activation_expires_at",
    )
    .bind(now)
    .bind(student_id)
    .bind(OrderStatus::Ready.as_str())
    .bind(i64::from(MAX_REVEALS))
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| {
        Ok(Reveal {
            sealed: row.try_get("activation_secret")?,
            reveals: row.try_get("reveals")?,
            expires_at: row.try_get("activation_expires_at")?,
        })
    })
    .transpose()
}

/// The history of one of the student's orders; empty if it is not theirs.
pub async fn timeline(db: &Db, student_id: &str, order_id: &str) -> AppResult<Vec<TimelineEntry>> {
    let rows = sqlx::query(
        "SELECT e.status, e.actor, e.reason, e.at FROM order_events e \
         JOIN orders o ON o.id = e.order_id \
         WHERE e.order_id = $1 AND o.student_id = $2 ORDER BY e.seq",
    )
    .bind(order_id)
    .bind(student_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let reason: Option<String> = r.try_get("reason")?;
            Ok(TimelineEntry {
                status: parse_col(r, "status", OrderStatus::parse)?,
                actor: parse_col(r, "actor", Actor::parse)?,
                reason: reason.as_deref().and_then(Reason::parse),
                at: r.try_get("at")?,
            })
        })
        .collect()
}

/// Orders whose time is up: ready with expired activation data, or in use
/// past the card's validity.
pub async fn due_to_expire(db: &Db, now: i64) -> AppResult<Vec<(String, Reason)>> {
    let due: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, status FROM orders WHERE \
         (status = $2 AND activation_expires_at <= $1) OR \
         (status = $3 AND card_valid_until <= $1)",
    )
    .bind(now)
    .bind(OrderStatus::Ready.as_str())
    .bind(OrderStatus::Received.as_str())
    .fetch_all(&db.pool)
    .await?;
    Ok(due
        .into_iter()
        .map(|(id, status)| {
            let reason = if status == OrderStatus::Ready.as_str() {
                Reason::ActivationExpired
            } else {
                Reason::CardExpired
            };
            (id, reason)
        })
        .collect())
}

/// An order a reminder may be due for, with its student's ELS date.
pub struct ReminderCandidate {
    /// The student is on the student list (not graduated or removed).
    pub on_the_list: bool,
    pub student_id: String,
    pub order: OrderView,
    pub els: super::rules::Els,
}

/// Orders that may be due a reminder (`rules::reminders_for` decides):
/// activation data ending within `codes_within`, a card ending within
/// `card_within`, or an ELS extended past the card or issued again.
pub async fn reminder_candidates(
    db: &Db,
    codes_within: i64,
    card_within: i64,
) -> AppResult<Vec<ReminderCandidate>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT o.{cols}, s.els_valid_until AS els, s.els_issued_at AS els_issued, \
         s.active AS on_list FROM orders o \
         JOIN students s ON s.id = o.student_id \
         WHERE (o.status = $3 AND o.activation_expires_at <= $1) \
            OR (o.status = $4 AND (o.card_valid_until <= $2 \
                OR s.els_valid_until > o.card_valid_until OR s.els_issued_at > o.created_at))",
        cols = ORDER_COLUMNS.replace(", ", ", o.")
    ));
    let rows = sqlx::query(sql)
        .bind(codes_within)
        .bind(card_within)
        .bind(OrderStatus::Ready.as_str())
        .bind(OrderStatus::Received.as_str())
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|row| {
            let (student_id, order) = view_from_row(row)?;
            Ok(ReminderCandidate {
                student_id,
                order,
                els: super::rules::Els {
                    valid_until: row.try_get("els")?,
                    issued_at: row.try_get("els_issued")?,
                },
                on_the_list: row.try_get::<i64, _>("on_list")? != 0,
            })
        })
        .collect()
}

/// Marks a reminder sent; false if it was sent before (each once per order).
pub async fn mark_reminded(
    tx: &mut Tx,
    order_id: &str,
    kind: NoticeKind,
    now: i64,
) -> AppResult<bool> {
    let fresh = sqlx::query(
        "INSERT INTO reminders_sent (order_id, kind, sent_at) VALUES ($1, $2, $3) \
         ON CONFLICT (order_id, kind) DO NOTHING",
    )
    .bind(order_id)
    .bind(kind.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(fresh.rows_affected() == 1)
}

/// The card in use ends by `until` at the latest (removal from the list).
pub async fn end_card_by(
    tx: &mut Tx,
    order_id: &str,
    until: i64,
    why: Reason,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE orders SET card_valid_until = CASE \
         WHEN card_valid_until IS NULL OR card_valid_until > $1 THEN $1 \
         ELSE card_valid_until END, reason = $4, updated_at = $2 WHERE id = $3",
    )
    .bind(until)
    .bind(now)
    .bind(order_id)
    .bind(why.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What the issuer needs to make the card of a pending order, as the
/// registry has it now.
pub struct CardSource {
    pub kind: OrderKind,
    pub first_name: String,
    pub last_name: String,
    /// Sealed: the issuer outbox opens it as the submit leaves.
    pub pesel_sealed: Option<String>,
    pub album_number: Option<String>,
    pub els_number: Option<String>,
    pub els_valid_until: Option<i64>,
}

/// The card source of an order still pending; `None` once it is not.
pub async fn card_source(db: &Db, order_id: &str) -> AppResult<Option<CardSource>> {
    let row = sqlx::query(
        "SELECT o.kind, s.first_name, s.last_name, s.pesel_sealed, s.album_number, s.els_number, \
         s.els_valid_until FROM orders o JOIN students s ON s.id = o.student_id \
         WHERE o.id = $1 AND o.status = $2",
    )
    .bind(order_id)
    .bind(OrderStatus::Pending.as_str())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|row| {
        Ok(CardSource {
            kind: parse_col(&row, "kind", OrderKind::parse)?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            pesel_sealed: row.try_get("pesel_sealed")?,
            album_number: row.try_get("album_number")?,
            els_number: row.try_get("els_number")?,
            els_valid_until: row.try_get("els_valid_until")?,
        })
    })
    .transpose()
}

/// A USOS university's order as the gateway needs it.
pub struct UsosOrder {
    pub student_id: String,
    pub university: String,
    pub status: OrderStatus,
    /// USOS's id, once USOS has the order.
    pub external_id: Option<String>,
}

/// The order, if its student belongs to a USOS university.
pub async fn usos_order(db: &Db, order_id: &str) -> AppResult<Option<UsosOrder>> {
    let row = sqlx::query(
        "SELECT o.student_id, s.university_id, o.status, o.external_id FROM orders o \
         JOIN students s ON s.id = o.student_id \
         WHERE o.id = $1 AND s.university_id IS NOT NULL",
    )
    .bind(order_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|row| {
        Ok(UsosOrder {
            student_id: row.try_get("student_id")?,
            university: row.try_get("university_id")?,
            status: parse_col(&row, "status", OrderStatus::parse)?,
            external_id: row.try_get("external_id")?,
        })
    })
    .transpose()
}

/// USOS's ids the student's orders are already linked to.
pub async fn external_ids(db: &Db, student_id: &str) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT external_id FROM orders WHERE student_id = $1 AND external_id IS NOT NULL",
    )
    .bind(student_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Links an order to USOS's order.
pub async fn link_external(db: &Db, order_id: &str, external_id: &str) -> AppResult<()> {
    sqlx::query("UPDATE orders SET external_id = $1 WHERE id = $2 AND external_id IS NULL")
        .bind(external_id)
        .bind(order_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The student's orders linked to USOS: (order id, USOS id, status).
pub async fn linked(db: &Db, student_id: &str) -> AppResult<Vec<(String, String, OrderStatus)>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, external_id, status FROM orders \
         WHERE student_id = $1 AND external_id IS NOT NULL",
    )
    .bind(student_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, ext, status)| Some((id, ext, OrderStatus::parse(&status)?)))
        .collect())
}

/// What USOS says about an order: its raw status; when ready, the codes'
/// 30 days start (the codes stay at USOS) and the card's validity is USOS's.
pub async fn usos_status(
    tx: &mut Tx,
    order_id: &str,
    raw: &str,
    ready: Option<(i64, i64)>,
) -> AppResult<()> {
    sqlx::query("UPDATE orders SET external_status = $1 WHERE id = $2")
        .bind(raw)
        .bind(order_id)
        .execute(&mut **tx)
        .await?;
    if let Some((codes_until, card_until)) = ready {
        sqlx::query(
            "UPDATE orders SET activation_expires_at = $1, reveals = 0, card_valid_until = $2 \
             WHERE id = $3",
        )
        .bind(codes_until)
        .bind(card_until)
        .bind(order_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// How long an idempotency key answers a repeat: a day, well beyond any
/// app's retries.
pub const IDEMPOTENCY_KEY_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// Idempotency keys past their day.
pub async fn prune(db: &Db, now: i64) -> AppResult<u64> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(now - IDEMPOTENCY_KEY_TTL_MS)
            .execute(&db.pool)
            .await?
            .rows_affected(),
    )
}

/// The student's open order's status, if one is open (`erase` waits for it to end).
pub async fn open_status(db: &Db, student_id: &str) -> AppResult<Option<OrderStatus>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT status FROM orders WHERE student_id = $1 AND status IN ({})",
        sql_list(rules::open_statuses())
    ));
    let status: Option<String> = sqlx::query_scalar(sql)
        .bind(student_id)
        .fetch_optional(&db.pool)
        .await?;
    status
        .map(|s| {
            OrderStatus::parse(&s).ok_or_else(|| anyhow::anyhow!("unknown status {s:?}").into())
        })
        .transpose()
}

/// What an order keeps of its student, for `erase`: idempotency keys go;
/// the orders and their history stay, which then name no one.
pub async fn erase_student(tx: &mut Tx, student_id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE student_id = $1")
        .bind(student_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE orders SET activation_secret = NULL WHERE student_id = $1")
        .bind(student_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The order tables' sealed column (`rotate-key` re-seals it).
pub const SEALED: crate::crypto::SealedColumn = crate::crypto::SealedColumn {
    table: "orders",
    key: "id",
    column: "activation_secret",
};
