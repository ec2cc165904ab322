//! The outbox engine every call to another system leaves through. A change
//! writes its job rows (a push delivery, an issuer command) in its own
//! transaction; an [`Outbox`] drains one table of them. Each worker claims
//! a batch of due jobs in one statement, under a lease, so several server
//! processes share the work without doing anything twice (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL; on SQLite the lease column, taken in a single
//! conditional UPDATE); it runs the batch's jobs at once and removes the
//! finished ones in one statement. Jobs that call for action (priority
//! one) are claimed before routine ones, then the longest due first. Retries
//! back off exponentially and honour `Retry-After`; poison jobs and spent
//! retries move to the queue's dead-letter table. A [`Handler`] knows what
//! one job means; this module knows none of that.

use crate::clock::Clock;
use crate::db::{Backend, Db};
use crate::error::AppResult;
use futures_util::future::BoxFuture;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::sync::Arc;
use std::time::Duration;

/// One outbox table and its dead letters. Both have `id`, the `columns`,
/// and: the live one `attempts`, `next_attempt_at`, `priority`,
/// `lease_owner`, `lease_until`, `last_error` (and an index on `priority
/// DESC, next_attempt_at`); the dead one `attempts`, `last_error`,
/// `dead_at`.
pub struct Queue {
    /// For logs: "push", "issuer".
    pub name: &'static str,
    pub table: &'static str,
    pub dead_table: &'static str,
    /// The job's own columns, comma-separated (read on claim, kept on burial).
    pub columns: &'static str,
}

/// What one step did; tests drive an outbox step by step.
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
    /// Nothing left to do: the order moved on before its command left, or
    /// the issuer had already voided it.
    Moot,
}

impl ExecutionOutcome {
    /// Its name in the metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Delivered => "delivered",
            Self::Retrying { .. } => "retrying",
            Self::DeadLettered => "dead_lettered",
            Self::TokenDropped => "token_dropped",
            Self::DeviceGone => "device_gone",
            Self::Moot => "moot",
        }
    }
}

/// The metric counting outbox steps (`ops::metrics` describes it).
pub const STEPS_METRIC: &str = "legitka_outbox_steps_total";

/// A claimed job: its id, how often it was tried, and its own columns.
pub struct Job {
    pub id: String,
    pub attempts: i64,
    pub row: AnyRow,
}

/// How a handler's attempt went.
pub enum Step {
    /// Over; the job row is removed (if the handler has not already).
    Finished(ExecutionOutcome),
    /// Try again later; the other side may say when (`Retry-After`).
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// Refused for good: a poison job.
    Dead(String),
    /// Not a failure: the job is to run again after this long (a watcher's
    /// next look). Attempts do not count up.
    Later(Duration),
}

pub trait Handler: Send + Sync + 'static {
    fn queue(&self) -> &'static Queue;
    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, AppResult<Step>>;
}

pub struct Outbox<H> {
    db: Db,
    clock: Arc<dyn Clock>,
    handler: Arc<H>,
    /// Who holds a lease: unique per process.
    owner: String,
    pub lease: Duration,
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Rung after commits in this process; without it, or for retries and
    /// other processes' jobs, the outbox looks again every `idle`.
    wakeup: Option<Arc<tokio::sync::Notify>>,
    pub idle: Duration,
    /// Claiming loops in this process (leases keep them apart).
    pub workers: usize,
    /// The most jobs one loop claims at once (and has in flight).
    pub batch: usize,
}

impl<H> Clone for Outbox<H> {
    fn clone(&self) -> Self {
        Self {
            db: self.db.clone(),
            clock: Arc::clone(&self.clock),
            handler: Arc::clone(&self.handler),
            owner: self.owner.clone(),
            lease: self.lease,
            max_attempts: self.max_attempts,
            base_backoff: self.base_backoff,
            max_backoff: self.max_backoff,
            wakeup: self.wakeup.clone(),
            idle: self.idle,
            workers: self.workers,
            batch: self.batch,
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A `Retry-After` header in either of its forms (RFC 9110): seconds, or
/// an HTTP date (then the time until it; a date past means now).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

impl<H: Handler> Outbox<H> {
    pub fn with_handler(db: Db, clock: Arc<dyn Clock>, handler: H) -> Self {
        Self {
            db,
            clock,
            handler: Arc::new(handler),
            owner: uuid::Uuid::new_v4().to_string(),
            lease: Duration::from_secs(30),
            max_attempts: 8,
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(3600),
            wakeup: None,
            idle: Duration::from_millis(250),
            workers: 2,
            batch: 32,
        }
    }

    /// Starts work as soon as this process commits a job.
    #[must_use]
    pub fn with_wakeup(mut self, wakeup: Arc<tokio::sync::Notify>) -> Self {
        self.wakeup = Some(wakeup);
        self
    }

    /// The same outbox with its own lease identity, as a second server
    /// process would have (tests of shared outboxes).
    #[must_use]
    pub fn clone_as_another_process(&self) -> Self {
        Self {
            owner: uuid::Uuid::new_v4().to_string(),
            ..self.clone()
        }
    }

    /// Takes up to `limit` due jobs nobody holds, under a lease: those
    /// that call for action first, then the longest due.
    async fn claim(&self, now: i64, limit: usize) -> AppResult<Vec<Job>> {
        let q = self.handler.queue();
        let lock = match self.db.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE {t} SET lease_owner = $1, lease_until = $2 \
             WHERE id IN (SELECT id FROM {t} WHERE next_attempt_at <= $3 \
                          AND (lease_until IS NULL OR lease_until < $3) \
                          ORDER BY priority DESC, next_attempt_at LIMIT $4{lock}) \
             AND (lease_until IS NULL OR lease_until < $3) \
             RETURNING id, attempts, priority, next_attempt_at, {c}",
            t = q.table,
            c = q.columns,
        ));
        let rows = sqlx::query(sql)
            .bind(&self.owner)
            .bind(now + ms(self.lease))
            .bind(now)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.db.pool)
            .await?;
        let mut jobs = rows
            .into_iter()
            .map(|row| {
                let order: (i64, i64) = (row.try_get("priority")?, row.try_get("next_attempt_at")?);
                Ok((
                    order,
                    Job {
                        id: row.try_get("id")?,
                        attempts: row.try_get("attempts")?,
                        row,
                    },
                ))
            })
            .collect::<AppResult<Vec<_>>>()?;
        // RETURNING keeps no order: the batch starts with what matters most.
        jobs.sort_by_key(|((priority, due), _)| (-priority, *due));
        Ok(jobs.into_iter().map(|(_, job)| job).collect())
    }

    /// One job, start to end. Returns what happened (and counts it in
    /// the metrics, by queue and outcome).
    pub async fn try_execute_task(&self) -> AppResult<ExecutionOutcome> {
        Ok(self
            .try_execute_batch(1)
            .await?
            .pop()
            .unwrap_or(ExecutionOutcome::Empty))
    }

    /// Up to `limit` jobs at once, start to end; what happened to each
    /// (nothing when none was due).
    pub async fn try_execute_batch(&self, limit: usize) -> AppResult<Vec<ExecutionOutcome>> {
        let now = self.clock.now_ms();
        let jobs = self.claim(now, limit.max(1)).await?;
        let steps =
            futures_util::future::join_all(jobs.iter().map(|job| self.handler.handle(job))).await;
        let mut finished = Vec::new();
        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut failed = None;
        for (job, step) in jobs.iter().zip(steps) {
            // One failed step leaves its job leased: it is tried again
            // when the lease runs out, and the others still finish.
            if let Ok(Step::Finished(_)) = step {
                finished.push(job.id.as_str());
            }
            let outcome = match step {
                Ok(step) => self.settle(job, step, now).await,
                Err(e) => Err(e),
            };
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(e) => {
                    failed = Some(e);
                    continue;
                }
            };
            metrics::counter!(
                STEPS_METRIC,
                "queue" => self.handler.queue().name,
                "outcome" => outcome.name()
            )
            .increment(1);
            outcomes.push(outcome);
        }
        self.delete(&finished).await?;
        match failed {
            Some(e) => Err(e),
            None => Ok(outcomes),
        }
    }

    /// What a step leaves of its job: retried, rescheduled or buried (a
    /// finished job is removed with the rest of its batch, by the caller).
    async fn settle(&self, job: &Job, step: Step, now: i64) -> AppResult<ExecutionOutcome> {
        match step {
            Step::Finished(outcome) => Ok(outcome),
            Step::Dead(error) => {
                self.bury(job, &error, now).await?;
                Ok(ExecutionOutcome::DeadLettered)
            }
            Step::Later(after) => {
                // A next look is routine, whatever brought this one forward.
                let next = now + ms(after);
                let sql = sqlx::AssertSqlSafe(format!(
                    "UPDATE {} SET next_attempt_at = $1, last_error = NULL, priority = 0, \
                     lease_owner = NULL, lease_until = NULL WHERE id = $2",
                    self.handler.queue().table
                ));
                sqlx::query(sql)
                    .bind(next)
                    .bind(&job.id)
                    .execute(&self.db.pool)
                    .await?;
                Ok(ExecutionOutcome::Retrying {
                    next_attempt_at: next,
                })
            }
            Step::Retry { after, error } => {
                let attempts = job.attempts + 1;
                if attempts >= i64::from(self.max_attempts) {
                    self.bury(job, &error, now).await?;
                    return Ok(ExecutionOutcome::DeadLettered);
                }
                let exp = u32::try_from(attempts - 1).unwrap_or(u32::MAX).min(16);
                let backoff = self
                    .base_backoff
                    .saturating_mul(1u32 << exp)
                    .min(self.max_backoff);
                // The other side's Retry-After wins over our own backoff.
                let next = now + ms(after.unwrap_or(backoff));
                let sql = sqlx::AssertSqlSafe(format!(
                    "UPDATE {} SET attempts = $1, next_attempt_at = $2, last_error = $3, \
                     lease_owner = NULL, lease_until = NULL WHERE id = $4",
                    self.handler.queue().table
                ));
                sqlx::query(sql)
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

    /// Removes finished jobs, all in one statement.
    async fn delete(&self, ids: &[&str]) -> AppResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let placeholders = (1..=ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = sqlx::AssertSqlSafe(format!(
            "DELETE FROM {} WHERE id IN ({placeholders})",
            self.handler.queue().table
        ));
        let mut query = sqlx::query(sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.execute(&self.db.pool).await?;
        Ok(())
    }

    async fn bury(&self, job: &Job, error: &str, now: i64) -> AppResult<()> {
        let q = self.handler.queue();
        tracing::warn!(
            queue = q.name,
            job = job.id,
            error,
            "outbox job dead-lettered"
        );
        let mut tx = self.db.begin().await?;
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO {dead} (id, {c}, attempts, last_error, dead_at) \
             SELECT id, {c}, $2, $3, $4 FROM {t} WHERE id = $1",
            dead = q.dead_table,
            t = q.table,
            c = q.columns,
        ));
        sqlx::query(sql)
            .bind(&job.id)
            .bind(job.attempts + 1)
            .bind(error)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let sql = sqlx::AssertSqlSafe(format!("DELETE FROM {} WHERE id = $1", q.table));
        sqlx::query(sql).bind(&job.id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Works until stopped with `workers` loops, each draining what is due
    /// a batch at a time, then waiting for a wake-up or the idle interval.
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
            match self.try_execute_batch(self.batch).await {
                Ok(done) if done.is_empty() => match &self.wakeup {
                    Some(w) => {
                        let _ = tokio::time::timeout(self.idle, w.notified()).await;
                    }
                    None => tokio::time::sleep(self.idle).await,
                },
                Ok(done) => {
                    // A full batch: there may be more, so a resting
                    // sibling joins in.
                    if done.len() >= self.batch
                        && let Some(w) = &self.wakeup
                    {
                        w.notify_one();
                    }
                }
                Err(e) => {
                    tracing::error!(
                        queue = self.handler.queue().name,
                        error = format!("{e:#}"),
                        "outbox step failed"
                    );
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

/// A job an outbox gave up on, as `dead-letters list` shows it.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub id: String,
    pub attempts: i64,
    pub last_error: String,
    pub dead_at: i64,
}

/// The newest dead letters of `queue`, at most `limit`.
pub async fn dead_letters(db: &Db, queue: &Queue, limit: i64) -> AppResult<Vec<DeadLetter>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT id, attempts, last_error, dead_at FROM {} ORDER BY dead_at DESC, id LIMIT $1",
        queue.dead_table
    ));
    let rows = sqlx::query(sql).bind(limit).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|r| {
            Ok(DeadLetter {
                id: r.try_get("id")?,
                attempts: r.try_get("attempts")?,
                last_error: r.try_get("last_error")?,
                dead_at: r.try_get("dead_at")?,
            })
        })
        .collect()
}

/// Puts dead letters back in their outbox, due at once with their attempts
/// counted afresh: one by id, or all. Returns how many.
pub async fn requeue(db: &Db, queue: &Queue, id: Option<&str>, now: i64) -> AppResult<u64> {
    let which = if id.is_some() { "WHERE id = $2" } else { "" };
    let mut tx = db.begin().await?;
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO {t} (id, {c}, attempts, next_attempt_at) \
         SELECT id, {c}, 0, $1 FROM {dead} {which}",
        t = queue.table,
        dead = queue.dead_table,
        c = queue.columns,
    ));
    let mut insert = sqlx::query(sql).bind(now);
    if let Some(id) = id {
        insert = insert.bind(id);
    }
    let moved = insert.execute(&mut *tx).await?.rows_affected();
    let sql = sqlx::AssertSqlSafe(format!(
        "DELETE FROM {} {}",
        queue.dead_table,
        if id.is_some() { "WHERE id = $1" } else { "" }
    ));
    let mut delete = sqlx::query(sql);
    if let Some(id) = id {
        delete = delete.bind(id);
    }
    delete.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(moved)
}

/// Drops dead letters: one by id, or all that died before `before`.
pub async fn purge(db: &Db, queue: &Queue, id: Option<&str>, before: i64) -> AppResult<u64> {
    let sql = sqlx::AssertSqlSafe(format!(
        "DELETE FROM {} WHERE {}",
        queue.dead_table,
        if id.is_some() {
            "id = $1"
        } else {
            "dead_at < $1"
        }
    ));
    let query = sqlx::query(sql);
    let query = match id {
        Some(id) => query.bind(id),
        None => query.bind(before),
    };
    Ok(query.execute(&db.pool).await?.rows_affected())
}

#[cfg(test)]
mod retry_after_tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
            retry_after(&h)
        };
        assert_eq!(with("120"), Some(Duration::from_secs(120)));
        let in_a_minute =
            httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(61));
        let d = with(&in_a_minute).expect("a date");
        assert!((55..=61).contains(&d.as_secs()), "{d:?}");
        assert_eq!(with("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(with("soon"), None);
    }
}
