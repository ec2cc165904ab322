//! Pieces more than one screen shows.

mod brand;
mod help;

pub use brand::brand;
pub use help::help;
