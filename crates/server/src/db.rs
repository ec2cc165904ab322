//! The database: SQLite by default (a file, WAL, created on first start) or
//! PostgreSQL for multi-instance deployments, with the same migrations,
//! run by `migrate` (or `serve --migrate`), never quietly on connect.
//! Only this crate knows SQL; queries are written in the dialect both
//! accept (`$n` placeholders, TEXT ids, BIGINT times and flags).

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The schema's migrations: how many of this version's are applied, and
/// how many applied ones this version does not know (a newer version ran).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    pub applied: usize,
    pub known: usize,
    pub unknown: usize,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite has one writer at a time: this process's write transactions
    /// take turns here, first come first served, instead of on SQLite's
    /// busy timeout (which sleeps and tries again, longer each time).
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction; on SQLite it also holds this process's turn to
/// write until it ends. It reads and writes as the connection it derefs to.
pub struct Tx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Db {
    /// Opens an existing database (a missing SQLite file is an error, so a
    /// mistyped path never starts on an empty database).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::open(url, false).await
    }

    /// Opens the database, creating an SQLite file that is not there yet
    /// (`migrate`, `serve --migrate`).
    pub async fn connect_creating(url: &str) -> anyhow::Result<Self> {
        Self::open(url, true).await
    }

    async fn open(url: &str, create: bool) -> anyhow::Result<Self> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            anyhow::bail!(
                "unsupported database URL (expected sqlite:… or postgres://…): {}",
                redact(url)
            );
        };
        if let Some(path) = sqlite_path(url) {
            let path = std::path::Path::new(path);
            if create {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
            } else {
                anyhow::ensure!(
                    path.exists(),
                    "no database at {}: run `legitka-server migrate` to create it \
                     (or check database_url)",
                    path.display()
                );
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&if create {
                with_create_mode(url)
            } else {
                url.to_owned()
            })
            .await
            .with_context(|| format!("connecting to {}", redact(url)))?;
        Ok(Self {
            pool,
            backend,
            writer: std::sync::Arc::default(),
        })
    }

    /// Brings the schema up to this version's (`migrate`, `serve --migrate`).
    /// Returns how many migrations ran.
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        let before = self.schema().await?.applied;
        MIGRATOR
            .run(&self.pool)
            .await
            .context("running migrations")?;
        Ok(self.schema().await?.applied - before)
    }

    /// How the database's schema compares with this version's migrations.
    pub async fn schema(&self) -> anyhow::Result<Schema> {
        let known: std::collections::BTreeSet<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        let table = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '_sqlx_migrations' \
                 AND table_schema = current_schema()"
            }
        };
        let exists: i64 = sqlx::query_scalar(table).fetch_one(&self.pool).await?;
        let applied: Vec<i64> = if exists > 0 {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(&self.pool)
                .await?
        } else {
            vec![]
        };
        let applied: std::collections::BTreeSet<i64> = applied.into_iter().collect();
        Ok(Schema {
            applied: applied.intersection(&known).count(),
            known: known.len(),
            unknown: applied.difference(&known).count(),
        })
    }

    /// Refuses a schema this version cannot run on, saying what to do.
    pub async fn require_current(&self) -> anyhow::Result<()> {
        let s = self.schema().await?;
        anyhow::ensure!(
            s.applied == s.known,
            "the database schema is behind this version ({} of {} migrations applied): \
             run `legitka-server migrate` (or start with `serve --migrate`)",
            s.applied,
            s.known
        );
        Ok(())
    }

    /// Begins a write transaction. On SQLite it waits for this process's
    /// turn to write (before taking a connection), then takes the write
    /// lock up front (`BEGIN IMMEDIATE`), so a writer never fails when a
    /// read lock cannot be upgraded; other processes' writers (a second
    /// instance, the admin tools) still wait on the busy timeout.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = std::sync::Arc::clone(&self.writer).lock_owned().await;
                Tx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                }
            }
            Backend::Postgres => Tx {
                tx: self.pool.begin().await?,
                _turn: None,
            },
        })
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

fn with_create_mode(url: &str) -> String {
    if url.starts_with("sqlite:") && !url.contains("mode=") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_owned()
    }
}

/// Database URLs may carry passwords.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

/// Runs each statement with `value` bound as `$1`, in order, inside `tx`
/// (a group of deletes that must go together). Returns the rows touched.
pub async fn each_with<'v, V>(tx: &mut Tx, statements: &[&str], value: V) -> sqlx::Result<u64>
where
    V: 'v + sqlx::Encode<'v, sqlx::Any> + sqlx::Type<sqlx::Any> + Clone + Send,
{
    let mut touched = 0;
    for sql in statements {
        touched += sqlx::query(sqlx::AssertSqlSafe(*sql))
            .bind(value.clone())
            .execute(&mut **tx)
            .await?
            .rows_affected();
    }
    Ok(touched)
}

/// True when the error is a unique-constraint violation (a lost race or a duplicate).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite_path("sqlite://data/l.db"), Some("data/l.db"));
        assert_eq!(sqlite_path("sqlite:l.db?mode=rwc"), Some("l.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(with_create_mode("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert_eq!(
            with_create_mode("sqlite://a.db?x=1"),
            "sqlite://a.db?x=1&mode=rwc"
        );
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@127.0.0.1/db"),
            "postgres://***@127.0.0.1/db"
        );
        assert_eq!(redact("sqlite://a.db"), "sqlite://a.db");
    }
}
