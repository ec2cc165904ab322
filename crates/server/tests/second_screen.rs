//! "Show the QR on a computer": a one-time code from the app, typed on the
//! university server's /show page, shows the codes there once, as a view.

mod common;

use common::{Db, TestApp, error_of, spawn_app};
use legitka_wire::{ActivationData, ErrorCode, SecondScreen};
use reqwest::StatusCode;

both!(
    the_codes_show_on_a_computer_once_as_a_view,
    a_second_screen_code_expires_and_needs_a_ready_order,
);

async fn show(app: &TestApp, code: &str) -> (StatusCode, String, String) {
    let r = app
        .http
        .post(format!("{}/show", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("code={code}"))
        .send()
        .await
        .unwrap();
    let cache = r.headers()["cache-control"].to_str().unwrap().to_owned();
    (r.status(), cache, r.text().await.unwrap())
}

async fn second_screen(app: &TestApp, token: &str) -> reqwest::Response {
    app.post(token, "/orders/current/second-screen")
        .send()
        .await
        .unwrap()
}

async fn the_codes_show_on_a_computer_once_as_a_view(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.ready_order("anna").await;
    let r = second_screen(&app, &token).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let screen: SecondScreen = r.json().await.unwrap();
    assert_eq!(screen.address, format!("{}/show", app.base));
    assert_eq!(screen.code.len(), 9, "{}", screen.code);
    // Asking for the code spends nothing.
    assert_eq!(app.me(&token).await.order.unwrap().reveals_left, 3);

    // The computer's page asks for the code; a wrong one shows nothing.
    let form = app
        .http
        .get(format!("{}/show", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.unwrap().contains("name=\"code\""));
    let (status, cache, page) = show(&app, "WRNG-CODE").await;
    assert_eq!((status, cache.as_str()), (StatusCode::OK, "no-store"));
    assert!(
        page.contains("does not work") && !page.contains("<svg"),
        "{page}"
    );
    assert_eq!(app.me(&token).await.order.unwrap().reveals_left, 3);

    // The right one (typed loosely): the QR and the codes, one view spent.
    let typed = screen.code.to_lowercase().replace('-', " ");
    let (status, cache, page) = show(&app, &typed).await;
    assert_eq!((status, cache.as_str()), (StatusCode::OK, "no-store"));
    assert!(page.contains("<svg"), "the QR code");
    assert_eq!(app.me(&token).await.order.unwrap().reveals_left, 2);
    let r = app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let data: ActivationData = r.json().await.unwrap();
    assert!(page.contains(&format!("id=\"activation-code\">{}<", data.activation_code)));
    assert!(page.contains(&format!("id=\"manual-code\">{}<", data.manual_code)));
    assert!(page.contains("Views left: 2"), "{page}");

    // Once only.
    let (_, _, again) = show(&app, &screen.code).await;
    assert!(again.contains("does not work") && !again.contains("<svg"));
    assert_eq!(app.me(&token).await.order.unwrap().reveals_left, 1);
}

async fn a_second_screen_code_expires_and_needs_a_ready_order(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.ready_order("anna").await;
    let screen: SecondScreen = second_screen(&app, &token).await.json().await.unwrap();
    app.clock.advance(5 * 60 * 1000);
    let (_, _, page) = show(&app, &screen.code).await;
    assert!(page.contains("does not work") && !page.contains("<svg"));
    assert_eq!(app.me(&token).await.order.unwrap().reveals_left, 3);

    // No ready order, no code.
    let bartek = app.sign_in("bartek").await;
    assert_eq!(
        error_of(second_screen(&app, &bartek).await).await,
        (StatusCode::CONFLICT, ErrorCode::NotReady)
    );
    // Views spent: no code either.
    for _ in 0..3 {
        app.post(&token, "/orders/current/reveal")
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        error_of(second_screen(&app, &token).await).await,
        (StatusCode::CONFLICT, ErrorCode::NotReady)
    );
}
