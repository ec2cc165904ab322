//! The read cache behind the status read (`GET /me`) and bearer-token checks.
//!
//! Exact within this process: every committed order change and registry
//! change bumps the student's version, and a cached snapshot is used only
//! while its version is still current; revoked access tokens are dropped.
//! Writers in other processes (the admin CLI, a second instance) show here
//! within `ttl`. Decisions never use it: ordering, reveals and every state
//! change read the database.

use crate::registry::Student;
use legitka_wire::OrderView;
use moka::sync::Cache;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A valid access token: whose, which session, until when.
#[derive(Clone, Debug)]
pub struct TokenEntry {
    pub student_id: String,
    pub session_id: String,
    pub expires_at: i64,
}

/// The registry record and current order of one student.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub student: Student,
    pub order: Option<OrderView>,
}

pub struct ReadCache {
    ttl: Duration,
    tokens: Cache<String, TokenEntry>,
    snapshots: Cache<String, (u64, Arc<Snapshot>)>,
    /// Per student: the version of their data and when it was last bumped.
    /// Version numbers come from one counter and are never reused.
    versions: Mutex<HashMap<String, (u64, Instant)>>,
    counter: AtomicU64,
}

impl ReadCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            tokens: Cache::builder()
                .max_capacity(200_000)
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .build(),
            snapshots: Cache::builder()
                .max_capacity(200_000)
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .build(),
            versions: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(1),
        }
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    pub fn token(&self, token_hash: &str) -> Option<TokenEntry> {
        self.tokens.get(token_hash)
    }

    pub fn put_token(&self, token_hash: String, entry: TokenEntry) {
        if self.enabled() {
            self.tokens.insert(token_hash, entry);
        }
    }

    /// Revoked or replaced access tokens.
    pub fn forget_tokens(&self, token_hashes: &[String]) {
        for h in token_hashes {
            self.tokens.invalidate(h);
        }
    }

    /// The version a reader must note *before* loading from the database.
    pub fn version(&self, student_id: &str) -> u64 {
        self.versions
            .lock()
            .expect("versions lock")
            .get(student_id)
            .map_or(0, |(v, _)| *v)
    }

    /// After a committed change to the student's orders or registry record.
    pub fn bump(&self, student_id: &str) {
        let v = self.counter.fetch_add(1, Ordering::SeqCst);
        self.versions
            .lock()
            .expect("versions lock")
            .insert(student_id.to_owned(), (v, Instant::now()));
        self.snapshots.invalidate(student_id);
    }

    /// Every student at once (an import, or a change we cannot attribute).
    pub fn bump_all(&self) {
        let mut versions = self.versions.lock().expect("versions lock");
        for (v, at) in versions.values_mut() {
            *v = self.counter.fetch_add(1, Ordering::SeqCst);
            *at = Instant::now();
        }
        drop(versions);
        self.snapshots.invalidate_all();
    }

    pub fn snapshot(&self, student_id: &str) -> Option<Arc<Snapshot>> {
        let (v, snap) = self.snapshots.get(student_id)?;
        (v == self.version(student_id)).then_some(snap)
    }

    /// Stores what was loaded after noting `version`; stale loads miss later.
    pub fn put_snapshot(&self, student_id: &str, version: u64, snap: Arc<Snapshot>) {
        if self.enabled() {
            self.snapshots
                .insert(student_id.to_owned(), (version, snap));
        }
    }

    /// Drops version entries bumped more than two TTLs ago: a snapshot that
    /// could match them was loaded before that bump (loads take far less
    /// than a TTL) and has expired.
    pub fn prune(&self) {
        let keep = self.ttl * 2;
        self.versions
            .lock()
            .expect("versions lock")
            .retain(|_, (_, at)| at.elapsed() <= keep);
    }
}
