//! Sign in with USOS, through the real server and the USOS stand-in, the
//! test playing the student's browser: to USOS and back, a pairing code
//! for the app, a session; and each way it can go wrong.

mod common;

use common::usos::{browser, code_on, to_usos_and_back, with_usos};
use common::{Db, error_of};
use legitka_emulators::usos::lang_dict;
use legitka_server::usos::store;
use legitka_wire::{ErrorCode, SignInMethod, SignInResponse, StudentState, UniversityInfo};
use reqwest::StatusCode;
use serde_json::json;

both!(
    a_student_signs_in_through_usos_and_the_app_gets_a_session,
    declined_replayed_unknown_and_unreachable_sign_ins_say_so,
    one_server_names_each_of_its_universities_and_how_to_sign_in,
);

async fn a_student_signs_in_through_usos_and_the_app_gets_a_session(db: Db) {
    let (app, usos) = with_usos(db).await;
    let callback = to_usos_and_back(&app, "allow").await;
    let page = browser().get(&callback).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let code = code_on(&page);
    // The link that opens the app names this server and the code.
    assert!(
        page.contains(
            &legitka_wire::shell::pair_link(&app.base, Some("uwu"), &code.replace('-', ""))
                .replace('&', "&amp;")
        ),
        "{page}"
    );
    assert!(page.contains("Anna Nowak"));

    let session = app
        .http
        .post(app.url("/session/pair"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), StatusCode::OK);
    let session: SignInResponse = session.json().await.unwrap();
    assert_eq!(session.student.first_name, "Anna");
    let me = app
        .http
        .get(app.url("/me"))
        .bearer_auth(&session.tokens.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // USOS let her order when she signed in.
    let me: StudentState = me.json().await.unwrap();
    assert!(me.eligible && me.university_says.is_none(), "{me:?}");

    // The USOS token is kept sealed, and it works at USOS.
    let student_id: String = sqlx::query_scalar(
        "SELECT id FROM students WHERE university_id = 'uwu' AND external_id = '1001'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    let token = store::token_of(&app.state.db, &app.state.secrets, &student_id)
        .await
        .unwrap()
        .expect("a USOS token");
    let sealed: String = sqlx::query_scalar("SELECT sealed FROM usos_tokens")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert!(!sealed.contains(&token.key) && !sealed.contains(token.secret.expose()));
    let site = &app.state.usos["uwu"];
    assert_eq!(site.api.user(&token).await.unwrap().id, "1001");

    // Signing in again is the same student; no password signs them in.
    // What USOS says of ordering is read again as they sign in.
    usos.set_why_cannot_order(
        "1001",
        Some(lang_dict("Nie masz ważnej ELS.", "You have no valid ELS.")),
    );
    let again = to_usos_and_back(&app, "allow").await;
    assert_eq!(browser().get(&again).send().await.unwrap().status(), 200);
    let me: StudentState = app
        .http
        .get(app.url("/me"))
        .bearer_auth(&session.tokens.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!me.eligible);
    let says = me.university_says.expect("USOS's words");
    assert_eq!(
        (says.pl.as_deref(), says.en.as_deref()),
        (Some("Nie masz ważnej ELS."), Some("You have no valid ELS."))
    );
    let students: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM students WHERE external_id = '1001'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(students, 1);
    for password in ["!", "", "haslo-anny"] {
        let r = app
            .http
            .post(app.url("/session"))
            .json(&json!({"username": "uwu:1001", "password": password}))
            .send()
            .await
            .unwrap();
        let (status, code) = error_of(r).await;
        assert!(status.is_client_error(), "{password:?}: {status}");
        assert_ne!(code, ErrorCode::Internal);
    }
    assert!(usos.calls("services/oauth/access_token") >= 2);
}

async fn declined_replayed_unknown_and_unreachable_sign_ins_say_so(db: Db) {
    let (app, usos) = with_usos(db).await;
    // Declined at USOS: a sentence, no code.
    let declined = to_usos_and_back(&app, "deny").await;
    let page = browser().get(&declined).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let text = page.text().await.unwrap();
    assert!(text.contains("not allowed") && !text.contains("pairing-code"));

    // A callback works once.
    let callback = to_usos_and_back(&app, "allow").await;
    assert_eq!(browser().get(&callback).send().await.unwrap().status(), 200);
    let replay = browser().get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.text().await.unwrap().contains("already used"));

    // Too slow at USOS's page: the sign-in expired.
    let slow = to_usos_and_back(&app, "allow").await;
    app.clock.advance(11 * 60 * 1000);
    assert_eq!(
        browser().get(&slow).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    let unknown = browser()
        .get(format!("{}/usos/nope/login", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    usos.fail_next(503);
    let down = browser()
        .get(format!("{}/usos/uwu/login", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.text().await.unwrap().contains("USOS is not answering"));
}

async fn one_server_names_each_of_its_universities_and_how_to_sign_in(db: Db) {
    let (app, _usos) = with_usos(db).await;
    let info = |query: &'static str| {
        let http = app.http.clone();
        let url = format!("{}{query}", app.url("/university"));
        async move { http.get(url).send().await.unwrap() }
    };
    // The default: the server's own registry, with passwords.
    let native: UniversityInfo = info("").await.json().await.unwrap();
    assert_eq!(native.id, None);
    assert_eq!(native.sign_in, SignInMethod::Password);
    // The USOS university, by its id.
    let uwu: UniversityInfo = info("?university=uwu").await.json().await.unwrap();
    assert_eq!(
        uwu,
        UniversityInfo {
            id: Some("uwu".into()),
            name: "Uniwersytet USOS".into(),
            sign_in: SignInMethod::Usos,
            help_contact: None,
            terms_url: None,
        }
    );
    assert_eq!(
        error_of(info("?university=nope").await).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );

    // Each university's setup page points the app at it and links the others.
    let page = |query: &'static str| {
        let url = format!("{}/setup{query}", app.base);
        async move {
            browser()
                .get(url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let usos_page = page("?university=uwu").await;
    assert!(
        usos_page.contains("<h1>Uniwersytet USOS</h1>"),
        "{usos_page}"
    );
    assert!(
        usos_page.contains(&format!(
            "data-link=\"{}\"",
            legitka_wire::shell::setup_link(&app.base, Some("uwu")).replace('&', "&amp;")
        )),
        "{usos_page}"
    );
    assert!(usos_page.contains("<a href=\"/setup\">"), "{usos_page}");
    let default_page = page("").await;
    assert!(
        default_page.contains("<a href=\"/setup?university=uwu\">Uniwersytet USOS</a>"),
        "{default_page}"
    );
    let unknown = browser()
        .get(format!("{}/setup?university=nope", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
