//! The issuance rules. Pure where it can be; the order life cycle talks to the database.

pub mod eligibility;
pub mod orders;
