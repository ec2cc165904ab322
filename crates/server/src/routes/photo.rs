//! The photo the card will show, as the registry has it: a file in the
//! server's `photos_dir` named by the import's `photo_ref`. Only the
//! student's own, `no-store` like every answer; never logged by name.

use crate::auth::AuthStudent;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use base64::Engine as _;
use legitka_wire::{ApiError, CardPhoto, ErrorCode};

/// Photos larger than this are not the registry's ID photos.
const MAX_PHOTO_BYTES: u64 = 5 * 1024 * 1024;

fn no_photo() -> AppError {
    AppError::client(
        ErrorCode::NotFound,
        "no photo on file for the card; your dean's office can help",
    )
}

/// The image type from the file's first bytes (never the name alone).
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

#[utoipa::path(get, path = "/api/v1/me/photo", tag = "student", security(("bearer" = [])),
    responses((status = 200, description = "the result", body = CardPhoto),
              (status = 404, description = "no photo on file (or this server shows none)", body = ApiError),
              (status = 401, description = "not signed in", body = ApiError)))]
/// The registry's photo of the signed-in student, for the card preview.
pub async fn photo(State(state): State<AppState>, who: AuthStudent) -> AppResult<Json<CardPhoto>> {
    let student = crate::registry::by_id(&state.db.pool, &who.id)
        .await?
        .ok_or_else(no_photo)?;
    let (Some(dir), Some(name)) = (&state.settings.photos_dir, &student.card.photo_ref) else {
        return Err(no_photo());
    };
    if !crate::import::photo_name_ok(name) {
        return Err(no_photo());
    }
    let path = dir.join(name);
    let bytes = match tokio::fs::metadata(&path).await {
        Ok(m) if m.is_file() && m.len() <= MAX_PHOTO_BYTES => tokio::fs::read(&path).await.ok(),
        _ => None,
    };
    let Some((bytes, mime)) = bytes.and_then(|b| image_type(&b).map(|t| (b, t))) else {
        tracing::warn!(
            student_id = who.id,
            "the registry names a photo that is missing, too large or not a JPEG/PNG"
        );
        return Err(no_photo());
    };
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    Ok(Json(CardPhoto {
        data_url: format!("data:{mime};base64,{data}"),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_type_comes_from_the_bytes() {
        assert_eq!(
            super::image_type(&[0xff, 0xd8, 0xff, 0xe0]),
            Some("image/jpeg")
        );
        assert_eq!(
            super::image_type(b"\x89PNG\r\n\x1a\n...."),
            Some("image/png")
        );
        assert_eq!(super::image_type(b"<svg"), None);
        assert_eq!(super::image_type(b""), None);
    }
}
