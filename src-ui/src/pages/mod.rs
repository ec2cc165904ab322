//! One module per screen.

pub mod home;
pub mod ready;
pub mod settings;
pub mod sign_in;
pub mod switch;
pub mod welcome;
