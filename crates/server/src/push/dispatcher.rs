//! Drains the outbox's deliveries: one at a time, under a lease, so several
//! server processes can share the work without sending anything twice
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the lease column,
//! taken in a single conditional UPDATE). Retries back off exponentially and
//! honour `Retry-After`; poison messages and spent retries go to
//! `dead_deliveries`; tokens the provider calls dead are forgotten.

use super::{Device, SendOutcome, Sender, message};
use crate::clock::Clock;
use crate::db::{Backend, Db};
use crate::error::AppResult;
use legitka_wire::{Locale, OrderStatus, PushPlatform};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// What one step did; tests drive the dispatcher step by step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecutionOutcome {
    /// Nothing due.
    Empty,
    Delivered,
    /// Failed for now; due again at `next_attempt_at`.
    Retrying {
        next_attempt_at: i64,
    },
    DeadLettered,
    /// The provider said the token is dead: the device and its deliveries are gone.
    TokenDropped,
    /// The device went away before its turn (signed out, unregistered).
    DeviceGone,
}

#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    clock: Arc<dyn Clock>,
    senders: HashMap<PushPlatform, Arc<dyn Sender>>,
    /// Who holds a lease: unique per process.
    owner: String,
    pub lease: Duration,
    pub max_attempts: u32,
    pub base_backoff: Duration,
    /// Rung after commits in this process; without it, or for retries and
    /// other processes' notices, the dispatcher looks again every `idle`.
    wakeup: Option<Arc<tokio::sync::Notify>>,
    pub idle: Duration,
    /// Deliveries in flight at once in this process (leases keep them apart).
    pub workers: usize,
}

struct Claimed {
    id: String,
    notice_id: String,
    device_id: String,
    attempts: i64,
}

impl Dispatcher {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        senders: HashMap<PushPlatform, Arc<dyn Sender>>,
    ) -> Self {
        Self {
            db,
            clock,
            senders,
            owner: uuid::Uuid::new_v4().to_string(),
            lease: Duration::from_secs(30),
            max_attempts: 8,
            base_backoff: Duration::from_secs(2),
            wakeup: None,
            idle: Duration::from_millis(250),
            workers: 4,
        }
    }

    /// Starts work as soon as this process commits a notice.
    #[must_use]
    pub fn with_wakeup(mut self, wakeup: Arc<tokio::sync::Notify>) -> Self {
        self.wakeup = Some(wakeup);
        self
    }

    fn ms(d: Duration) -> i64 {
        i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
    }

    /// The same dispatcher with its own lease identity, as a second server
    /// process would have (tests of shared outboxes).
    #[must_use]
    pub fn clone_as_another_process(&self) -> Self {
        Self {
            owner: uuid::Uuid::new_v4().to_string(),
            ..self.clone()
        }
    }

    /// Takes the oldest due delivery nobody holds, under a lease.
    async fn claim(&self, now: i64) -> AppResult<Option<Claimed>> {
        let pick = match self.db.backend {
            Backend::Postgres => {
                "SELECT id FROM deliveries WHERE next_attempt_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3) \
                 ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id FROM deliveries WHERE next_attempt_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3) \
                 ORDER BY next_attempt_at LIMIT 1"
            }
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE deliveries SET lease_owner = $1, lease_until = $2 \
             WHERE id = ({pick}) AND (lease_until IS NULL OR lease_until < $3) \
             RETURNING id, notice_id, device_id, attempts"
        ));
        let row = sqlx::query(sql)
            .bind(&self.owner)
            .bind(now + Self::ms(self.lease))
            .bind(now)
            .fetch_optional(&self.db.pool)
            .await?;
        row.map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                notice_id: r.try_get("notice_id")?,
                device_id: r.try_get("device_id")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .transpose()
    }

    /// One delivery, start to end. Returns what happened.
    pub async fn try_execute_task(&self) -> AppResult<ExecutionOutcome> {
        let now = self.clock.now_ms();
        let Some(job) = self.claim(now).await? else {
            return Ok(ExecutionOutcome::Empty);
        };
        let row = sqlx::query(
            "SELECT d.platform, d.token, d.locale, n.order_id, n.kind, n.status \
             FROM devices d, notices n WHERE d.id = $1 AND n.id = $2",
        )
        .bind(&job.device_id)
        .bind(&job.notice_id)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(row) = row else {
            self.delete(&job.id).await?;
            return Ok(ExecutionOutcome::DeviceGone);
        };
        let platform: String = row.try_get("platform")?;
        let locale: String = row.try_get("locale")?;
        let status: String = row.try_get("status")?;
        let device = Device {
            id: job.device_id.clone(),
            platform: PushPlatform::parse(&platform)
                .ok_or_else(|| anyhow::anyhow!("unknown platform {platform:?}"))?,
            token: row.try_get("token")?,
            locale: Locale::parse(&locale).unwrap_or(Locale::Pl),
        };
        let order_id: String = row.try_get("order_id")?;
        let status = OrderStatus::parse(&status)
            .ok_or_else(|| anyhow::anyhow!("unknown status {status:?}"))?;
        let kind: String = row.try_get("kind")?;
        let msg = message(&job.notice_id, &order_id, &kind, status, device.locale);
        let outcome = match self.senders.get(&device.platform) {
            Some(sender) => sender.send(&device, &msg).await,
            None => SendOutcome::Retry {
                after: None,
                error: format!("no sender configured for {}", device.platform.as_str()),
            },
        };
        match outcome {
            SendOutcome::Delivered => {
                self.delete(&job.id).await?;
                Ok(ExecutionOutcome::Delivered)
            }
            SendOutcome::Unregistered => {
                tracing::info!(
                    device_id = device.id,
                    "push token unregistered: device removed"
                );
                let mut tx = self.db.begin().await?;
                sqlx::query("DELETE FROM deliveries WHERE device_id = $1")
                    .bind(&device.id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM devices WHERE id = $1")
                    .bind(&device.id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(ExecutionOutcome::TokenDropped)
            }
            SendOutcome::Rejected(error) => {
                self.bury(&job, &error, now).await?;
                Ok(ExecutionOutcome::DeadLettered)
            }
            SendOutcome::Retry { after, error } => {
                let attempts = job.attempts + 1;
                if attempts >= i64::from(self.max_attempts) {
                    self.bury(&job, &error, now).await?;
                    return Ok(ExecutionOutcome::DeadLettered);
                }
                let exp = u32::try_from(attempts - 1).unwrap_or(u32::MAX).min(16);
                let backoff = self.base_backoff.saturating_mul(1u32 << exp);
                // The provider's Retry-After wins over our own backoff.
                let wait = after.unwrap_or(backoff);
                let next = now + Self::ms(wait);
                sqlx::query(
                    "UPDATE deliveries SET attempts = $1, next_attempt_at = $2, last_error = $3, \
                     lease_owner = NULL, lease_until = NULL WHERE id = $4",
                )
                .bind(attempts)
                .bind(next)
                .bind(&error)
                .bind(&job.id)
                .execute(&self.db.pool)
                .await?;
                Ok(ExecutionOutcome::Retrying {
                    next_attempt_at: next,
                })
            }
        }
    }

    async fn delete(&self, id: &str) -> AppResult<()> {
        sqlx::query("DELETE FROM deliveries WHERE id = $1")
            .bind(id)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    async fn bury(&self, job: &Claimed, error: &str, now: i64) -> AppResult<()> {
        tracing::warn!(delivery = job.id, error, "push delivery dead-lettered");
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO dead_deliveries (id, notice_id, device_id, attempts, last_error, dead_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&job.id)
        .bind(&job.notice_id)
        .bind(&job.device_id)
        .bind(job.attempts + 1)
        .bind(error)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM deliveries WHERE id = $1")
            .bind(&job.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Works until stopped with `workers` loops, each draining what is due,
    /// then waiting for a wake-up or the idle interval.
    pub async fn run(self) {
        let loops: Vec<_> = (0..self.workers.max(1))
            .map(|_| tokio::spawn(self.clone().work()))
            .collect();
        for l in loops {
            let _ = l.await;
        }
    }

    async fn work(self) {
        loop {
            match self.try_execute_task().await {
                Ok(ExecutionOutcome::Empty) => match &self.wakeup {
                    Some(w) => {
                        let _ = tokio::time::timeout(self.idle, w.notified()).await;
                    }
                    None => tokio::time::sleep(self.idle).await,
                },
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "push dispatcher step failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}
