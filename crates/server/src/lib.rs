//! Legitka's university backend: the student registry, mLegitymacja orders,
//! the issuer adapter and its outbox, push notices and the live event stream.
//! `main.rs` is thin; everything testable lives here.

pub mod admin;
pub mod app_links;
pub mod auth;
pub mod cache;
pub mod calendar;
pub mod clock;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod feed;
pub mod identity;
pub mod import;
pub mod issuer;
pub mod net;
pub mod ops;
pub mod orders;
pub mod outbox;
pub mod passwords;
pub mod peers;
pub mod pesel;
pub mod push;
pub mod ratelimit;
pub mod registry;
pub mod routes;
pub mod serve;
pub mod settings;
pub mod startup;
pub mod state;
pub mod usos;
pub mod usos_gateway;

pub use settings::Settings;
pub use startup::Application;
