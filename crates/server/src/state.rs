use crate::clock::Clock;
use crate::db::Db;
use crate::domain::orders::Orders;
use crate::issuer::Issuer;
use crate::settings::Settings;
use std::sync::Arc;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub orders: Orders,
    pub issuer: Arc<dyn Issuer>,
    pub settings: Arc<Settings>,
}
