//! Sign-in by pairing code: the web page shows a code once the student signs
//! in; the app trades it for a session once, within five minutes.

mod common;

use common::usos::code_on;
use common::{Db, TestApp, error_of, spawn_app, spawn_app_with};
use legitka_wire::{ErrorCode, SignInResponse};
use reqwest::StatusCode;
use serde_json::json;

both!(
    a_code_from_the_page_signs_the_app_in_once,
    a_code_expires_after_five_minutes,
    wrong_credentials_on_the_page_show_no_code,
    the_setup_page_and_the_api_name_the_university,
);

async fn pair_page(app: &TestApp, form: &str) -> (StatusCode, String) {
    let r = app
        .http
        .post(format!("{}/pair", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn exchange(app: &TestApp, code: &str) -> reqwest::Response {
    app.http
        .post(app.url("/session/pair"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

async fn a_code_from_the_page_signs_the_app_in_once(db: Db) {
    let app = spawn_app(db).await;
    let r = app
        .http
        .get(format!("{}/pair", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<form method=\"post\" action=\"/pair\">")
    );

    let (status, page) = pair_page(&app, "username=anna&password=legitka").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<svg") && page.contains("Anna Nowak"),
        "{page}"
    );
    let code = code_on(&page);
    assert_eq!(code.len(), 9, "{code}"); // XXXX-XXXX

    // Typed loosely on a desktop: lower case, no dash.
    let r = exchange(&app, &code.replace('-', "").to_lowercase()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let session: SignInResponse = r.json().await.unwrap();
    assert_eq!(session.student.first_name, "Anna");
    let me = app.me(&session.tokens.access_token).await;
    assert_eq!(me.student.last_name, "Nowak");

    let r = exchange(&app, &code).await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidPairingCode)
    );
}

async fn a_code_expires_after_five_minutes(db: Db) {
    let app = spawn_app(db).await;
    let (_, page) = pair_page(&app, "username=anna&password=legitka").await;
    let code = code_on(&page);
    app.clock.advance(5 * 60 * 1000);
    let r = exchange(&app, &code).await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidPairingCode)
    );
}

async fn wrong_credentials_on_the_page_show_no_code(db: Db) {
    let app = spawn_app(db).await;
    let (status, page) = pair_page(&app, "username=anna&password=nope").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Wrong username or password") && !page.contains("pairing-code\">"));
    let (_, page) = pair_page(&app, "username=%3Cscript%3E&password=x").await;
    assert!(!page.contains("<script>"), "{page}");
    let r = exchange(&app, "ABCD-EFGH").await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidPairingCode)
    );
}

async fn the_setup_page_and_the_api_name_the_university(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.university_name = "Politechnika <Przykładowa>".to_owned();
        s.help_contact = Some("legitymacje@uczelnia.example, pok. 12".to_owned());
        s.terms_url = Some("https://uczelnia.example/mlegitymacja".to_owned());
    })
    .await;
    let info: legitka_wire::UniversityInfo = app
        .http
        .get(app.url("/university"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info.name, "Politechnika <Przykładowa>");
    // Where students get help and the university's rules, for the app.
    assert_eq!(
        info.help_contact.as_deref(),
        Some("legitymacje@uczelnia.example, pok. 12")
    );
    assert_eq!(
        info.terms_url.as_deref(),
        Some("https://uczelnia.example/mlegitymacja")
    );

    let r = app
        .http
        .get(format!("{}/setup", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    // The name is escaped, and the QR points the app at this very server.
    assert!(
        page.contains("<h1>Politechnika &lt;Przykładowa&gt;</h1>"),
        "{page}"
    );
    let link = legitka_wire::shell::setup_link(&app.base, None);
    assert!(page.contains(&format!("data-link=\"{link}\"")), "{page}");
    assert!(page.contains("<svg"), "no QR code");
}
