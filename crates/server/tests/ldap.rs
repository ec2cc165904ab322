//! Sign-in through the university's directory: a real OpenLDAP server on
//! loopback (StartTLS, a service account, the password policy's lockout).
//! The registry keeps no password here: the demo's registry password is
//! refused, the directory's works, and whoever the directory knows must be
//! in the registry too.

mod common;

use common::ldap::{Person, Slapd};
use common::usos::code_on;
use common::{Db, TestApp, error_of, spawn_app_with};
use legitka_server::identity::ldap::LdapSettings;
use legitka_server::settings::IdentitySettings;
use legitka_wire::{ErrorCode, SignInResponse};
use reqwest::StatusCode;
use serde_json::json;

both!(
    students_sign_in_with_their_directory_password,
    what_the_directory_refuses_is_said_plainly,
    a_username_cannot_change_the_search,
    a_directory_that_is_down_or_silent_locks_nobody_out,
    the_registry_is_filled_from_the_directory,
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
    spawn_app_with(db, move |s| {
        s.identity = IdentitySettings::Ldap(Box::new(ldap))
    })
    .await
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

/// A student the directory describes in full: the attributes the rules
/// need, mapped in `[ldap.sync]` (inetOrgPerson has no PESEL or ELS
/// attributes: a university's own schema would; these stand in).
fn feliks(pesel: &str) -> String {
    format!(
        "
dn: uid=feliks,{students}
objectClass: inetOrgPerson
uid: feliks
cn: Feliks Sowa
givenName: Feliks
sn: Sowa
userPassword: haslo-feliksa
carLicense: {pesel}
employeeNumber: 654321
mail: feliks.sowa@student.uczelnia.example
jpegPhoto:: /9j/4AAQSkZJRg==
employeeType: TRUE
roomNumber: ELS/2026/7
title: 20991231000000Z
businessCategory: second_cycle
",
        students = common::ldap::STUDENTS
    )
}

fn mapping() -> legitka_server::identity::ldap::SyncMapping {
    serde_json::from_value(json!({
        "pesel": "carLicense",
        "album_number": "employeeNumber",
        "email": "mail",
        "has_photo": "jpegPhoto",
        "active": "employeeType",
        "els_number": "roomNumber",
        "els_valid_until": "title",
        "study_level": "businessCategory",
        "default_study_level": "first_cycle",
    }))
    .unwrap()
}

async fn the_registry_is_filled_from_the_directory(db: Db) {
    use legitka_server::identity::Identity;
    use legitka_server::import::{ImportError, import_directory};
    let pesel = legitka_server::pesel::Pesel::with_check_digit("0421081234").unwrap();
    let slapd = Slapd::start_with(PEOPLE, &feliks(pesel.expose()));
    let mut settings = slapd.settings_at(slapd.url());
    settings.sync = Some(mapping());
    let app = app_with_directory(db, settings).await;
    let Identity::Ldap(directory) = &*app.state.identity else {
        unreachable!()
    };
    let students = directory.students().await.unwrap();
    assert_eq!(students.len(), 4, "{students:?}");
    let report = import_directory(&app.state, &students).await.unwrap();
    assert_eq!(
        (report.inserted, report.updated),
        (2, 2),
        "feliks and zofia are new"
    );

    // Feliks signs in with his directory password and may order: every
    // rule the registry checks was read from the directory.
    let r = sign_in(&app, "feliks", "haslo-feliksa").await;
    assert_eq!(r.status(), StatusCode::OK);
    let session: SignInResponse = r.json().await.unwrap();
    let me = app.me(&session.tokens.access_token).await;
    assert_eq!(me.student.album_number.as_deref(), Some("654321"));
    assert!(me.eligible, "{:?}", me.checks);
    // Zofia is in the register now; no employeeType: not an active student.
    let r = sign_in(&app, "zofia", "haslo-zofii").await;
    assert_eq!(r.status(), StatusCode::OK);
    let session: SignInResponse = r.json().await.unwrap();
    let me = app.me(&session.tokens.access_token).await;
    assert!(!me.eligible);
    // No password reached the registry.
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM students WHERE username = 'feliks'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(hash, "");

    // A bad value anywhere: nothing changes, and the entry is named.
    let slapd = Slapd::start_with(PEOPLE, &feliks("12345678901"));
    let mut settings = slapd.settings_at(slapd.url());
    settings.sync = Some(mapping());
    let app = app_with_directory(db, settings).await;
    let Identity::Ldap(directory) = &*app.state.identity else {
        unreachable!()
    };
    let students = directory.students().await.unwrap();
    match import_directory(&app.state, &students).await {
        Err(ImportError::BadRows(rows)) => {
            assert_eq!(rows.len(), 1, "{rows:?}");
            let entry = &students[usize::try_from(rows[0].line).unwrap() - 2];
            assert!(entry.dn.starts_with("uid=feliks,"), "{}", entry.dn);
            assert!(rows[0].reason.contains("PESEL"), "{}", rows[0].reason);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error_of(sign_in(&app, "feliks", "haslo-feliksa").await).await,
        (StatusCode::FORBIDDEN, ErrorCode::NotInRegister)
    );
}
