//! Stand-ins for the systems Legitka cannot reach from a test machine: the
//! issuer bridge with mObywatel's side ([`issuer`]), FCM ([`fcm`]), APNs
//! ([`apns`]), Web Push ([`webpush`]) and a USOS API installation ([`usos`]). Each listens on its own loopback
//! port and checks what the real service checks, answering with its real
//! refusals, so a test against it can fail. They are not part of the
//! product: the server reaches them only over HTTP, as it reaches the real
//! services, and runs none of them. `legitka-emulators` runs them as a
//! process of their own; tests start them in theirs.

pub mod apns;
pub mod fcm;
pub mod issuer;
pub mod push;
pub mod usos;
pub mod webpush;
