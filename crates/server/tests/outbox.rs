//! Device registration and the transactional outbox: every status change
//! writes its notice, and a delivery per registered device, in the change's
//! own transaction — on SQLite and PostgreSQL.

mod common;

use common::{Db, TestApp, error_of, spawn_app};
use legitka_server::admin;
use legitka_server::clock::DAY_MS;
use legitka_wire::{ErrorCode, OrderStatus, Reason};
use reqwest::StatusCode;
use serde_json::json;

both!(
    every_status_change_leaves_a_notice_for_every_device,
    a_refused_change_leaves_no_notice,
    signing_out_removes_the_sessions_devices,
    a_token_stays_with_the_signed_in_student_who_registered_it,
    bad_registrations_are_400,
    activation_reminders_come_3_days_and_1_day_before_once_each,
    card_reminders_say_it_ends_soon_and_when_renewal_is_possible,
    a_graduate_is_told_the_card_ends_and_never_to_renew,
);

async fn register(app: &TestApp, token: &str, push_token: &str) -> StatusCode {
    app.post(token, "/devices")
        .json(&json!({"platform": "fcm", "token": push_token, "locale": "pl"}))
        .send()
        .await
        .unwrap()
        .status()
}

/// (notice id, status, device token) of every delivery for a student, in order.
async fn deliveries(app: &TestApp, username: &str) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT n.id, n.status, d.token FROM deliveries x \
         JOIN notices n ON n.id = x.notice_id JOIN devices d ON d.id = x.device_id \
         JOIN students s ON s.id = n.student_id WHERE s.username = $1 \
         ORDER BY n.created_at, n.status, d.token",
    )
    .bind(username)
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap()
}

async fn notices(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM notices")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

async fn every_status_change_leaves_a_notice_for_every_device(db: Db) {
    let app = spawn_app(db).await;
    let token = app.sign_in("anna").await;
    assert_eq!(
        register(&app, &token, "phone-1").await,
        StatusCode::NO_CONTENT
    );
    app.post(&token, "/orders").send().await.unwrap();
    app.wait_for(&token, OrderStatus::Ready).await;
    let mut statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM notices")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    statuses.sort();
    assert_eq!(statuses, ["in_progress", "pending", "ready"]);
    // Nothing was sent yet: the newest notice supersedes the older two.
    let waiting: Vec<String> = deliveries(&app, "anna")
        .await
        .into_iter()
        .map(|d| d.1)
        .collect();
    assert_eq!(waiting, ["ready"]);

    // A second device hears of the next change, under the same notice id.
    assert_eq!(
        register(&app, &token, "tablet-2").await,
        StatusCode::NO_CONTENT
    );
    app.post(&token, "/orders/current/cancel")
        .send()
        .await
        .unwrap();
    let cancelled: Vec<_> = deliveries(&app, "anna")
        .await
        .into_iter()
        .filter(|d| d.1 == "cancelled")
        .collect();
    assert_eq!(cancelled.len(), 2);
    assert_eq!(
        deliveries(&app, "anna").await.len(),
        2,
        "ready is superseded"
    );
    assert_eq!(cancelled[0].0, cancelled[1].0);
    assert_ne!(cancelled[0].2, cancelled[1].2);
    // Nothing for students without devices, nothing across students.
    assert!(deliveries(&app, "bartek").await.is_empty());
}

async fn a_refused_change_leaves_no_notice(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.ready_order("anna").await;
    let before = notices(&app).await;
    let r = app
        .post(&token, "/orders/current/revoke")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, ErrorCode::InvalidTransition)
    );
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, ErrorCode::OrderExists)
    );
    assert_eq!(notices(&app).await, before);
}

async fn signing_out_removes_the_sessions_devices(db: Db) {
    let app = spawn_app(db).await;
    let phone = app.sign_in("anna").await;
    let laptop = app.sign_in("anna").await;
    register(&app, &phone, "phone-1").await;
    register(&app, &laptop, "laptop-1").await;
    let r = app
        .http
        .delete(app.url("/session"))
        .bearer_auth(&phone)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let left: Vec<String> = sqlx::query_scalar("SELECT token FROM devices")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(left, ["laptop-1"]);
}

async fn a_token_stays_with_the_signed_in_student_who_registered_it(db: Db) {
    let app = spawn_app(db).await;
    let anna = app.sign_in("anna").await;
    let bartek = app.sign_in("bartek").await;
    register(&app, &anna, "shared-phone").await;
    let body = json!({"platform": "fcm", "token": "shared-phone", "locale": "pl"});
    let r = app
        .post(&bartek, "/devices")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, ErrorCode::DeviceInUse)
    );
    let owners: Vec<String> = sqlx::query_scalar(
        "SELECT s.username FROM devices d JOIN students s ON s.id = d.student_id",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(owners, ["anna"]);
    // Bartek cannot remove it either; Anna can.
    let r = app
        .http
        .delete(app.url("/devices"))
        .bearer_auth(&bartek)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
    let r = app
        .http
        .delete(app.url("/devices"))
        .bearer_auth(&anna)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

async fn bad_registrations_are_400(db: Db) {
    let app = spawn_app(db).await;
    let token = app.sign_in("anna").await;
    for body in [
        json!({"platform": "fcm", "token": "", "locale": "pl"}),
        json!({"platform": "fcm", "token": "x".repeat(5000), "locale": "pl"}),
        json!({"platform": "carrier-pigeon", "token": "t", "locale": "pl"}),
        json!({"platform": "fcm", "token": "t", "locale": "de"}),
        json!({"platform": "fcm", "token": "a\nb", "locale": "en"}),
    ] {
        let r = app
            .post(&token, "/devices")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(r).await,
            (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            "{body}"
        );
    }
    let r = app
        .http
        .post(app.url("/devices"))
        .json(&json!({"platform": "fcm", "token": "t", "locale": "pl"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Reminder notices (kind) for a student, oldest first, with delivery counts.
async fn reminders(app: &TestApp, username: &str) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT n.kind, (SELECT COUNT(*) FROM deliveries x WHERE x.notice_id = n.id) \
         FROM notices n JOIN students s ON s.id = n.student_id \
         WHERE s.username = $1 AND n.kind <> 'order_status' ORDER BY n.created_at, n.kind",
    )
    .bind(username)
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap()
}

async fn activation_reminders_come_3_days_and_1_day_before_once_each(db: Db) {
    let app = spawn_app(db).await;
    let (token, ready) = app.ready_order("anna").await;
    register(&app, &token, "phone-1").await;
    assert_eq!(
        ready.activation_expires_at,
        Some(common::START + 30 * DAY_MS)
    );
    let remind = || async { app.state.orders.remind_due().await.unwrap() };
    app.clock.advance(27 * DAY_MS - 1);
    assert_eq!(remind().await, 0);
    app.clock.advance(1); // three days left
    assert_eq!(remind().await, 1);
    assert_eq!(remind().await, 0, "once");
    app.clock.advance(2 * DAY_MS); // one day left
    assert_eq!(remind().await, 1);
    assert_eq!(remind().await, 0);
    assert_eq!(
        reminders(&app, "anna").await,
        [
            // Never sent (no dispatcher runs here): the next one supersedes it.
            ("activation_expires_3d".to_owned(), 0),
            ("activation_expires_1d".to_owned(), 1)
        ]
    );
}

async fn card_reminders_say_it_ends_soon_and_when_renewal_is_possible(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.ready_order("anna").await;
    let (_, received) = app.receive(&token).await;
    register(&app, &token, "phone-1").await;
    let until = received.card_valid_until.unwrap();
    let remind = || async { app.state.orders.remind_due().await.unwrap() };
    assert_eq!(remind().await, 0);
    app.clock.advance(until - common::START - 14 * DAY_MS);
    assert_eq!(remind().await, 1);
    assert_eq!(remind().await, 0);
    admin::extend_els(&app.state, "anna", until + 180 * DAY_MS)
        .await
        .unwrap();
    assert_eq!(remind().await, 1);
    assert_eq!(remind().await, 0);
    assert_eq!(
        reminders(&app, "anna").await,
        [
            ("card_ends_soon".to_owned(), 0),
            ("renewal_available".to_owned(), 1)
        ]
    );
}

async fn a_graduate_is_told_the_card_ends_and_never_to_renew(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.ready_order("anna").await;
    app.receive(&token).await;
    register(&app, &token, "phone-1").await;
    let remind = || async { app.state.orders.remind_due().await.unwrap() };
    // Her ELS runs well past the card: after graduation that is no reason
    // to renew, and the card's last month is not "extend your ELS".
    admin::extend_els(&app.state, "anna", common::START + 400 * DAY_MS)
        .await
        .unwrap();
    admin::remove_student(&app.state, "anna", admin::Removal::Graduated)
        .await
        .unwrap();
    assert_eq!(
        reminders(&app, "anna").await,
        [("removed_from_list".to_owned(), 1)],
        "told once, at once"
    );
    for _ in 0..4 {
        assert_eq!(remind().await, 0);
        app.clock.advance(7 * DAY_MS);
    }
    assert_eq!(reminders(&app, "anna").await.len(), 1);
    // The app says why the card ends early (she signs in again: the
    // removal ended her session).
    let token = app.sign_in("anna").await;
    let me = app.me(&token).await;
    let order = me.order.unwrap();
    assert_eq!(order.reason, Some(Reason::StudentRemoved));
    assert!(!me.actions.contains(&legitka_wire::StudentAction::Renew));
}
