use crate::auth::AuthStudent;
use crate::error::{AppError, AppResult};
use crate::ratelimit::Bucket;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use legitka_wire::{
    ActivationData, ApiError, ErrorCode, OrderStatus, OrderView, REVOCATION_GRACE_MS,
    RevokeResponse, StudentState, TimelineEntry,
};

#[utoipa::path(get, path = "/api/v1/me", tag = "student", security(("bearer" = [])),
    responses((status = 200, description = "the result", body = StudentState), (status = 401, description = "not signed in", body = ApiError)))]
/// The status read: served from the read cache when this process has seen
/// no change since (see `cache.rs`); eligibility is evaluated now.
pub async fn state(
    State(state): State<AppState>,
    who: AuthStudent,
) -> AppResult<Json<StudentState>> {
    Ok(Json(state.orders.state_of(&who.id).await?))
}

fn idempotency_key(headers: &HeaderMap) -> AppResult<Option<String>> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .map(str::to_owned)
                .ok_or_else(|| {
                    AppError::client(ErrorCode::BadRequest, "invalid Idempotency-Key header")
                })
        })
        .transpose()
}

/// Places an order, or renews after an ELS extension. `Idempotency-Key`
/// makes retries safe: a repeat returns the first result.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "a repeat returns the first result")),
    responses((status = 201, description = "ordered", body = OrderView),
        (status = 200, description = "the same Idempotency-Key again: the first result", body = OrderView),
        (status = 400, description = "a bad Idempotency-Key", body = ApiError),
        (status = 403, description = "not eligible", body = ApiError),
        (status = 409, description = "an order is open", body = ApiError), (status = 401, description = "not signed in", body = ApiError)))]
#[tracing::instrument(skip_all, fields(student_id = %who.id))]
pub async fn place_order(
    State(state): State<AppState>,
    who: AuthStudent,
    headers: HeaderMap,
) -> AppResult<(StatusCode, Json<OrderView>)> {
    let key = idempotency_key(&headers)?;
    let (order, created) = state.orders.place(&who.id, key.as_deref()).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(order)))
}

/// The student's orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])),
    responses((status = 200, description = "the result", body = Vec<OrderView>), (status = 401, description = "not signed in", body = ApiError)))]
pub async fn list_orders(
    State(state): State<AppState>,
    who: AuthStudent,
) -> AppResult<Json<Vec<OrderView>>> {
    Ok(Json(state.orders.all_for(&who.id).await?))
}

/// One order's history: status, actor, reason and time of each step.
#[utoipa::path(get, path = "/api/v1/orders/{id}/timeline", tag = "orders", security(("bearer" = [])),
    params(("id" = String, Path, description = "order id")),
    responses((status = 200, description = "the result", body = Vec<TimelineEntry>),
        (status = 404, description = "no such order of this student", body = ApiError), (status = 401, description = "not signed in", body = ApiError)))]
pub async fn timeline(
    State(state): State<AppState>,
    who: AuthStudent,
    Path(order_id): Path<String>,
) -> AppResult<Json<Vec<TimelineEntry>>> {
    if order_id.len() > 64 || order_id.chars().any(char::is_control) {
        return Err(AppError::client(ErrorCode::NotFound, "no such order"));
    }
    Ok(Json(state.orders.timeline(&who.id, &order_id).await?))
}

/// Cancels the order before pickup; its codes stop working.
#[utoipa::path(post, path = "/api/v1/orders/current/cancel", tag = "orders", security(("bearer" = [])),
    responses((status = 200, description = "the result", body = OrderView), (status = 404, description = "not found", body = ApiError),
        (status = 409, description = "not cancellable now", body = ApiError), (status = 401, description = "not signed in", body = ApiError)))]
pub async fn cancel(State(state): State<AppState>, who: AuthStudent) -> AppResult<Json<OrderView>> {
    Ok(Json(
        state.orders.act(&who.id, OrderStatus::Cancelled).await?,
    ))
}

/// Revokes the card in use. The request goes on at once, but the card may
/// stay valid up to 24 hours .
#[utoipa::path(post, path = "/api/v1/orders/current/revoke", tag = "orders", security(("bearer" = [])),
    responses((status = 200, description = "the result", body = RevokeResponse), (status = 404, description = "not found", body = ApiError),
        (status = 409, description = "no card in use", body = ApiError), (status = 401, description = "not signed in", body = ApiError)))]
pub async fn revoke(
    State(state): State<AppState>,
    who: AuthStudent,
) -> AppResult<Json<RevokeResponse>> {
    let order = state.orders.act(&who.id, OrderStatus::Revoked).await?;
    Ok(Json(RevokeResponse {
        may_stay_valid_until: order.updated_at + REVOCATION_GRACE_MS,
        order,
    }))
}

/// Sends an order returned for correction back to the issuer.
#[utoipa::path(post, path = "/api/v1/orders/current/resubmit", tag = "orders", security(("bearer" = [])),
    responses((status = 200, description = "the result", body = OrderView), (status = 403, description = "not allowed now", body = ApiError),
        (status = 404, description = "no order", body = ApiError),
        (status = 409, description = "not returned for correction", body = ApiError), (status = 401, description = "not signed in", body = ApiError)))]
pub async fn resubmit(
    State(state): State<AppState>,
    who: AuthStudent,
) -> AppResult<Json<OrderView>> {
    Ok(Json(state.orders.act(&who.id, OrderStatus::Pending).await?))
}

/// A lost phone: new codes; the old card stops working .
#[utoipa::path(post, path = "/api/v1/orders/current/replace", tag = "orders", security(("bearer" = [])),
    responses((status = 201, description = "created", body = OrderView), (status = 403, description = "not allowed now", body = ApiError),
        (status = 409, description = "no card in use", body = ApiError), (status = 401, description = "not signed in", body = ApiError)))]
pub async fn replace(
    State(state): State<AppState>,
    who: AuthStudent,
) -> AppResult<(StatusCode, Json<OrderView>)> {
    let replacement = state.orders.replace_lost_phone(&who.id).await?;
    Ok((StatusCode::CREATED, Json(replacement)))
}

/// Reveals the activation data (at most three times). Never logged.
#[utoipa::path(post, path = "/api/v1/orders/current/reveal", tag = "orders", security(("bearer" = [])),
    responses((status = 200, description = "the result", body = ActivationData),
        (status = 404, description = "no order", body = ApiError),
        (status = 409, description = "not ready", body = ApiError),
        (status = 410, description = "three views spent, or the data expired", body = ApiError),
        (status = 429, description = "rate limited", body = ApiError), (status = 401, description = "not signed in", body = ApiError)))]
pub async fn reveal(
    State(state): State<AppState>,
    super::client::ClientIp(client): super::client::ClientIp,
    who: AuthStudent,
) -> AppResult<Json<ActivationData>> {
    state
        .limits
        .check(Bucket::RevealAddress, &client.to_string())?;
    state.limits.check(Bucket::RevealAccount, &who.id)?;
    Ok(Json(state.orders.reveal(&who.id).await?))
}
