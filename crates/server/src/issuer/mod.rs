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
}
