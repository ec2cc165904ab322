//! Sign-in at the university's OpenID Connect provider: the certified npm
//! `oidc-provider`, run by node on loopback, with the authorization code
//! flow and PKCE, as the student's browser goes through it. The server
//! checks every ID token: one for another client, an expired one and one
//! with a broken signature are refused, whatever else they say.

mod common;

use common::oidc::{Op, Tamper};
use common::usos::code_on;
use common::{Db, TestApp, error_of, spawn_app_with};
use legitka_server::settings::IdentitySettings;
use legitka_wire::{ErrorCode, SignInMethod, SignInResponse, UniversityInfo};
use reqwest::StatusCode;
use serde_json::json;

both!(
    a_student_signs_in_at_the_universitys_provider,
    refusals_and_bad_tokens_give_no_session,
    a_provider_that_is_down_says_so,
);

async fn app_with_provider(db: Db) -> (TestApp, Op) {
    let mut op = Op::bind().await;
    let settings = op.settings();
    let app = spawn_app_with(db, move |s| s.identity = IdentitySettings::Oidc(settings)).await;
    op.run(&format!("{}/oidc/callback", app.base)).await;
    (app, op)
}

/// The student's browser: from the app's `/oidc/login` through the
/// provider's sign-in page (`decision`: allow or deny) back to our server.
async fn through_provider(
    app: &TestApp,
    login: &str,
    password: &str,
    decision: &str,
) -> (StatusCode, String) {
    common::oidc::through_provider(
        &format!("{}/oidc/login", app.base),
        login,
        password,
        decision,
    )
    .await
}

async fn exchange(app: &TestApp, code: &str) -> reqwest::Response {
    app.http
        .post(app.url("/session/pair"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

async fn a_student_signs_in_at_the_universitys_provider(db: Db) {
    let (app, _op) = app_with_provider(db).await;
    // The app offers the browser, not a password form.
    let info: UniversityInfo = app
        .http
        .get(app.url("/university"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info.sign_in, SignInMethod::Browser);
    assert_eq!(
        error_of(
            app.http
                .post(app.url("/session"))
                .json(&json!({"username": "anna", "password": "haslo-anny-oidc"}))
                .send()
                .await
                .unwrap()
        )
        .await,
        (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
    );

    // The web page that pairs the app sends the student there too.
    let pair = app
        .http
        .get(format!("{}/pair", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(pair.contains("href=\"/oidc/login\""), "{pair}");
    assert!(!pair.contains("type=\"password\""), "{pair}");

    let (status, page) = through_provider(&app, "anna", "haslo-anny-oidc", "allow").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Anna Nowak"), "{page}");
    assert!(page.contains("legitka://pair?"), "{page}");
    let r = exchange(&app, &code_on(&page)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let session: SignInResponse = r.json().await.unwrap();
    assert_eq!(session.student.first_name, "Anna");

    // A wrong password stays at the provider's page.
    let (status, page) = through_provider(&app, "anna", "zle", "allow").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Wrong login or password"), "{page}");
}

async fn refusals_and_bad_tokens_give_no_session(db: Db) {
    let (app, op) = app_with_provider(db).await;
    // The student refuses.
    let (status, page) = through_provider(&app, "anna", "haslo-anny-oidc", "deny").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("cancelled or refused"), "{page}");
    // Known to the provider, not to the student register.
    let (status, page) = through_provider(&app, "zofia", "haslo-zofii-oidc", "allow").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("not in the university"), "{page}");
    assert!(!page.contains("pairing-code"));
    // Tokens that fail a check, each otherwise well formed.
    for tamper in [
        Tamper::WrongAudience,
        Tamper::Expired,
        Tamper::BrokenSignature,
    ] {
        op.tamper(tamper);
        let (status, page) = through_provider(&app, "anna", "haslo-anny-oidc", "allow").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{tamper:?}: {page}");
        assert!(!page.contains("pairing-code"), "{tamper:?}");
    }
    op.tamper(Tamper::Nothing);
    let (status, _) = through_provider(&app, "anna", "haslo-anny-oidc", "allow").await;
    assert_eq!(status, StatusCode::OK);
    // A callback replayed, or made up: nothing.
    let r = app
        .http
        .get(format!("{}/oidc/callback?code=x&state=made-up", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn a_provider_that_is_down_says_so(db: Db) {
    let (app, mut op) = app_with_provider(db).await;
    op.stop();
    let r = app
        .http
        .get(format!("{}/oidc/login", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.text().await.unwrap().contains("not answering"));
}
