//! The app's own hooks.

mod focus;
mod ticking;

pub use focus::use_focus_heading;
pub use ticking::use_ticking;
