//! The order service: the one home of an order's life. Placing, the
//! student's steps, the issuer's updates, reveals, the clock's sweep and
//! reminders, removal from the list. Each change is one transaction that
//! checks the transition (`rules`), updates the order and appends to its
//! history (`store`), and writes what other systems must hear — the push
//! notice with its deliveries and the issuer command — beside it; only
//! after commit does the change feed tell anyone. Route handlers call one
//! method each.

pub mod activation;
pub mod eligibility;
pub mod rules;
pub mod store;

use crate::cache::{ReadCache, Snapshot};
use crate::clock::{Clock, DAY_MS};
use crate::crypto::SecretBox;
use crate::db::{Db, Tx, is_unique_violation};
use crate::error::{AppError, AppResult};
use crate::feed::{Change, ChangeFeed};
use crate::issuer::{self, Command};
use crate::push;
use crate::registry::{self, Student};
use activation::IssuedActivation;
use eligibility::Policy;
use legitka_wire::notice::NoticeKind;
use legitka_wire::{
    ActivationData, Actor, EligibilityCheck, ErrorCode, MAX_REVEALS, OrderKind, OrderStatus,
    OrderView, Reason, StudentState, TimelineEntry,
};
use std::sync::Arc;

#[derive(Clone)]
pub struct Orders {
    db: Db,
    clock: Arc<dyn Clock>,
    secrets: SecretBox,
    feed: ChangeFeed,
    cache: Arc<ReadCache>,
    policy: Policy,
    /// Card validity when the student has no ELS date (`statutory-2025`).
    default_card_validity_ms: i64,
}

/// How an issuer update went.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    Changed,
    /// The order already is where the update would move it (a repeat).
    AlreadySo,
}

/// Changes made in one transaction, told to the feed after commit.
#[derive(Default)]
struct Changes(Vec<Change>);

impl Changes {
    fn push(&mut self, student_id: String, order: OrderView) {
        self.0.push(Change { student_id, order });
    }
}

fn no_order() -> AppError {
    AppError::client(ErrorCode::NoOrder, "no such order")
}

fn order_exists() -> AppError {
    AppError::client(
        ErrorCode::OrderExists,
        "an order is already open for this student",
    )
}

fn signed_out() -> AppError {
    AppError::client(ErrorCode::Unauthorized, "sign in again")
}

impl Orders {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        secrets: SecretBox,
        feed: ChangeFeed,
        cache: Arc<ReadCache>,
        policy: Policy,
        default_card_validity_ms: i64,
    ) -> Self {
        Self {
            db,
            clock,
            secrets,
            feed,
            cache,
            policy,
            default_card_validity_ms,
        }
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Commits a change's transaction, then tells the feed.
    async fn commit(&self, tx: Tx, changes: Changes) -> AppResult<()> {
        tx.commit().await?;
        self.feed.publish(changes.0);
        Ok(())
    }

    /// The student's registry record and eligibility, evaluated now.
    pub async fn student_and_checks(
        &self,
        student_id: &str,
    ) -> AppResult<(Student, Vec<EligibilityCheck>)> {
        let student = registry::by_id(&self.db.pool, student_id)
            .await?
            .ok_or_else(signed_out)?;
        let checks = eligibility::evaluate(&student.facts, self.policy, self.now());
        Ok((student, checks))
    }

    async fn eligible_student(&self, student_id: &str) -> AppResult<Student> {
        let (student, checks) = self.student_and_checks(student_id).await?;
        if eligibility::all_ok(&checks) {
            Ok(student)
        } else {
            Err(AppError::client(
                ErrorCode::NotEligible,
                "the student does not meet every eligibility rule",
            ))
        }
    }

    /// What the home screen shows. The registry record and the current
    /// order come from the read cache while this process has seen no
    /// change since; eligibility and actions are worked out now.
    pub async fn state_of(&self, student_id: &str) -> AppResult<StudentState> {
        let snap = match self.cache.snapshot(student_id) {
            Some(s) => s,
            None => {
                let version = self.cache.version(student_id);
                let student = registry::by_id(&self.db.pool, student_id)
                    .await?
                    .ok_or_else(signed_out)?;
                let order = store::current(&self.db, student_id).await?;
                let snap = Arc::new(Snapshot { student, order });
                self.cache
                    .put_snapshot(student_id, version, Arc::clone(&snap));
                snap
            }
        };
        let now = self.now();
        let checks = eligibility::evaluate(&snap.student.facts, self.policy, now);
        let eligible = eligibility::all_ok(&checks);
        let actions = rules::available_actions(
            eligible,
            snap.order.as_ref(),
            snap.student.facts.els_valid_until,
            now,
        );
        Ok(StudentState {
            student: snap.student.summary.clone(),
            eligible,
            checks,
            order: snap.order.clone(),
            actions,
        })
    }

    /// The student's latest order, if any.
    pub async fn current(&self, student_id: &str) -> AppResult<Option<OrderView>> {
        store::current(&self.db, student_id).await
    }

    /// All of a student's orders, newest first.
    pub async fn all_for(&self, student_id: &str) -> AppResult<Vec<OrderView>> {
        store::all_for(&self.db, student_id).await
    }

    /// One status change inside a transaction: checked, applied, recorded,
    /// and what the student's devices and the issuer must hear queued.
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
        let Some((student_id, view)) = store::move_status(tx, order_id, to, reason, now).await?
        else {
            let (_, current) = store::load(tx, order_id).await?.ok_or_else(no_order)?;
            return Err(AppError::client(
                ErrorCode::InvalidTransition,
                format!(
                    "an order that is {} cannot become {}",
                    current.status.as_str(),
                    to.as_str()
                ),
            ));
        };
        store::record_event(tx, order_id, to, actor, reason, now).await?;
        push::store::queue_notice(tx, &student_id, &view, NoticeKind::OrderStatus, now).await?;
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
        changes.push(student_id, view.clone());
        Ok(view)
    }

    /// A new pending order, with its history, notice and submit.
    async fn insert(
        &self,
        tx: &mut Tx,
        changes: &mut Changes,
        student_id: &str,
        kind: OrderKind,
    ) -> AppResult<OrderView> {
        let now = self.now();
        let view = store::insert(tx, student_id, kind, now).await?;
        store::record_event(
            tx,
            &view.id,
            OrderStatus::Pending,
            Actor::Student,
            None,
            now,
        )
        .await?;
        push::store::queue_notice(tx, student_id, &view, NoticeKind::OrderStatus, now).await?;
        issuer::enqueue(tx, &view.id, Command::Submit, None, now).await?;
        changes.push(student_id.to_owned(), view.clone());
        Ok(view)
    }

    /// Places an order (new, or a renewal after an ELS extension) for an
    /// eligible student. An open order that may give way (views spent,
    /// data expired, card expired, ELS extended) is closed in the same
    /// transaction. With an idempotency key a repeat returns the first
    /// result (`false` = not newly created).
    pub async fn place(
        &self,
        student_id: &str,
        idempotency_key: Option<&str>,
    ) -> AppResult<(OrderView, bool)> {
        let student = self.eligible_student(student_id).await?;
        let els = student.facts.els_valid_until;
        // A lost race on a unique index (possible on PostgreSQL) is retried:
        // the second attempt sees the winner's row.
        for _ in 0..5 {
            match self.try_place(student_id, idempotency_key, els).await {
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
        if let Some(key) = idempotency_key
            && let Some(order_id) = store::order_for_key(&mut tx, student_id, key).await?
        {
            let (_, view) = store::load(&mut tx, &order_id)
                .await?
                .ok_or_else(no_order)?;
            self.commit(tx, changes).await?;
            return Ok((view, false));
        }
        let mut kind = OrderKind::New;
        if let Some(open) = store::open_order(&mut tx, student_id).await? {
            let reason =
                rules::supersede_reason(&open, els_valid_until, now).ok_or_else(order_exists)?;
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
            store::remember_key(&mut tx, student_id, key, &view.id, now).await?;
        }
        self.commit(tx, changes).await?;
        Ok((view, true))
    }

    /// A lost phone: the card is revoked and a replacement ordered in one
    /// transaction. Returns the replacement.
    pub async fn replace_lost_phone(&self, student_id: &str) -> AppResult<OrderView> {
        self.eligible_student(student_id).await?;
        let mut changes = Changes::default();
        let mut tx = self.db.begin().await?;
        let open = store::open_order(&mut tx, student_id)
            .await?
            .filter(|o| o.status == OrderStatus::Received)
            .ok_or_else(|| {
                AppError::client(
                    ErrorCode::InvalidTransition,
                    "only an mLegitymacja in use can be replaced",
                )
            })?;
        self.apply(
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
        self.commit(tx, changes).await?;
        Ok(replacement)
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
        self.commit(tx, changes).await?;
        Ok(view)
    }

    /// The student's step on their open order: cancel, revoke, or send an
    /// order returned for correction back (which needs eligibility).
    pub async fn act(&self, student_id: &str, to: OrderStatus) -> AppResult<OrderView> {
        if to == OrderStatus::Pending {
            self.eligible_student(student_id).await?;
        }
        let mut changes = Changes::default();
        let mut tx = self.db.begin().await?;
        let open = store::open_order(&mut tx, student_id)
            .await?
            .ok_or_else(|| AppError::client(ErrorCode::NoOrder, "no open order"))?;
        let view = self
            .apply(&mut tx, &mut changes, &open.id, to, Actor::Student, None)
            .await?;
        self.commit(tx, changes).await?;
        Ok(view)
    }

    /// What the issuer reports about an order: in progress, ready with the
    /// activation data (sealed before it is stored; its 30 days start and
    /// the card's validity becomes the ELS's), received, an error or a
    /// return for correction. A repeat of what already happened is
    /// [`Applied::AlreadySo`]; an update that no longer applies is
    /// `invalid_transition`.
    pub async fn issuer_update(
        &self,
        order_id: &str,
        to: OrderStatus,
        reason: Option<Reason>,
        activation: Option<IssuedActivation>,
    ) -> AppResult<Applied> {
        let sealed = activation
            .map(|a| activation::seal(&self.secrets, &a))
            .transpose()?;
        let reason = match to {
            OrderStatus::Error => reason.or(Some(Reason::IssuerError)),
            _ => reason,
        };
        let now = self.now();
        let mut changes = Changes::default();
        let mut tx = self.db.begin().await?;
        if let Some(sealed) = &sealed {
            store::store_activation(
                &mut tx,
                order_id,
                sealed,
                now + rules::ACTIVATION_VALIDITY_MS,
                now + self.default_card_validity_ms,
            )
            .await?;
        }
        let done = match self
            .apply(&mut tx, &mut changes, order_id, to, Actor::Issuer, reason)
            .await
        {
            Ok(_) => self.commit(tx, changes).await,
            Err(e) => Err(e),
        };
        match done {
            Ok(_) => Ok(Applied::Changed),
            Err(e) if e.code() == ErrorCode::InvalidTransition => {
                match store::status_of(&self.db, order_id).await? {
                    Some(status) if status == to => Ok(Applied::AlreadySo),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Reveals the activation data, spending one of the three views.
    pub async fn reveal(&self, student_id: &str) -> AppResult<ActivationData> {
        let now = self.now();
        let Some(taken) = store::take_view(&self.db, student_id, now).await? else {
            return Err(self.why_no_reveal(student_id, now).await);
        };
        let spent = u8::try_from(taken.reveals).unwrap_or(MAX_REVEALS);
        let data = activation::open(
            &self.secrets,
            &taken.sealed,
            taken.expires_at,
            MAX_REVEALS.saturating_sub(spent),
        )?;
        if let Some(view) = self.current(student_id).await? {
            self.feed.publish(vec![Change {
                student_id: student_id.to_owned(),
                order: view,
            }]);
        }
        Ok(data)
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
        let steps = store::timeline(&self.db, student_id, order_id).await?;
        if steps.is_empty() {
            return Err(no_order());
        }
        Ok(steps)
    }

    /// Expires what the clock says is over: activation data after 30 days,
    /// cards after their validity (the issuer voids them through the
    /// outbox). Returns the orders that expired.
    pub async fn sweep(&self) -> AppResult<Vec<String>> {
        let mut expired = vec![];
        for (id, reason) in store::due_to_expire(&self.db, self.now()).await? {
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

    /// Reminders that are due and not yet sent, each once per order
    /// (`rules::reminders_for`), queued as outbox notices like a status
    /// change. Returns how many were queued.
    pub async fn remind_due(&self) -> AppResult<usize> {
        let now = self.now();
        let candidates =
            store::reminder_candidates(&self.db, now + 3 * DAY_MS, now + 14 * DAY_MS).await?;
        let mut queued = 0;
        for c in candidates {
            for kind in rules::reminders_for(&c.order, c.els_valid_until, now) {
                let mut tx = self.db.begin().await?;
                if store::mark_reminded(&mut tx, &c.order.id, kind, now).await? {
                    push::store::queue_notice(&mut tx, &c.student_id, &c.order, kind, now).await?;
                    queued += 1;
                }
                tx.commit().await?;
            }
        }
        if queued > 0 {
            self.feed.wake_outboxes();
        }
        Ok(queued)
    }

    /// Graduation or removal: an order on the way is cancelled (and voided
    /// at the issuer through the outbox); a card in use stays valid one
    /// month, then expires. Returns the cancelled orders.
    pub async fn student_removed(
        &self,
        student_id: &str,
        removed_at: i64,
    ) -> AppResult<Vec<String>> {
        let now = self.now();
        let mut changes = Changes::default();
        let mut tx = self.db.begin().await?;
        let mut cancelled = vec![];
        if let Some(open) = store::open_order(&mut tx, student_id).await? {
            if open.status == OrderStatus::Received {
                let until = removed_at + rules::VALID_AFTER_REMOVAL_MS;
                store::end_card_by(&mut tx, &open.id, until, now).await?;
                let (sid, view) = store::load(&mut tx, &open.id).await?.ok_or_else(no_order)?;
                changes.push(sid, view);
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
                cancelled.push(open.id);
            }
        }
        self.commit(tx, changes).await?;
        Ok(cancelled)
    }
}
