//! Password checks (argon2id): on a few threads of their own, one per core
//! or `password_checks_at_once`, and only for hashes with sane parameters.
//! No session and no state here: the identity adapters and the import use it.

use crate::error::{AppError, AppResult};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Password hashing is memory-hungry (about 19 MiB each): at most one per
/// core runs at once, and a check that cannot start within this long is
/// answered "busy" instead of queueing without end.
const HASHING_QUEUE: std::time::Duration = std::time::Duration::from_secs(5);

static CHECKS_AT_ONCE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many password checks run at once in this process (`0`: one per
/// core). Set before the first check (`password_checks_at_once`).
pub fn set_password_checks_at_once(n: usize) {
    CHECKS_AT_ONCE.store(n, std::sync::atomic::Ordering::Relaxed);
}

fn checks_at_once() -> usize {
    match CHECKS_AT_ONCE.load(std::sync::atomic::Ordering::Relaxed) {
        0 => std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
        n => n,
    }
}

fn hashing() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(checks_at_once()))
}

type HashJob = Box<dyn FnOnce() + Send>;

/// The threads that hash passwords, as many as checks run at once. A
/// fixed few: the allocator keeps the memory a thread used for the next
/// hash on the same thread, instead of a fresh heap on every thread of
/// tokio's blocking pool (which kept ~360 MiB after a flood, not ~40).
fn hash_threads() -> &'static std::sync::Mutex<std::sync::mpsc::Sender<HashJob>> {
    static POOL: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>> =
        std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..checks_at_once() {
            let rx = std::sync::Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("password-check-{i}"))
                .spawn(move || {
                    loop {
                        let job = rx.lock().expect("hash queue lock").recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("a password-check thread starts");
        }
        std::sync::Mutex::new(tx)
    })
}

/// Runs `f` on a password-check thread (the caller holds a slot).
async fn on_hash_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    hash_threads()
        .lock()
        .expect("hash queue lock")
        .send(Box::new(move || {
            let _ = tx.send(f());
        }))
        .map_err(|_| anyhow::anyhow!("the password-check threads are gone"))?;
    Ok(rx.await?)
}

/// A slot for one password hash, or "busy, retry in a moment".
async fn hashing_slot() -> AppResult<tokio::sync::SemaphorePermit<'static>> {
    match tokio::time::timeout(HASHING_QUEUE, hashing().acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(AppError::Busy {
            retry_after_secs: 2,
        }),
    }
}

/// The argon2 a stored hash may ask this server to run: argon2id, with a
/// memory cost between 8 MiB and 256 MiB, 1–10 passes and 1–8 lanes. A
/// hash outside that (an import's typo, or a hostile value) would cost
/// too much, or protect too little.
pub fn hash_ok(phc: &str) -> Result<(), String> {
    let h = argon2::password_hash::phc::PasswordHash::new(phc)
        .map_err(|_| "not a PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)".to_owned())?;
    if h.algorithm.as_str() != "argon2id" {
        return Err(format!("{} is not argon2id", h.algorithm.as_str()));
    }
    let param = |name: &str| h.params.get_decimal(name).unwrap_or(0);
    let (m, t, p) = (param("m"), param("t"), param("p"));
    if !(8 * 1024..=256 * 1024).contains(&m) || !(1..=10).contains(&t) || !(1..=8).contains(&p) {
        return Err(format!(
            "argon2id parameters m={m},t={t},p={p} are outside m=8192–262144 (KiB), t=1–10, p=1–8"
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id (default parameters) on a password-check thread.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    let _slot = hashing_slot().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    on_hash_thread(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
    })
    .await?
}

/// Verifies on a password-check thread, one per core at a time. A missing
/// account still costs one verification, so timing does not tell which
/// usernames exist; so does a stored hash this server will not run.
pub async fn verify_password(password: String, hash: Option<String>) -> AppResult<bool> {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                         n6bwFhBH5pxLzhiSmpOJXzmBspdRcaxHvMWYV7axoXk";
    let hash = hash.filter(|h| match hash_ok(h) {
        Ok(()) => true,
        Err(why) => {
            tracing::warn!(
                why,
                "a stored password hash is refused: that account cannot sign in"
            );
            false
        }
    });
    let _slot = hashing_slot().await?;
    let checked = on_hash_thread(move || {
        let found = hash.is_some();
        let hash = hash.as_deref().unwrap_or(DUMMY);
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok();
        found && ok
    })
    .await?;
    Ok(checked)
}
