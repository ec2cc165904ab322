//! The data's life: what is pruned and what stays, erasing a student, key
//! rotation, backups of a running server, and the dead letters an
//! operator sees and puts back — through the admin binary where an
//! operator would use it.

mod common;

use common::{Db, error_of, spawn_app, spawn_app_with};
use legitka_server::crypto::{Secret, SecretBox};
use legitka_server::ops;
use legitka_wire::{ErrorCode, OrderStatus};
use reqwest::StatusCode;
use serde_json::json;
use std::process::{Command, Output};

both!(
    pruning_keeps_only_what_is_still_needed,
    erasing_a_student_leaves_an_anonymous_history,
    rotate_key_reseals_everything_and_the_old_key_can_go,
    dead_letters_are_listed_put_back_and_purged,
    a_backup_of_a_running_server_opens_and_serves,
);

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

type Maybe = Option<String>;
/// An erased student's row: username, names, PESEL (sealed, masked), album, ELS, when.
type ErasedRow = (
    String,
    String,
    String,
    Maybe,
    Maybe,
    Maybe,
    Maybe,
    Option<i64>,
);
/// `Settings::for_tests`'s key.
const KEY: &str = "4242424242424242424242424242424242424242424242424242424242424242";

fn admin(app: &common::TestApp, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_legitka-server"))
        .args(args)
        .env("APP_DATABASE_URL", &app.state.settings.database_url)
        .env("APP_ACTIVATION_KEY", KEY)
        .env("LEGITKA_OPERATOR", "jan.kowalski")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn count(app: &common::TestApp, sql: &str, student: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(student)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

/// Steps in the history of all the student's orders.
async fn history_len(app: &common::TestApp, student: &str) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM order_events e JOIN orders o ON o.id = e.order_id \
         WHERE o.student_id = $1",
        student,
    )
    .await
}

async fn id_of(app: &common::TestApp, username: &str) -> String {
    sqlx::query_scalar("SELECT id FROM students WHERE username = $1")
        .bind(username)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

async fn register_device(app: &common::TestApp, token: &str, push_token: &str) {
    let r = app
        .post(token, "/devices")
        .json(&json!({"platform": "fcm", "token": push_token, "locale": "pl"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

async fn pruning_keeps_only_what_is_still_needed(db: Db) {
    let app = spawn_app(db).await;
    let anna = id_of(&app, "anna").await;
    let token = app.sign_in("anna").await;
    let r = app
        .post(&token, "/orders")
        .header("Idempotency-Key", "first-try")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let order = app.wait_for(&token, OrderStatus::Ready).await;
    // From here on her notices have a device to reach (no push service
    // is configured: its deliveries wait).
    register_device(&app, &token, "anna-phone").await;
    app.receive(&token).await;
    let secret: Option<String> =
        sqlx::query_scalar("SELECT activation_secret FROM orders WHERE id = $1")
            .bind(&order.id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(secret, None, "a received card's codes are not kept");

    // Bartek signs in and out: his session has ended.
    let bartek = id_of(&app, "bartek").await;
    let b = app.sign_in("bartek").await;
    let r = app
        .http
        .delete(app.url("/session"))
        .bearer_auth(&b)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    sqlx::query(
        "INSERT INTO dead_issuer_commands (id, order_id, command, reason, created_at, attempts, \
         last_error, dead_at) VALUES ('old-dead', $1, 'submit', NULL, $2, 3, 'gone', $2)",
    )
    .bind(&order.id)
    .bind(common::START)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let notices_before = count(
        &app,
        "SELECT COUNT(*) FROM notices WHERE student_id = $1",
        &anna,
    )
    .await;
    let pending = count(
        &app,
        "SELECT COUNT(*) FROM notices n WHERE student_id = $1 AND EXISTS \
         (SELECT 1 FROM deliveries d WHERE d.notice_id = n.id)",
        &anna,
    )
    .await;
    assert!(
        pending >= 1 && notices_before > pending,
        "{pending} of {notices_before}"
    );

    // Within the retention nothing personal goes, only what ran out.
    let p = ops::lifecycle::prune(&app.state).await.unwrap();
    assert_eq!((p.notices, p.dead_letters), (0, 0), "{p:?}");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM sessions WHERE student_id = $1",
            &bartek
        )
        .await,
        1
    );

    app.clock.advance(31 * DAY_MS);
    let p = ops::lifecycle::prune(&app.state).await.unwrap();
    assert!(p.idempotency_keys >= 1 && p.dead_letters == 1, "{p:?}");
    // Bartek's ended session and its tokens are gone.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM sessions WHERE student_id = $1",
            &bartek
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM idempotency_keys WHERE student_id = $1",
            &anna
        )
        .await,
        0
    );
    // Anna's notices that were done are gone; the one still to deliver stays.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM notices WHERE student_id = $1",
            &anna
        )
        .await,
        pending
    );
    // Her live session, her device, her order and its history stay.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM devices WHERE student_id = $1",
            &anna
        )
        .await,
        1
    );
    assert_eq!(
        app.me(&token).await.order.unwrap().status,
        OrderStatus::Received
    );
    assert!(history_len(&app, &anna).await >= 4);
}

async fn erasing_a_student_leaves_an_anonymous_history(db: Db) {
    let app = spawn_app(db).await;
    let anna = id_of(&app, "anna").await;
    let (token, _) = app.ready_order("anna").await;
    register_device(&app, &token, "anna-phone").await;
    app.receive(&token).await;
    let events = history_len(&app, &anna).await;

    // A card in use: refused, with the way to end it.
    let o = admin(&app, &["erase", "anna"], &[]);
    assert!(!o.status.success());
    assert!(
        err(&o).contains("received") && err(&o).contains("remove anna"),
        "{}",
        err(&o)
    );

    // Removed, the card runs its last month; then the order ends.
    legitka_server::admin::remove_student(
        &app.state,
        "anna",
        legitka_server::admin::Removal::Removed,
    )
    .await
    .unwrap();
    app.clock.advance(32 * DAY_MS);
    legitka_server::startup::expire_due(&app.state)
        .await
        .unwrap();
    let other = app.sign_in("bartek").await;

    let erased = ops::lifecycle::erase(&app.state, "anna", "jan.kowalski")
        .await
        .unwrap();
    assert_eq!(erased, anna);
    // Her token no longer works, nor does her password.
    let r = app.get(&token, "/me").send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    let r = app
        .http
        .post(app.url("/session"))
        .json(&json!({"username": "anna", "password": legitka_server::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::UNAUTHORIZED);
    // Nothing that names her is left.
    let (username, first, last, pesel, masked, album, els, erased_at): ErasedRow = sqlx::query_as(
        "SELECT username, first_name, last_name, pesel_sealed, pesel_masked, album_number, \
         els_number, erased_at FROM students WHERE id = $1",
    )
    .bind(&anna)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(username, format!("erased-{anna}"));
    assert_eq!((first.as_str(), last.as_str()), ("", ""));
    assert_eq!((pesel, masked, album, els), (None, None, None, None));
    assert!(erased_at.is_some());
    for table in [
        "sessions",
        "devices",
        "notices",
        "idempotency_keys",
        "pairing_codes",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE student_id = $1");
        assert_eq!(count(&app, &sql, &anna).await, 0, "{table}");
    }
    // Her orders' history stays, naming no one.
    assert!(
        history_len(&app, &anna).await > events,
        "her history, and its end"
    );
    // The action is on record by the operator's name, with her id only.
    let actions = ops::audit::latest(&app.state.db, 10).await.unwrap();
    let a = actions.iter().find(|a| a.action == "erase").unwrap();
    assert_eq!(
        (a.operator.as_str(), a.subject.as_deref()),
        ("jan.kowalski", Some(anna.as_str()))
    );
    // Someone else is untouched.
    assert!(app.me(&other).await.order.is_none());
    let o = admin(&app, &["erase", "anna"], &[]);
    assert!(err(&o).contains("no student"), "{}", err(&o));
}

async fn rotate_key_reseals_everything_and_the_old_key_can_go(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.ready_order("anna").await;
    let anna = id_of(&app, "anna").await;
    let old = SecretBox::from_hex(&Secret::new(KEY.to_owned())).unwrap();
    // A new key of digits only: the settings must not read it as a number.
    let new_key = "1234567890".repeat(6) + "1234";
    let new = SecretBox::from_hex(&Secret::new(new_key.clone())).unwrap();
    let sealed = |app: &common::TestApp| {
        let pool = app.state.db.pool.clone();
        async move {
            let mut v: Vec<String> = sqlx::query_scalar(
                "SELECT pesel_sealed FROM students WHERE pesel_sealed IS NOT NULL",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            v.extend(
                sqlx::query_scalar::<_, String>(
                    "SELECT activation_secret FROM orders WHERE activation_secret IS NOT NULL",
                )
                .fetch_all(&pool)
                .await
                .unwrap(),
            );
            v
        }
    };
    let before = sealed(&app).await;
    assert!(before.len() >= 2, "{before:?}");
    assert!(
        before
            .iter()
            .all(|v| v.starts_with(&format!("{}:", old.key_id())))
    );

    // As operators do it: the new key current, the old one previous.
    let env = [
        ("APP_ACTIVATION_KEY", new_key.as_str()),
        ("APP_PREVIOUS_ACTIVATION_KEYS", KEY),
    ];
    let o = admin(&app, &["rotate-key"], &env);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains(new.key_id()), "{}", out(&o));
    let after = sealed(&app).await;
    assert_eq!(after.len(), before.len());
    for v in &after {
        assert!(v.starts_with(&format!("{}:", new.key_id())), "{v}");
        assert!(new.open(v).is_ok());
        assert!(old.open(v).is_err(), "the old key no longer opens it");
    }
    let o = admin(&app, &["rotate-key"], &env);
    let again = out(&o);
    let counts: Vec<&str> = again.lines().filter(|l| l.ends_with("re-sealed")).collect();
    assert_eq!(counts.len(), 5, "{again}");
    assert!(
        counts.iter().all(|l| l.ends_with(" 0 re-sealed")),
        "a second run: {again}"
    );

    // The server moved to the new key only: the codes still show.
    let restarted = spawn_app_with(app.db, |s| {
        s.database_url = app.state.settings.database_url.clone();
        s.activation_key = Secret::new(new_key.clone());
    })
    .await;
    let r = restarted
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let card: String = sqlx::query_scalar("SELECT pesel_masked FROM students WHERE id = $1")
        .bind(&anna)
        .fetch_one(&restarted.state.db.pool)
        .await
        .unwrap();
    assert!(card.starts_with("*********"), "{card}");
}

async fn dead_letters_are_listed_put_back_and_purged(db: Db) {
    let app = spawn_app(db).await;
    // The bridge refuses the submit for good: it becomes a dead letter.
    app.issuer.fail_next(422);
    let token = app.sign_in("anna").await;
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut dead = vec![];
    for _ in 0..200 {
        dead = legitka_server::outbox::dead_letters(
            &app.state.db,
            &legitka_server::issuer::COMMANDS,
            10,
        )
        .await
        .unwrap();
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(dead.len(), 1, "the refused submit is a dead letter");
    let o = admin(&app, &["dead-letters", "list", "issuer"], &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains(&dead[0].id) && out(&o).contains("422"),
        "{}",
        out(&o)
    );
    let o = admin(&app, &["stats"], &[]);
    let stats = out(&o);
    let line = stats
        .lines()
        .find(|l| l.trim_start().starts_with("issuer"))
        .unwrap();
    assert!(line.contains("422"), "{stats}");
    assert!(stats.contains("pending"), "{stats}");
    let o = admin(&app, &["dead-letters", "list", "nowhere"], &[]);
    assert!(
        err(&o).contains("issuer, push, email, usos-watch"),
        "{}",
        err(&o)
    );

    // Put back (the bridge takes it now), it goes through.
    let o = admin(
        &app,
        &["dead-letters", "requeue", "issuer", "--id", &dead[0].id],
        &[],
    );
    assert!(
        out(&o).contains("1 dead letter(s) back"),
        "{} {}",
        out(&o),
        err(&o)
    );
    // The admin tool put it back due at its own (real) time: the server's
    // test clock catches up.
    let real = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    app.clock.advance(real - common::START + 1000);
    app.wait_for(&token, OrderStatus::Ready).await;
    let o = admin(&app, &["stats"], &[]);
    assert!(
        out(&o).contains("jan.kowalski dead-letters requeue issuer"),
        "{}",
        out(&o)
    );

    let o = admin(&app, &["dead-letters", "purge", "issuer"], &[]);
    assert!(!o.status.success(), "purge needs --id or --all");
    sqlx::query(
        "INSERT INTO dead_issuer_commands (id, order_id, command, reason, created_at, attempts, \
         last_error, dead_at) VALUES ('x', 'y', 'submit', NULL, 1, 1, 'e', 1)",
    )
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let o = admin(&app, &["dead-letters", "purge", "issuer", "--all"], &[]);
    assert!(out(&o).contains("1 dead letter(s) dropped"), "{}", out(&o));
}

async fn a_backup_of_a_running_server_opens_and_serves(db: Db) {
    let app = spawn_app(db).await;
    let (token, ready) = app.ready_order("anna").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("legitka-backup.db");
    let o = admin(&app, &["backup", file.to_str().unwrap()], &[]);
    if db == Db::Postgres {
        assert!(!o.status.success());
        assert!(err(&o).contains("pg_dump"), "{}", err(&o));
        return;
    }
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("activation key"), "{}", out(&o));
    // The running server goes on; the copy is a server of its own.
    let o = admin(&app, &["backup", file.to_str().unwrap()], &[]);
    assert!(err(&o).contains("exists already"), "{}", err(&o));
    let restored = spawn_app_with(db, |s| {
        s.database_url = format!("sqlite://{}", file.display());
        s.migrate_on_start = false;
    })
    .await;
    let t = restored.sign_in("anna").await;
    let order = restored.me(&t).await.order.unwrap();
    assert_eq!(
        (order.id.as_str(), order.status),
        (ready.id.as_str(), OrderStatus::Ready)
    );
    let r = restored
        .post(&t, "/orders/current/reveal")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the codes open with the same key"
    );
    // The original's session is in the copy too (it is the same data).
    assert_eq!(restored.me(&token).await.order.unwrap().id, ready.id);
}
