//! A USOS university for the server's tests: the USOS stand-in with the
//! server's consumer key and one student (Anna, `anna` / `haslo-anny`, USOS
//! id 1001), and the student's browser on the way to USOS and back.

use super::{Db, TestApp, spawn_app_with};
use legitka_emulators::usos::UsosEmulator;
use legitka_server::usos::UsosUniversity;
use serde_json::json;
use std::sync::Arc;

/// A server with the USOS university `uwu` on the stand-in.
pub async fn with_usos(db: Db) -> (TestApp, Arc<UsosEmulator>) {
    with_usos_as(db, |_| {}).await
}

/// The same, with the university set up by `adjust` (its limits, say).
pub async fn with_usos_as(
    db: Db,
    adjust: impl FnOnce(&mut UsosUniversity),
) -> (TestApp, Arc<UsosEmulator>) {
    let usos = UsosEmulator::start().await.unwrap();
    usos.add_consumer("legitka-key", "legitka-consumer-secret");
    usos.add_user("1001", "anna", "haslo-anny", "Anna", "Nowak");
    let mut university = UsosUniversity::new(
        "uwu",
        "Uniwersytet USOS",
        &usos.base_url,
        "legitka-key",
        "legitka-consumer-secret",
    )
    .unwrap();
    adjust(&mut university);
    let app = spawn_app_with(db, |s| s.usos = vec![university]).await;
    (app, usos)
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn location(r: &reqwest::Response) -> String {
    assert!(r.status().is_redirection(), "{}", r.status());
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// The browser's trip: our login → USOS's page → sign in and decide → back
/// to our callback. Returns the callback URL USOS sent the browser to.
pub async fn to_usos_and_back(app: &TestApp, decision: &str) -> String {
    let b = browser();
    let login = b
        .get(format!("{}/usos/uwu/login", app.base))
        .send()
        .await
        .unwrap();
    let authorize = location(&login);
    let page = b
        .get(&authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = page
        .split("name=\"oauth_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the login form carries the request token")
        .to_owned();
    let back = b
        .post(authorize.split('?').next().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "oauth_token={token}&username=anna&password=haslo-anny&decision={decision}"
        ))
        .send()
        .await
        .unwrap();
    let callback = location(&back);
    assert!(
        callback.starts_with(&format!("{}/usos/uwu/callback", app.base)),
        "{callback}"
    );
    callback
}

pub fn code_on(page: &str) -> String {
    let start = page.find("id=\"pairing-code\">").expect("a pairing code") + 18;
    page[start..start + 9].to_owned()
}

/// Signs Anna in through USOS as the app does (the pairing code from the
/// page the callback shows); returns an access token.
pub async fn sign_in_with_usos(app: &TestApp) -> String {
    let callback = to_usos_and_back(app, "allow").await;
    let page = browser()
        .get(&callback)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let session: serde_json::Value = app
        .http
        .post(app.url("/session/pair"))
        .json(&json!({ "code": code_on(&page) }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["access_token"].as_str().unwrap().to_owned()
}
