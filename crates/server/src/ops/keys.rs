//! `rotate-key`: every sealed value moved to the current key.
//!
//! The way through (docs/operations.md): make the new key
//! `activation_key` and the old one `previous_activation_keys` on every
//! instance and restart them (both keys open; only the new one seals); run
//! `rotate-key`; then drop the old key. Each value is re-sealed by a
//! conditional update (only if it is still what was read), so it can run
//! beside live servers; a second run finds nothing left to do.

use crate::crypto::{SealedColumn, SecretBox};
use crate::db::Db;
use sqlx::Row;

/// Every sealed column, as its owner declares it.
pub fn sealed_columns() -> [SealedColumn; 5] {
    let [usos_logins, usos_tokens] = crate::usos::store::SEALED;
    [
        crate::registry::SEALED,
        crate::orders::store::SEALED,
        crate::push::store::SEALED,
        usos_logins,
        usos_tokens,
    ]
}

/// How many values of one column were moved to the current key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub column: String,
    pub resealed: u64,
}

const BATCH: i64 = 500;

pub async fn rotate(db: &Db, secrets: &SecretBox) -> anyhow::Result<Vec<Rotated>> {
    let mut out = Vec::new();
    let current = format!("{}:%", secrets.key_id());
    for c in sealed_columns() {
        let mut resealed = 0;
        loop {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {k} AS k, {col} AS v FROM {t} \
                 WHERE {col} IS NOT NULL AND {col} NOT LIKE $1 ORDER BY {k} LIMIT $2",
                k = c.key,
                col = c.column,
                t = c.table,
            ));
            let rows = sqlx::query(sql)
                .bind(&current)
                .bind(BATCH)
                .fetch_all(&db.pool)
                .await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = db.begin().await?;
            for row in &rows {
                let key: String = row.try_get("k")?;
                let old: String = row.try_get("v")?;
                let Some(new) = secrets
                    .reseal(&old)
                    .map_err(|e| anyhow::anyhow!("{}.{} of {key}: {e:#}", c.table, c.column))?
                else {
                    continue;
                };
                let sql = sqlx::AssertSqlSafe(format!(
                    "UPDATE {t} SET {col} = $1 WHERE {k} = $2 AND {col} = $3",
                    t = c.table,
                    col = c.column,
                    k = c.key,
                ));
                resealed += sqlx::query(sql)
                    .bind(new)
                    .bind(&key)
                    .bind(&old)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
        }
        out.push(Rotated {
            column: format!("{}.{}", c.table, c.column),
            resealed,
        });
    }
    Ok(out)
}
