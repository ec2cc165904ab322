//! An mLegitymacja order at a USOS university, through the real server:
//! ordered at USOS by the issuer outbox, followed by the watcher, codes
//! fetched from USOS when revealed, received in mObywatel, revoked; and
//! USOS's refusals and trouble as the student meets them.

mod common;

use common::usos::{sign_in_with_usos, with_usos, with_usos_as};
use common::{Db, TestApp, error_of};
use legitka_emulators::usos::{guess, lang_dict};
use legitka_server::clock::Clock;
use legitka_wire::{ErrorCode, OrderStatus, StudentState};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

both!(
    a_usos_order_from_placing_to_revocation,
    usos_refusals_and_trouble_reach_the_student_as_sentences,
    the_watcher_looks_often_while_the_app_is_open,
    the_watcher_keeps_to_the_installations_budget,
    two_instances_look_at_a_student_once,
);

async fn me(app: &TestApp, token: &str) -> StudentState {
    app.http
        .get(app.url("/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits (a few seconds at most) until `check` holds.
async fn until<F: AsyncFn() -> bool>(what: &str, check: F) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn external_id(app: &TestApp) -> Option<String> {
    sqlx::query_scalar("SELECT external_id FROM orders ORDER BY seq DESC LIMIT 1")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

async fn status_is(app: &TestApp, token: &str, want: OrderStatus) -> bool {
    me(app, token).await.order.is_some_and(|o| o.status == want)
}

async fn a_usos_order_from_placing_to_revocation(db: Db) {
    let (app, usos) = with_usos(db).await;
    let token = sign_in_with_usos(&app).await;
    let state = me(&app, &token).await;
    assert!(state.eligible && state.checks.is_empty(), "{state:?}");
    assert_eq!(state.university_says, None);

    let placed = app
        .http
        .post(app.url("/orders"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    until("USOS has the order", async || {
        external_id(&app).await.is_some()
    })
    .await;
    let external = external_id(&app).await.unwrap();
    assert_eq!(usos.orders().len(), 1);
    assert_eq!(usos.orders()[0].status, guess::PENDING);

    // USOS readies it; the watcher's next look finds it.
    usos.set_status(&external, guess::READY);
    app.clock.advance(40_000); // past the first look (30 s, give or take a tenth)
    until("the order is ready", async || {
        status_is(&app, &token, OrderStatus::Ready).await
    })
    .await;
    let ready = me(&app, &token).await.order.unwrap();
    assert!(ready.activation_expires_at.is_some() && ready.card_valid_until.is_some());
    let history: Vec<serde_json::Value> = app
        .http
        .get(app.url(&format!("/orders/{}/timeline", ready.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let steps: Vec<&str> = history
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["pending", "in_progress", "ready"],
        "the skipped step is shown"
    );

    // The codes come from USOS when revealed, and are not kept here.
    let codes: serde_json::Value = app
        .http
        .post(app.url("/orders/current/reveal"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at_usos = usos.orders()[0].clone();
    assert_eq!(codes["qr_payload"].as_str(), at_usos.token.as_deref());
    assert_eq!(
        codes["activation_code"].as_str(),
        at_usos.distribution_pass.as_deref()
    );
    assert_eq!(codes["reveals_left"], 2);
    let kept: Option<String> = sqlx::query_scalar("SELECT activation_secret FROM orders")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(kept, None);

    // mObywatel takes them; USOS sees it received; so do we.
    let activated = reqwest::Client::new()
        .post(format!("{}mobywatel/activate", usos.base_url))
        .json(&json!({"qr_payload": codes["qr_payload"], "activation_code": codes["activation_code"]}))
        .send()
        .await
        .unwrap();
    assert!(activated.status().is_success());
    app.clock.advance(70_000); // past the next (60 s, give or take a tenth)
    until("the order is received", async || {
        status_is(&app, &token, OrderStatus::Received).await
    })
    .await;

    // Revoked here, revoked at USOS (through the issuer outbox).
    let revoked = app
        .http
        .post(app.url("/orders/current/revoke"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    until("USOS revoked it", async || {
        usos.orders()[0].status == guess::REVOKED
    })
    .await;
}

async fn usos_refusals_and_trouble_reach_the_student_as_sentences(db: Db) {
    let (app, usos) = with_usos(db).await;
    let token = sign_in_with_usos(&app).await;
    // USOS says no (its rules, its words): the order ends in an error and
    // the student reads USOS's reason.
    let why = lang_dict("Nie masz zdjęcia w USOS.", "You have no photo in USOS.");
    usos.set_why_cannot_order("1001", Some(why));
    let placed = app
        .http
        .post(app.url("/orders"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    until("the order ends in an error", async || {
        status_is(&app, &token, OrderStatus::Error).await
    })
    .await;
    let state = me(&app, &token).await;
    assert!(!state.eligible);
    let says = state.university_says.expect("USOS's reason");
    assert_eq!(says.en.as_deref(), Some("You have no photo in USOS."));
    assert!(usos.orders().is_empty());
    let again = app
        .http
        .post(app.url("/orders"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(again).await.1, ErrorCode::NotEligible);

    // The watcher's last look at the failed order finds nothing to watch.
    app.clock.advance(40_000);
    until("nothing is watched", async || {
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usos_polls")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        rows == 0
    })
    .await;

    // They put it right in USOSweb; as the app opens, USOS is asked again
    // and the reason goes away. Then the watcher finds the order ready.
    usos.set_why_cannot_order("1001", None);
    let looks = usos.calls("services/cards/mcard");
    let stream = app
        .http
        .get(app.url("/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    until("USOS is asked again as the app opens", async || {
        me(&app, &token).await.university_says.is_none()
    })
    .await;
    assert_eq!(usos.calls("services/cards/mcard"), looks + 1);
    assert!(me(&app, &token).await.eligible);
    drop(stream);
    app.clock.advance(100_000); // the app counts as closed again
    let placed = app
        .http
        .post(app.url("/orders"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    until("USOS has the order", async || {
        external_id(&app).await.is_some()
    })
    .await;
    let external = external_id(&app).await.unwrap();
    until("the first look is done", async || {
        watch_row(&app).await.0 > 0
    })
    .await;
    let checked = me(&app, &token).await.university_checked_at;
    assert_eq!(checked, Some(app.clock.now_ms()), "USOS was read just now");
    usos.set_status(&external, guess::READY);
    // USOS is down at the next look: tried again later, no harm done; the
    // student sees how long ago USOS was last read.
    usos.fail_next(503);
    app.clock.advance(40_000); // past the first look (30 s, give or take a tenth)
    tokio::time::sleep(Duration::from_millis(600)).await;
    let state = me(&app, &token).await;
    assert_eq!(state.university_checked_at, checked);
    assert_eq!(state.order.unwrap().status, OrderStatus::Pending);
    app.clock.advance(70_000); // past the next (60 s, give or take a tenth)
    until("the order is ready", async || {
        status_is(&app, &token, OrderStatus::Ready).await
    })
    .await;

    // Revealing while USOS is down, or after USOS dropped the sign-in:
    // a sentence each, never a 500, and no view spent.
    usos.fail_next(503);
    let down = app
        .http
        .post(app.url("/orders/current/reveal"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(down).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::UniversityUnavailable
        )
    );
    usos.revoke_tokens_of("1001");
    let dropped = app
        .http
        .post(app.url("/orders/current/reveal"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(dropped).await,
        (StatusCode::FORBIDDEN, ErrorCode::UniversitySignInNeeded)
    );
    assert_eq!(me(&app, &token).await.order.unwrap().reveals_left, 3);

    // The watcher meets the dropped sign-in too: the student is told once.
    let told = async || -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM notices WHERE kind = 'sign_in_again'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap()
    };
    app.clock.advance(20 * 60_000);
    until("the student is told to sign in again", async || {
        told().await == 1
    })
    .await;
    // Signed in again: watched again, and never told twice for this order.
    let token = sign_in_with_usos(&app).await;
    app.clock.advance(20 * 60_000);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(told().await, 1);
    let state = me(&app, &token).await;
    assert_eq!(state.order.unwrap().status, OrderStatus::Ready);
    let polls: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usos_polls")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(polls, 1, "watched again after signing in");
}

/// The watch row's next look and how long the app counts as open, in
/// milliseconds from the test clock's now.
async fn watch_row(app: &TestApp) -> (i64, i64) {
    let (next, open): (i64, i64) = sqlx::query_as(
        "SELECT p.next_attempt_at, s.app_open_until FROM usos_polls p \
         JOIN usos_state s ON s.student_id = p.student_id",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    let now = app.clock.now_ms();
    (next - now, open - now)
}

/// Signs in, orders, and waits for the watcher's first look.
async fn ordered_and_looked_at(
    app: &TestApp,
    usos: &legitka_emulators::usos::UsosEmulator,
) -> String {
    let token = sign_in_with_usos(app).await;
    let placed = app
        .http
        .post(app.url("/orders"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    until("USOS has the order", async || {
        external_id(app).await.is_some()
    })
    .await;
    // Signing in reads mcard once, placing once more (to link the order); then the first look.
    until("the first look", async || {
        usos.calls("services/cards/mcard") >= 3
    })
    .await;
    until("the next look is scheduled", async || {
        watch_row(app).await.0 > 0
    })
    .await;
    token
}

async fn the_watcher_looks_often_while_the_app_is_open(db: Db) {
    let (app, usos) = with_usos(db).await;
    let token = ordered_and_looked_at(&app, &usos).await;
    // App closed: the next look in 30 s, give or take a tenth.
    let (next, _) = watch_row(&app).await;
    assert!((27_000..=33_000).contains(&next), "{next}");

    // The app opens its live stream: a look at once, then every 10 s.
    let looks = usos.calls("services/cards/mcard");
    let stream = app
        .http
        .get(app.url("/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    until("a look as the app opens", async || {
        usos.calls("services/cards/mcard") > looks
    })
    .await;
    until("the next look soon", async || {
        let (next, open) = watch_row(&app).await;
        (9_000..=11_000).contains(&next) && open > 60_000
    })
    .await;

    // Closed again (no stream renews it): back to backing off.
    drop(stream);
    app.clock.advance(100_000);
    let looks = usos.calls("services/cards/mcard");
    until("a look after the app closed", async || {
        usos.calls("services/cards/mcard") > looks
    })
    .await;
    until("the next look backs off", async || {
        watch_row(&app).await.0 > 60_000
    })
    .await;
}

async fn the_watcher_keeps_to_the_installations_budget(db: Db) {
    let (app, usos) = with_usos_as(db, |u| u.limits.looks_per_minute = 1).await;
    ordered_and_looked_at(&app, &usos).await;
    // The one look this minute is spent: the next one waits for the budget
    // (about a minute, spread over up to another), not calling USOS.
    let looks = usos.calls("services/cards/mcard");
    app.clock.advance(40_000);
    until("the look over budget is put off", async || {
        watch_row(&app).await.0 > 40_000
    })
    .await;
    assert_eq!(usos.calls("services/cards/mcard"), looks);
    let (next, _) = watch_row(&app).await;
    assert!(next <= 125_000, "{next}");
}

async fn two_instances_look_at_a_student_once(db: Db) {
    use legitka_server::outbox::ExecutionOutcome;
    use legitka_server::usos_gateway::{Gateway, watcher};
    let (app, usos) = with_usos(db).await;
    ordered_and_looked_at(&app, &usos).await;
    // Another instance's watcher on the same database races this one's.
    let s = &app.state;
    let other = watcher(
        Gateway::new(
            s.db.clone(),
            s.secrets.clone(),
            std::sync::Arc::clone(&s.usos),
            s.orders.clone(),
            s.clock.clone(),
        ),
        1,
        Duration::from_secs(10),
    );
    let looks = usos.calls("services/cards/mcard");
    app.clock.advance(40_000);
    let mut took = 0;
    for _ in 0..40 {
        if other.try_execute_task().await.unwrap() != ExecutionOutcome::Empty {
            took += 1;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    until("the due look", async || {
        usos.calls("services/cards/mcard") > looks
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        usos.calls("services/cards/mcard"),
        looks + 1,
        "other took {took}"
    );
}
