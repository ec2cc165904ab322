//! The push dispatcher against the loopback FCM emulator: exactly one
//! correctly signed notice per device and change, Retry-After honoured,
//! exponential backoff, dead tokens forgotten, poison messages buried — on
//! SQLite and PostgreSQL. The service-account key is a fresh RSA key.

mod common;

use common::{Db, TestApp, drain, ec_pair, rsa_pair, spawn_app, spawn_app_with};
use legitka_emulators::apns::ApnsEmulator;
use legitka_emulators::fcm::FcmEmulator;
use legitka_server::crypto::Secret;
use legitka_server::push::Sender;
use legitka_server::push::apns::{ApnsSender, ApnsSettings};
use legitka_server::push::dispatcher::{Dispatcher, ExecutionOutcome};
use legitka_server::push::fcm::{FcmSender, FcmSettings};
use legitka_wire::{ActivationData, OrderStatus, PushPlatform};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

both!(
    each_device_gets_the_newest_notice_exactly_once_and_never_a_code,
    a_sent_notice_stays_sent_and_only_waiting_ones_are_superseded,
    a_ready_notice_goes_before_older_routine_ones,
    a_batch_is_claimed_and_finished_at_once,
    retry_after_is_honoured,
    failures_back_off_and_end_in_dead_letters,
    an_unregistered_token_is_removed,
    a_poison_message_is_buried,
    a_wrong_service_account_key_sends_nothing,
    the_running_server_pushes_by_itself,
    apns_gets_signed_http2_pushes_with_the_right_headers,
    apns_refusals_drop_dead_tokens_and_a_wrong_key_sends_nothing,
    two_dispatchers_share_the_outbox_without_sending_twice,
    a_student_keeps_at_most_ten_devices_the_oldest_goes,
    a_token_held_by_another_signed_in_student_is_refused,
    fcm_holds_a_notice_a_day_and_an_invalid_token_is_dropped,
);

struct Push {
    app: TestApp,
    fcm: Arc<FcmEmulator>,
    dispatcher: Dispatcher,
}

async fn setup(db: Db, issuer_waits: bool) -> Push {
    let app = spawn_app(db).await;
    if issuer_waits {
        app.hold_issuer();
    }
    let (private, public) = rsa_pair();
    let fcm = FcmEmulator::start(
        "legitka-test",
        "push@legitka-test.iam.gserviceaccount.com",
        &public,
    )
    .await
    .unwrap();
    let dispatcher = dispatcher_with_key(&app, &fcm, private);
    Push {
        app,
        fcm,
        dispatcher,
    }
}

/// FCM settings pointing at the emulator, signing with `private_pem`.
fn fcm_settings(fcm: &FcmEmulator, private_pem: String) -> FcmSettings {
    FcmSettings {
        project_id: fcm.project_id.clone(),
        endpoint: fcm.base_url.clone(),
        token_uri: fcm.token_uri.clone(),
        client_email: fcm.client_email.clone(),
        private_key_pem: Secret::new(private_pem),
    }
}

fn dispatcher_with_key(app: &TestApp, fcm: &FcmEmulator, private_pem: String) -> Dispatcher {
    let sender: Arc<dyn Sender> = Arc::new(FcmSender::new(fcm_settings(fcm, private_pem)));
    Dispatcher::new(
        app.state.db.clone(),
        Arc::new(app.clock.clone()),
        HashMap::from([(PushPlatform::Fcm, sender)]),
    )
}

async fn register(app: &TestApp, token: &str, device: &str, locale: &str) {
    let r = app
        .post(token, "/devices")
        .json(&json!({"platform": "fcm", "token": device, "locale": locale}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NO_CONTENT);
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

/// The order went pending, in progress and ready before the dispatcher
/// ran: only "ready" goes out (the older two would only be replaced on the
/// phone), once per device; the notices themselves stay as history.
async fn each_device_gets_the_newest_notice_exactly_once_and_never_a_code(db: Db) {
    let p = setup(db, false).await;
    let token = p.app.sign_in("anna").await;
    register(&p.app, &token, "phone-pl", "pl").await;
    register(&p.app, &token, "tablet-en", "en").await;
    p.app.post(&token, "/orders").send().await.unwrap();
    p.app.wait_for(&token, OrderStatus::Ready).await;
    let r = p
        .app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap();
    let codes: ActivationData = r.json().await.unwrap();

    let outcomes = drain(&p.dispatcher).await;
    assert_eq!(outcomes, vec![ExecutionOutcome::Delivered; 2]);
    assert_eq!(drain(&p.dispatcher).await, [], "nothing is sent twice");
    assert_eq!(count(&p.app, "SELECT COUNT(*) FROM notices").await, 3);

    let got = p.fcm.received();
    assert_eq!(got.len(), 2);
    let mut per_device: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for m in &got {
        per_device
            .entry(m["token"].as_str().unwrap())
            .or_default()
            .push((
                m["data"]["status"].as_str().unwrap(),
                m["data"]["notice_id"].as_str().unwrap(),
            ));
        let text = m.to_string();
        for secret in [
            &codes.activation_code,
            &codes.manual_code,
            &codes.qr_payload,
        ] {
            assert!(
                !text.contains(secret.as_str()),
                "a code travelled in a push"
            );
        }
    }
    for device in ["phone-pl", "tablet-en"] {
        let mut statuses: Vec<_> = per_device[device].iter().map(|(s, _)| *s).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, ["ready"], "{device}");
    }
    // One notice id per change, the same on both devices.
    let mut ids: Vec<_> = per_device["phone-pl"].iter().map(|(_, id)| *id).collect();
    let mut other: Vec<_> = per_device["tablet-en"].iter().map(|(_, id)| *id).collect();
    ids.sort_unstable();
    other.sort_unstable();
    assert_eq!(ids, other);
    let ready_pl = got
        .iter()
        .find(|m| m["token"] == "phone-pl" && m["data"]["status"] == "ready")
        .unwrap();
    assert_eq!(ready_pl["notification"]["title"], "mLegitymacja gotowa");
    let ready_en = got
        .iter()
        .find(|m| m["token"] == "tablet-en" && m["data"]["status"] == "ready")
        .unwrap();
    assert_eq!(
        ready_en["notification"]["title"],
        "Your mLegitymacja is ready"
    );
    assert_eq!(count(&p.app, "SELECT COUNT(*) FROM deliveries").await, 0);
}

/// What the dispatcher has sent is never undone; of what waits, only the
/// newest notice per order goes.
async fn a_sent_notice_stays_sent_and_only_waiting_ones_are_superseded(db: Db) {
    let p = setup(db, true).await;
    let token = p.app.sign_in("anna").await;
    register(&p.app, &token, "phone", "pl").await;
    p.app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(drain(&p.dispatcher).await, [ExecutionOutcome::Delivered]);
    // Cancelled, then ordered again: the cancellation's notice waits and
    // the new order's "pending" (another order) does not replace it.
    p.app
        .post(&token, "/orders/current/cancel")
        .send()
        .await
        .unwrap();
    p.app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(
        drain(&p.dispatcher).await,
        vec![ExecutionOutcome::Delivered; 2]
    );
    let statuses: Vec<String> = p
        .fcm
        .received()
        .iter()
        .map(|m| m["data"]["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses.len(), 3, "{statuses:?}");
    assert_eq!(statuses[0], "pending");
    let mut later = statuses[1..].to_vec();
    later.sort();
    assert_eq!(later, ["cancelled", "pending"]);
}

/// Another student whose order the issuer holds, and a device of theirs.
async fn held_student(app: &TestApp) -> String {
    let hash =
        legitka_server::passwords::hash_password(legitka_server::demo::DEMO_PASSWORD.to_owned())
            .await
            .unwrap();
    let csv = format!(
        "{}\newa,\"{hash}\",Ewa,Nowak,{},77,true,true,ELS/77,2099-12-31,2020-01-01,,first_cycle\n",
        legitka_server::import::COLUMNS,
        legitka_server::pesel::Pesel::with_check_digit("0421080777")
            .unwrap()
            .expose()
    );
    legitka_server::import::import_students(&app.state, csv.as_bytes())
        .await
        .unwrap();
    let token = app.sign_in("ewa").await;
    register(app, &token, "ewa-phone", "pl").await;
    app.hold_issuer();
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let order: legitka_wire::OrderView = r.json().await.unwrap();
    // Held only once the issuer has it (the outbox sends it a moment later).
    for _ in 0..500 {
        if app.issuer.submits(&order.id).await.unwrap() > 0 {
            return token;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the issuer never got Ewa's order");
}

/// Orders (the issuer holds every order) and makes the order ready as
/// the issuer's events would.
async fn issued(app: &TestApp, token: &str) {
    use legitka_server::orders::IssuerUpdate;
    let r = app.post(token, "/orders").send().await.unwrap();
    let order: legitka_wire::OrderView = r.json().await.unwrap();
    let update = |to| IssuerUpdate {
        order_id: order.id.clone(),
        to,
        reason: None,
        activation: (to == OrderStatus::Ready).then(|| {
            legitka_server::orders::activation::IssuedActivation {
                qr_payload: "MLEG1.push".into(),
                manual_code: "PUSH-0001".into(),
                activation_code: Secret::new("87654321".into()),
            }
        }),
    };
    let answers = app
        .state
        .orders
        .issuer_updates(vec![
            update(OrderStatus::InProgress),
            update(OrderStatus::Ready),
        ])
        .await
        .unwrap();
    assert!(answers.iter().all(Result::is_ok));
}

/// Ewa's "pending" has waited longer, but Anna's "ready" asks her to act:
/// it is sent first.
async fn a_ready_notice_goes_before_older_routine_ones(db: Db) {
    let p = setup(db, false).await;
    held_student(&p.app).await;
    p.app.clock.advance(60_000);
    let anna = p.app.sign_in("anna").await;
    register(&p.app, &anna, "anna-phone", "pl").await;
    issued(&p.app, &anna).await;
    assert_eq!(drain(&p.dispatcher).await.len(), 2);
    let sent: Vec<(String, String)> = p
        .fcm
        .received()
        .iter()
        .map(|m| {
            (
                m["token"].as_str().unwrap().to_owned(),
                m["data"]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            ("anna-phone".to_owned(), "ready".to_owned()),
            ("ewa-phone".to_owned(), "pending".to_owned())
        ]
    );
}

/// One claim takes the whole batch, most urgent first; the sent ones go
/// from the outbox together.
async fn a_batch_is_claimed_and_finished_at_once(db: Db) {
    let p = setup(db, false).await;
    held_student(&p.app).await;
    let anna = p.app.sign_in("anna").await;
    for i in 0..3 {
        register(&p.app, &anna, &format!("anna-{i}"), "pl").await;
    }
    issued(&p.app, &anna).await;
    let outcomes = p.dispatcher.try_execute_batch(10).await.unwrap();
    assert_eq!(outcomes, vec![ExecutionOutcome::Delivered; 4]);
    assert_eq!(count(&p.app, "SELECT COUNT(*) FROM deliveries").await, 0);
    assert_eq!(p.fcm.received().len(), 4);
    assert_eq!(p.dispatcher.try_execute_batch(10).await.unwrap(), []);
}

async fn retry_after_is_honoured(db: Db) {
    let p = setup(db, true).await; // only the "pending" notice exists
    let token = p.app.sign_in("anna").await;
    register(&p.app, &token, "phone", "pl").await;
    p.app.post(&token, "/orders").send().await.unwrap();
    p.fcm.fail_next(503, Some(7));
    assert_eq!(
        p.dispatcher.try_execute_task().await.unwrap(),
        ExecutionOutcome::Retrying {
            next_attempt_at: common::START + 7_000
        }
    );
    assert_eq!(drain(&p.dispatcher).await, []);
    p.app.clock.advance(6_999);
    assert_eq!(drain(&p.dispatcher).await, []);
    p.app.clock.advance(1);
    assert_eq!(drain(&p.dispatcher).await, [ExecutionOutcome::Delivered]);
    assert_eq!(p.fcm.received().len(), 1);
}

async fn failures_back_off_and_end_in_dead_letters(db: Db) {
    let mut p = setup(db, true).await;
    p.dispatcher.max_attempts = 3;
    let token = p.app.sign_in("anna").await;
    register(&p.app, &token, "phone", "pl").await;
    p.app.post(&token, "/orders").send().await.unwrap();
    for _ in 0..3 {
        p.fcm.fail_next(500, None);
    }
    // 2 s, then 4 s: exponential, from base_backoff.
    assert_eq!(
        p.dispatcher.try_execute_task().await.unwrap(),
        ExecutionOutcome::Retrying {
            next_attempt_at: common::START + 2_000
        }
    );
    p.app.clock.advance(2_000);
    assert_eq!(
        p.dispatcher.try_execute_task().await.unwrap(),
        ExecutionOutcome::Retrying {
            next_attempt_at: common::START + 2_000 + 4_000
        }
    );
    p.app.clock.advance(4_000);
    assert_eq!(
        p.dispatcher.try_execute_task().await.unwrap(),
        ExecutionOutcome::DeadLettered
    );
    assert_eq!(
        count(&p.app, "SELECT COUNT(*) FROM dead_deliveries").await,
        1
    );
    assert_eq!(count(&p.app, "SELECT COUNT(*) FROM deliveries").await, 0);
    assert!(p.fcm.received().is_empty());
}

async fn an_unregistered_token_is_removed(db: Db) {
    let p = setup(db, false).await;
    let token = p.app.sign_in("anna").await;
    register(&p.app, &token, "uninstalled", "pl").await;
    register(&p.app, &token, "alive", "en").await;
    p.fcm.unregister("uninstalled");
    p.app.post(&token, "/orders").send().await.unwrap();
    p.app.wait_for(&token, OrderStatus::Ready).await;
    let outcomes = drain(&p.dispatcher).await;
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == ExecutionOutcome::TokenDropped)
            .count(),
        1
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == ExecutionOutcome::Delivered)
            .count(),
        1,
        "ready, to the device still there"
    );
    let left: Vec<String> = sqlx::query_scalar("SELECT token FROM devices")
        .fetch_all(&p.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(left, ["alive"]);
    assert!(p.fcm.received().iter().all(|m| m["token"] == "alive"));
}

async fn a_poison_message_is_buried(db: Db) {
    let p = setup(db, true).await;
    let token = p.app.sign_in("anna").await;
    register(&p.app, &token, "phone", "pl").await;
    p.app.post(&token, "/orders").send().await.unwrap();
    p.fcm.fail_next(400, None);
    assert_eq!(
        p.dispatcher.try_execute_task().await.unwrap(),
        ExecutionOutcome::DeadLettered
    );
    let error: String = sqlx::query_scalar("SELECT last_error FROM dead_deliveries")
        .fetch_one(&p.app.state.db.pool)
        .await
        .unwrap();
    assert!(error.contains("400"), "{error}");
}

async fn a_wrong_service_account_key_sends_nothing(db: Db) {
    let p = setup(db, true).await;
    let (other_private, _) = rsa_pair();
    let forged = dispatcher_with_key(&p.app, &p.fcm, other_private);
    let token = p.app.sign_in("anna").await;
    register(&p.app, &token, "phone", "pl").await;
    p.app.post(&token, "/orders").send().await.unwrap();
    assert!(matches!(
        forged.try_execute_task().await.unwrap(),
        ExecutionOutcome::Retrying { .. }
    ));
    assert!(p.fcm.received().is_empty());
}

async fn the_running_server_pushes_by_itself(db: Db) {
    let (private, public) = rsa_pair();
    let fcm = FcmEmulator::start(
        "legitka-test",
        "push@legitka-test.iam.gserviceaccount.com",
        &public,
    )
    .await
    .unwrap();
    let settings = fcm_settings(&fcm, private);
    let app = spawn_app_with(db, move |s| s.fcm = Some(settings)).await;
    let token = app.sign_in("anna").await;
    register(&app, &token, "phone", "en").await;
    app.post(&token, "/orders").send().await.unwrap();
    app.wait_for(&token, OrderStatus::Ready).await;
    // Workers send concurrently: wait until the outbox is empty.
    for _ in 0..400 {
        if fcm.received().len() >= 3 && count(&app, "SELECT COUNT(*) FROM deliveries").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Push services promise no order; the app reads the state on any notice.
    let mut statuses: Vec<String> = fcm
        .received()
        .iter()
        .map(|m| m["data"]["status"].as_str().unwrap().to_owned())
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["in_progress", "pending", "ready"]);
}

const IPHONE: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

async fn apns_setup(
    db: Db,
    signing_key: Option<String>,
) -> (TestApp, Arc<ApnsEmulator>, Dispatcher) {
    let app = spawn_app(db).await;
    let (private, public) = ec_pair();
    let apns = ApnsEmulator::start("TEAM123456", "KEY7654321", "pl.legitka.app", &public)
        .await
        .unwrap();
    let sender: Arc<dyn Sender> = Arc::new(ApnsSender::new(ApnsSettings {
        endpoint: apns.base_url.clone(),
        team_id: apns.team_id.clone(),
        key_id: apns.key_id.clone(),
        private_key_pem: Secret::new(signing_key.unwrap_or(private)),
        topic: apns.topic.clone(),
    }));
    let d = Dispatcher::new(
        app.state.db.clone(),
        Arc::new(app.clock.clone()),
        HashMap::from([(PushPlatform::Apns, sender)]),
    );
    (app, apns, d)
}

async fn register_apns(app: &TestApp, token: &str, device: &str) {
    let r = app
        .post(token, "/devices")
        .json(&json!({"platform": "apns", "token": device, "locale": "pl"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NO_CONTENT);
}

async fn apns_gets_signed_http2_pushes_with_the_right_headers(db: Db) {
    let (app, apns, dispatcher) = apns_setup(db, None).await;
    let token = app.sign_in("anna").await;
    register_apns(&app, &token, IPHONE).await;
    app.post(&token, "/orders").send().await.unwrap();
    app.wait_for(&token, OrderStatus::Ready).await;
    // "ready" superseded "pending" and "in progress", unsent.
    assert_eq!(drain(&dispatcher).await, [ExecutionOutcome::Delivered]);
    let got = apns.received();
    assert!(got.iter().all(|(t, _)| t == IPHONE));
    let ready = got.iter().find(|(_, p)| p["status"] == "ready").unwrap();
    assert_eq!(ready.1["aps"]["alert"]["title"], "mLegitymacja gotowa");
    assert!(ready.1["notice_id"].is_string() && ready.1["order_id"].is_string());
}

async fn apns_refusals_drop_dead_tokens_and_a_wrong_key_sends_nothing(db: Db) {
    let (other, _) = ec_pair();
    let (app, apns, forged) = apns_setup(db, Some(other)).await;
    let token = app.sign_in("anna").await;
    register_apns(&app, &token, IPHONE).await;
    app.post(&token, "/orders").send().await.unwrap();
    assert!(matches!(
        forged.try_execute_task().await.unwrap(),
        ExecutionOutcome::Retrying { .. }
    ));
    assert!(apns.received().is_empty());

    // With the right key: a 410 Unregistered forgets the device …
    let (app, apns, dispatcher) = apns_setup(db, None).await;
    let token = app.sign_in("anna").await;
    register_apns(&app, &token, IPHONE).await;
    register_apns(&app, &token, "not-a-device-token").await;
    apns.unregister(IPHONE);
    app.post(&token, "/orders").send().await.unwrap();
    let outcomes = drain(&dispatcher).await;
    // … and so does a malformed token (400 BadDeviceToken).
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == ExecutionOutcome::TokenDropped)
            .count(),
        2,
        "{outcomes:?}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM devices").await, 0);
    assert!(apns.received().is_empty());
}

/// Two dispatchers (as two server processes would run) drain one outbox at
/// the same time: every delivery goes out exactly once.
async fn two_dispatchers_share_the_outbox_without_sending_twice(db: Db) {
    let p = setup(db, false).await;
    let token = p.app.sign_in("anna").await;
    // As many devices as a student may have, the newest notice each.
    let devices = legitka_server::push::store::MAX_DEVICES;
    for i in 0..devices {
        register(&p.app, &token, &format!("device-{i:02}"), "pl").await;
    }
    let want = usize::try_from(devices).unwrap();
    p.app.post(&token, "/orders").send().await.unwrap();
    p.app.wait_for(&token, OrderStatus::Ready).await;
    let second = p.dispatcher.clone_as_another_process();
    let (a, b) = tokio::join!(drain(&p.dispatcher), drain(&second));
    let delivered = |v: &[ExecutionOutcome]| {
        v.iter()
            .filter(|o| **o == ExecutionOutcome::Delivered)
            .count()
    };
    assert_eq!(delivered(&a) + delivered(&b), want, "{a:?} {b:?}");
    let got = p.fcm.received();
    let unique: std::collections::HashSet<(String, String)> = got
        .iter()
        .map(|m| (m["token"].to_string(), m["data"]["notice_id"].to_string()))
        .collect();
    assert_eq!((got.len(), unique.len()), (want, want));
}

async fn a_student_keeps_at_most_ten_devices_the_oldest_goes(db: Db) {
    let app = spawn_app(db).await;
    app.hold_issuer();
    let token = app.sign_in("anna").await;
    for i in 0..12 {
        register(&app, &token, &format!("phone-{i:02}"), "pl").await;
        app.clock.advance(1_000);
    }
    let kept: Vec<String> = sqlx::query_scalar("SELECT token FROM devices ORDER BY token")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    let want: Vec<String> = (2..12).map(|i| format!("phone-{i:02}")).collect();
    assert_eq!(kept, want, "the two registered first are forgotten");
    // A change writes one delivery per kept device, not per registration.
    app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(count(&app, "SELECT COUNT(*) FROM deliveries").await, 10);
}

async fn a_token_held_by_another_signed_in_student_is_refused(db: Db) {
    let app = spawn_app(db).await;
    let anna = app.sign_in("anna").await;
    register(&app, &anna, "annas-phone", "pl").await;
    // Bartek learned Anna's token: her notices stay hers.
    let bartek = app.sign_in("bartek").await;
    let r = app
        .post(&bartek, "/devices")
        .json(&json!({"platform": "fcm", "token": "annas-phone", "locale": "pl"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        common::error_of(r).await,
        (
            reqwest::StatusCode::CONFLICT,
            legitka_wire::ErrorCode::DeviceInUse
        )
    );
    let owner: String = sqlx::query_scalar(
        "SELECT s.username FROM devices d JOIN students s ON s.id = d.student_id",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(owner, "anna");
    // Anna signs in again on the same phone: the token follows her.
    let anna_again = app.sign_in("anna").await;
    register(&app, &anna_again, "annas-phone", "en").await;
    // Her sessions end (the phone was reset and passed on, never signed
    // out): the phone's next student may take the token.
    app.clock.advance(401 * 24 * 60 * 60 * 1000);
    let bartek = app.sign_in("bartek").await;
    register(&app, &bartek, "annas-phone", "pl").await;
    let owner: String = sqlx::query_scalar(
        "SELECT s.username FROM devices d JOIN students s ON s.id = d.student_id",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(owner, "bartek");
}

/// FCM holds a notice for an offline phone as long as APNs and Web Push do
/// (`android.ttl`), and a token FCM calls invalid (INVALID_ARGUMENT) is
/// deleted, as FCM's documentation says, not retried.
async fn fcm_holds_a_notice_a_day_and_an_invalid_token_is_dropped(db: Db) {
    let p = setup(db, true).await;
    let token = p.app.sign_in("anna").await;
    register(&p.app, &token, "alive", "pl").await;
    register(&p.app, &token, "not a token!", "pl").await;
    p.app.post(&token, "/orders").send().await.unwrap();
    let mut outcomes = drain(&p.dispatcher).await;
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(
        outcomes,
        [ExecutionOutcome::Delivered, ExecutionOutcome::TokenDropped]
    );
    let left: Vec<String> = sqlx::query_scalar("SELECT token FROM devices")
        .fetch_all(&p.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(left, ["alive"]);
    let sent = p.fcm.received();
    assert_eq!(sent[0]["android"]["ttl"], "86400s");
}
