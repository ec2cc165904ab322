//! The student registry the university feeds us.

use crate::crypto::SecretBox;
use crate::db::Db;
use crate::error::AppResult;
use crate::orders::eligibility::{RegistryFacts, StudyLevel};
use legitka_wire::StudentSummary;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

#[derive(Clone, Debug)]
pub struct Student {
    pub id: String,
    /// The USOS university whose sign-in vouches for the student; `None`
    /// for the university's own registry (native).
    pub university: Option<String>,
    /// Never printed (`Secret`), like everything here that identifies.
    pub password_hash: crate::crypto::Secret<String>,
    pub summary: StudentSummary,
    pub facts: RegistryFacts,
    /// What the card will carry beyond the summary (never logged: the
    /// PESEL is kept only masked here).
    pub card: CardData,
}

/// The registry's data the card shows, as the student may see it.
#[derive(Clone, Debug, Default)]
pub struct CardData {
    pub birth_date: Option<String>,
    pub pesel_masked: Option<String>,
    pub els_number: Option<String>,
    /// The photo's file name in the server's `photos_dir`.
    pub photo_ref: Option<String>,
}

/// A student as the university's registry describes them (import and demo
/// data). `Debug` shows neither the password hash nor the whole PESEL.
#[derive(Clone, Debug)]
pub struct NewStudent {
    pub username: String,
    pub password_hash: crate::crypto::Secret<String>,
    pub first_name: String,
    pub last_name: String,
    pub pesel: Option<crate::pesel::Pesel>,
    pub album_number: Option<String>,
    pub active: bool,
    pub has_photo: bool,
    pub els_number: Option<String>,
    pub els_valid_until: Option<i64>,
    pub els_issued_at: Option<i64>,
    pub data_changed_at: Option<i64>,
    pub study_level: StudyLevel,
    /// The university e-mail address notices go to (when SMTP is configured).
    pub email: Option<String>,
    /// The photo's file name in the server's `photos_dir`.
    pub photo_ref: Option<String>,
    /// `YYYY-MM-DD`, for a student without a PESEL (with one, its date).
    pub birth_date: Option<String>,
}

fn from_row(r: &AnyRow) -> AppResult<Student> {
    let level: String = r.try_get("study_level")?;
    let pesel: Option<String> = r.try_get("pesel_sealed")?;
    let album: Option<String> = r.try_get("album_number")?;
    let els: Option<String> = r.try_get("els_number")?;
    Ok(Student {
        id: r.try_get("id")?,
        university: r.try_get("university_id")?,
        password_hash: crate::crypto::Secret::new(r.try_get("password_hash")?),
        summary: StudentSummary {
            first_name: r.try_get("first_name")?,
            last_name: r.try_get("last_name")?,
            album_number: album.clone(),
        },
        facts: RegistryFacts {
            active: r.try_get::<i64, _>("active")? != 0,
            has_pesel: pesel.is_some(),
            has_album_number: album.is_some(),
            has_photo: r.try_get::<i64, _>("has_photo")? != 0,
            has_els: els.is_some(),
            els_valid_until: r.try_get("els_valid_until")?,
            els_issued_at: r.try_get("els_issued_at")?,
            data_changed_at: r.try_get("data_changed_at")?,
            study_level: StudyLevel::parse(&level)
                .ok_or_else(|| anyhow::anyhow!("unknown study level {level:?} in the registry"))?,
        },
        card: CardData {
            birth_date: r.try_get("birth_date")?,
            pesel_masked: r.try_get("pesel_masked")?,
            els_number: els,
            photo_ref: r.try_get("photo_ref")?,
        },
    })
}

pub async fn by_username(pool: &AnyPool, username: &str) -> AppResult<Option<Student>> {
    let row = sqlx::query("SELECT * FROM students WHERE username = $1")
        .bind(username)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_id(pool: &AnyPool, id: &str) -> AppResult<Option<Student>> {
    let row = sqlx::query("SELECT * FROM students WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

const INSERT_STUDENT: &str = "INSERT INTO students (id, username, password_hash, first_name, \
     last_name, pesel_sealed, album_number, active, has_photo, els_number, els_valid_until, \
     els_issued_at, data_changed_at, study_level, email, photo_ref, birth_date, pesel_masked) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
     ON CONFLICT (username) ";

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, <sqlx::Any as sqlx::Database>::Arguments>;

/// `INSERT_STUDENT` + `on_conflict`, with the student's fields bound as
/// $1…$18: the PESEL sealed, its masked form beside it, and the birth date
/// the PESEL's when it has one.
fn insert_student<'q>(
    on_conflict: &str,
    id: String,
    s: &'q NewStudent,
    secrets: &SecretBox,
) -> AppResult<Query<'q>> {
    let pesel = s.pesel.as_ref().map(|p| stored(p, secrets)).transpose()?;
    let (sealed, masked, from_pesel) = match pesel {
        Some(p) => (Some(p.sealed), Some(p.masked), Some(p.birth_date)),
        None => (None, None, None),
    };
    let birth_date = from_pesel.or_else(|| s.birth_date.clone());
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "{INSERT_STUDENT}{on_conflict}"
    )))
    .bind(id)
    .bind(&s.username)
    .bind(s.password_hash.expose())
    .bind(&s.first_name)
    .bind(&s.last_name)
    .bind(sealed)
    .bind(&s.album_number)
    .bind(i64::from(s.active))
    .bind(i64::from(s.has_photo))
    .bind(&s.els_number)
    .bind(s.els_valid_until)
    .bind(s.els_issued_at)
    .bind(s.data_changed_at)
    .bind(s.study_level.as_str())
    .bind(&s.email)
    .bind(&s.photo_ref)
    .bind(birth_date)
    .bind(masked))
}

/// Inserts a student unless the username exists. Returns whether it was inserted.
pub async fn insert_if_absent(
    pool: &AnyPool,
    secrets: &SecretBox,
    s: &NewStudent,
) -> AppResult<bool> {
    let done = insert_student("DO NOTHING", uuid::Uuid::new_v4().to_string(), s, secrets)?
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Inserts or updates a student by username inside an import transaction.
/// Returns whether the student is new.
pub async fn upsert(
    tx: &mut crate::db::Tx,
    secrets: &SecretBox,
    s: &NewStudent,
) -> AppResult<bool> {
    let existed: Option<String> = sqlx::query_scalar("SELECT id FROM students WHERE username = $1")
        .bind(&s.username)
        .fetch_optional(&mut **tx)
        .await?;
    let id = existed
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    insert_student(
        "DO UPDATE SET password_hash = $3, first_name = $4, last_name = $5, pesel_sealed = $6, \
         album_number = $7, active = $8, has_photo = $9, els_number = $10, \
         els_valid_until = $11, els_issued_at = $12, data_changed_at = $13, study_level = $14, \
         email = $15, photo_ref = $16, birth_date = $17, pesel_masked = $18",
        id,
        s,
        secrets,
    )?
    .execute(&mut **tx)
    .await?;
    Ok(existed.is_none())
}

/// The student a university's own sign-in (USOS) vouches for, created on
/// their first sign-in and renamed as the university names them. They
/// have no password here (`!` never verifies). Returns the student's id.
pub async fn upsert_external(
    pool: &AnyPool,
    university_id: &str,
    external_id: &str,
    first_name: &str,
    last_name: &str,
) -> AppResult<String> {
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE students SET first_name = $1, last_name = $2 \
         WHERE university_id = $3 AND external_id = $4 RETURNING id",
    )
    .bind(first_name)
    .bind(last_name)
    .bind(university_id)
    .bind(external_id)
    .fetch_optional(pool)
    .await?;
    if let Some(id) = id {
        return Ok(id);
    }
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO students (id, username, password_hash, first_name, last_name, active, \
         has_photo, study_level, university_id, external_id) \
         VALUES ($1, $2, '!', $3, $4, 1, 0, $5, $6, $7) \
         ON CONFLICT (university_id, external_id) DO NOTHING",
    )
    .bind(&id)
    .bind(format!("{university_id}:{external_id}"))
    .bind(first_name)
    .bind(last_name)
    .bind(StudyLevel::FirstCycle.as_str())
    .bind(university_id)
    .bind(external_id)
    .execute(pool)
    .await?;
    // A concurrent first sign-in may have won: its row is the student.
    let id: String =
        sqlx::query_scalar("SELECT id FROM students WHERE university_id = $1 AND external_id = $2")
            .bind(university_id)
            .bind(external_id)
            .fetch_one(pool)
            .await?;
    Ok(id)
}

/// The registry's sealed column (`rotate-key` re-seals it).
pub const SEALED: crate::crypto::SealedColumn = crate::crypto::SealedColumn {
    table: "students",
    key: "id",
    column: "pesel_sealed",
};

/// Empties a student's record for `erase`: names, PESEL, numbers, contact,
/// photo, password — all gone; the row stays (as `erased-<id>`, never able
/// to sign in) so their orders' history stays whole and names no one.
pub async fn erase(tx: &mut crate::db::Tx, student_id: &str, now: i64) -> AppResult<()> {
    sqlx::query(
        "UPDATE students SET username = $2, password_hash = '!', first_name = '', \
         last_name = '', pesel_sealed = NULL, pesel_masked = NULL, album_number = NULL, \
         els_number = NULL, email = NULL, photo_ref = NULL, birth_date = NULL, \
         external_id = NULL, active = 0, erased_at = $3 WHERE id = $1",
    )
    .bind(student_id)
    .bind(format!("erased-{student_id}"))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What the registry keeps of a PESEL: sealed (the issuer needs it
/// whole), masked (what anyone is shown), and the birth date it carries.
struct StoredPesel {
    sealed: String,
    masked: String,
    birth_date: String,
}

fn stored(p: &crate::pesel::Pesel, secrets: &SecretBox) -> anyhow::Result<StoredPesel> {
    Ok(StoredPesel {
        sealed: secrets.seal(p.expose().as_bytes())?,
        masked: crate::pesel::masked(p.expose()),
        birth_date: p.birth_date().to_string(),
    })
}

/// Seals the PESELs a registry from before sealing keeps in the clear
/// (`migrate` runs it after the schema's migrations): each becomes its
/// sealed form, its masked form and, where the registry had none, the
/// birth date it carries. Returns how many were sealed.
pub async fn seal_plain_pesels(db: &Db, secrets: &SecretBox) -> anyhow::Result<usize> {
    let rows = sqlx::query(
        "SELECT id, pesel_sealed FROM students \
         WHERE pesel_sealed IS NOT NULL AND pesel_masked IS NULL",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut tx = db.begin().await?;
    for row in &rows {
        let id: String = row.try_get("id")?;
        let plain: String = row.try_get("pesel_sealed")?;
        let pesel = crate::pesel::Pesel::parse(&plain)
            .map_err(|e| anyhow::anyhow!("student {id}: the stored PESEL is not valid: {e}"))?;
        let p = stored(&pesel, secrets)?;
        sqlx::query(
            "UPDATE students SET pesel_sealed = $1, pesel_masked = $2, \
             birth_date = COALESCE(birth_date, $3) WHERE id = $4",
        )
        .bind(p.sealed)
        .bind(p.masked)
        .bind(p.birth_date)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_student_never_prints_their_pesel_or_password_hash() {
        let pesel = crate::pesel::Pesel::parse("02270803624").unwrap();
        let s = NewStudent {
            username: "jan".into(),
            password_hash: crate::crypto::Secret::new(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            ),
            first_name: "Jan".into(),
            last_name: "Nowak".into(),
            pesel: Some(pesel),
            album_number: None,
            active: true,
            has_photo: true,
            els_number: None,
            els_valid_until: None,
            els_issued_at: None,
            data_changed_at: None,
            study_level: StudyLevel::FirstCycle,
            email: None,
            photo_ref: None,
            birth_date: None,
        };
        let printed = format!("{s:?} {s:#?}");
        assert!(!printed.contains("02270803624"), "{printed}");
        assert!(!printed.contains("argon2id"), "{printed}");
        assert!(
            printed.contains("*********24"),
            "the masked form is fine: {printed}"
        );
    }
}
