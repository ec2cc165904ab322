//! The order life cycle (seed 001). Every change is one transaction that
//! checks the transition, updates the order, appends to its audit trail —
//! and only after commit tells listeners.

use crate::cache::ReadCache;
use crate::clock::{Clock, DAY_MS};
use crate::crypto::{Secret, SecretBox};
use crate::db::{Db, Tx, is_unique_violation};
use crate::error::{AppError, AppResult};
use crate::issuer::{self, Command};
use legitka_wire::{
    ActivationData, Actor, ErrorCode, MAX_REVEALS, OrderKind, OrderStatus, OrderView, Reason,
    StudentAction, TimelineEntry,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Activation data is accepted for 30 days after it is generated (seed 002).
pub const ACTIVATION_VALIDITY_MS: i64 = 30 * DAY_MS;

/// After removal from the student list the card stays valid one month (seed 002).
pub const VALID_AFTER_REMOVAL_MS: i64 = 30 * DAY_MS;

/// A status change, as told to the event stream.
#[derive(Clone, Debug)]
pub struct Notice {
    pub student_id: String,
    pub order: OrderView,
}

/// What the issuer hands over when an order is ready.
pub struct IssuedActivation {
    pub qr_payload: String,
    pub manual_code: String,
    pub activation_code: Secret<String>,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    qr_payload: String,
    manual_code: String,
    activation_code: String,
}

/// Which status changes the life cycle allows.
pub fn can_transition(from: OrderStatus, to: OrderStatus) -> bool {
    use OrderStatus::*;
    matches!(
        (from, to),
        (
            Pending,
            InProgress | ReturnedForCorrection | Error | Cancelled
        ) | (
            InProgress,
            Ready | ReturnedForCorrection | Error | Cancelled
        ) | (Ready, Received | Cancelled | Expired)
            | (Received, Revoked | Expired)
            | (ReturnedForCorrection, Pending | Cancelled)
    )
}

/// Why an open order may give way to a new one, if it may.
pub fn supersede_reason(o: &OrderView, els_valid_until: Option<i64>, now: i64) -> Option<Reason> {
    match o.status {
        OrderStatus::Ready if o.activation_expires_at.is_none_or(|t| t <= now) => {
            Some(Reason::ActivationExpired)
        }
        OrderStatus::Ready if o.reveals_left == 0 => Some(Reason::RevealLimitReached),
        OrderStatus::Received if o.card_valid_until.is_some_and(|t| t <= now) => {
            Some(Reason::CardExpired)
        }
        // The ELS was extended past the card's validity: a new semester (seed 000).
        OrderStatus::Received
            if els_valid_until.is_some_and(|els| o.card_valid_until.is_some_and(|c| els > c)) =>
        {
            Some(Reason::Renewed)
        }
        _ => None,
    }
}

/// What the student may do now, given eligibility and the current order.
pub fn available_actions(
    eligible: bool,
    order: Option<&OrderView>,
    els_valid_until: Option<i64>,
    now: i64,
) -> Vec<StudentAction> {
    use StudentAction as A;
    let Some(o) =
        order.filter(|o| o.status.is_open() || o.status == OrderStatus::ReturnedForCorrection)
    else {
        return if eligible { vec![A::Order] } else { vec![] };
    };
    let superseded = supersede_reason(o, els_valid_until, now);
    let mut actions = match o.status {
        OrderStatus::Pending | OrderStatus::InProgress => vec![A::Cancel],
        OrderStatus::ReturnedForCorrection => vec![A::Resubmit, A::Cancel],
        OrderStatus::Ready if superseded.is_none() => vec![A::Reveal, A::Cancel],
        OrderStatus::Ready => vec![A::Cancel],
        OrderStatus::Received if superseded == Some(Reason::CardExpired) => vec![],
        OrderStatus::Received if eligible => vec![A::Revoke, A::ReplaceLostPhone],
        _ => vec![A::Revoke],
    };
    if eligible {
        match superseded {
            Some(Reason::Renewed) => actions.push(A::Renew),
            Some(_) => actions.push(A::Order),
            None => {}
        }
    }
    actions
}

#[derive(Clone)]
pub struct Orders {
    db: Db,
    clock: Arc<dyn Clock>,
    secrets: SecretBox,
    events: broadcast::Sender<Notice>,
    /// Card validity when the student has no ELS date (the 2025/26 policy).
    default_card_validity_ms: i64,
    cache: Arc<ReadCache>,
    /// Wakes this process's push dispatcher when a notice was committed.
    outbox_wakeup: Arc<tokio::sync::Notify>,
    /// Wakes this process's issuer outbox when a command was committed.
    issuer_wakeup: Arc<tokio::sync::Notify>,
    /// Other server processes on the same PostgreSQL (see `peers`).
    peers: Arc<std::sync::OnceLock<crate::peers::PeerSender>>,
}

const ORDER_COLUMNS: &str = "id, student_id, kind, status, created_at, updated_at, reveals, \
                             activation_expires_at, card_valid_until, reason";

fn parse_col<T>(row: &AnyRow, col: &str, parse: fn(&str) -> Option<T>) -> AppResult<T> {
    let s: String = row.try_get(col)?;
    parse(&s).ok_or_else(|| anyhow::anyhow!("unknown {col} {s:?} in the database").into())
}

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
        },
    ))
}

fn no_order() -> AppError {
    AppError::client(ErrorCode::NoOrder, "no such order")
}

/// Changes made in one transaction, told to listeners after commit.
#[derive(Default)]
struct Changes(Vec<(String, OrderView)>);

impl Orders {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        secrets: SecretBox,
        default_card_validity_ms: i64,
        cache: Arc<ReadCache>,
    ) -> Self {
        let (events, _) = broadcast::channel(4096);
        Self {
            db,
            clock,
            secrets,
            events,
            default_card_validity_ms,
            cache,
            outbox_wakeup: Arc::new(tokio::sync::Notify::new()),
            issuer_wakeup: Arc::new(tokio::sync::Notify::new()),
            peers: Arc::default(),
        }
    }

    /// From now on, committed changes are told to the other instances too.
    pub fn tell_peers(&self, sender: crate::peers::PeerSender) {
        let _ = self.peers.set(sender);
    }

    /// Another instance committed these changes: this one's status reads,
    /// push dispatcher and event streams learn of them as of their own.
    pub fn heard_from_peer(&self, changes: Vec<(String, OrderView)>) {
        self.announce(changes);
    }

    /// Notified after every commit that may have queued push deliveries.
    pub fn outbox_wakeup(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.outbox_wakeup)
    }

    /// Notified after every commit that may have queued issuer commands.
    pub fn issuer_wakeup(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.issuer_wakeup)
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.events.subscribe()
    }

    /// After commit: the other instances are told, then this one announces.
    fn publish(&self, changes: Changes) {
        if let Some(p) = self.peers.get() {
            for change in &changes.0 {
                let _ = p.send(change.clone());
            }
        }
        self.announce(changes.0);
    }

    /// Committed changes, here or in another instance: status reads see
    /// them, the dispatcher wakes, then listeners hear of them.
    fn announce(&self, changes: Vec<(String, OrderView)>) {
        if !changes.is_empty() {
            self.outbox_wakeup.notify_one();
            self.issuer_wakeup.notify_one();
        }
        for (student_id, order) in changes {
            self.cache.bump(&student_id);
            // No listener is fine: nobody is connected right now.
            let _ = self.events.send(Notice { student_id, order });
        }
    }

    /// The student's latest order, if any.
    pub async fn current(&self, student_id: &str) -> AppResult<Option<OrderView>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE student_id = $1 \
             ORDER BY seq DESC LIMIT 1"
        ));
        let row = sqlx::query(sql)
            .bind(student_id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.map(|r| view_from_row(&r).map(|(_, v)| v)).transpose()
    }

    /// An order's status now, if it exists.
    pub async fn status_of(&self, order_id: &str) -> AppResult<Option<OrderStatus>> {
        let s: Option<String> = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(s.and_then(|s| OrderStatus::parse(&s)))
    }

    /// All of a student's orders, newest first.
    pub async fn all_for(&self, student_id: &str) -> AppResult<Vec<OrderView>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE student_id = $1 \
             ORDER BY seq DESC"
        ));
        let rows = sqlx::query(sql)
            .bind(student_id)
            .fetch_all(&self.db.pool)
            .await?;
        rows.iter()
            .map(|r| view_from_row(r).map(|(_, v)| v))
            .collect()
    }

    async fn load(tx: &mut Tx, order_id: &str) -> AppResult<Option<(String, OrderView)>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"));
        let row = sqlx::query(sql)
            .bind(order_id)
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|r| view_from_row(&r)).transpose()
    }

    async fn open_order(tx: &mut Tx, student_id: &str) -> AppResult<Option<OrderView>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE student_id = $1 \
             AND status IN ('pending', 'in_progress', 'ready', 'received', 'returned_for_correction') \
             ORDER BY seq DESC LIMIT 1"
        ));
        let row = sqlx::query(sql)
            .bind(student_id)
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|r| view_from_row(&r).map(|(_, v)| v)).transpose()
    }

    async fn record_event(
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

    /// The outbox: the notice of a status change and one delivery per device
    /// of the student, written in the change's own transaction. The notice id
    /// is the same on every device, so the app can drop duplicates.
    async fn enqueue_notice(
        tx: &mut Tx,
        student_id: &str,
        order: &OrderView,
        now: i64,
    ) -> AppResult<()> {
        Self::enqueue(tx, student_id, order, "status", now).await
    }

    /// A notice of `kind` ("status" or a reminder's kind) with its deliveries.
    async fn enqueue(
        tx: &mut Tx,
        student_id: &str,
        order: &OrderView,
        kind: &str,
        now: i64,
    ) -> AppResult<()> {
        let notice_id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO notices (id, student_id, order_id, kind, status, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&notice_id)
        .bind(student_id)
        .bind(&order.id)
        .bind(kind)
        .bind(order.status.as_str())
        .bind(order.reason.map(Reason::as_str))
        .bind(now)
        .execute(&mut **tx)
        .await?;
        // Delivery ids: the notice id plus the device id, unique per pair.
        sqlx::query(
            "INSERT INTO deliveries (id, notice_id, device_id, next_attempt_at) \
             SELECT $1 || ':' || d.id, $1, d.id, $2 FROM devices d WHERE d.student_id = $3",
        )
        .bind(&notice_id)
        .bind(now)
        .bind(student_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// One status change inside a transaction: checked, applied, recorded.
    async fn apply(
        &self,
        tx: &mut Tx,
        changes: &mut Changes,
        order_id: &str,
        to: OrderStatus,
        actor: Actor,
        reason: Option<Reason>,
    ) -> AppResult<OrderView> {
        let now = self.now();
        // One statement: move only from a status the life cycle allows.
        let from: Vec<String> = OrderStatus::ALL
            .into_iter()
            .filter(|f| can_transition(*f, to))
            .map(|f| format!("'{}'", f.as_str()))
            .collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE orders SET status = $1, updated_at = $2, reason = $3 \
             WHERE id = $4 AND status IN ({}) RETURNING {ORDER_COLUMNS}",
            if from.is_empty() {
                "NULL".to_owned()
            } else {
                from.join(", ")
            }
        ));
        let row = sqlx::query(sql)
            .bind(to.as_str())
            .bind(now)
            .bind(reason.map(Reason::as_str))
            .bind(order_id)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(row) = row else {
            let (_, current) = Self::load(tx, order_id).await?.ok_or_else(no_order)?;
            return Err(AppError::client(
                ErrorCode::InvalidTransition,
                format!(
                    "an order that is {} cannot become {}",
                    current.status.as_str(),
                    to.as_str()
                ),
            ));
        };
        let (student_id, view) = view_from_row(&row)?;
        Self::record_event(tx, order_id, to, actor, reason, now).await?;
        Self::enqueue_notice(tx, &student_id, &view, now).await?;
        // What the issuer must hear of it, in the same transaction.
        match to {
            OrderStatus::Cancelled | OrderStatus::Revoked | OrderStatus::Expired => {
                issuer::enqueue(tx, order_id, Command::Invalidate, reason, now).await?;
            }
            OrderStatus::Pending => {
                issuer::enqueue(tx, order_id, Command::Submit, None, now).await?;
            }
            _ => {}
        }
        tracing::info!(
            order_id,
            status = to.as_str(),
            actor = actor.as_str(),
            "order status"
        );
        changes.0.push((student_id, view.clone()));
        Ok(view)
    }

    async fn insert(
        &self,
        tx: &mut Tx,
        changes: &mut Changes,
        student_id: &str,
        kind: OrderKind,
    ) -> AppResult<OrderView> {
        let now = self.now();
        let id = uuid::Uuid::new_v4().to_string();
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO orders (id, student_id, seq, kind, status, created_at, updated_at, reveals) \
             VALUES ($1, $2, (SELECT COUNT(*) + 1 FROM orders WHERE student_id = $2), \
                     $3, 'pending', $4, $4, 0) RETURNING {ORDER_COLUMNS}"
        ));
        let row = sqlx::query(sql)
            .bind(&id)
            .bind(student_id)
            .bind(kind.as_str())
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
        let (_, view) = view_from_row(&row)?;
        Self::record_event(tx, &id, OrderStatus::Pending, Actor::Student, None, now).await?;
        Self::enqueue_notice(tx, student_id, &view, now).await?;
        issuer::enqueue(tx, &id, Command::Submit, None, now).await?;
        changes.0.push((student_id.to_owned(), view.clone()));
        Ok(view)
    }

    /// Places an order (new, or a renewal after an ELS extension). An open
    /// order that may give way (views spent, data expired, card expired, ELS
    /// extended) is closed in the same transaction. With an idempotency key
    /// a repeat returns the first result (`false` = not newly created). The
    /// caller has checked eligibility.
    pub async fn place(
        &self,
        student_id: &str,
        idempotency_key: Option<&str>,
        els_valid_until: Option<i64>,
    ) -> AppResult<(OrderView, bool)> {
        // A lost race on a unique index (possible on PostgreSQL) is retried:
        // the second attempt sees the winner's row.
        for _ in 0..5 {
            match self
                .try_place(student_id, idempotency_key, els_valid_until)
                .await
            {
                Err(AppError::Unexpected(e))
                    if e.downcast_ref::<sqlx::Error>()
                        .is_some_and(is_unique_violation) =>
                {
                    continue;
                }
                other => return other,
            }
        }
        Err(order_exists())
    }

    async fn try_place(
        &self,
        student_id: &str,
        idempotency_key: Option<&str>,
        els_valid_until: Option<i64>,
    ) -> AppResult<(OrderView, bool)> {
        let now = self.now();
        let mut changes = Changes::default();
        let mut tx = self.db.begin().await?;
        if let Some(key) = idempotency_key {
            let earlier: Option<String> = sqlx::query_scalar(
                "SELECT order_id FROM idempotency_keys WHERE student_id = $1 AND idem_key = $2",
            )
            .bind(student_id)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(order_id) = earlier {
                let (_, view) = Self::load(&mut tx, &order_id).await?.ok_or_else(no_order)?;
                tx.commit().await?;
                return Ok((view, false));
            }
        }
        let mut kind = OrderKind::New;
        if let Some(open) = Self::open_order(&mut tx, student_id).await? {
            let reason = supersede_reason(&open, els_valid_until, now).ok_or_else(order_exists)?;
            self.apply(
                &mut tx,
                &mut changes,
                &open.id,
                OrderStatus::Expired,
                Actor::System,
                Some(reason),
            )
            .await?;
            if reason == Reason::Renewed {
                kind = OrderKind::Renewal;
            }
        }
        let view = self.insert(&mut tx, &mut changes, student_id, kind).await?;
        if let Some(key) = idempotency_key {
            sqlx::query(
                "INSERT INTO idempotency_keys (student_id, idem_key, order_id, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(student_id)
            .bind(key)
            .bind(&view.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.publish(changes);
        Ok((view, true))
    }

    /// A lost phone (seed 003): the card is revoked and a replacement ordered
    /// in one transaction. Returns (revoked, replacement).
    pub async fn replace_lost_phone(&self, student_id: &str) -> AppResult<(OrderView, OrderView)> {
        let mut changes = Changes::default();
        let mut tx = self.db.begin().await?;
        let open = Self::open_order(&mut tx, student_id)
            .await?
            .filter(|o| o.status == OrderStatus::Received)
            .ok_or_else(|| {
                AppError::client(
                    ErrorCode::InvalidTransition,
                    "only an mLegitymacja in use can be replaced",
                )
            })?;
        let revoked = self
            .apply(
                &mut tx,
                &mut changes,
                &open.id,
                OrderStatus::Revoked,
                Actor::Student,
                Some(Reason::LostPhone),
            )
            .await?;
        let replacement = self
            .insert(&mut tx, &mut changes, student_id, OrderKind::Replacement)
            .await?;
        tx.commit().await?;
        self.publish(changes);
        Ok((revoked, replacement))
    }

    /// Moves an order to `to` if the life cycle allows it.
    pub async fn transition(
        &self,
        order_id: &str,
        to: OrderStatus,
        actor: Actor,
        reason: Option<Reason>,
    ) -> AppResult<OrderView> {
        let mut changes = Changes::default();
        let mut tx = self.db.begin().await?;
        let view = self
            .apply(&mut tx, &mut changes, order_id, to, actor, reason)
            .await?;
        tx.commit().await?;
        self.publish(changes);
        Ok(view)
    }

    /// Moves the student's current order: the student acting on their own order.
    pub async fn student_transition(
        &self,
        student_id: &str,
        to: OrderStatus,
    ) -> AppResult<OrderView> {
        let mut changes = Changes::default();
        let mut tx = self.db.begin().await?;
        let open = Self::open_order(&mut tx, student_id)
            .await?
            .ok_or_else(|| AppError::client(ErrorCode::NoOrder, "no open order"))?;
        let view = self
            .apply(&mut tx, &mut changes, &open.id, to, Actor::Student, None)
            .await?;
        tx.commit().await?;
        self.publish(changes);
        Ok(view)
    }

    /// The issuer's "ready": stores the activation data sealed, starts its 30
    /// days, and sets the card's validity to the ELS's (or the default).
    pub async fn mark_ready(
        &self,
        order_id: &str,
        activation: &IssuedActivation,
    ) -> AppResult<OrderView> {
        let sealed = serde_json::to_vec(&Sealed {
            qr_payload: activation.qr_payload.clone(),
            manual_code: activation.manual_code.clone(),
            activation_code: activation.activation_code.expose().clone(),
        })
        .map_err(anyhow::Error::from)?;
        let sealed = self.secrets.seal(&sealed)?;
        let expires = self.now() + ACTIVATION_VALIDITY_MS;
        let mut changes = Changes::default();
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE orders SET activation_secret = $1, activation_expires_at = $2, reveals = 0, \
             card_valid_until = (SELECT COALESCE(s.els_valid_until, $3) FROM students s \
                                 WHERE s.id = orders.student_id) \
             WHERE id = $4 AND status = 'in_progress'",
        )
        .bind(sealed)
        .bind(expires)
        .bind(self.now() + self.default_card_validity_ms)
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
        let view = self
            .apply(
                &mut tx,
                &mut changes,
                order_id,
                OrderStatus::Ready,
                Actor::Issuer,
                None,
            )
            .await?;
        tx.commit().await?;
        self.publish(changes);
        Ok(view)
    }

    /// Reveals the activation data, spending one of the three views (seed 000).
    /// The counter is taken in one conditional UPDATE, so concurrent reveals
    /// can never spend more than three.
    pub async fn reveal(&self, student_id: &str) -> AppResult<ActivationData> {
        let now = self.now();
        let row = sqlx::query(
            "UPDATE orders SET reveals = reveals + 1, updated_at = $1 \
             WHERE student_id = $2 AND status = 'ready' AND reveals < $3 \
             AND activation_expires_at > $1 \
             RETURNING id, activation_secret, reveals, activation_expires_at",
        )
        .bind(now)
        .bind(student_id)
        .bind(i64::from(MAX_REVEALS))
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(row) = row else {
            return Err(self.why_no_reveal(student_id, now).await);
        };
        let sealed: String = row.try_get("activation_secret")?;
        let reveals: i64 = row.try_get("reveals")?;
        let expires_at: i64 = row.try_get("activation_expires_at")?;
        let plain = self.secrets.open(&sealed)?;
        let sealed: Sealed = serde_json::from_slice(&plain).map_err(anyhow::Error::from)?;
        let reveals_left = MAX_REVEALS.saturating_sub(u8::try_from(reveals).unwrap_or(MAX_REVEALS));
        if let Some(view) = self.current(student_id).await? {
            self.publish(Changes(vec![(student_id.to_owned(), view)]));
        }
        Ok(ActivationData {
            qr_payload: sealed.qr_payload,
            manual_code: sealed.manual_code,
            activation_code: sealed.activation_code,
            expires_at,
            reveals_left,
        })
    }

    async fn why_no_reveal(&self, student_id: &str, now: i64) -> AppError {
        match self.current(student_id).await {
            Err(e) => e,
            Ok(None) => AppError::client(ErrorCode::NoOrder, "no order to reveal"),
            Ok(Some(o)) if o.status != OrderStatus::Ready => AppError::client(
                ErrorCode::NotReady,
                format!("the order is {}, not ready", o.status.as_str()),
            ),
            Ok(Some(o)) if o.activation_expires_at.is_none_or(|t| t <= now) => AppError::client(
                ErrorCode::ActivationExpired,
                "the activation data has expired",
            ),
            Ok(Some(_)) => AppError::client(
                ErrorCode::RevealLimitReached,
                "the activation data was already shown three times; order again",
            ),
        }
    }

    /// The history of one of the student's orders. Another student's order
    /// is "not found", so its existence does not leak.
    pub async fn timeline(
        &self,
        student_id: &str,
        order_id: &str,
    ) -> AppResult<Vec<TimelineEntry>> {
        let rows = sqlx::query(
            "SELECT e.status, e.actor, e.reason, e.at FROM order_events e \
             JOIN orders o ON o.id = e.order_id \
             WHERE e.order_id = $1 AND o.student_id = $2 ORDER BY e.seq",
        )
        .bind(order_id)
        .bind(student_id)
        .fetch_all(&self.db.pool)
        .await?;
        if rows.is_empty() {
            return Err(no_order());
        }
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

    /// Expires what the clock says is over: activation data after 30 days,
    /// cards after their validity (the issuer voids them through the
    /// outbox). Returns the orders that expired.
    pub async fn sweep(&self) -> AppResult<Vec<String>> {
        let now = self.now();
        let due: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, status FROM orders WHERE \
             (status = 'ready' AND activation_expires_at <= $1) OR \
             (status = 'received' AND card_valid_until <= $1)",
        )
        .bind(now)
        .fetch_all(&self.db.pool)
        .await?;
        let mut expired = vec![];
        for (id, status) in due {
            let reason = if status == "ready" {
                Reason::ActivationExpired
            } else {
                Reason::CardExpired
            };
            match self
                .transition(&id, OrderStatus::Expired, Actor::System, Some(reason))
                .await
            {
                Ok(_) => expired.push(id),
                // Changed meanwhile (received, revoked …): nothing to expire.
                Err(AppError::Client { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(expired)
    }

    /// Reminders that are due and not yet sent, each once per order:
    /// activation data expiring in 3 days and in 1 day, a card ending within
    /// 14 days, and a renewal possible after an ELS extension. Each is an
    /// outbox notice like a status change. Returns how many were queued.
    pub async fn remind_due(&self) -> AppResult<usize> {
        let now = self.now();
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT o.{cols}, s.els_valid_until AS els FROM orders o \
             JOIN students s ON s.id = o.student_id \
             WHERE (o.status = 'ready' AND o.activation_expires_at <= $1) \
                OR (o.status = 'received' AND (o.card_valid_until <= $2 \
                    OR s.els_valid_until > o.card_valid_until))",
            cols = ORDER_COLUMNS.replace(", ", ", o.")
        ));
        let rows = sqlx::query(sql)
            .bind(now + 3 * DAY_MS)
            .bind(now + 14 * DAY_MS)
            .fetch_all(&self.db.pool)
            .await?;
        let mut queued = 0;
        for row in rows {
            let (student_id, order) = view_from_row(&row)?;
            let els: Option<i64> = row.try_get("els")?;
            for kind in reminders_for(&order, els, now) {
                let mut tx = self.db.begin().await?;
                let fresh = sqlx::query(
                    "INSERT INTO reminders_sent (order_id, kind, sent_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (order_id, kind) DO NOTHING",
                )
                .bind(&order.id)
                .bind(kind)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if fresh.rows_affected() == 1 {
                    Self::enqueue(&mut tx, &student_id, &order, kind, now).await?;
                    queued += 1;
                }
                tx.commit().await?;
                self.outbox_wakeup.notify_one();
            }
        }
        Ok(queued)
    }

    /// Graduation or removal (seeds 000, 002): orders on the way are
    /// cancelled (and voided at the issuer through the outbox); a card in
    /// use stays valid one month, then expires. Returns the cancelled orders.
    pub async fn student_removed(
        &self,
        student_id: &str,
        removed_at: i64,
    ) -> AppResult<Vec<String>> {
        let mut changes = Changes::default();
        let mut tx = self.db.begin().await?;
        let mut voided = vec![];
        if let Some(open) = Self::open_order(&mut tx, student_id).await? {
            if open.status == OrderStatus::Received {
                let until = removed_at + VALID_AFTER_REMOVAL_MS;
                sqlx::query(
                    "UPDATE orders SET card_valid_until = CASE \
                     WHEN card_valid_until IS NULL OR card_valid_until > $1 THEN $1 \
                     ELSE card_valid_until END, updated_at = $2 WHERE id = $3",
                )
                .bind(until)
                .bind(self.now())
                .bind(&open.id)
                .execute(&mut *tx)
                .await?;
                let (sid, view) = Self::load(&mut tx, &open.id).await?.ok_or_else(no_order)?;
                changes.0.push((sid, view));
            } else {
                self.apply(
                    &mut tx,
                    &mut changes,
                    &open.id,
                    OrderStatus::Cancelled,
                    Actor::Admin,
                    Some(Reason::StudentRemoved),
                )
                .await?;
                voided.push(open.id);
            }
        }
        tx.commit().await?;
        self.publish(changes);
        Ok(voided)
    }
}

/// Which reminders an order is due now (before "sent once" is applied).
pub fn reminders_for(o: &OrderView, els_valid_until: Option<i64>, now: i64) -> Vec<&'static str> {
    let mut due = vec![];
    match o.status {
        OrderStatus::Ready if o.reveals_left > 0 => {
            if let Some(t) = o.activation_expires_at.filter(|t| *t > now) {
                if t - now <= DAY_MS {
                    due.push("activation_expires_1d");
                } else if t - now <= 3 * DAY_MS {
                    due.push("activation_expires_3d");
                }
            }
        }
        OrderStatus::Received => {
            if let Some(c) = o.card_valid_until {
                if c > now && c - now <= 14 * DAY_MS {
                    due.push("card_ends_soon");
                }
                if els_valid_until.is_some_and(|e| e > c) {
                    due.push("renewal_available");
                }
            }
        }
        _ => {}
    }
    due
}

fn order_exists() -> AppError {
    AppError::client(
        ErrorCode::OrderExists,
        "an order is already open for this student",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;
    use StudentAction as A;

    #[test]
    fn allowed_transitions() {
        let allowed = [
            (Pending, InProgress),
            (Pending, ReturnedForCorrection),
            (Pending, Error),
            (Pending, Cancelled),
            (InProgress, Ready),
            (InProgress, ReturnedForCorrection),
            (InProgress, Error),
            (InProgress, Cancelled),
            (Ready, Received),
            (Ready, Cancelled),
            (Ready, Expired),
            (Received, Revoked),
            (Received, Expired),
            (ReturnedForCorrection, Pending),
            (ReturnedForCorrection, Cancelled),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                assert_eq!(
                    can_transition(from, to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    const NOW: i64 = 1_000 * DAY_MS;

    fn order(status: OrderStatus, reveals_left: u8) -> OrderView {
        OrderView {
            id: "o".into(),
            kind: OrderKind::New,
            status,
            created_at: 0,
            updated_at: 0,
            reveals_left,
            activation_expires_at: Some(NOW + DAY_MS),
            card_valid_until: Some(NOW + 100 * DAY_MS),
            reason: None,
        }
    }

    #[test]
    fn what_may_give_way_to_a_new_order() {
        let els = Some(NOW + 100 * DAY_MS);
        let check = |o: OrderView, els, want| assert_eq!(supersede_reason(&o, els, NOW), want);
        check(order(Ready, 1), els, None);
        check(order(Ready, 0), els, Some(Reason::RevealLimitReached));
        let mut expired = order(Ready, 2);
        expired.activation_expires_at = Some(NOW);
        check(expired, els, Some(Reason::ActivationExpired));
        check(order(Received, 0), els, None);
        check(
            order(Received, 0),
            Some(NOW + 280 * DAY_MS),
            Some(Reason::Renewed),
        );
        let mut card_over = order(Received, 0);
        card_over.card_valid_until = Some(NOW);
        check(card_over, els, Some(Reason::CardExpired));
        for s in [Pending, InProgress, ReturnedForCorrection] {
            check(order(s, 3), Some(NOW + 999 * DAY_MS), None);
        }
    }

    #[test]
    fn actions_follow_the_order() {
        let els = Some(NOW + 100 * DAY_MS);
        let acts =
            |o: Option<OrderView>, eligible| available_actions(eligible, o.as_ref(), els, NOW);
        assert_eq!(acts(None, true), [A::Order]);
        assert_eq!(acts(None, false), []);
        assert_eq!(acts(Some(order(Pending, 3)), true), [A::Cancel]);
        assert_eq!(acts(Some(order(InProgress, 3)), true), [A::Cancel]);
        assert_eq!(
            acts(Some(order(ReturnedForCorrection, 3)), true),
            [A::Resubmit, A::Cancel]
        );
        assert_eq!(acts(Some(order(Ready, 2)), true), [A::Reveal, A::Cancel]);
        assert_eq!(acts(Some(order(Ready, 0)), true), [A::Cancel, A::Order]);
        assert_eq!(acts(Some(order(Ready, 0)), false), [A::Cancel]);
        assert_eq!(
            acts(Some(order(Received, 0)), true),
            [A::Revoke, A::ReplaceLostPhone]
        );
        assert_eq!(acts(Some(order(Received, 0)), false), [A::Revoke]);
        for s in [Cancelled, Revoked, Expired, Error] {
            assert_eq!(acts(Some(order(s, 0)), true), [A::Order]);
        }
        let renew = available_actions(
            true,
            Some(&order(Received, 0)),
            Some(NOW + 280 * DAY_MS),
            NOW,
        );
        assert_eq!(renew, [A::Revoke, A::ReplaceLostPhone, A::Renew]);
    }
}
