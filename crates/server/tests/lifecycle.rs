//! Every status transition a student, the issuer, an admin and the clock can
//! cause, and the forbidden ones — over HTTP, on SQLite and PostgreSQL.

mod common;

use common::{Db, TestApp, error_of, spawn_app};
use legitka_server::admin::{self, Removal};
use legitka_server::clock::DAY_MS;
use legitka_server::startup::expire_due;
use legitka_testkit::Outcome;
use legitka_wire::{
    ActivationData, Actor, ErrorCode, OrderKind, OrderStatus, OrderView, REVOCATION_GRACE_MS,
    Reason, RevokeResponse, StudentAction, TimelineEntry,
};
use reqwest::StatusCode;
use serde_json::json;

both!(
    cancel_before_pickup_voids_the_codes_and_allows_a_new_order,
    revoke_says_the_card_may_stay_valid_for_24_hours,
    forbidden_transitions_are_refused,
    returned_for_correction_then_resubmitted_becomes_ready,
    an_issuer_error_ends_the_order,
    after_three_views_the_order_starts_again,
    activation_data_expires_after_30_days,
    a_lost_phone_gets_new_codes_and_voids_the_old_card,
    an_els_extension_allows_a_renewal,
    a_duplicate_els_allows_a_renewal_and_voids_the_old_card,
    the_card_ends_with_the_els,
    removal_cancels_orders_on_the_way,
    removal_leaves_a_card_valid_for_one_month,
    one_student_cannot_see_or_touch_another_students_order,
);

async fn timeline(app: &TestApp, token: &str, order_id: &str) -> Vec<TimelineEntry> {
    let r = app
        .get(token, &format!("/orders/{order_id}/timeline"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn steps(t: &[TimelineEntry]) -> Vec<(OrderStatus, Actor, Option<Reason>)> {
    t.iter().map(|e| (e.status, e.actor, e.reason)).collect()
}

async fn order(app: &TestApp, token: &str) -> OrderView {
    let r = app.post(token, "/orders").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn cancel_before_pickup_voids_the_codes_and_allows_a_new_order(db: Db) {
    let app = spawn_app(db).await;
    let (token, ready) = app.ready_order("anna").await;
    let r = app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap();
    let data: ActivationData = r.json().await.unwrap();
    let r = app
        .post(&token, "/orders/current/cancel")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cancelled: OrderView = r.json().await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    // The revealed codes no longer activate anything.
    app.assert_void(
        &ready.id,
        json!({"qr_payload": data.qr_payload, "activation_code": data.activation_code}),
    )
    .await;
    assert_eq!(
        steps(&timeline(&app, &token, &ready.id).await),
        [
            (OrderStatus::Pending, Actor::Student, None),
            (OrderStatus::InProgress, Actor::Issuer, None),
            (OrderStatus::Ready, Actor::Issuer, None),
            (OrderStatus::Cancelled, Actor::Student, None),
        ]
    );
    assert_eq!(app.me(&token).await.actions, [StudentAction::Order]);
    assert_ne!(order(&app, &token).await.id, ready.id);
}

async fn revoke_says_the_card_may_stay_valid_for_24_hours(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.ready_order("anna").await;
    app.receive(&token).await;
    app.clock.advance(1234);
    let r = app
        .post(&token, "/orders/current/revoke")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let revoked: RevokeResponse = r.json().await.unwrap();
    assert_eq!(revoked.order.status, OrderStatus::Revoked);
    assert_eq!(
        revoked.may_stay_valid_until,
        common::START + 1234 + REVOCATION_GRACE_MS
    );
    let t = timeline(&app, &token, &revoked.order.id).await;
    assert_eq!(
        steps(&t).last(),
        Some(&(OrderStatus::Revoked, Actor::Student, None))
    );
    assert_eq!(app.me(&token).await.actions, [StudentAction::Order]);
}

async fn forbidden_transitions_are_refused(db: Db) {
    let app = spawn_app(db).await;
    app.hold_issuer();
    let token = app.sign_in("anna").await;
    // Nothing to act on yet.
    for path in ["/orders/current/cancel", "/orders/current/revoke"] {
        let r = app.post(&token, path).send().await.unwrap();
        assert_eq!(
            error_of(r).await,
            (StatusCode::NOT_FOUND, ErrorCode::NoOrder),
            "{path}"
        );
    }
    order(&app, &token).await; // stays pending: the issuer takes an hour
    for path in [
        "/orders/current/revoke",
        "/orders/current/resubmit",
        "/orders/current/replace",
    ] {
        let r = app.post(&token, path).send().await.unwrap();
        assert_eq!(
            error_of(r).await,
            (StatusCode::CONFLICT, ErrorCode::InvalidTransition),
            "{path}"
        );
    }
    let r = app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, ErrorCode::NotReady)
    );
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, ErrorCode::OrderExists)
    );
    assert_eq!(
        app.me(&token).await.order.unwrap().status,
        OrderStatus::Pending
    );
}

async fn returned_for_correction_then_resubmitted_becomes_ready(db: Db) {
    let app = spawn_app(db).await;
    app.issuer
        .script([Outcome::ReturnForCorrection(Reason::PhotoRejected)]);
    let token = app.sign_in("anna").await;
    let placed = order(&app, &token).await;
    let returned = app
        .wait_for(&token, OrderStatus::ReturnedForCorrection)
        .await;
    assert_eq!(returned.reason, Some(Reason::PhotoRejected));
    assert_eq!(
        app.me(&token).await.actions,
        [StudentAction::Resubmit, StudentAction::Cancel]
    );
    let r = app
        .post(&token, "/orders/current/resubmit")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ready = app.wait_for(&token, OrderStatus::Ready).await;
    assert_eq!(ready.id, placed.id);
    assert_eq!(
        steps(&timeline(&app, &token, &placed.id).await),
        [
            (OrderStatus::Pending, Actor::Student, None),
            (OrderStatus::InProgress, Actor::Issuer, None),
            (
                OrderStatus::ReturnedForCorrection,
                Actor::Issuer,
                Some(Reason::PhotoRejected)
            ),
            (OrderStatus::Pending, Actor::Student, None),
            (OrderStatus::InProgress, Actor::Issuer, None),
            (OrderStatus::Ready, Actor::Issuer, None),
        ]
    );
}

async fn an_issuer_error_ends_the_order(db: Db) {
    let app = spawn_app(db).await;
    app.issuer.script([Outcome::Error]);
    let token = app.sign_in("anna").await;
    order(&app, &token).await;
    let failed = app.wait_for(&token, OrderStatus::Error).await;
    assert_eq!(failed.reason, Some(Reason::IssuerError));
    assert_eq!(app.me(&token).await.actions, [StudentAction::Order]);
    order(&app, &token).await;
    app.wait_for(&token, OrderStatus::Ready).await;
}

async fn after_three_views_the_order_starts_again(db: Db) {
    let app = spawn_app(db).await;
    let (token, first) = app.ready_order("anna").await;
    for _ in 0..3 {
        let r = app
            .post(&token, "/orders/current/reveal")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(
        app.me(&token).await.actions,
        [StudentAction::Cancel, StudentAction::Order]
    );
    let second = order(&app, &token).await;
    assert_eq!(second.kind, OrderKind::New);
    let t = timeline(&app, &token, &first.id).await;
    assert_eq!(
        steps(&t).last(),
        Some(&(
            OrderStatus::Expired,
            Actor::System,
            Some(Reason::RevealLimitReached)
        ))
    );
    app.wait_for(&token, OrderStatus::Ready).await;
}

async fn activation_data_expires_after_30_days(db: Db) {
    let app = spawn_app(db).await;
    let (token, ready) = app.ready_order("anna").await;
    assert_eq!(
        ready.activation_expires_at,
        Some(common::START + 30 * DAY_MS)
    );
    let r = app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap();
    let data: ActivationData = r.json().await.unwrap();
    app.clock.advance(30 * DAY_MS);
    let r = app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::GONE, ErrorCode::ActivationExpired)
    );
    let r = app
        .activate(json!({"manual_code": data.manual_code, "activation_code": data.activation_code}))
        .await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::GONE, ErrorCode::ActivationExpired)
    );
    assert_eq!(expire_due(&app.state).await.unwrap(), 1);
    let expired = app.me(&token).await.order.unwrap();
    assert_eq!(
        (expired.status, expired.reason),
        (OrderStatus::Expired, Some(Reason::ActivationExpired))
    );
    assert_eq!(expire_due(&app.state).await.unwrap(), 0);
}

async fn a_lost_phone_gets_new_codes_and_voids_the_old_card(db: Db) {
    let app = spawn_app(db).await;
    let (token, first) = app.ready_order("anna").await;
    let (old, _) = app.receive(&token).await;
    let r = app
        .post(&token, "/orders/current/replace")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let replacement: OrderView = r.json().await.unwrap();
    assert_eq!(replacement.kind, OrderKind::Replacement);
    let t = timeline(&app, &token, &first.id).await;
    assert_eq!(
        steps(&t).last(),
        Some(&(
            OrderStatus::Revoked,
            Actor::Student,
            Some(Reason::LostPhone)
        ))
    );
    app.wait_for(&token, OrderStatus::Ready).await;
    let (new, received) = app.receive(&token).await;
    assert_eq!(received.id, replacement.id);
    assert_ne!(new.manual_code, old.manual_code);
    // The old codes are void.
    app.assert_void(
        &first.id,
        json!({"qr_payload": old.qr_payload, "activation_code": old.activation_code}),
    )
    .await;
}

async fn an_els_extension_allows_a_renewal(db: Db) {
    let app = spawn_app(db).await;
    let (token, first) = app.ready_order("anna").await;
    let (_, received) = app.receive(&token).await;
    let card_until = received.card_valid_until.expect("the card follows the ELS");
    assert!(!app.me(&token).await.actions.contains(&StudentAction::Renew));
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, ErrorCode::OrderExists)
    );

    admin::extend_els(&app.state, "anna", card_until + 180 * DAY_MS)
        .await
        .unwrap();
    assert!(app.me(&token).await.actions.contains(&StudentAction::Renew));
    let renewal = order(&app, &token).await;
    assert_eq!(renewal.kind, OrderKind::Renewal);
    let t = timeline(&app, &token, &first.id).await;
    assert_eq!(
        steps(&t).last(),
        Some(&(OrderStatus::Expired, Actor::System, Some(Reason::Renewed)))
    );
    let ready = app.wait_for(&token, OrderStatus::Ready).await;
    assert_eq!(ready.card_valid_until, Some(card_until + 180 * DAY_MS));
}

async fn a_duplicate_els_allows_a_renewal_and_voids_the_old_card(db: Db) {
    let app = spawn_app(db).await;
    let (token, first) = app.ready_order("anna").await;
    app.receive(&token).await;
    assert!(!app.me(&token).await.actions.contains(&StudentAction::Renew));
    // She lost her ELS; the dean's office issues a duplicate a day later.
    app.clock.advance(DAY_MS);
    admin::record_els_duplicate(&app.state, "anna", "ELS/D/2")
        .await
        .unwrap();
    let me = app.me(&token).await;
    assert!(
        me.actions.contains(&StudentAction::Renew),
        "{:?}",
        me.actions
    );
    // Renewing needs no revocation first, and the old card is voided.
    let renewal = order(&app, &token).await;
    assert_eq!(renewal.kind, OrderKind::Renewal);
    let t = timeline(&app, &token, &first.id).await;
    assert_eq!(
        steps(&t).last(),
        Some(&(OrderStatus::Expired, Actor::System, Some(Reason::Renewed)))
    );
    common::wait_until_invalidated(&app, &first.id).await;
    // A duplicate for no one, or without a number, is refused.
    for (who, number, want) in [
        ("nobody", "X", ErrorCode::NotFound),
        ("anna", " ", ErrorCode::BadRequest),
    ] {
        let e = admin::record_els_duplicate(&app.state, who, number)
            .await
            .unwrap_err();
        assert_eq!(e.code(), want);
    }
}

async fn the_card_ends_with_the_els(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.ready_order("anna").await;
    let (_, received) = app.receive(&token).await;
    let until = received.card_valid_until.unwrap();
    app.clock.advance(until - common::START - 1);
    assert_eq!(expire_due(&app.state).await.unwrap(), 0);
    app.clock.advance(1);
    assert_eq!(expire_due(&app.state).await.unwrap(), 1);
    let me = app.me(&token).await;
    let o = me.order.unwrap();
    assert_eq!(
        (o.status, o.reason),
        (OrderStatus::Expired, Some(Reason::CardExpired))
    );
    // The ELS ended too: not eligible until it is extended.
    assert!(!me.eligible);
    assert!(me.actions.is_empty());
}

async fn removal_cancels_orders_on_the_way(db: Db) {
    let app = spawn_app(db).await;
    let (token, ready) = app.ready_order("anna").await;
    let r = app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap();
    let data: ActivationData = r.json().await.unwrap();
    admin::remove_student(&app.state, "anna", Removal::Removed)
        .await
        .unwrap();
    // The removal ended her session; she signs in again to look.
    let token = app.sign_in("anna").await;
    let t = timeline(&app, &token, &ready.id).await;
    assert_eq!(
        steps(&t).last(),
        Some(&(
            OrderStatus::Cancelled,
            Actor::Admin,
            Some(Reason::StudentRemoved)
        ))
    );
    app.assert_void(
        &ready.id,
        json!({"qr_payload": data.qr_payload, "activation_code": data.activation_code}),
    )
    .await;
    let me = app.me(&token).await;
    assert!(!me.eligible && me.actions.is_empty());
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::FORBIDDEN, ErrorCode::NotEligible)
    );
}

async fn removal_leaves_a_card_valid_for_one_month(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.ready_order("anna").await;
    app.receive(&token).await;
    let r = app
        .post(&token, "/devices")
        .json(&serde_json::json!({"platform": "fcm", "token": "annas-phone", "locale": "pl"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    app.clock.advance(DAY_MS);
    admin::remove_student(&app.state, "anna", Removal::Graduated)
        .await
        .unwrap();
    // Her sessions end at once; her phone still hears why.
    let r = app.get(&token, "/me").send().await.unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::UNAUTHORIZED);
    let told: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM deliveries d JOIN notices n ON n.id = d.notice_id \
         WHERE n.kind = 'removed_from_list'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(told, 1);
    // She may sign in again to see her card's last month.
    let token = app.sign_in("anna").await;
    let o = app.me(&token).await.order.unwrap();
    assert_eq!(o.status, OrderStatus::Received);
    assert_eq!(
        o.card_valid_until,
        Some(common::START + DAY_MS + 30 * DAY_MS)
    );
    app.clock.advance(30 * DAY_MS - 1);
    assert_eq!(expire_due(&app.state).await.unwrap(), 0);
    app.clock.advance(1);
    assert_eq!(expire_due(&app.state).await.unwrap(), 1);
    let o = app.me(&token).await.order.unwrap();
    assert_eq!(o.status, OrderStatus::Expired);
    // … and the card is void at the issuer too.
    common::wait_until_invalidated(&app, &o.id).await;
}

async fn one_student_cannot_see_or_touch_another_students_order(db: Db) {
    let app = spawn_app(db).await;
    let (anna, order) = app.ready_order("anna").await;
    let bartek = app.sign_in("bartek").await;
    let r = app
        .get(&bartek, &format!("/orders/{}/timeline", order.id))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::NOT_FOUND, ErrorCode::NoOrder)
    );
    let r = app.get(&bartek, "/orders").send().await.unwrap();
    assert_eq!(r.json::<Vec<OrderView>>().await.unwrap(), []);
    assert_eq!(app.me(&bartek).await.order, None);
    for path in [
        "/orders/current/reveal",
        "/orders/current/cancel",
        "/orders/current/revoke",
        "/orders/current/resubmit",
        "/orders/current/replace",
    ] {
        let r = app.post(&bartek, path).send().await.unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
    }
    // Anna's order is untouched: all three views left, still ready.
    let mine = app.me(&anna).await.order.unwrap();
    assert_eq!((mine.status, mine.reveals_left), (OrderStatus::Ready, 3));
    let r = app.get(&anna, "/orders").send().await.unwrap();
    assert_eq!(r.json::<Vec<OrderView>>().await.unwrap().len(), 1);
}
