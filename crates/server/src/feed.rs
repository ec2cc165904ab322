//! The change feed: how the rest of the server hears that an order changed.
//!
//! The order service publishes its changes here after they commit, and an
//! instance's listener on PostgreSQL (`peers`) hands in what the other
//! instances committed. Every change is told in one order: the student's
//! read-cache version is bumped (so a status read after this sees it), the
//! outboxes wake (push deliveries and issuer commands were written with the
//! change), the live streams get it, and — for this process's own changes —
//! the other instances are told. Listeners depend on the feed, never on the
//! order service.

use crate::cache::ReadCache;
use legitka_wire::OrderView;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};
use tokio::sync::{Notify, broadcast, mpsc};

/// One committed change: the order as it is now, and whose it is.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    pub student_id: String,
    pub order: OrderView,
}

/// Where this process's own changes go to reach the other instances.
pub type PeerSender = mpsc::UnboundedSender<Change>;

#[derive(Clone)]
pub struct ChangeFeed {
    inner: Arc<Inner>,
}

struct Inner {
    cache: Arc<ReadCache>,
    /// Wakes this process's push dispatcher.
    push_wakeup: Arc<Notify>,
    /// Wakes this process's issuer outbox.
    issuer_wakeup: Arc<Notify>,
    live: broadcast::Sender<Change>,
    peers: OnceLock<PeerSender>,
    /// A tool process (the admin CLI): its changes are told to the servers
    /// right after commit, under this origin (see `peers::tell`).
    direct: OnceLock<String>,
}

impl ChangeFeed {
    pub fn new(cache: Arc<ReadCache>) -> Self {
        let (live, _) = broadcast::channel(4096);
        Self {
            inner: Arc::new(Inner {
                cache,
                push_wakeup: Arc::default(),
                issuer_wakeup: Arc::default(),
                live,
                peers: OnceLock::new(),
                direct: OnceLock::new(),
            }),
        }
    }

    /// Changes this process committed.
    pub fn publish(&self, changes: Vec<Change>) {
        self.announce(&changes);
        if let Some(peers) = self.inner.peers.get() {
            for change in changes {
                let _ = peers.send(change);
            }
        }
    }

    /// Changes another instance committed (see `peers`).
    pub fn heard_from_peer(&self, changes: Vec<Change>) {
        self.announce(&changes);
    }

    fn announce(&self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        for change in changes {
            self.inner.cache.bump(&change.student_id);
        }
        self.wake_outboxes();
        for change in changes {
            // No subscriber is fine: no stream is open right now.
            let _ = self.inner.live.send(change.clone());
        }
    }

    /// Something was queued without an order change (a reminder).
    pub fn wake_outboxes(&self) {
        self.inner.push_wakeup.notify_one();
        self.inner.issuer_wakeup.notify_one();
    }

    /// From now on, this process's changes are told to the other instances.
    pub fn tell_peers(&self, sender: PeerSender) {
        let _ = self.inner.peers.set(sender);
    }

    /// This process is a tool, not a server: whoever commits a change tells
    /// the servers at once (`peers::tell`), as `origin`.
    pub fn tell_directly(&self, origin: String) {
        let _ = self.inner.direct.set(origin);
    }

    /// The origin to tell the servers under, in a tool process.
    pub fn direct_origin(&self) -> Option<&str> {
        self.inner.direct.get().map(String::as_str)
    }

    /// The live streams' subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.live.subscribe()
    }

    pub fn push_wakeup(&self) -> Arc<Notify> {
        Arc::clone(&self.inner.push_wakeup)
    }

    pub fn issuer_wakeup(&self) -> Arc<Notify> {
        Arc::clone(&self.inner.issuer_wakeup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use legitka_wire::{OrderKind, OrderStatus};
    use std::time::Duration;

    fn change(student: &str) -> Change {
        Change {
            student_id: student.into(),
            order: OrderView {
                id: "o".into(),
                kind: OrderKind::New,
                status: OrderStatus::Ready,
                created_at: 1,
                updated_at: 2,
                reveals_left: 3,
                activation_expires_at: None,
                card_valid_until: None,
                reason: None,
                codes_emailed: false,
            },
        }
    }

    #[tokio::test]
    async fn a_change_reaches_cache_outboxes_streams_and_peers_in_that_order() {
        let cache = Arc::new(ReadCache::new(Duration::from_secs(60)));
        let feed = ChangeFeed::new(Arc::clone(&cache));
        let mut live = feed.subscribe();
        let (peer_tx, mut peer_rx) = mpsc::unbounded_channel();
        feed.tell_peers(peer_tx);
        let before = cache.version("s1");
        let push = feed.push_wakeup();
        let issuer = feed.issuer_wakeup();

        feed.publish(vec![change("s1")]);
        // By the time a stream hears of it, the cache already knows.
        let heard = live.recv().await.unwrap();
        assert_eq!(heard.student_id, "s1");
        assert!(cache.version("s1") > before);
        tokio::time::timeout(Duration::from_secs(1), push.notified())
            .await
            .expect("push outbox woken");
        tokio::time::timeout(Duration::from_secs(1), issuer.notified())
            .await
            .expect("issuer outbox woken");
        assert_eq!(peer_rx.recv().await.unwrap().student_id, "s1");

        // A peer's change is announced here but not sent back to the peers.
        feed.heard_from_peer(vec![change("s2")]);
        assert_eq!(live.recv().await.unwrap().student_id, "s2");
        assert!(peer_rx.try_recv().is_err());
    }
}

/// The most live streams one student keeps open in this process; a new
/// one beyond it ends the oldest (most likely a phone that lost its
/// connection without closing it). As many as the devices a student keeps.
pub const MAX_STREAMS_PER_STUDENT: usize = crate::push::store::MAX_DEVICES as usize;

/// A student's open streams, oldest first: each one's id and its bell.
type Open = Vec<(u64, Arc<Notify>)>;

/// The live streams open in this process, per student.
#[derive(Default)]
pub struct LiveStreams {
    open: std::sync::Mutex<std::collections::HashMap<String, Open>>,
    next: std::sync::atomic::AtomicU64,
}

/// One open stream's place; it leaves when dropped (the stream ended).
pub struct StreamSlot {
    streams: Arc<LiveStreams>,
    student: String,
    id: u64,
    /// Rung when a newer stream of the student takes this one's place.
    pub replaced: Arc<Notify>,
}

impl LiveStreams {
    /// A place for a new stream of `student`, ending their oldest one if
    /// they are at the cap.
    pub fn open(self: &Arc<Self>, student: &str) -> StreamSlot {
        metrics::gauge!(LIVE_STREAMS_METRIC).increment(1.0);
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let replaced = Arc::new(Notify::new());
        let mut open = self.open.lock().expect("live streams lock");
        let list = open.entry(student.to_owned()).or_default();
        while list.len() >= MAX_STREAMS_PER_STUDENT {
            let (_, oldest) = list.remove(0);
            oldest.notify_one();
        }
        list.push((id, Arc::clone(&replaced)));
        StreamSlot {
            streams: Arc::clone(self),
            student: student.to_owned(),
            id,
            replaced,
        }
    }

    /// How many streams `student` has open here.
    pub fn count(&self, student: &str) -> usize {
        self.open
            .lock()
            .expect("live streams lock")
            .get(student)
            .map_or(0, Vec::len)
    }
}

/// The metric of live streams open in this process (`ops::metrics` describes it).
pub const LIVE_STREAMS_METRIC: &str = "legitka_live_streams";

impl Drop for StreamSlot {
    fn drop(&mut self) {
        metrics::gauge!(LIVE_STREAMS_METRIC).decrement(1.0);
        let mut open = self.streams.open.lock().expect("live streams lock");
        if let Some(list) = open.get_mut(&self.student) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                open.remove(&self.student);
            }
        }
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[tokio::test]
    async fn a_student_beyond_the_cap_ends_their_oldest_stream() {
        let streams = Arc::new(LiveStreams::default());
        let slots: Vec<_> = (0..MAX_STREAMS_PER_STUDENT)
            .map(|_| streams.open("anna"))
            .collect();
        let other = streams.open("bartek");
        assert_eq!(streams.count("anna"), MAX_STREAMS_PER_STUDENT);
        let newest = streams.open("anna");
        // The oldest was told to end; the others were not.
        tokio::time::timeout(
            std::time::Duration::from_millis(100),
            slots[0].replaced.notified(),
        )
        .await
        .expect("the oldest ends");
        assert!(
            tokio::time::timeout(
                std::time::Duration::from_millis(50),
                slots[1].replaced.notified()
            )
            .await
            .is_err()
        );
        assert_eq!(streams.count("anna"), MAX_STREAMS_PER_STUDENT);
        drop(slots);
        assert_eq!(streams.count("anna"), 1);
        drop(newest);
        assert_eq!(streams.count("anna"), 0);
        assert_eq!(streams.count("bartek"), 1);
        drop(other);
    }
}
