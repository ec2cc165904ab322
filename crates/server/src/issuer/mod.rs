//! The issuer adapter: how orders reach the ministry's mObywatel system.
//! The issuer answers asynchronously by calling back into [`Orders`].
//!
//! [`Orders`]: crate::domain::orders::Orders

pub mod emulator;

use futures_util::future::BoxFuture;

pub trait Issuer: Send + Sync + 'static {
    /// Hands an order to the issuer. Returns once the issuer has accepted it;
    /// status changes come later through the order service.
    fn submit(&self, order_id: String) -> BoxFuture<'static, anyhow::Result<()>>;

    /// Tells the issuer an order's codes and card are void (cancelled,
    /// revoked, replaced after a lost phone, student removed).
    fn invalidate(&self, order_id: String) -> BoxFuture<'static, anyhow::Result<()>>;
}

/// What the issuer answers to an order (the emulator can be told which).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ready,
    Error,
    ReturnForCorrection(legitka_wire::Reason),
}
