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
    links_on_the_universitys_domain_open_the_app_or_say_what_to_do,
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

/// The attribute `name` of the first element carrying it on `page`.
fn attribute(page: &str, name: &str) -> String {
    let start = page
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("{name} in {page}"))
        + name.len()
        + 2;
    let len = page[start..].find('"').unwrap();
    page[start..start + len].replace("&amp;", "&")
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
}

async fn links_on_the_universitys_domain_open_the_app_or_say_what_to_do(db: Db) {
    use legitka_wire::shell::{LinkTarget, parse_link};
    // Without [app_links]: no association, and the QR codes are legitka:// links.
    let plain = spawn_app(db).await;
    for path in [
        "/.well-known/assetlinks.json",
        "/.well-known/apple-app-site-association",
    ] {
        assert_eq!(
            error_of(get(&plain, path).await).await,
            (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            "{path}"
        );
    }
    let setup = get(&plain, "/setup").await.text().await.unwrap();
    assert!(attribute(&setup, "data-link").starts_with("legitka://setup?"));

    let fingerprint = (0..32)
        .map(|i| format!("{i:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let app = spawn_app_with(db, |s| {
        s.public_url = Some("https://legitka.uczelnia.example".to_owned());
        s.app_links = Some(legitka_server::app_links::AppLinks {
            android_package: Some("pl.legitka.app".to_owned()),
            android_sha256_cert_fingerprints: vec![fingerprint.clone()],
            apple_app_ids: vec!["ABCDE12345.pl.legitka.app".to_owned()],
        });
    })
    .await;
    // The domain vouches for the app: Android's file …
    let r = get(&app, "/.well-known/assetlinks.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["cache-control"], "public, max-age=3600");
    let android: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        android,
        json!([{"relation": ["delegate_permission/common.handle_all_urls"],
                "target": {"namespace": "android_app", "package_name": "pl.legitka.app",
                           "sha256_cert_fingerprints": [fingerprint]}}])
    );
    // … and Apple's, for the links under /open/ only.
    let r = get(&app, "/.well-known/apple-app-site-association").await;
    assert_eq!(r.status(), StatusCode::OK);
    let apple: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        apple,
        json!({"applinks": {"details": [{"appIDs": ["ABCDE12345.pl.legitka.app"],
                                          "components": [{"/": "/open/*"}]}]}})
    );

    // The poster's QR: a link the phone's own camera opens; without the
    // app, it is this same page.
    let setup = get(&app, "/setup").await.text().await.unwrap();
    let link = attribute(&setup, "data-link");
    assert_eq!(link, "https://legitka.uczelnia.example/open/setup");
    assert_eq!(
        parse_link(&link),
        Ok(Some(LinkTarget {
            server: "https://legitka.uczelnia.example".into(),
            university: None,
            code: None
        }))
    );
    let opened = get(&app, "/open/setup").await;
    assert_eq!(opened.status(), StatusCode::OK);
    let opened = opened.text().await.unwrap();
    assert!(opened.contains("id=\"install\""), "{opened}");

    // A pairing code's QR likewise; without the app its page gives the
    // code to type and the legitka:// link, and the code works once.
    let (_, page) = pair_page(&app, "username=anna&password=legitka").await;
    let link = attribute(&page, "data-link");
    let target = parse_link(&link).unwrap().unwrap();
    assert_eq!(target.server, "https://legitka.uczelnia.example");
    let code = target.code.unwrap();
    assert_eq!(code, code_on(&page).replace('-', ""));
    let path = &link["https://legitka.uczelnia.example".len()..];
    let fallback = get(&app, path).await.text().await.unwrap();
    assert_eq!(code_on(&fallback), code_on(&page));
    assert_eq!(
        attribute(&fallback, "href"),
        legitka_wire::shell::pair_link("https://legitka.uczelnia.example", None, &code)
    );
    assert_eq!(exchange(&app, &code).await.status(), StatusCode::OK);
    // A link with no code, or a broken one, is not a page.
    for broken in [
        "/open/pair",
        "/open/pair?code=ABC",
        "/open/pair?code=ABCD2345&university=..%2F",
    ] {
        assert_eq!(
            error_of(get(&app, broken).await).await,
            (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            "{broken}"
        );
    }
}
