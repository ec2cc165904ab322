//! Pieces more than one screen shows.

mod brand;

pub use brand::brand;
