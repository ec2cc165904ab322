//! `backup`: a consistent copy of a live SQLite database (`VACUUM INTO`,
//! which reads one snapshot while the server goes on writing). PostgreSQL
//! is backed up with its own tools; the message says how.
//!
//! The copy holds sealed values only: without the activation key (kept
//! apart from the data, and backed up apart from it) it opens nothing.

use crate::db::{Backend, Db};
use anyhow::Context;
use std::path::Path;

pub const PG_DUMP_RECIPE: &str = "PostgreSQL is backed up with its own tools: \
    pg_dump --format=custom --file=legitka.dump \"$DATABASE_URL\" \
    (restore: pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" legitka.dump). \
    Back up the activation key apart from the dump.";

/// Writes the copy to `to` (which must not exist yet). Returns its size.
pub async fn backup(db: &Db, to: &Path) -> anyhow::Result<u64> {
    anyhow::ensure!(db.backend == Backend::Sqlite, "{PG_DUMP_RECIPE}");
    anyhow::ensure!(
        !to.exists(),
        "{} exists already: choose a new file",
        to.display()
    );
    let target = to
        .to_str()
        .context("the backup's path must be valid UTF-8")?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&db.pool)
        .await
        .with_context(|| format!("writing {}", to.display()))?;
    Ok(std::fs::metadata(to)?.len())
}
