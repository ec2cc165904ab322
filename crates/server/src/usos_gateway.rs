//! The USOS gateway's moving parts: what the issuer outbox does with a USOS
//! university's order ([`Gateway`]: order at USOS, revoke at USOS), and the
//! status watcher ([`Watch`]), an outbox of reads: USOS has no push for
//! orders, so each student with an order USOS is working on is looked at
//! again and again — soon after the order, then less often, never after a
//! day — and every change goes through the order service, as the bridge's
//! events do, to the live stream and the pushes.

use crate::clock::Clock;
use crate::crypto::SecretBox;
use crate::db::Db;
use crate::error::AppResult;
use crate::issuer::{Command, Sent, UsosCommands};
use crate::orders::{Orders, rules, store as orders_store};
use crate::outbox::{ExecutionOutcome, Handler, Job, Outbox, Queue, Step};
use crate::usos::client::{Mcard, UsosError};
use crate::usos::{UsosSite, store};
use futures_util::future::BoxFuture;
use legitka_wire::{OrderStatus, Reason};
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything the gateway reaches.
#[derive(Clone)]
pub struct Gateway {
    db: Db,
    secrets: SecretBox,
    sites: Arc<HashMap<String, Arc<UsosSite>>>,
    orders: Orders,
    clock: Arc<dyn Clock>,
    /// Raw statuses already logged as unknown (each once per process).
    unknown: Arc<Mutex<HashSet<String>>>,
}

impl Gateway {
    pub fn new(
        db: Db,
        secrets: SecretBox,
        sites: Arc<HashMap<String, Arc<UsosSite>>>,
        orders: Orders,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            db,
            secrets,
            sites,
            orders,
            clock,
            unknown: Arc::default(),
        }
    }

    /// The student's installation and USOS token; a refusal when either is gone.
    async fn reach(
        &self,
        university: &str,
        student_id: &str,
    ) -> AppResult<Result<(Arc<UsosSite>, crate::usos::oauth::Token), UsosError>> {
        let Some(site) = self.sites.get(university).cloned() else {
            return Ok(Err(UsosError::NotOffered(format!(
                "university {university:?}"
            ))));
        };
        match store::token_of(&self.db, &self.secrets, student_id).await? {
            Some(token) => Ok(Ok((site, token))),
            None => Ok(Err(UsosError::SignInAgain("no USOS token".into()))),
        }
    }

    /// USOS's newest order of the student not yet linked to one of ours.
    async fn unlinked(&self, student_id: &str, card: &Mcard) -> AppResult<Option<String>> {
        let linked = orders_store::external_ids(&self.db, student_id).await?;
        Ok(card
            .orders
            .iter()
            .filter(|o| !linked.contains(&o.id))
            .filter(|o| {
                !matches!(
                    crate::usos::statuses::known(&o.status),
                    Some(OrderStatus::Cancelled | OrderStatus::Revoked | OrderStatus::Error)
                )
            })
            .max_by(|a, b| a.order_date.cmp(&b.order_date).then(a.id.cmp(&b.id)))
            .map(|o| o.id.clone()))
    }

    async fn submit(&self, order_id: &str, student_id: &str, university: &str) -> AppResult<Sent> {
        let (site, token) = match self.reach(university, student_id).await? {
            Ok(r) => r,
            Err(e) => return self.refused(order_id, student_id, e).await,
        };
        let ordered = site.api.make_order(&token).await;
        // After a lost answer USOS may have the order already: link it.
        let card = match site.api.mcard(&token).await {
            Ok(card) => card,
            Err(e) => return self.refused(order_id, student_id, e).await,
        };
        let now = self.clock.now_ms();
        store::save_why_not(&self.db, student_id, card.why_cannot_order.as_ref(), now).await?;
        match (ordered, self.unlinked(student_id, &card).await?) {
            (_, Some(external)) => {
                orders_store::link_external(&self.db, order_id, &external).await?;
                tracing::info!(order_id, external, "ordered at USOS");
                Ok(Sent::Accepted)
            }
            (Err(e), None) => self.refused(order_id, student_id, e).await,
            (Ok(()), None) => Ok(Sent::Retry {
                after: None,
                error: "USOS took the order but does not list it yet".into(),
            }),
        }
    }

    /// What USOS's refusal does: trouble at USOS is tried again; a refusal
    /// for good ends the order (with USOS's reason kept for the student).
    async fn refused(&self, order_id: &str, student_id: &str, e: UsosError) -> AppResult<Sent> {
        let reason = match &e {
            UsosError::Unavailable(why) => {
                return Ok(Sent::Retry {
                    after: None,
                    error: why.clone(),
                });
            }
            UsosError::SignInAgain(_) => Reason::SignInAgain,
            UsosError::Refused { user_message, .. } => {
                let now = self.clock.now_ms();
                if let Some(why) = user_message {
                    store::save_why_not(&self.db, student_id, Some(why), now).await?;
                }
                Reason::IssuerError
            }
            UsosError::NotOffered(_) => Reason::IssuerError,
        };
        let _ = self
            .orders
            .transition(
                order_id,
                OrderStatus::Error,
                legitka_wire::Actor::Issuer,
                Some(reason),
            )
            .await;
        Ok(Sent::Refused(e.to_string()))
    }

    async fn revoke(&self, external: &str, student_id: &str, university: &str) -> AppResult<Sent> {
        let (site, token) = match self.reach(university, student_id).await? {
            Ok(r) => r,
            Err(e) => return Ok(Sent::Refused(e.to_string())),
        };
        Ok(match site.api.revoke(&token, external).await {
            Ok(()) => Sent::Accepted,
            Err(UsosError::Unavailable(error)) => Sent::Retry { after: None, error },
            // Already cancelled or revoked at USOS: nothing left to do.
            Err(UsosError::Refused { .. }) => Sent::AlreadyInvalidated,
            Err(e) => Sent::Refused(e.to_string()),
        })
    }

    /// One look at the student's orders at USOS: whether any order USOS is
    /// still working on remains (pending, in progress, ready), or, when the
    /// installation's budget of looks is spent, how long to wait.
    pub async fn look(&self, student_id: &str) -> Result<Look, UsosError> {
        let internal = |e: crate::error::AppError| UsosError::Unavailable(e.to_string());
        let student = crate::registry::by_id(&self.db.pool, student_id)
            .await
            .map_err(internal)?;
        let Some(university) = student.and_then(|s| s.university) else {
            return Ok(Look::Done);
        };
        let (site, token) = self
            .reach(&university, student_id)
            .await
            .map_err(|e| UsosError::Unavailable(e.to_string()))??;
        if let Err(not_until) = site.looks.check() {
            use governor::clock::Clock as _;
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            return Ok(Look::OverBudget(wait));
        }
        let card = site.api.mcard(&token).await?;
        let now = self.clock.now_ms();
        store::save_why_not(&self.db, student_id, card.why_cannot_order.as_ref(), now)
            .await
            .map_err(internal)?;
        for (order_id, external, _) in orders_store::linked(&self.db, student_id)
            .await
            .map_err(internal)?
        {
            let Some(at_usos) = card.orders.iter().find(|o| o.id == external) else {
                continue;
            };
            if crate::usos::statuses::known(&at_usos.status).is_none()
                && self
                    .unknown
                    .lock()
                    .expect("unknown lock")
                    .insert(at_usos.status.clone())
            {
                tracing::warn!(
                    raw = at_usos.status,
                    "USOS order status not in the table: shown as in progress"
                );
            }
            let card_until = at_usos.expiration_date.as_deref().and_then(last_moment_of);
            self.orders
                .usos_update(&order_id, &at_usos.status, card_until)
                .await
                .map_err(internal)?;
        }
        // Still working: the current order is on its way or ready (or not
        // yet at USOS: its submit is still in the issuer outbox).
        let current = orders_store::current(&self.db, student_id)
            .await
            .map_err(internal)?;
        let working = current.is_some_and(|o| rules::with_the_issuer(o.status));
        Ok(if working { Look::Working } else { Look::Done })
    }
}

/// What one look found.
#[derive(Debug, PartialEq, Eq)]
pub enum Look {
    /// USOS is still working on an order: look again later.
    Working,
    /// Nothing left to watch.
    Done,
    /// The installation's budget of looks is spent: this one waits.
    OverBudget(Duration),
}

/// The end of a USOS date (`YYYY-MM-DD`, the card's last valid day) in Unix
/// ms: its last moment in Poland.
fn last_moment_of(date: &str) -> Option<i64> {
    crate::calendar::day_end(date).ok()
}

impl UsosCommands for Gateway {
    fn send<'a>(
        &'a self,
        order_id: &'a str,
        command: Command,
    ) -> BoxFuture<'a, AppResult<Option<Sent>>> {
        Box::pin(async move {
            let Some(order) = orders_store::usos_order(&self.db, order_id).await? else {
                return Ok(None);
            };
            let sent = match command {
                Command::Submit if order.external_id.is_some() => Sent::Accepted,
                // Cancelled before it left: its invalidation follows.
                Command::Submit if order.status != OrderStatus::Pending => Sent::AlreadyInvalidated,
                Command::Submit => {
                    self.submit(order_id, &order.student_id, &order.university)
                        .await?
                }
                Command::Invalidate => match order.external_id {
                    Some(external) => {
                        self.revoke(&external, &order.student_id, &order.university)
                            .await?
                    }
                    // Never reached USOS: nothing to revoke there.
                    None => Sent::AlreadyInvalidated,
                },
            };
            Ok(Some(sent))
        })
    }
}

pub static POLLS: Queue = Queue {
    name: "usos-watch",
    table: "usos_polls",
    dead_table: "dead_usos_polls",
    columns: "student_id, started_at",
};

/// How long after the order (or the last sign of life) the watcher keeps
/// looking; then it stops and leaves refreshes to the student.
pub const WATCH_FOR_MS: i64 = 24 * 60 * 60 * 1000;

/// The next look, `elapsed` after the watch began: 30 s, 1, 2, 4, 8 and
/// 15 minutes, then every 15 minutes (GUESS, to be tuned on a live
/// installation), give or take a tenth so students do not move in step.
pub fn next_look(elapsed_ms: i64, jitter: f64) -> Duration {
    const STEPS: [u64; 6] = [30, 60, 120, 240, 480, 900];
    let mut at = 0;
    let mut interval = 900;
    for step in STEPS {
        at += step * 1000;
        if u64::try_from(elapsed_ms).unwrap_or(0) < at {
            interval = step;
            break;
        }
    }
    let jittered = interval as f64 * (1.0 + 0.1 * jitter.clamp(-1.0, 1.0));
    Duration::from_millis((jittered * 1000.0) as u64)
}

/// The watcher: one job per student, on the outbox engine (leases keep
/// instances from looking twice; the schedule survives restarts).
pub struct Watch {
    gateway: Gateway,
    /// The interval while the student's app is open.
    while_open: Duration,
}

pub type Watcher = Outbox<Watch>;

pub fn watcher(gateway: Gateway, workers: usize, while_open: Duration) -> Watcher {
    let mut outbox = Outbox::with_handler(
        gateway.db.clone(),
        Arc::clone(&gateway.clock),
        Watch {
            gateway,
            while_open,
        },
    );
    // One loop claims up to `workers` students at once, so that many
    // looks at USOS at most are in flight.
    outbox.workers = 1;
    outbox.batch = workers;
    // USOS trouble: keep trying within the day, at most every 15 minutes.
    outbox.max_attempts = 100;
    outbox.base_backoff = Duration::from_secs(30);
    outbox.max_backoff = Duration::from_secs(900);
    outbox
}

impl Handler for Watch {
    fn queue(&self) -> &'static Queue {
        &POLLS
    }

    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, AppResult<Step>> {
        Box::pin(async move {
            let student_id: String = job.row.try_get("student_id")?;
            let started_at: i64 = job.row.try_get("started_at")?;
            let app_open_until = store::app_open_until(&self.gateway.db, &student_id).await?;
            let now = self.gateway.clock.now_ms();
            let elapsed = now - started_at;
            let jitter = rand::random::<f64>() * 2.0 - 1.0;
            Ok(match self.gateway.look(&student_id).await {
                Ok(Look::Working) if app_open_until > now => {
                    Step::Later(self.while_open.mul_f64(1.0 + 0.1 * jitter))
                }
                Ok(Look::Working) if elapsed < WATCH_FOR_MS => {
                    Step::Later(next_look(elapsed, jitter))
                }
                // Spread out over the time until the budget allows it.
                Ok(Look::OverBudget(wait)) => {
                    Step::Later(wait + wait.mul_f64(0.5 * (jitter + 1.0)))
                }
                Ok(Look::Working | Look::Done) => Step::Finished(ExecutionOutcome::Delivered),
                Err(UsosError::Unavailable(error)) => Step::Retry { after: None, error },
                // USOS dropped the student's sign-in: they are told once,
                // and nothing is watched until they sign in again.
                Err(UsosError::SignInAgain(why)) => {
                    tracing::info!(student_id, why, "USOS sign-in dropped: watch ends");
                    self.gateway
                        .orders
                        .notify_once(&student_id, legitka_wire::notice::NoticeKind::SignInAgain)
                        .await?;
                    Step::Finished(ExecutionOutcome::Moot)
                }
                // USOS stopped offering it: nothing to watch.
                Err(e) => {
                    tracing::info!(student_id, error = %e, "USOS watch ends");
                    Step::Finished(ExecutionOutcome::Moot)
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_come_soon_then_every_fifteen_minutes() {
        let at = |s: i64| next_look(s * 1000, 0.0).as_secs();
        assert_eq!(at(0), 30);
        assert_eq!(at(29), 30);
        assert_eq!(at(30), 60);
        assert_eq!(at(90), 120);
        assert_eq!(at(210), 240);
        assert_eq!(at(450), 480);
        assert_eq!(at(930), 900);
        assert_eq!(at(20_000), 900);
        let jittered = next_look(20_000_000, 1.0).as_secs();
        assert_eq!(jittered, 990);
        assert_eq!(next_look(20_000_000, -1.0).as_secs(), 810);
    }

    #[test]
    fn a_usos_date_lasts_to_its_end() {
        // 2027-03-31 23:59:59.999 in Poland (CEST, UTC+2).
        assert_eq!(last_moment_of("2027-03-31"), Some(1_806_530_399_999));
        assert_eq!(last_moment_of("31.03.2027"), None);
    }
}
