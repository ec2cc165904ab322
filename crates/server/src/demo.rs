//! Demo students: one eligible, the others ineligible for different reasons.
//! Every demo password is [`DEMO_PASSWORD`].

use crate::auth::hash_password;
use crate::clock::DAY_MS;
use crate::orders::eligibility::StudyLevel;
use crate::pesel::Pesel;
use crate::registry::{self, NewStudent};
use crate::state::AppState;

pub const DEMO_PASSWORD: &str = "legitka";

/// (username, first name, last name, what makes them ineligible)
pub const DEMO_STUDENTS: [(&str, &str, &str, &str); 5] = [
    ("anna", "Anna", "Nowak", "eligible"),
    (
        "bartek",
        "Bartosz",
        "Wiśniewski",
        "ELS not extended this semester",
    ),
    ("celina", "Celina", "Kowalczyk", "no photo in the registry"),
    (
        "dawid",
        "Dawid",
        "Zieliński",
        "removed from the student list",
    ),
    ("ewa", "Ewa", "Lewandowska", "doctoral student"),
];

/// Seeds the demo students; existing usernames are left alone. Returns how many were added.
pub async fn seed(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now_ms();
    let hash = hash_password(DEMO_PASSWORD.to_owned()).await?;
    let mut added = 0;
    for (i, (username, first, last, _)) in DEMO_STUDENTS.into_iter().enumerate() {
        let mut s = NewStudent {
            username: username.to_owned(),
            password_hash: hash.clone(),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            pesel: Some(
                Pesel::with_check_digit(&format!("0{i}2{}0812{i}4", i + 1))?
                    .expose()
                    .to_owned(),
            ),
            album_number: Some(format!("{}", 100_200 + i)),
            email: Some(format!("{username}@student.uczelnia.example")),
            active: true,
            has_photo: true,
            els_number: Some(format!("ELS/{}", 100_200 + i)),
            els_valid_until: Some(now + 120 * DAY_MS),
            els_issued_at: Some(now - 300 * DAY_MS),
            data_changed_at: None,
            study_level: StudyLevel::FirstCycle,
        };
        match username {
            "bartek" => s.els_valid_until = Some(now - 20 * DAY_MS),
            "celina" => s.has_photo = false,
            "dawid" => s.active = false,
            "ewa" => s.study_level = StudyLevel::Doctoral,
            _ => {}
        }
        if registry::insert_if_absent(&state.db.pool, &s).await? {
            added += 1;
        }
    }
    Ok(added)
}
