//! The app's own hooks.

mod back;
mod focus;
mod opened_link;
mod ticking;

pub use back::use_back;
pub use focus::use_focus_heading;
pub use opened_link::use_opened_link;
pub use ticking::use_ticking;
