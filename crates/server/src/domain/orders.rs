//! The order life cycle (seed 001): every change is one transaction that
//! updates the order, appends to its audit trail, and then tells listeners.

use crate::clock::{Clock, DAY_MS};
use crate::crypto::{Secret, SecretBox};
use crate::db::{Db, Tx, is_unique_violation};
use crate::error::{AppError, AppResult};
use legitka_wire::{ActivationData, ErrorCode, MAX_REVEALS, OrderStatus, OrderView};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Activation data is accepted for 30 days after it is generated (seed 002).
pub const ACTIVATION_VALIDITY_MS: i64 = 30 * DAY_MS;

/// Who made a change; recorded in the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Student,
    Issuer,
    Admin,
    System,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Student => "student",
            Self::Issuer => "issuer",
            Self::Admin => "admin",
            Self::System => "system",
        }
    }
}

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
    pub generated_at: i64,
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

#[derive(Clone)]
pub struct Orders {
    db: Db,
    clock: Arc<dyn Clock>,
    secrets: SecretBox,
    events: broadcast::Sender<Notice>,
}

const ORDER_COLUMNS: &str =
    "id, student_id, status, created_at, updated_at, reveals, activation_expires_at, reason";

fn view_from_row(row: &AnyRow) -> AppResult<(String, OrderView)> {
    let status: String = row.try_get("status")?;
    let status = OrderStatus::parse(&status)
        .ok_or_else(|| anyhow::anyhow!("unknown order status {status:?} in the database"))?;
    let reveals: i64 = row.try_get("reveals")?;
    let used = u8::try_from(reveals.clamp(0, i64::from(MAX_REVEALS))).unwrap_or(MAX_REVEALS);
    Ok((
        row.try_get("student_id")?,
        OrderView {
            id: row.try_get("id")?,
            status,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            reveals_left: MAX_REVEALS - used,
            activation_expires_at: row.try_get("activation_expires_at")?,
            reason: row.try_get("reason")?,
        },
    ))
}

impl Orders {
    pub fn new(db: Db, clock: Arc<dyn Clock>, secrets: SecretBox) -> Self {
        let (events, _) = broadcast::channel(1024);
        Self {
            db,
            clock,
            secrets,
            events,
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.events.subscribe()
    }

    fn notify(&self, student_id: String, order: OrderView) {
        // No listener is fine: nobody is connected right now.
        let _ = self.events.send(Notice { student_id, order });
    }

    /// The student's latest order, if any.
    pub async fn current(&self, student_id: &str) -> AppResult<Option<OrderView>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE student_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ));
        let row = sqlx::query(sql)
            .bind(student_id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.map(|r| view_from_row(&r).map(|(_, v)| v)).transpose()
    }

    async fn load(tx: &mut Tx, order_id: &str) -> AppResult<Option<(String, OrderView)>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"));
        let row = sqlx::query(sql)
            .bind(order_id)
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|r| view_from_row(&r)).transpose()
    }

    async fn record_event(
        tx: &mut Tx,
        order_id: &str,
        status: OrderStatus,
        actor: Actor,
        reason: Option<&str>,
        at: i64,
    ) -> AppResult<()> {
        sqlx::query(
            "INSERT INTO order_events (id, order_id, status, actor, reason, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(order_id)
        .bind(status.as_str())
        .bind(actor.as_str())
        .bind(reason)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Places an order. With an idempotency key, a repeat returns the first
    /// result (`false` = not newly created). The caller has checked eligibility.
    pub async fn place(
        &self,
        student_id: &str,
        idempotency_key: Option<&str>,
    ) -> AppResult<(OrderView, bool)> {
        // A lost race on a unique index (possible on PostgreSQL) is retried:
        // the second attempt sees the winner's row.
        for _ in 0..3 {
            match self.try_place(student_id, idempotency_key).await {
                Err(AppError::Unexpected(e))
                    if e.downcast_ref::<sqlx::Error>()
                        .is_some_and(is_unique_violation) =>
                {
                    continue;
                }
                other => return other,
            }
        }
        Err(AppError::client(
            ErrorCode::OrderExists,
            "an order is already open for this student",
        ))
    }

    async fn try_place(
        &self,
        student_id: &str,
        idempotency_key: Option<&str>,
    ) -> AppResult<(OrderView, bool)> {
        let now = self.now();
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
                let (_, view) = Self::load(&mut tx, &order_id)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("idempotency key points at a missing order"))?;
                tx.commit().await?;
                return Ok((view, false));
            }
        }
        let open: Option<String> = sqlx::query_scalar(
            "SELECT id FROM orders WHERE student_id = $1 \
             AND status IN ('pending', 'in_progress', 'ready', 'received')",
        )
        .bind(student_id)
        .fetch_optional(&mut *tx)
        .await?;
        if open.is_some() {
            return Err(AppError::client(
                ErrorCode::OrderExists,
                "an order is already open for this student",
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO orders (id, student_id, status, created_at, updated_at, reveals) \
             VALUES ($1, $2, 'pending', $3, $3, 0)",
        )
        .bind(&id)
        .bind(student_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        Self::record_event(
            &mut tx,
            &id,
            OrderStatus::Pending,
            Actor::Student,
            None,
            now,
        )
        .await?;
        if let Some(key) = idempotency_key {
            sqlx::query(
                "INSERT INTO idempotency_keys (student_id, idem_key, order_id, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(student_id)
            .bind(key)
            .bind(&id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let (_, view) = Self::load(&mut tx, &id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("order vanished inside its transaction"))?;
        tx.commit().await?;
        self.notify(student_id.to_owned(), view.clone());
        Ok((view, true))
    }

    /// Moves an order to `to` if the life cycle allows it.
    pub async fn transition(
        &self,
        order_id: &str,
        to: OrderStatus,
        actor: Actor,
        reason: Option<&str>,
    ) -> AppResult<OrderView> {
        self.transition_with(order_id, to, actor, reason, None)
            .await
    }

    /// The issuer's "ready": stores the activation data encrypted and starts its 30 days.
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
        let expires = activation.generated_at + ACTIVATION_VALIDITY_MS;
        self.transition_with(
            order_id,
            OrderStatus::Ready,
            Actor::Issuer,
            None,
            Some((sealed, expires)),
        )
        .await
    }

    async fn transition_with(
        &self,
        order_id: &str,
        to: OrderStatus,
        actor: Actor,
        reason: Option<&str>,
        activation: Option<(String, i64)>,
    ) -> AppResult<OrderView> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let (student_id, current) = Self::load(&mut tx, order_id)
            .await?
            .ok_or_else(|| AppError::client(ErrorCode::NoOrder, "no such order"))?;
        if !can_transition(current.status, to) {
            return Err(AppError::client(
                ErrorCode::InvalidTransition,
                format!(
                    "an order that is {} cannot become {}",
                    current.status.as_str(),
                    to.as_str()
                ),
            ));
        }
        let updated = sqlx::query(
            "UPDATE orders SET status = $1, updated_at = $2, reason = $3 \
             WHERE id = $4 AND status = $5",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(reason)
        .bind(order_id)
        .bind(current.status.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(AppError::client(
                ErrorCode::InvalidTransition,
                "the order changed meanwhile",
            ));
        }
        if let Some((sealed, expires)) = activation {
            sqlx::query(
                "UPDATE orders SET activation_secret = $1, activation_expires_at = $2, reveals = 0 \
                 WHERE id = $3",
            )
            .bind(sealed)
            .bind(expires)
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        }
        Self::record_event(&mut tx, order_id, to, actor, reason, now).await?;
        let (_, view) = Self::load(&mut tx, order_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("order vanished inside its transaction"))?;
        tx.commit().await?;
        tracing::info!(
            order_id,
            status = to.as_str(),
            actor = actor.as_str(),
            "order status"
        );
        self.notify(student_id, view.clone());
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
            self.notify(student_id.to_owned(), view);
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

    /// Orders the issuer still owes an answer for (resubmitted after a restart).
    pub async fn unfinished(&self) -> AppResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM orders WHERE status IN ('pending', 'in_progress') ORDER BY created_at",
        )
        .fetch_all(&self.db.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

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
}
