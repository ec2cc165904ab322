use crate::auth::AuthStudent;
use crate::domain::eligibility;
use crate::error::{AppError, AppResult};
use crate::registry;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use legitka_wire::{ActivationData, ErrorCode, OrderView, StudentState};

pub async fn state(
    State(state): State<AppState>,
    who: AuthStudent,
) -> AppResult<Json<StudentState>> {
    let student = registry::by_id(&state.db.pool, &who.id)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::Unauthorized, "sign in again"))?;
    let checks = eligibility::evaluate(
        &student.facts,
        state.settings.eligibility,
        state.clock.now_ms(),
    );
    Ok(Json(StudentState {
        student: student.summary,
        eligible: eligibility::all_ok(&checks),
        checks,
        order: state.orders.current(&who.id).await?,
    }))
}

/// Places an order. `Idempotency-Key` makes retries safe: a repeat returns the first result.
#[tracing::instrument(skip_all, fields(student_id = %who.id))]
pub async fn place_order(
    State(state): State<AppState>,
    who: AuthStudent,
    headers: HeaderMap,
) -> AppResult<(StatusCode, Json<OrderView>)> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| {
                    AppError::client(ErrorCode::BadRequest, "invalid Idempotency-Key header")
                })?
                .to_owned(),
        ),
    };
    let student = registry::by_id(&state.db.pool, &who.id)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::Unauthorized, "sign in again"))?;
    let checks = eligibility::evaluate(
        &student.facts,
        state.settings.eligibility,
        state.clock.now_ms(),
    );
    if !eligibility::all_ok(&checks) {
        return Err(AppError::client(
            ErrorCode::NotEligible,
            "the student does not meet every eligibility rule",
        ));
    }
    let (order, created) = state.orders.place(&who.id, key.as_deref()).await?;
    if created {
        state.issuer.submit(order.id.clone()).await?;
        Ok((StatusCode::CREATED, Json(order)))
    } else {
        Ok((StatusCode::OK, Json(order)))
    }
}

/// Reveals the activation data (at most three times). Never logged.
pub async fn reveal(
    State(state): State<AppState>,
    who: AuthStudent,
) -> AppResult<Json<ActivationData>> {
    Ok(Json(state.orders.reveal(&who.id).await?))
}
