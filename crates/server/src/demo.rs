//! Demo students: one eligible, the others ineligible for different reasons.
//! Every demo password is [`DEMO_PASSWORD`].

use crate::clock::DAY_MS;
use crate::orders::eligibility::StudyLevel;
use crate::passwords::hash_password;
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
            password_hash: crate::crypto::Secret::new(hash.clone()),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            pesel: Some(Pesel::with_check_digit(&format!("0{i}2{}0812{i}4", i + 1))?),
            album_number: Some(format!("{}", 100_200 + i)),
            email: Some(format!("{username}@student.uczelnia.example")),
            photo_ref: Some(format!("{username}.png")),
            birth_date: None,
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
            "celina" => {
                s.has_photo = false;
                s.photo_ref = None;
            }
            "dawid" => s.active = false,
            "ewa" => s.study_level = StudyLevel::Doctoral,
            _ => {}
        }
        if let (Some(dir), Some(name)) = (&state.settings.photos_dir, &s.photo_ref) {
            let path = dir.join(name);
            if !path.exists() {
                std::fs::write(&path, silhouette(i)?)?;
            }
        }
        if registry::insert_if_absent(&state.db.pool, &state.secrets, &s).await? {
            added += 1;
        }
    }
    Ok(added)
}

/// A stand-in ID photo for the demo: a grey head and shoulders on a light
/// background (a different shade per student), 300 × 375 like an ID photo.
fn silhouette(seed: usize) -> anyhow::Result<Vec<u8>> {
    const W: usize = 300;
    const H: usize = 375;
    let shade = 90 + u8::try_from(seed % 5).unwrap_or(0) * 20;
    let mut rgb = vec![0u8; W * H * 3];
    for y in 0..H {
        for x in 0..W {
            let (fx, fy) = (x as f64, y as f64);
            let head = ((fx - 150.0) / 70.0).powi(2) + ((fy - 150.0) / 88.0).powi(2) <= 1.0;
            let shoulders = fy > 250.0
                && ((fx - 150.0) / 140.0).powi(2) + ((fy - 375.0) / 125.0).powi(2) <= 1.0;
            let px = if head || shoulders {
                [shade, shade, shade + 10]
            } else {
                [228, 233, 240]
            };
            rgb[(y * W + x) * 3..(y * W + x) * 3 + 3].copy_from_slice(&px);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, W as u32, H as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(out)
}
