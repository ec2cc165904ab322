//! Every sentence the student reads. Codes from the server and the shell are
//! translated here; raw messages are never shown.

use legitka_wire::{CheckCode, ErrorCode, OrderStatus};

pub fn error_sentence(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::BadRequest => "Something in the form is not right. Check it and try again.",
        ErrorCode::InvalidCredentials => {
            "Wrong username or password. Use your university account, as for USOSweb."
        }
        ErrorCode::Unauthorized => "Your session has ended. Please sign in again.",
        ErrorCode::NotFound => {
            "The university server does not know this request. It may need an update."
        }
        ErrorCode::NotEligible => {
            "You can't order an mLegitymacja yet. The checklist shows what is missing."
        }
        ErrorCode::OrderExists => "You already have an order in progress.",
        ErrorCode::NoOrder => "You have no order yet.",
        ErrorCode::NotReady => {
            "Your mLegitymacja is not ready yet. We'll tell you the moment it is."
        }
        ErrorCode::InvalidTransition => "This step is no longer possible for your order.",
        ErrorCode::RevealLimitReached => {
            "The codes were already shown three times. Order your mLegitymacja again to get new ones."
        }
        ErrorCode::ActivationExpired => {
            "These codes have expired (they last 30 days). Order your mLegitymacja again."
        }
        ErrorCode::InvalidActivationCode => "The code or the activation code is not right.",
        ErrorCode::AlreadyActivated => "This mLegitymacja has already been activated.",
        ErrorCode::RateLimited => "Too many attempts. Wait a minute and try again.",
        ErrorCode::Internal => "Something went wrong on our side. Please try again in a moment.",
        ErrorCode::ServerUnreachable => {
            "Can't reach the university server. Check your internet connection and the server address."
        }
        ErrorCode::BadResponse => {
            "The university server gave an answer we don't understand. Check the server address."
        }
    }
}

/// The checklist item and, when it fails, what the student can do about it.
pub fn check_text(code: CheckCode) -> (&'static str, &'static str) {
    match code {
        CheckCode::ActiveStudent => (
            "Active student status",
            "Your student status is not active. Ask your dean's office.",
        ),
        CheckCode::HasPesel => (
            "PESEL number",
            "The university has no PESEL for you. Bring your ID to the dean's office.",
        ),
        CheckCode::HasAlbumNumber => (
            "Album number",
            "You have no album number yet. Ask your dean's office.",
        ),
        CheckCode::HasPhoto => (
            "Photo in the university registry",
            "Add your photo in USOSweb or at the dean's office.",
        ),
        CheckCode::HasEls => (
            "Plastic student ID (ELS)",
            "You need a plastic student ID first. Order it at the dean's office.",
        ),
        CheckCode::ElsValid => (
            "Student ID extended this semester",
            "Extend your plastic student ID (new semester sticker) at the dean's office.",
        ),
        CheckCode::DataUnchangedSinceEls => (
            "Personal data unchanged since the ID was issued",
            "Your data changed since the ID was issued. Ask for a duplicate at the dean's office.",
        ),
        CheckCode::StudyLevel => (
            "First-cycle, second-cycle or long-cycle studies",
            "mLegitymacja is for first-cycle, second-cycle and long-cycle master's students.",
        ),
    }
}

pub fn status_label(status: Option<OrderStatus>) -> &'static str {
    match status {
        None => "Not ordered yet",
        Some(OrderStatus::Pending) => "Order received",
        Some(OrderStatus::InProgress) => "Being prepared",
        Some(OrderStatus::Ready) => "Ready to activate",
        Some(OrderStatus::Received) => "Active in mObywatel",
        Some(OrderStatus::ReturnedForCorrection) => "Returned for correction",
        Some(OrderStatus::Error) => "Issuing failed",
        Some(OrderStatus::Cancelled) => "Cancelled",
        Some(OrderStatus::Revoked) => "Revoked",
        Some(OrderStatus::Expired) => "Expired",
    }
}

pub fn status_hint(status: Option<OrderStatus>) -> &'static str {
    match status {
        None => "Order your mobile student ID in one tap.",
        Some(OrderStatus::Pending) => "The university has your order and is passing it on.",
        Some(OrderStatus::InProgress) => {
            "mObywatel is preparing your card. This can take from seconds to about an hour — we'll notify you."
        }
        Some(OrderStatus::Ready) => "Show the codes and enter them in mObywatel.",
        Some(OrderStatus::Received) => "Your mLegitymacja is in mObywatel. You're all set.",
        Some(OrderStatus::ReturnedForCorrection) => {
            "Correct what is needed and send the order again."
        }
        Some(OrderStatus::Error) => "The order could not be completed. You can order again.",
        Some(OrderStatus::Cancelled) => "You cancelled this order. You can order again.",
        Some(OrderStatus::Revoked) => "This mLegitymacja was revoked. You can order a new one.",
        Some(OrderStatus::Expired) => "This order expired. You can order again.",
    }
}

/// The mObywatel steps (seeds 001, 002, 003), shown beside the codes.
pub const MOBYWATEL_STEPS: [&str; 6] = [
    "Open mObywatel and tap “+” (Add document).",
    "Choose “Legitymacja studencka” and accept the terms.",
    "When asked for the QR code, choose to type the code instead.",
    "Paste the manual-entry code.",
    "Paste the activation code and tap “Aktywuj”.",
    "Your mLegitymacja appears; Legitka shows it as active.",
];
