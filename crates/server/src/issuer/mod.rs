//! How orders reach the issuer (the ministry's system, through a bridge).
//!
//! Commands — submit an order, invalidate an order's card and codes — are
//! rows in `issuer_commands`, written by the order service in the same
//! transaction as the status change that causes them ([`enqueue`]), and
//! delivered by the issuer outbox ([`Commands`]) through an [`Issuer`]
//! adapter: [`bridge`] speaks the published issuer-bridge contract. The
//! issuer answers later with events ([`events`]), which move the order
//! through the order service. The command's id is the idempotency key the
//! issuer de-duplicates on, so a retry after a lost answer is harmless.

pub mod bridge;
pub mod contract;
pub mod events;

use crate::clock::DAY_MS;
use crate::db::{Db, Tx};
use crate::error::AppResult;
use crate::orders::store;
use crate::outbox::{ExecutionOutcome, Handler, Job, Queue, Step};
use crate::pesel::Pesel;
use futures_util::future::BoxFuture;
use legitka_wire::Reason;
use legitka_wire::bridge::{CardData, InvalidateOrder, SubmitOrder};
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;

/// What the issuer is told to do with an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Command {
    /// Issue the card (a new order, a renewal, a replacement, a resubmission).
    Submit,
    /// The order's card and codes are void for good.
    Invalidate,
}

impl Command {
    fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Queues a command inside the transaction of the change that causes it.
/// An invalidation goes before submits: a void card must stop working as
/// soon as it can, while a submit only starts a wait.
pub async fn enqueue(
    tx: &mut Tx,
    order_id: &str,
    command: Command,
    reason: Option<Reason>,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO issuer_commands \
         (id, order_id, command, reason, created_at, next_attempt_at, priority) \
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(order_id)
    .bind(command.as_str())
    .bind(reason.map(Reason::as_str))
    .bind(now)
    .bind(i64::from(command == Command::Invalidate))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How the issuer took a command.
#[derive(Debug)]
pub enum Sent {
    /// Done (or done before: a repeated command).
    Accepted,
    /// The order was invalidated before this submit arrived: nothing to do.
    AlreadyInvalidated,
    /// No answer, or "later": try again.
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// The issuer refuses this command for good.
    Refused(String),
}

/// Commands for the orders of a USOS university's students: they go to
/// USOS (`usos_gateway`) instead of the bridge.
pub trait UsosCommands: Send + Sync + 'static {
    /// `None` when the order is not a USOS university's.
    fn send<'a>(
        &'a self,
        order_id: &'a str,
        command: Command,
    ) -> BoxFuture<'a, AppResult<Option<Sent>>>;
}

/// An issuer adapter: the bridge (the USOS gateway is [`UsosCommands`]).
pub trait Issuer: Send + Sync + 'static {
    fn submit<'a>(&'a self, command_id: &'a str, order: &'a SubmitOrder) -> BoxFuture<'a, Sent>;
    fn invalidate<'a>(
        &'a self,
        command_id: &'a str,
        order_id: &'a str,
        body: &'a InvalidateOrder,
    ) -> BoxFuture<'a, Sent>;
}

pub static COMMANDS: Queue = Queue {
    name: "issuer",
    table: "issuer_commands",
    dead_table: "dead_issuer_commands",
    columns: "order_id, command, reason, created_at",
};

/// The issuer outbox's handler: one command to the issuer.
pub struct Commands {
    pub db: Db,
    /// Opens the PESEL the card carries.
    pub secrets: crate::crypto::SecretBox,
    /// The issuer bridge, for the native registry's orders.
    pub issuer: Option<Arc<dyn Issuer>>,
    /// USOS, for a USOS university's orders.
    pub usos: Option<Arc<dyn UsosCommands>>,
    /// Where the issuer posts its events.
    pub callback_url: String,
    pub university_name: String,
    /// Card validity when the registry has no ELS date.
    pub default_card_validity_ms: i64,
}

impl Handler for Commands {
    fn queue(&self) -> &'static Queue {
        &COMMANDS
    }

    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, AppResult<Step>> {
        Box::pin(self.send(job))
    }
}

fn date(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

impl Commands {
    async fn send(&self, job: &Job) -> AppResult<Step> {
        let order_id: String = job.row.try_get("order_id")?;
        let command: String = job.row.try_get("command")?;
        let reason: Option<String> = job.row.try_get("reason")?;
        let which = if command == Command::Invalidate.as_str() {
            Command::Invalidate
        } else {
            Command::Submit
        };
        let at_usos = match &self.usos {
            Some(usos) => usos.send(&order_id, which).await?,
            None => None,
        };
        let sent = if let Some(sent) = at_usos {
            sent
        } else if let Some(issuer) = &self.issuer {
            self.to_bridge(issuer.as_ref(), job, &order_id, which, reason)
                .await?
        } else {
            Sent::Retry {
                after: None,
                error: "no issuer bridge configured".into(),
            }
        };
        Ok(match sent {
            Sent::Accepted => Step::Finished(ExecutionOutcome::Delivered),
            Sent::AlreadyInvalidated => Step::Finished(ExecutionOutcome::Moot),
            Sent::Retry { after, error } => {
                tracing::warn!(order_id, command, error, "issuer command to retry");
                Step::Retry { after, error }
            }
            Sent::Refused(error) => {
                tracing::error!(order_id, command, error, "issuer refused a command");
                Step::Dead(error)
            }
        })
    }

    /// One command to the issuer bridge.
    async fn to_bridge(
        &self,
        issuer: &dyn Issuer,
        job: &Job,
        order_id: &str,
        command: Command,
        reason: Option<String>,
    ) -> AppResult<Sent> {
        if command == Command::Invalidate {
            let body = InvalidateOrder {
                reason: reason.as_deref().and_then(Reason::parse),
            };
            return Ok(issuer.invalidate(&job.id, order_id, &body).await);
        }
        let created_at: i64 = job.row.try_get("created_at")?;
        Ok(match self.submission(order_id, created_at).await? {
            Ok(Some(order)) => issuer.submit(&job.id, &order).await,
            // Cancelled before it left: its invalidation follows.
            Ok(None) => Sent::AlreadyInvalidated,
            // The registry cannot describe the card: no retry will help.
            Err(why) => Sent::Refused(why),
        })
    }

    /// The submit of a pending order, with what its card shows as the
    /// registry has it now; `None` when the order is no longer pending; a
    /// sentence when the registry's record cannot make a card.
    async fn submission(
        &self,
        order_id: &str,
        created_at: i64,
    ) -> AppResult<Result<Option<SubmitOrder>, String>> {
        let Some(card) = store::card_source(&self.db, order_id).await? else {
            return Ok(Ok(None));
        };
        let Some(sealed) = card.pesel_sealed.as_deref() else {
            return Ok(Err("the registry has no PESEL for this student".to_owned()));
        };
        let plain = String::from_utf8(self.secrets.open(sealed)?).map_err(anyhow::Error::from)?;
        let pesel = match Pesel::parse(&plain) {
            Ok(p) => p,
            Err(e) => return Ok(Err(format!("the registry's PESEL: {e}"))),
        };
        let els_until = card.els_valid_until;
        // The ELS's date is the day after its last day.
        let valid_until =
            els_until.map_or(created_at + self.default_card_validity_ms, |e| e - DAY_MS);
        Ok(Ok(Some(SubmitOrder {
            order_id: order_id.to_owned(),
            kind: card.kind,
            card: CardData {
                first_name: card.first_name,
                last_name: card.last_name,
                birth_date: pesel.birth_date().to_string(),
                pesel: pesel.expose().to_owned(),
                card_number: card.album_number,
                els_number: card.els_number,
                issued_on: date(created_at),
                valid_until: date(valid_until),
                university: self.university_name.clone(),
                photo_jpeg_base64: None,
            },
            callback_url: self.callback_url.clone(),
        })))
    }
}
