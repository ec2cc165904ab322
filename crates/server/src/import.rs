//! Student registry import from CSV: every row is checked first; any bad
//! row means nothing is written, and the report names each one by line.
//! Good files are applied in one transaction (new usernames inserted,
//! known ones updated: the semester's sync).

use crate::error::AppError;
use crate::orders::eligibility::StudyLevel;
use crate::pesel::Pesel;
use crate::registry::NewStudent;
use crate::state::AppState;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::Read;

/// The columns, in any order; empty optional cells mean "none".
pub const COLUMNS: &str = "username,password_hash,first_name,last_name,pesel,album_number,\
                           active,has_photo,els_number,els_valid_until,els_issued_at,\
                           data_changed_at,study_level";
/// Columns a file may have besides [`COLUMNS`].
pub const OPTIONAL_COLUMNS: &str = "email,photo_ref,birth_date";

#[derive(Deserialize)]
struct Row {
    username: String,
    /// Empty (or no column) where students sign in through the
    /// university's directory: the registry then keeps no passwords.
    #[serde(default)]
    password_hash: Option<String>,
    first_name: String,
    last_name: String,
    pesel: Option<String>,
    album_number: Option<String>,
    active: String,
    has_photo: String,
    els_number: Option<String>,
    els_valid_until: Option<String>,
    els_issued_at: Option<String>,
    data_changed_at: Option<String>,
    study_level: String,
    /// Optional column: the university e-mail address.
    #[serde(default)]
    email: Option<String>,
    /// Optional column: the photo's file name in `photos_dir`.
    #[serde(default)]
    photo_ref: Option<String>,
    /// Optional column: the birth date, for a student without a PESEL.
    #[serde(default)]
    birth_date: Option<String>,
}

/// A photo's file name: a plain name (no folders) ending in .jpg, .jpeg
/// or .png, as the server reads it from `photos_dir`.
pub fn photo_name_ok(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && [".jpg", ".jpeg", ".png"].iter().any(|e| lower.ends_with(e))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub inserted: usize,
    pub updated: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} bad row(s); nothing was imported", .0.len())]
    BadRows(Vec<BadRow>),
    #[error(transparent)]
    Failed(#[from] AppError),
}

fn flag(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "tak" => Ok(true),
        "0" | "false" | "no" | "nie" => Ok(false),
        other => Err(format!("expected true/false, got {other:?}")),
    }
}

/// A date (`YYYY-MM-DD`, a day in Poland) as Unix milliseconds at its start.
pub fn date_ms(s: &str) -> Result<i64, String> {
    crate::calendar::day_start(s)
}

/// "Valid until 2027-03-31" means through that day.
fn valid_until_ms(s: &str) -> Result<i64, String> {
    crate::calendar::day_end(s)
}

fn opt(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn opt_date(
    v: Option<String>,
    f: fn(&str) -> Result<i64, String>,
    what: &str,
) -> Result<Option<i64>, String> {
    opt(v)
        .map(|s| f(&s).map_err(|e| format!("{what}: {e}")))
        .transpose()
}

/// Whether the registry keeps passwords (`identity = "password"`) or not
/// (a directory checks them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passwords {
    Kept,
    Elsewhere,
}

fn check(row: Row, passwords: Passwords) -> Result<NewStudent, String> {
    let username = row.username.trim().to_owned();
    if username.is_empty() || username.len() > 100 || username.chars().any(char::is_whitespace) {
        return Err("username must be 1–100 characters without spaces".into());
    }
    let password_hash = opt(row.password_hash).unwrap_or_default();
    match passwords {
        Passwords::Kept => crate::passwords::hash_ok(&password_hash)
            .map_err(|why| format!("password_hash: {why}"))?,
        Passwords::Elsewhere if !password_hash.is_empty() => {
            return Err(
                "password_hash: leave it empty: students sign in through the \
                 university's directory, and the registry keeps no passwords"
                    .into(),
            );
        }
        Passwords::Elsewhere => {}
    }
    let first_name = row.first_name.trim().to_owned();
    let last_name = row.last_name.trim().to_owned();
    if first_name.is_empty() || last_name.is_empty() {
        return Err("first_name and last_name are required".into());
    }
    let pesel = opt(row.pesel)
        .map(|p| Pesel::parse(&p).map_err(|e| e.to_string()))
        .transpose()?;
    let els_number = opt(row.els_number);
    let els_valid_until = opt_date(row.els_valid_until, valid_until_ms, "els_valid_until")?;
    if els_number.is_some() != els_valid_until.is_some() {
        return Err("els_number and els_valid_until go together".into());
    }
    let email = opt(row.email);
    if email
        .as_deref()
        .is_some_and(|e| e.parse::<lettre::Address>().is_err())
    {
        return Err(format!(
            "email is not an address: {:?}",
            email.unwrap_or_default()
        ));
    }
    let has_photo = flag(&row.has_photo).map_err(|e| format!("has_photo: {e}"))?;
    let photo_ref = opt(row.photo_ref);
    if let Some(name) = &photo_ref {
        if !photo_name_ok(name) {
            return Err(format!(
                "photo_ref must be a file name (letters, digits, . _ -) ending in .jpg, .jpeg or .png, got {name:?}"
            ));
        }
        if !has_photo {
            return Err("photo_ref given but has_photo is false".into());
        }
    }
    let birth_date = opt(row.birth_date);
    if let Some(day) = &birth_date {
        crate::calendar::day_start(day).map_err(|e| format!("birth_date: {e}"))?;
        if let Some(p) = &pesel
            && p.birth_date().to_string() != *day
        {
            return Err(format!(
                "birth_date {day} is not the PESEL's ({})",
                p.birth_date()
            ));
        }
    }
    Ok(NewStudent {
        email,
        photo_ref,
        birth_date,
        username,
        password_hash: crate::crypto::Secret::new(password_hash),
        first_name,
        last_name,
        pesel,
        album_number: opt(row.album_number),
        active: flag(&row.active).map_err(|e| format!("active: {e}"))?,
        has_photo,
        els_number,
        els_valid_until,
        els_issued_at: opt_date(row.els_issued_at, date_ms, "els_issued_at")?,
        data_changed_at: opt_date(row.data_changed_at, date_ms, "data_changed_at")?,
        study_level: StudyLevel::parse(row.study_level.trim()).ok_or_else(|| {
            format!(
                "study_level must be first_cycle, second_cycle, long_cycle, doctoral or postgraduate, got {:?}",
                row.study_level.trim()
            )
        })?,
    })
}

/// Reads and checks every row. Any bad row → all of them are reported.
pub fn parse(input: impl Read, passwords: Passwords) -> Result<Vec<NewStudent>, Vec<BadRow>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(input);
    let mut good = vec![];
    let mut bad = vec![];
    let mut seen: HashMap<String, u64> = HashMap::new();
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![BadRow {
                line: 1,
                reason: format!("unreadable header: {e}"),
            }]);
        }
    };
    for record in reader.records() {
        let (line, result) = match record {
            Err(e) => (
                e.position().map_or(0, csv::Position::line),
                Err(format!("unreadable row: {e}")),
            ),
            Ok(rec) => {
                let line = rec.position().map_or(0, csv::Position::line);
                let row = rec
                    .deserialize::<Row>(Some(&headers))
                    .map_err(|e| format!("missing or malformed column: {e}"));
                (line, row.and_then(|row| check(row, passwords)))
            }
        };
        match result {
            Ok(s) => match seen.insert(s.username.clone(), line) {
                Some(first) => bad.push(BadRow {
                    line,
                    reason: format!("username {:?} repeats line {first}", s.username),
                }),
                None => good.push(s),
            },
            Err(reason) => bad.push(BadRow { line, reason }),
        }
    }
    if bad.is_empty() { Ok(good) } else { Err(bad) }
}

/// Imports a CSV file: all rows or none.
pub async fn import_students(
    state: &AppState,
    input: impl Read,
) -> Result<ImportReport, ImportError> {
    let passwords = if state.identity.uses_registry_passwords() {
        Passwords::Kept
    } else {
        Passwords::Elsewhere
    };
    let students = parse(input, passwords).map_err(ImportError::BadRows)?;
    let mut report = ImportReport::default();
    let mut tx = state.db.begin().await.map_err(AppError::from)?;
    for s in &students {
        if crate::registry::upsert(&mut tx, &state.secrets, s).await? {
            report.inserted += 1;
        } else {
            report.updated += 1;
        }
    }
    tx.commit().await.map_err(AppError::from)?;
    state.cache.bump_all();
    tracing::info!(
        inserted = report.inserted,
        updated = report.updated,
        "students imported"
    );
    Ok(report)
}

/// Fills the registry from the university's directory (`ldap-sync`): the
/// same checks and the same all-or-nothing transaction as a CSV file, one
/// row per entry (a bad row's line is 1 + its entry's place, from 1).
pub async fn import_directory(
    state: &AppState,
    students: &[crate::identity::ldap::DirectoryStudent],
) -> Result<ImportReport, ImportError> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = students
        .first()
        .map(|s| s.columns.iter().map(|(c, _)| *c).collect())
        .unwrap_or_default();
    let write = |csv: &mut csv::Writer<Vec<u8>>, row: Vec<&str>| {
        csv.write_record(row)
            .map_err(|e| ImportError::Failed(anyhow::Error::from(e).into()))
    };
    write(&mut csv, header)?;
    for s in students {
        write(
            &mut csv,
            s.columns.iter().map(|(_, v)| v.as_str()).collect(),
        )?;
    }
    let text = csv
        .into_inner()
        .map_err(|e| ImportError::Failed(anyhow::anyhow!("{e}").into()))?;
    import_students(state, text.as_slice()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_a_directory_the_registry_keeps_no_passwords() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$9HUdYJbstjG2t99XVBZK0A$xG5UoGZPCV6eZQg/JqApHf/KSA+XcBXsNWyfmqVdsDc";
        let row = |user: &str, hash: &str| {
            format!("{user},\"{hash}\",Jan,Nowak,,1,true,true,,,,,first_cycle\n")
        };
        // Left empty: fine with a directory, refused where passwords are kept.
        let empty = format!("{COLUMNS}\n{}", row("jan", ""));
        let students = parse(empty.as_bytes(), Passwords::Elsewhere).expect("no passwords");
        assert_eq!(students[0].password_hash.expose(), "");
        assert!(parse(empty.as_bytes(), Passwords::Kept).is_err());
        // A hash given with a directory: refused, not kept.
        let given = format!("{COLUMNS}\n{}", row("jan", hash));
        let rows = parse(given.as_bytes(), Passwords::Elsewhere).unwrap_err();
        assert!(rows[0].reason.contains("leave it empty"), "{:?}", rows[0]);
        // Or no column at all.
        let columns = COLUMNS.replace("password_hash,", "");
        let csv = format!("{columns}\njan,Jan,Nowak,,1,true,true,,,,,first_cycle\n");
        assert_eq!(
            parse(csv.as_bytes(), Passwords::Elsewhere).unwrap().len(),
            1
        );
    }

    #[test]
    fn an_email_column_is_optional_and_checked() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$9HUdYJbstjG2t99XVBZK0A$xG5UoGZPCV6eZQg/JqApHf/KSA+XcBXsNWyfmqVdsDc";
        let row = |user: &str, email: &str| {
            format!("{user},\"{hash}\",Jan,Nowak,,1,true,true,,,,,first_cycle,{email}\n")
        };
        let csv = format!(
            "{COLUMNS},email\n{}{}",
            row("jan", "jan.nowak@student.uczelnia.example"),
            row("ola", "")
        );
        let students = parse(csv.as_bytes(), Passwords::Kept).expect("good rows");
        assert_eq!(
            students[0].email.as_deref(),
            Some("jan.nowak@student.uczelnia.example")
        );
        assert_eq!(students[1].email, None);
        let bad = format!("{COLUMNS},email\n{}", row("ela", "not an address"));
        let rows = parse(bad.as_bytes(), Passwords::Kept).unwrap_err();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].reason.contains("email"), "{:?}", rows[0]);
        // Without the column at all, as before.
        let csv = format!("{COLUMNS}\n{}", row("jan", "").trim_end_matches(",\n"));
        assert_eq!(
            parse(csv.as_bytes(), Passwords::Kept).expect("no email column")[0].email,
            None
        );
    }

    #[test]
    fn a_photo_reference_and_a_birth_date_are_optional_and_checked() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$9HUdYJbstjG2t99XVBZK0A$xG5UoGZPCV6eZQg/JqApHf/KSA+XcBXsNWyfmqVdsDc";
        // PESEL 02270803624: born 2002-07-08.
        let row = |user: &str, pesel: &str, has_photo: bool, photo: &str, born: &str| {
            format!(
                "{user},\"{hash}\",Jan,Nowak,{pesel},1,true,{has_photo},,,,,first_cycle,,{photo},{born}\n"
            )
        };
        let csv = format!(
            "{COLUMNS},{OPTIONAL_COLUMNS}\n{}{}{}",
            row("jan", "02270803624", true, "100200.jpg", "2002-07-08"),
            row("ola", "", true, "ola_2.PNG", "2001-02-28"),
            row("ela", "", false, "", ""),
        );
        let students = parse(csv.as_bytes(), Passwords::Kept).expect("good rows");
        assert_eq!(students[0].photo_ref.as_deref(), Some("100200.jpg"));
        assert_eq!(students[0].birth_date.as_deref(), Some("2002-07-08"));
        assert_eq!(students[1].birth_date.as_deref(), Some("2001-02-28"));
        assert_eq!(
            (
                students[2].photo_ref.clone(),
                students[2].birth_date.clone()
            ),
            (None, None)
        );

        for (bad, why) in [
            (row("a", "", true, "../etc/passwd.jpg", ""), "photo_ref"),
            (row("b", "", true, "photo.gif", ""), "photo_ref"),
            (row("c", "", true, "sub/dir.jpg", ""), "photo_ref"),
            (row("d", "", false, "d.jpg", ""), "has_photo is false"),
            (row("e", "", true, "", "2001-02-30"), "birth_date"),
            (
                row("f", "02270803624", true, "", "2002-07-09"),
                "not the PESEL's",
            ),
        ] {
            let csv = format!("{COLUMNS},{OPTIONAL_COLUMNS}\n{bad}");
            let rows = parse(csv.as_bytes(), Passwords::Kept).unwrap_err();
            assert!(rows[0].reason.contains(why), "{bad}: {:?}", rows[0]);
        }
    }
}
