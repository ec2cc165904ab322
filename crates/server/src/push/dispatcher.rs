//! The push outbox: drains `deliveries` (one per notice and device) through
//! the [`Sender`] of each device's push service, on the shared
//! [`outbox`](crate::outbox) engine. Tokens the provider calls dead are
//! forgotten with their deliveries.

use super::{Device, SendOutcome, Sender, message};
use crate::clock::Clock;
use crate::db::Db;
use crate::error::AppResult;
use crate::outbox::{Handler, Job, Outbox, Queue, Step};
use futures_util::future::BoxFuture;
use legitka_wire::{Locale, OrderStatus, PushPlatform};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::outbox::ExecutionOutcome;

/// The push outbox (its handler below).
pub type Dispatcher = Outbox<Push>;

static DELIVERIES: Queue = Queue {
    name: "push",
    table: "deliveries",
    dead_table: "dead_deliveries",
    columns: "notice_id, device_id",
};

/// Sends one delivery through its device's push service.
pub struct Push {
    db: Db,
    senders: HashMap<PushPlatform, Arc<dyn Sender>>,
}

impl Dispatcher {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        senders: HashMap<PushPlatform, Arc<dyn Sender>>,
    ) -> Self {
        Outbox::with_handler(db.clone(), clock, Push { db, senders })
    }
}

impl Handler for Push {
    fn queue(&self) -> &'static Queue {
        &DELIVERIES
    }

    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, AppResult<Step>> {
        Box::pin(self.deliver(job))
    }
}

impl Push {
    async fn deliver(&self, job: &Job) -> AppResult<Step> {
        let notice_id: String = job.row.try_get("notice_id")?;
        let device_id: String = job.row.try_get("device_id")?;
        let row = sqlx::query(
            "SELECT d.platform, d.token, d.locale, n.order_id, n.kind, n.status \
             FROM devices d, notices n WHERE d.id = $1 AND n.id = $2",
        )
        .bind(&device_id)
        .bind(&notice_id)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Step::Finished(ExecutionOutcome::DeviceGone));
        };
        let platform: String = row.try_get("platform")?;
        let locale: String = row.try_get("locale")?;
        let status: String = row.try_get("status")?;
        let device = Device {
            id: device_id,
            platform: PushPlatform::parse(&platform)
                .ok_or_else(|| anyhow::anyhow!("unknown platform {platform:?}"))?,
            token: row.try_get("token")?,
            locale: Locale::parse(&locale).unwrap_or(Locale::Pl),
        };
        let order_id: String = row.try_get("order_id")?;
        let status = OrderStatus::parse(&status)
            .ok_or_else(|| anyhow::anyhow!("unknown status {status:?}"))?;
        let kind: String = row.try_get("kind")?;
        let msg = message(&notice_id, &order_id, &kind, status, device.locale);
        let outcome = match self.senders.get(&device.platform) {
            Some(sender) => sender.send(&device, &msg).await,
            None => SendOutcome::Retry {
                after: None,
                error: format!("no sender configured for {}", device.platform.as_str()),
            },
        };
        Ok(match outcome {
            SendOutcome::Delivered => Step::Finished(ExecutionOutcome::Delivered),
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
                Step::Finished(ExecutionOutcome::TokenDropped)
            }
            SendOutcome::Rejected(error) => Step::Dead(error),
            SendOutcome::Retry { after, error } => Step::Retry { after, error },
        })
    }
}
