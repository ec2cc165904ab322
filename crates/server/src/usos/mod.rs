//! USOS API, for universities that run USOS: Legitka as a gateway that
//! speaks to the university's installation for the student. `oauth` signs
//! requests (OAuth 1.0a, HMAC-SHA1); `client` is one installation's API —
//! the token dance and `services/cards` — with USOS's refusals sorted into
//! what to do next; `statuses` maps USOS's raw order statuses (the one
//! place that guesses them). The sign-in, the order service on USOS and
//! the status watcher build on these.

pub mod client;
pub mod oauth;
pub mod statuses;
