//! The push outbox: drains `deliveries` (one per notice and device) through
//! the [`Sender`] of each device's push service, on the shared
//! [`outbox`](crate::outbox) engine. Tokens the provider calls dead are
//! forgotten with their deliveries.

use super::{SendOutcome, Sender, message, store};
use crate::clock::Clock;
use crate::db::Db;
use crate::error::AppResult;
use crate::outbox::{Handler, Job, Outbox, Queue, Step};
use futures_util::future::BoxFuture;
use legitka_wire::PushPlatform;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::outbox::ExecutionOutcome;

/// The push outbox (its handler below).
pub type Dispatcher = Outbox<Push>;

pub static DELIVERIES: Queue = Queue {
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
        let Some(out) = store::outgoing(&self.db, &notice_id, &device_id).await? else {
            return Ok(Step::Finished(ExecutionOutcome::DeviceGone));
        };
        let device = out.device;
        let msg = message(
            &notice_id,
            &out.order_id,
            out.kind,
            out.status,
            device.locale,
        );
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
                store::forget_device(&self.db, &device.id).await?;
                Step::Finished(ExecutionOutcome::TokenDropped)
            }
            SendOutcome::Rejected(error) => Step::Dead(error),
            SendOutcome::Retry { after, error } => Step::Retry { after, error },
        })
    }
}
