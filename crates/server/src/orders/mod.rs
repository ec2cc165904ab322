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
use crate::usos::UsosSite;
use crate::usos::client::UsosError;
use activation::IssuedActivation;
use eligibility::Policy;
use legitka_wire::notice::NoticeKind;
use legitka_wire::{
    ActivationData, Actor, CardPreview, EligibilityCheck, ErrorCode, MAX_REVEALS, OrderKind,
    OrderStatus, OrderView, Reason, StudentState, TimelineEntry,
};
use std::collections::HashMap;
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
    /// The USOS universities: their students' codes are fetched from USOS
    /// when revealed, never stored.
    usos: Arc<HashMap<String, Arc<UsosSite>>>,
    /// The native university's name, as its cards carry it.
    university_name: Arc<str>,
    /// Notices also go by e-mail (SMTP is configured).
    email: bool,
    /// The "ready" e-mail carries the codes, spending one view.
    codes_by_email: bool,
    /// The server shows the registry's photos (`photos_dir`).
    photos: bool,
}

/// The university's terms for the native registry's orders.
#[derive(Clone, Debug)]
pub struct Terms {
    pub policy: Policy,
    /// Card validity when the student has no ELS date (`statutory-2025`).
    pub default_card_validity_ms: i64,
    /// The name its cards carry.
    pub university_name: String,
    /// Notices also go by e-mail to the registry's address.
    pub email_notices: bool,
    /// The "ready" e-mail carries the codes (the university's choice).
    pub codes_by_email: bool,
    /// The server shows the registry's photos (`photos_dir` is set).
    pub photos: bool,
}

/// What the issuer says happened to an order (an event of its). No
/// `Debug`: it may carry activation data.
pub struct IssuerUpdate {
    pub order_id: String,
    pub to: OrderStatus,
    pub reason: Option<Reason>,
    /// With "ready": the activation data.
    pub activation: Option<IssuedActivation>,
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
struct Changes {
    told: Vec<Change>,
    /// The notice of an order becoming ready, if one was queued.
    ready_notice: Option<String>,
}

impl Changes {
    fn push(&mut self, student_id: String, order: OrderView) {
        self.told.push(Change { student_id, order });
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
        terms: Terms,
        usos: Arc<HashMap<String, Arc<UsosSite>>>,
    ) -> Self {
        Self {
            db,
            clock,
            secrets,
            feed,
            cache,
            policy: terms.policy,
            default_card_validity_ms: terms.default_card_validity_ms,
            usos,
            university_name: terms.university_name.into(),
            email: terms.email_notices,
            codes_by_email: terms.email_notices && terms.codes_by_email,
            photos: terms.photos,
        }
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Commits a change's transaction, then tells the feed.
    async fn commit(&self, tx: Tx, changes: Changes) -> AppResult<()> {
        tx.commit().await?;
        self.publish(changes.told).await
    }

    /// Tells everyone of committed changes: this process through the feed,
    /// and — from a tool process — the servers (`peers::tell`).
    async fn publish(&self, changes: Vec<Change>) -> AppResult<()> {
        if let Some(origin) = self.feed.direct_origin()
            && !changes.is_empty()
        {
            crate::peers::tell(&self.db, origin, &changes).await?;
        }
        self.feed.publish(changes);
        Ok(())
    }

    /// The student's registry record changed (an ELS extended, a duplicate
    /// issued): their status read is read afresh, and their current order,
    /// if any, is announced again so an open app reads its state again.
    pub async fn registry_changed(&self, student_id: &str) -> AppResult<()> {
        match store::current(&self.db, student_id).await? {
            Some(order) => {
                self.publish(vec![Change {
                    student_id: student_id.to_owned(),
                    order,
                }])
                .await
            }
            None => {
                self.cache.bump(student_id);
                Ok(())
            }
        }
    }

    /// The student's registry record and eligibility, evaluated now.
    pub async fn student_and_checks(
        &self,
        student_id: &str,
    ) -> AppResult<(Student, Vec<EligibilityCheck>)> {
        let student = registry::by_id(&self.db.pool, student_id)
            .await?
            .ok_or_else(signed_out)?;
        let checks = if student.university.is_some() {
            vec![]
        } else {
            eligibility::evaluate(&student.facts, self.policy, self.now())
        };
        Ok((student, checks))
    }

    async fn eligible_student(&self, student_id: &str) -> AppResult<Student> {
        let (student, checks) = self.student_and_checks(student_id).await?;
        // At a USOS university USOS decides, and said so when last asked.
        let usos_says_no = student.university.is_some()
            && crate::usos::store::last_said(&self.db, student_id)
                .await?
                .why_not
                .is_some();
        if eligibility::all_ok(&checks) && !usos_says_no {
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
        // At a USOS university: what USOS said when last asked, and when
        // (read fresh: the watcher's looks change it without an order change).
        let usos = match snap.student.university {
            Some(_) => crate::usos::store::last_said(&self.db, student_id).await?,
            None => Default::default(),
        };
        let (checks, eligible) = if snap.student.university.is_some() {
            (vec![], usos.why_not.is_none())
        } else {
            let checks = eligibility::evaluate(&snap.student.facts, self.policy, now);
            let eligible = eligibility::all_ok(&checks);
            (checks, eligible)
        };
        let actions =
            rules::available_actions(eligible, snap.order.as_ref(), snap.student.facts.els(), now);
        Ok(StudentState {
            student: snap.student.summary.clone(),
            eligible,
            checks,
            order: snap.order.clone(),
            actions,
            card: snap.student.university.is_none().then(|| CardPreview {
                first_name: snap.student.summary.first_name.clone(),
                last_name: snap.student.summary.last_name.clone(),
                birth_date: snap.student.card.birth_date.clone(),
                pesel_masked: snap.student.card.pesel_masked.clone(),
                album_number: snap.student.summary.album_number.clone(),
                els_number: snap.student.card.els_number.clone(),
                valid_until: snap.student.facts.els_valid_until,
                university: self.university_name.to_string(),
                has_photo: snap.student.facts.has_photo,
                photo_available: self.photos && snap.student.card.photo_ref.is_some(),
            }),
            university_says: usos.why_not,
            university_checked_at: usos.checked_at,
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
        let notice = push::store::queue_notice(
            tx,
            &student_id,
            &view,
            NoticeKind::OrderStatus,
            self.email,
            now,
        )
        .await?;
        if to == OrderStatus::Ready {
            changes.ready_notice = Some(notice);
        }
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
        push::store::queue_notice(
            tx,
            student_id,
            &view,
            NoticeKind::OrderStatus,
            self.email,
            now,
        )
        .await?;
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
        let els = student.facts.els();
        let at_usos = student.university.is_some();
        // A lost race on a unique index (possible on PostgreSQL) is retried:
        // the second attempt sees the winner's row.
        for _ in 0..5 {
            match self
                .try_place(student_id, idempotency_key, els, at_usos)
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
        els: rules::Els,
        at_usos: bool,
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
            let Some(reason) = rules::supersede_reason(&open, els, now) else {
                // A twin request with the same key may have committed its
                // order between our two reads: then that is our answer.
                if let Some(key) = idempotency_key
                    && let Some(order_id) = store::order_for_key(&mut tx, student_id, key).await?
                {
                    let (_, view) = store::load(&mut tx, &order_id)
                        .await?
                        .ok_or_else(no_order)?;
                    self.commit(tx, changes).await?;
                    return Ok((view, false));
                }
                return Err(order_exists());
            };
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
        if at_usos {
            crate::usos::store::watch(&mut tx, student_id, now).await?;
        }
        self.commit(tx, changes).await?;
        Ok((view, true))
    }

    /// A lost phone: the card is revoked and a replacement ordered in one
    /// transaction. Returns the replacement.
    pub async fn replace_lost_phone(&self, student_id: &str) -> AppResult<OrderView> {
        let student = self.eligible_student(student_id).await?;
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
        if student.university.is_some() {
            crate::usos::store::watch(&mut tx, student_id, self.now()).await?;
        }
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

    /// What the issuer reports about orders: in progress, ready with the
    /// activation data (sealed before it is stored; its 30 days start and
    /// the card's validity becomes the ELS's), received, an error or a
    /// return for correction. A repeat of what already happened is
    /// [`Applied::AlreadySo`]; an update that no longer applies is
    /// `invalid_transition`.
    ///
    /// Updates heard at about the same time go in one transaction:
    /// each in a savepoint of its own, so one that does not apply leaves
    /// the others be; one commit, then every change told. An answer per
    /// update, in order; `Err` as a whole only when the transaction failed.
    pub async fn issuer_updates(
        &self,
        updates: Vec<IssuerUpdate>,
    ) -> AppResult<Vec<AppResult<Applied>>> {
        let mut changes = Changes::default();
        let mut answers = Vec::with_capacity(updates.len());
        let mut tx = self.db.begin().await?;
        for update in &updates {
            sqlx::query("SAVEPOINT issuer_update")
                .execute(&mut *tx)
                .await?;
            let mut these = Changes::default();
            match self.issuer_update_in(&mut tx, &mut these, update).await {
                Ok(()) => {
                    sqlx::query("RELEASE SAVEPOINT issuer_update")
                        .execute(&mut *tx)
                        .await?;
                    changes.told.append(&mut these.told);
                    answers.push(Ok(Applied::Changed));
                }
                Err(e) => {
                    for undo in [
                        "ROLLBACK TO SAVEPOINT issuer_update",
                        "RELEASE SAVEPOINT issuer_update",
                    ] {
                        sqlx::query(undo).execute(&mut *tx).await?;
                    }
                    answers.push(Err(e));
                }
            }
        }
        self.commit(tx, changes).await?;
        // An update refused as a move the order cannot make may be a
        // repeat: the order already is where it would go.
        for (update, answer) in updates.iter().zip(answers.iter_mut()) {
            if let Err(e) = answer
                && e.code() == ErrorCode::InvalidTransition
                && store::status_of(&self.db, &update.order_id).await? == Some(update.to)
            {
                *answer = Ok(Applied::AlreadySo);
            }
        }
        Ok(answers)
    }

    async fn issuer_update_in(
        &self,
        tx: &mut Tx,
        changes: &mut Changes,
        update: &IssuerUpdate,
    ) -> AppResult<()> {
        let order_id = update.order_id.as_str();
        let sealed = update
            .activation
            .as_ref()
            .map(|a| activation::seal(&self.secrets, a))
            .transpose()?;
        let reason = match update.to {
            OrderStatus::Error => update.reason.or(Some(Reason::IssuerError)),
            _ => update.reason,
        };
        let now = self.now();
        if let Some(sealed) = &sealed {
            store::store_activation(
                tx,
                order_id,
                sealed,
                now + rules::ACTIVATION_VALIDITY_MS,
                now + self.default_card_validity_ms,
            )
            .await?;
        }
        self.apply(tx, changes, order_id, update.to, Actor::Issuer, reason)
            .await?;
        if let (true, Some(sealed), Some(notice)) =
            (self.codes_by_email, &sealed, changes.ready_notice.take())
        {
            self.email_codes(tx, changes, order_id, &notice, sealed)
                .await?;
        }
        Ok(())
    }

    /// The university mails the codes with the "ready" notice (UP's
    /// activation message): they ride sealed in the e-mail's outbox row,
    /// so a retry sends the same codes, and the one view they take is
    /// spent here, once, in the transaction that made the order ready.
    async fn email_codes(
        &self,
        tx: &mut Tx,
        changes: &mut Changes,
        order_id: &str,
        notice: &str,
        sealed: &str,
    ) -> AppResult<()> {
        if !push::store::email_codes(tx, notice, sealed).await? {
            return Ok(()); // no address: the app is the only way
        }
        store::codes_emailed(tx, order_id, self.now()).await?;
        if let (Some((_, view)), Some(last)) =
            (store::load(tx, order_id).await?, changes.told.last_mut())
        {
            last.order = view;
        }
        Ok(())
    }

    /// Reveals the activation data, spending one of the three views. At a
    /// USOS university the codes are USOS's: fetched now, never stored.
    pub async fn reveal(&self, student_id: &str) -> AppResult<ActivationData> {
        let now = self.now();
        let at_usos = self.codes_at_usos(student_id).await?;
        let mut tx = self.db.begin().await?;
        let Some(taken) = store::take_view(&mut tx, student_id, now).await? else {
            drop(tx);
            return Err(self.why_no_reveal(student_id, now).await);
        };
        let spent = u8::try_from(taken.reveals).unwrap_or(MAX_REVEALS);
        let left = MAX_REVEALS.saturating_sub(spent);
        let data = match (at_usos, taken.sealed) {
            (Some((qr, pass)), _) => ActivationData {
                // USOS gives the QR's content; it is also the code to type.
                manual_code: qr.clone(),
                qr_payload: qr,
                activation_code: pass,
                expires_at: taken.expires_at,
                reveals_left: left,
            },
            (None, Some(sealed)) => {
                activation::open(&self.secrets, &sealed, taken.expires_at, left)?
            }
            (None, None) => return Err(anyhow::anyhow!("a ready order without its codes").into()),
        };
        // The codes are in hand: now the view counts (a key that cannot
        // open them rolls it back).
        tx.commit().await?;
        if let Some(view) = self.current(student_id).await? {
            self.feed.publish(vec![Change {
                student_id: student_id.to_owned(),
                order: view,
            }]);
        }
        Ok(data)
    }

    /// The codes of the student's ready USOS order, from USOS; `None` for
    /// a native student or an order that is not ready (the reveal says why).
    async fn codes_at_usos(&self, student_id: &str) -> AppResult<Option<(String, String)>> {
        let Some(order) = store::current(&self.db, student_id).await? else {
            return Ok(None);
        };
        let Some(usos) = store::usos_order(&self.db, &order.id).await? else {
            return Ok(None);
        };
        let (OrderStatus::Ready, Some(external_id)) = (usos.status, usos.external_id) else {
            return Ok(None);
        };
        let site = self
            .usos
            .get(&usos.university)
            .ok_or(UsosError::NotOffered("this university".into()))?;
        let token = crate::usos::store::token_of(&self.db, &self.secrets, student_id)
            .await?
            .ok_or(UsosError::SignInAgain("no USOS token".into()))?;
        let at_usos = site.api.order(&token, &external_id).await?;
        match (at_usos.token, at_usos.distribution_pass) {
            (Some(qr), Some(pass)) => Ok(Some((qr, pass))),
            _ => Err(AppError::client(
                ErrorCode::NotReady,
                "USOS has no codes for this order yet",
            )),
        }
    }

    /// What USOS says an order is now (`raw`, its own status value, and
    /// the card's last day). USOS reports only where an order is, so the
    /// steps between are applied as the life cycle has them; a ready order
    /// starts its 30 days here. Unknown values count as in progress. An
    /// order that has moved on here (cancelled meanwhile) stays as it is.
    pub async fn usos_update(
        &self,
        order_id: &str,
        raw: &str,
        card_valid_until: Option<i64>,
    ) -> AppResult<bool> {
        let to = crate::usos::statuses::known(raw).unwrap_or(OrderStatus::InProgress);
        let now = self.now();
        let mut changes = Changes::default();
        let mut tx = self.db.begin().await?;
        let (_, current) = store::load(&mut tx, order_id).await?.ok_or_else(no_order)?;
        let Some(steps) = rules::path(current.status, to) else {
            tracing::warn!(
                order_id,
                raw,
                "USOS reports a status the order cannot reach"
            );
            return Ok(false);
        };
        let moved = !steps.is_empty();
        let ready = (to == OrderStatus::Ready && moved).then(|| {
            (
                now + rules::ACTIVATION_VALIDITY_MS,
                card_valid_until.unwrap_or(now + self.default_card_validity_ms),
            )
        });
        store::usos_status(&mut tx, order_id, raw, ready).await?;
        for step in steps {
            self.apply(&mut tx, &mut changes, order_id, step, Actor::Issuer, None)
                .await?;
        }
        self.commit(tx, changes).await?;
        Ok(moved)
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
            for kind in rules::reminders_for(&c.order, c.els, c.on_the_list, now) {
                let mut tx = self.db.begin().await?;
                if store::mark_reminded(&mut tx, &c.order.id, kind, now).await? {
                    push::store::queue_notice(
                        &mut tx,
                        &c.student_id,
                        &c.order,
                        kind,
                        self.email,
                        now,
                    )
                    .await?;
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

    /// A notice of `kind` about the student's current order, at most once
    /// per order (as reminders are). Returns whether it was queued.
    pub async fn notify_once(&self, student_id: &str, kind: NoticeKind) -> AppResult<bool> {
        let Some(order) = store::current(&self.db, student_id).await? else {
            return Ok(false);
        };
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let fresh = store::mark_reminded(&mut tx, &order.id, kind, now).await?;
        if fresh {
            push::store::queue_notice(&mut tx, student_id, &order, kind, self.email, now).await?;
        }
        tx.commit().await?;
        if fresh {
            self.feed.wake_outboxes();
        }
        Ok(fresh)
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
                // The card in use ends a month on; the student is told so,
                // once, and the order says why.
                let until = removed_at + rules::VALID_AFTER_REMOVAL_MS;
                store::end_card_by(&mut tx, &open.id, until, Reason::StudentRemoved, now).await?;
                let (sid, view) = store::load(&mut tx, &open.id).await?.ok_or_else(no_order)?;
                let kind = NoticeKind::RemovedFromList;
                if store::mark_reminded(&mut tx, &open.id, kind, now).await? {
                    push::store::queue_notice(&mut tx, &sid, &view, kind, self.email, now).await?;
                }
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
