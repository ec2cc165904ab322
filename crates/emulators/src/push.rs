//! The skeleton the three push fakes share: what tests script and read
//! (`fail_next`, `unregister`, `received`, `receipt_times`), and how each
//! fake starts on a loopback port. Each fake derefs to its [`Fake`].

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

pub struct Fake<T> {
    /// Answers to give next, in turn: (status, Retry-After seconds).
    script: Mutex<VecDeque<(u16, Option<u64>)>>,
    unregistered: Mutex<HashSet<String>>,
    received: Mutex<Vec<T>>,
    /// (notice id, Unix ms) of each accepted push: latency measurements.
    stamps: Mutex<Vec<(String, i64)>>,
}

impl<T> Default for Fake<T> {
    fn default() -> Self {
        Self {
            script: Mutex::default(),
            unregistered: Mutex::default(),
            received: Mutex::default(),
            stamps: Mutex::default(),
        }
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl<T: Clone> Fake<T> {
    /// The next sends answer `status` (429, 503, 400 …), with `Retry-After`.
    pub fn fail_next(&self, status: u16, retry_after_secs: Option<u64>) {
        self.script
            .lock()
            .expect("lock")
            .push_back((status, retry_after_secs));
    }

    /// The device token is dead (the app was uninstalled).
    pub fn unregister(&self, device_token: &str) {
        self.unregistered
            .lock()
            .expect("lock")
            .insert(device_token.to_owned());
    }

    /// What was accepted so far.
    pub fn received(&self) -> Vec<T> {
        self.received.lock().expect("lock").clone()
    }

    /// When each push was accepted: (notice id, Unix milliseconds).
    pub fn receipt_times(&self) -> Vec<(String, i64)> {
        self.stamps.lock().expect("lock").clone()
    }

    /// The scripted answer for this send, if one is due.
    pub(crate) fn scripted(&self) -> Option<(u16, Option<u64>)> {
        self.script.lock().expect("lock").pop_front()
    }

    pub(crate) fn is_unregistered(&self, device_token: &str) -> bool {
        self.unregistered
            .lock()
            .expect("lock")
            .contains(device_token)
    }

    /// Keeps an accepted push; returns how many there are now.
    pub(crate) fn accept(&self, notice_id: &str, item: T) -> usize {
        self.stamps
            .lock()
            .expect("lock")
            .push((notice_id.to_owned(), now_ms()));
        let mut received = self.received.lock().expect("lock");
        received.push(item);
        received.len()
    }
}

/// A loopback port of its own, and its base URL.
pub async fn listen() -> std::io::Result<(tokio::net::TcpListener, String)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    Ok((listener, base_url))
}

/// Serves `app` on `listener` until the process ends.
pub fn serve_on(listener: tokio::net::TcpListener, app: axum::Router) {
    tokio::spawn(async move { axum::serve(listener, app).await });
}
