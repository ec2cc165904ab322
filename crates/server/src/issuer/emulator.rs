//! The issuer emulator: plays the ministry (advances orders pending → in
//! progress → ready after configured delays and generates the activation
//! data) and mObywatel (accepts a QR payload or manual code plus the
//! activation code, once, and reports receipt).
//!
//! It keeps its own records in `emulator_issued`, as the ministry would: the
//! university side only ever sees the activation data sealed.

use super::{Issuer, Outcome};
use crate::crypto::{Secret, sha256_hex};
use crate::db::Db;
use crate::domain::orders::{ACTIVATION_VALIDITY_MS, IssuedActivation, Orders};
use crate::error::{AppError, AppResult};
use crate::routes::ApiJson;
use crate::settings::IssuerSettings;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use futures_util::future::BoxFuture;
use legitka_wire::{ActivationRequest, ActivationResponse, Actor, ErrorCode, OrderStatus, Reason};
use rand::Rng;
use sqlx::Row;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Letters and digits that cannot be mistaken for each other when typed.
const MANUAL_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

pub struct Emulator {
    orders: Orders,
    db: Db,
    settings: IssuerSettings,
    /// Scripted answers still to give (failure injection).
    outcomes: Mutex<VecDeque<Outcome>>,
}

impl Emulator {
    pub fn new(orders: Orders, db: Db, settings: IssuerSettings) -> Arc<Self> {
        let outcomes = Mutex::new(settings.outcomes.iter().copied().collect());
        Arc::new(Self {
            orders,
            db,
            settings,
            outcomes,
        })
    }

    fn next_outcome(&self) -> Outcome {
        self.outcomes
            .lock()
            .expect("outcomes lock")
            .pop_front()
            .unwrap_or(Outcome::Ready)
    }

    async fn process(self: Arc<Self>, order_id: String) -> AppResult<()> {
        match self.status_of(&order_id).await? {
            Some(OrderStatus::Pending) => {
                tokio::time::sleep(self.settings.accept_delay).await;
                self.orders
                    .transition(&order_id, OrderStatus::InProgress, Actor::Issuer, None)
                    .await?;
            }
            // Resumed after a restart: the order was already taken.
            Some(OrderStatus::InProgress) => {}
            _ => return Ok(()),
        }
        tokio::time::sleep(self.settings.ready_delay).await;
        match self.next_outcome() {
            Outcome::Ready => {
                // Cancelled meanwhile: nothing to issue.
                if let Some(activation) = self.issue(&order_id).await? {
                    self.orders.mark_ready(&order_id, &activation).await?;
                }
            }
            Outcome::Error => {
                self.orders
                    .transition(
                        &order_id,
                        OrderStatus::Error,
                        Actor::Issuer,
                        Some(Reason::IssuerError),
                    )
                    .await?;
            }
            Outcome::ReturnForCorrection(reason) => {
                self.orders
                    .transition(
                        &order_id,
                        OrderStatus::ReturnedForCorrection,
                        Actor::Issuer,
                        Some(reason),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn status_of(&self, order_id: &str) -> AppResult<Option<OrderStatus>> {
        let s: Option<String> = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(s.and_then(|s| OrderStatus::parse(&s)))
    }

    /// Generates and records fresh activation data for an order still in progress.
    async fn issue(&self, order_id: &str) -> AppResult<Option<IssuedActivation>> {
        let now = self.orders.now();
        let activation = generate(now);
        let mut tx = self.db.begin().await?;
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_optional(&mut *tx)
            .await?;
        if status.as_deref() != Some(OrderStatus::InProgress.as_str()) {
            return Ok(None);
        }
        sqlx::query("DELETE FROM emulator_issued WHERE order_id = $1")
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO emulator_issued \
             (order_id, qr_payload, manual_code, activation_code_hash, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(order_id)
        .bind(&activation.qr_payload)
        .bind(normalize_manual(&activation.manual_code))
        .bind(sha256_hex(activation.activation_code.expose()))
        .bind(now + ACTIVATION_VALIDITY_MS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(activation))
    }

    /// mObywatel's side: activate with (QR payload or manual code) + activation code.
    pub async fn activate(&self, req: &ActivationRequest) -> AppResult<String> {
        let invalid = || {
            AppError::client(
                ErrorCode::InvalidActivationCode,
                "wrong code or activation code",
            )
        };
        let row = match (&req.qr_payload, &req.manual_code) {
            (Some(qr), _) => {
                sqlx::query("SELECT * FROM emulator_issued WHERE qr_payload = $1")
                    .bind(qr.trim())
                    .fetch_optional(&self.db.pool)
                    .await?
            }
            (None, Some(code)) => {
                sqlx::query("SELECT * FROM emulator_issued WHERE manual_code = $1")
                    .bind(normalize_manual(code))
                    .fetch_optional(&self.db.pool)
                    .await?
            }
            (None, None) => {
                return Err(AppError::client(
                    ErrorCode::BadRequest,
                    "give the QR payload or the manual-entry code",
                ));
            }
        };
        let row = row.ok_or_else(invalid)?;
        let order_id: String = row.try_get("order_id")?;
        let hash: String = row.try_get("activation_code_hash")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let superseded: i64 = row.try_get("superseded")?;
        let activated_at: Option<i64> = row.try_get("activated_at")?;
        if superseded != 0 || sha256_hex(req.activation_code.trim()) != hash {
            return Err(invalid());
        }
        let now = self.orders.now();
        if now >= expires_at {
            return Err(AppError::client(
                ErrorCode::ActivationExpired,
                "this activation data has expired",
            ));
        }
        let already = || AppError::client(ErrorCode::AlreadyActivated, "already activated");
        if activated_at.is_some() {
            return Err(already());
        }
        let done = sqlx::query(
            "UPDATE emulator_issued SET activated_at = $1 \
             WHERE order_id = $2 AND activated_at IS NULL",
        )
        .bind(now)
        .bind(&order_id)
        .execute(&self.db.pool)
        .await?;
        if done.rows_affected() != 1 {
            return Err(already());
        }
        self.orders
            .transition(&order_id, OrderStatus::Received, Actor::Issuer, None)
            .await?;
        Ok(order_id)
    }
}

impl Issuer for Arc<Emulator> {
    fn invalidate(&self, order_id: String) -> BoxFuture<'static, anyhow::Result<()>> {
        let this = Arc::clone(self);
        Box::pin(async move {
            sqlx::query("UPDATE emulator_issued SET superseded = 1 WHERE order_id = $1")
                .bind(order_id)
                .execute(&this.db.pool)
                .await?;
            Ok(())
        })
    }

    fn submit(&self, order_id: String) -> BoxFuture<'static, anyhow::Result<()>> {
        let this = Arc::clone(self);
        Box::pin(async move {
            tokio::spawn(async move {
                if let Err(e) = this.process(order_id.clone()).await {
                    // A cancelled order is not an error for the issuer.
                    tracing::warn!(order_id, error = %e, "issuer emulator stopped processing");
                }
            });
            Ok(())
        })
    }
}

fn generate(now: i64) -> IssuedActivation {
    let mut rng = rand::rng();
    let qr: [u8; 16] = rng.random();
    let manual: String = (0..16)
        .map(|i| {
            let c = MANUAL_ALPHABET[rng.random_range(0..MANUAL_ALPHABET.len())] as char;
            if i > 0 && i % 4 == 0 {
                format!("-{c}")
            } else {
                c.to_string()
            }
        })
        .collect();
    let code: String = (0..8)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    IssuedActivation {
        qr_payload: format!("MLEG1.{}", hex::encode(qr)),
        manual_code: manual,
        activation_code: Secret::new(code),
        generated_at: now,
    }
}

/// Manual codes are compared without separators and case.
fn normalize_manual(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The mObywatel emulator's HTTP side, mounted under `/emulator`.
pub fn router(emulator: Arc<Emulator>) -> Router {
    Router::new()
        .route("/mobywatel/activate", post(activate))
        .with_state(emulator)
}

/// mObywatel (emulated): activate with the QR payload or manual code plus the activation code.
#[utoipa::path(post, path = "/emulator/mobywatel/activate", tag = "emulator", request_body = ActivationRequest,
    responses((status = 200, body = ActivationResponse),
        (status = 400, body = legitka_wire::ApiError),
        (status = 409, description = "already activated", body = legitka_wire::ApiError),
        (status = 410, description = "expired", body = legitka_wire::ApiError),
        (status = 422, description = "wrong code or activation code", body = legitka_wire::ApiError)))]
pub async fn activate(
    State(emulator): State<Arc<Emulator>>,
    ApiJson(req): ApiJson<ActivationRequest>,
) -> AppResult<Json<ActivationResponse>> {
    emulator.activate(&req).await?;
    Ok(Json(ActivationResponse { activated: true }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_have_their_shapes() {
        let a = generate(0);
        assert!(a.qr_payload.starts_with("MLEG1.") && a.qr_payload.len() == 38);
        assert_eq!(a.manual_code.len(), 19);
        assert_eq!(a.manual_code.matches('-').count(), 3);
        assert!(
            normalize_manual(&a.manual_code)
                .bytes()
                .all(|b| MANUAL_ALPHABET.contains(&b))
        );
        let code = a.activation_code.expose();
        assert!(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(generate(0).qr_payload, a.qr_payload);
    }

    #[test]
    fn manual_codes_compare_loosely() {
        assert_eq!(normalize_manual(" abcd-EFGH 2345 "), "ABCDEFGH2345");
    }
}
