//! Sign-in through the university's directory: a real OpenLDAP server on
//! loopback (StartTLS, a service account, the password policy's lockout).
//! The registry keeps no password here: the demo's registry password is
//! refused, the directory's works, and whoever the directory knows must be
//! in the registry too.

mod common;

use common::ldap::{Person, Slapd};
use common::usos::code_on;
use common::{Db, TestApp, error_of, spawn_app_with};
use legitka_server::identity::IdentitySettings;
use legitka_server::identity::ldap::LdapSettings;
use legitka_wire::{ErrorCode, SignInResponse};
use reqwest::StatusCode;
use serde_json::json;

both!(
    students_sign_in_with_their_directory_password,
    what_the_directory_refuses_is_said_plainly,
    a_username_cannot_change_the_search,
    a_directory_that_is_down_or_silent_locks_nobody_out,
);

const PEOPLE: &[Person<'static>] = &[
    Person {
        uid: "anna",
        given: "Anna",
        sn: "Nowak",
        password: "haslo-z-katalogu",
        locked: false,
    },
    // Known to the directory, not to the student register.
    Person {
        uid: "zofia",
        given: "Zofia",
        sn: "Wrona",
        password: "haslo-zofii",
        locked: false,
    },
    Person {
        uid: "bartek",
        given: "Bartosz",
        sn: "Lis",
        password: "haslo-bartka",
        locked: true,
    },
];

async fn app_with_directory(db: Db, ldap: LdapSettings) -> TestApp {
    spawn_app_with(db, move |s| s.identity = IdentitySettings::Ldap(ldap)).await
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn students_sign_in_with_their_directory_password(db: Db) {
    let slapd = Slapd::start(PEOPLE);
    let app = app_with_directory(db, slapd.settings_at(slapd.url())).await;
    let r = sign_in(&app, "anna", "haslo-z-katalogu").await;
    assert_eq!(r.status(), StatusCode::OK);
    let session: SignInResponse = r.json().await.unwrap();
    assert_eq!(session.student.last_name, "Nowak");
    assert_eq!(
        app.me(&session.tokens.access_token)
            .await
            .student
            .first_name,
        "Anna"
    );
    // The registry's own password means nothing with a directory.
    assert_eq!(
        error_of(sign_in(&app, "anna", legitka_server::demo::DEMO_PASSWORD).await).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );
    // The web page that pairs the app signs in the same way.
    let page = app
        .http
        .post(format!("{}/pair", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=anna&password=haslo-z-katalogu")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(code_on(&page).len(), 9, "{page}");
}

async fn what_the_directory_refuses_is_said_plainly(db: Db) {
    let slapd = Slapd::start(PEOPLE);
    let app = app_with_directory(db, slapd.settings_at(slapd.url())).await;
    assert_eq!(
        error_of(sign_in(&app, "anna", "zle-haslo").await).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );
    assert_eq!(
        error_of(sign_in(&app, "nikt", "haslo").await).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );
    // The directory knows Zofia; the student register does not.
    assert_eq!(
        error_of(sign_in(&app, "zofia", "haslo-zofii").await).await,
        (StatusCode::FORBIDDEN, ErrorCode::NotInRegister)
    );
    // Locked by the directory's password policy: right password or not.
    assert_eq!(
        error_of(sign_in(&app, "bartek", "haslo-bartka").await).await,
        (StatusCode::FORBIDDEN, ErrorCode::AccountLocked)
    );
    // The pairing page says the same in words.
    let page = app
        .http
        .post(format!("{}/pair", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=zofia&password=haslo-zofii")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("You are not in the university&#39;s student register")
            || page.contains("You are not in the university's student register"),
        "{page}"
    );
}

async fn a_username_cannot_change_the_search(db: Db) {
    let slapd = Slapd::start(PEOPLE);
    let app = app_with_directory(db, slapd.settings_at(slapd.url())).await;
    // Unescaped, each would find Anna's entry and bind with her password.
    for username in [
        "an*",
        "*",
        "anna)(uid=*",
        "*)(|(uid=anna",
        "anna\\2a",
        "ann?",
    ] {
        let r = sign_in(&app, username, "haslo-z-katalogu").await;
        assert_eq!(
            error_of(r).await,
            (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials),
            "{username:?}"
        );
    }
    // An empty password is never an anonymous bind that "succeeds".
    let r = sign_in(&app, "anna", " ").await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );
}

async fn a_directory_that_is_down_or_silent_locks_nobody_out(db: Db) {
    let mut slapd = Slapd::start(PEOPLE);
    let app = app_with_directory(db, slapd.settings_at(slapd.url())).await;
    slapd.stop();
    // More tries than the sign-in limit (10 a minute per account): each is
    // told the university's sign-in is not answering, none counts.
    for _ in 0..12 {
        assert_eq!(
            error_of(sign_in(&app, "anna", "haslo-z-katalogu").await).await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::SignInUnavailable
            )
        );
    }
    slapd.run();
    assert_eq!(
        sign_in(&app, "anna", "haslo-z-katalogu").await.status(),
        StatusCode::OK
    );

    // A directory that takes the connection and never answers: given up
    // on within its time limit, the same sentence.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ldap://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let app = app_with_directory(db, slapd.settings_at(url)).await;
    let started = std::time::Instant::now();
    assert_eq!(
        error_of(sign_in(&app, "anna", "haslo-z-katalogu").await).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::SignInUnavailable
        )
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
