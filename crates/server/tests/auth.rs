//! Sessions: short access tokens, refresh rotation with reuse detection,
//! logout, expiry by the clock, and rate limits — on SQLite and PostgreSQL.

mod common;

use common::{Db, TestApp, error_of, spawn_app, spawn_app_with};
use legitka_server::clock::DAY_MS;
use legitka_server::demo::DEMO_PASSWORD;
use legitka_wire::{ErrorCode, SignInResponse, TokenPair};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

both!(
    refresh_rotates_and_a_reused_refresh_token_revokes_the_session,
    access_tokens_expire_and_refresh_tokens_outlive_them,
    signing_out_ends_access_and_refresh,
    sign_in_and_reveal_are_rate_limited,
    concurrent_refreshes_with_one_token_take_the_reuse_path,
    only_sane_argon2id_hashes_are_run,
);

async fn sign_in(app: &TestApp, user: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/session"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn tokens(app: &TestApp) -> TokenPair {
    let r = sign_in(app, "anna", DEMO_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<SignInResponse>().await.unwrap().tokens
}

async fn refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.http
        .post(app.url("/session/refresh"))
        .json(&json!({ "refresh_token": refresh_token }))
        .send()
        .await
        .unwrap()
}

async fn me_status(app: &TestApp, access: &str) -> StatusCode {
    app.get(access, "/me").send().await.unwrap().status()
}

async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_session(db: Db) {
    let app = spawn_app(db).await;
    let first = tokens(&app).await;
    assert_eq!(me_status(&app, &first.access_token).await, StatusCode::OK);
    let r = refresh(&app, &first.refresh_token).await;
    assert_eq!(r.status(), StatusCode::OK);
    let second: TokenPair = r.json().await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(
        me_status(&app, &first.access_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me_status(&app, &second.access_token).await, StatusCode::OK);

    // The spent refresh token again: someone copied it. The session ends.
    let r = refresh(&app, &first.refresh_token).await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    assert_eq!(
        me_status(&app, &second.access_token).await,
        StatusCode::UNAUTHORIZED
    );
    let r = refresh(&app, &second.refresh_token).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Another sign-in is a separate session and works.
    let other = tokens(&app).await;
    assert_eq!(me_status(&app, &other.access_token).await, StatusCode::OK);
    let r = refresh(&app, "not-a-token").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn access_tokens_expire_and_refresh_tokens_outlive_them(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.access_ttl = Duration::from_secs(15 * 60);
        s.session_ttl = Duration::from_secs(30 * 24 * 3600);
    })
    .await;
    let t = tokens(&app).await;
    assert_eq!(t.access_expires_at, common::START + 15 * 60 * 1000);
    app.clock.advance(15 * 60 * 1000);
    assert_eq!(
        me_status(&app, &t.access_token).await,
        StatusCode::UNAUTHORIZED
    );
    let r = refresh(&app, &t.refresh_token).await;
    assert_eq!(r.status(), StatusCode::OK);
    let t2: TokenPair = r.json().await.unwrap();
    assert_eq!(me_status(&app, &t2.access_token).await, StatusCode::OK);
    app.clock.advance(30 * DAY_MS);
    let r = refresh(&app, &t2.refresh_token).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn signing_out_ends_access_and_refresh(db: Db) {
    let app = spawn_app(db).await;
    let t = tokens(&app).await;
    let keep = tokens(&app).await; // another device
    let r = app
        .http
        .delete(app.url("/session"))
        .bearer_auth(&t.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        me_status(&app, &t.access_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, &t.refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me_status(&app, &keep.access_token).await, StatusCode::OK);
}

async fn sign_in_and_reveal_are_rate_limited(db: Db) {
    let app = spawn_app(db).await;
    for _ in 0..10 {
        let r = sign_in(&app, "bartek", "wrong").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked for a while, even with the right password.
    let r = sign_in(&app, "bartek", DEMO_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(error_of(r).await.1, ErrorCode::RateLimited);
    // Other accounts are not locked out by bartek's guesser.
    let (token, _) = app.ready_order("anna").await;
    let mut statuses = vec![];
    for _ in 0..11 {
        statuses.push(
            app.post(&token, "/orders/current/reveal")
                .send()
                .await
                .unwrap()
                .status(),
        );
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 3);
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}

/// The same refresh token sent several times at once (a copied token used
/// alongside the app): one rotation at most, the rest are reuse — never a
/// server error, on PostgreSQL's READ COMMITTED as on SQLite.
async fn concurrent_refreshes_with_one_token_take_the_reuse_path(db: Db) {
    let app = spawn_app(db).await;
    for _ in 0..5 {
        let first = tokens(&app).await;
        let answers =
            futures_util::future::join_all((0..6).map(|_| refresh(&app, &first.refresh_token)))
                .await;
        let mut ok = 0;
        for r in answers {
            match r.status() {
                StatusCode::OK => ok += 1,
                StatusCode::UNAUTHORIZED => {
                    assert_eq!(error_of(r).await.1, ErrorCode::Unauthorized);
                }
                other => panic!("{other}: {}", r.text().await.unwrap()),
            }
        }
        assert!(ok <= 1, "one token rotated {ok} times");
    }
}

async fn only_sane_argon2id_hashes_are_run(db: Db) {
    use legitka_server::auth::hash_ok;
    let app = spawn_app(db).await;
    let good = legitka_server::auth::hash_password("secret".into())
        .await
        .unwrap();
    assert!(hash_ok(&good).is_ok(), "{good}");
    for bad in [
        // argon2i, not argon2id
        "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$n6bwFhBH5pxLzhiSmpOJXzmBspdRcaxHvMWYV7axoXk",
        // 4 GiB of memory per check
        "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$n6bwFhBH5pxLzhiSmpOJXzmBspdRcaxHvMWYV7axoXk",
        // too weak
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$n6bwFhBH5pxLzhiSmpOJXzmBspdRcaxHvMWYV7axoXk",
        "$2b$12$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
    ] {
        assert!(hash_ok(bad).is_err(), "{bad}");
    }
    // A stored hash that asks for too much is never run: the account
    // cannot sign in, and the server answers as for a wrong password.
    sqlx::query("UPDATE students SET password_hash = $1 WHERE username = 'anna'")
        .bind("$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$n6bwFhBH5pxLzhiSmpOJXzmBspdRcaxHvMWYV7axoXk")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let r = sign_in(&app, "anna", DEMO_PASSWORD).await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );
}
