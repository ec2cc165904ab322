//! The USOS API client against the USOS stand-in over loopback HTTP: the
//! OAuth 1.0a dance as a browser does it, `services/cards` through an
//! order's life, and every kind of USOS trouble sorted as the gateway needs.

use legitka_emulators::usos::{UsosEmulator, guess, lang_dict};
use legitka_server::crypto::Secret;
use legitka_server::usos::client::{Installation, LangDict, UsosError};
use legitka_server::usos::oauth::{Consumer, Freshness, Token, encode, signed};
use legitka_server::usos::statuses;
use legitka_wire::OrderStatus;
use std::sync::Arc;

const CALLBACK: &str = "http://127.0.0.1:9/usos/callback";

async fn installation() -> (Arc<UsosEmulator>, Installation) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let usos = UsosEmulator::start().await.unwrap();
    usos.add_consumer("legitka-key", "legitka-secret");
    usos.add_user("1001", "anna", "haslo-anny", "Anna", "Nowak");
    let api = Installation::new(
        &usos.base_url,
        Consumer {
            key: "legitka-key".into(),
            secret: Secret::new("legitka-secret".into()),
        },
        4,
    )
    .unwrap();
    (usos, api)
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The student's part: the authorize page, the login form, the redirect.
async fn authorize(api: &Installation, request: &Token, login: &str, password: &str) -> String {
    let page = browser()
        .get(api.authorize_url(request))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"password\""), "{page}");
    let form = format!(
        "oauth_token={}&username={login}&password={password}&decision=allow",
        encode(&request.key)
    );
    let answer = browser()
        .post(api.authorize_url(request).split('?').next().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_redirection(), "{}", answer.status());
    answer.headers()["location"].to_str().unwrap().to_owned()
}

fn verifier(location: &str) -> String {
    let url = reqwest::Url::parse(location).unwrap();
    assert_eq!(url.as_str().split('?').next(), Some(CALLBACK));
    url.query_pairs()
        .find(|(k, _)| k == "oauth_verifier")
        .map(|(_, v)| v.into_owned())
        .expect("a verifier in the callback")
}

async fn signed_in(api: &Installation, scopes: &[&str]) -> Token {
    let request = api.request_token(CALLBACK, scopes).await.unwrap();
    let location = authorize(api, &request, "anna", "haslo-anny").await;
    api.access_token(&request, &verifier(&location))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_order_through_usos_from_sign_in_to_revocation() {
    let (usos, api) = installation().await;
    assert!(api.installation().await.unwrap().mcards_support);
    let token = signed_in(&api, &["cards", "offline_access"]).await;
    let user = api.user(&token).await.unwrap();
    assert_eq!(
        (user.id.as_str(), user.last_name.as_str()),
        ("1001", "Nowak")
    );

    let card = api.mcard(&token).await.unwrap();
    assert_eq!(card.why_cannot_order, None);
    assert!(card.orders.is_empty());
    api.make_order(&token).await.unwrap();
    let card = api.mcard(&token).await.unwrap();
    assert_eq!(card.orders.len(), 1);
    let order = &card.orders[0];
    assert_eq!(statuses::known(&order.status), Some(OrderStatus::Pending));
    assert!(card.why_cannot_order.is_some(), "one order at a time");
    // No codes before it is ready.
    assert_eq!(api.order(&token, &order.id).await.unwrap().token, None);

    usos.set_status(&order.id, guess::READY);
    let ready = api.order(&token, &order.id).await.unwrap();
    assert_eq!(statuses::known(&ready.status), Some(OrderStatus::Ready));
    let (qr, pass) = (
        ready.token.clone().unwrap(),
        ready.distribution_pass.clone().unwrap(),
    );
    assert!(!format!("{ready:?}").contains(&pass), "codes never print");

    // mObywatel takes the codes; USOS then sees the card received.
    let activated = reqwest::Client::new()
        .post(format!("{}mobywatel/activate", usos.base_url))
        .json(&serde_json::json!({"qr_payload": qr, "activation_code": pass}))
        .send()
        .await
        .unwrap();
    assert!(activated.status().is_success());
    let received = api.order(&token, &order.id).await.unwrap();
    assert_eq!(
        statuses::known(&received.status),
        Some(OrderStatus::Received)
    );

    api.revoke(&token, &order.id).await.unwrap();
    let revoked = api.mcard(&token).await.unwrap();
    assert_eq!(
        statuses::known(&revoked.orders[0].status),
        Some(OrderStatus::Revoked)
    );
    assert_eq!(revoked.why_cannot_order, None, "may order again");
}

#[tokio::test]
async fn usos_reasons_are_shown_as_usos_gives_them() {
    let (usos, api) = installation().await;
    let token = signed_in(&api, &["cards"]).await;
    usos.set_why_cannot_order(
        "1001",
        Some(lang_dict(
            "Nie masz zdjęcia w USOS.",
            "You have no photo in USOS.",
        )),
    );
    let card = api.mcard(&token).await.unwrap();
    let why = LangDict {
        pl: Some("Nie masz zdjęcia w USOS.".into()),
        en: Some("You have no photo in USOS.".into()),
    };
    assert_eq!(card.why_cannot_order.as_ref(), Some(&why));
    match api.make_order(&token).await {
        Err(UsosError::Refused {
            user_message,
            reason,
            ..
        }) => {
            assert_eq!(user_message, Some(why));
            assert_eq!(reason.as_deref(), Some("cannot_order"));
        }
        other => panic!("{other:?}"),
    }
    assert!(usos.orders().is_empty());
}

#[tokio::test]
async fn usos_trouble_is_sorted_by_what_to_do_next() {
    let (usos, api) = installation().await;
    let token = signed_in(&api, &["cards", "offline_access"]).await;

    usos.fail_next(503);
    assert!(matches!(
        api.mcard(&token).await,
        Err(UsosError::Unavailable(_))
    ));
    assert!(api.mcard(&token).await.is_ok(), "one failure only");

    usos.remove_method("services/cards/mcard");
    assert_eq!(
        api.mcard(&token).await.unwrap_err(),
        UsosError::NotOffered("cards/mcard".into())
    );

    usos.set_mcards_support(false);
    assert!(!api.installation().await.unwrap().mcards_support);

    usos.revoke_tokens_of("1001");
    assert!(matches!(
        api.make_order(&token).await,
        Err(UsosError::SignInAgain(_))
    ));

    // Without the `cards` scope, USOS refuses the cards methods.
    let narrow = signed_in(&api, &[]).await;
    match api.make_order(&narrow).await {
        Err(UsosError::Refused { reason, .. }) => {
            assert_eq!(reason.as_deref(), Some("scope_missing"))
        }
        other => panic!("{other:?}"),
    }

    // A wrong consumer secret: every signature is refused.
    let forged = Installation::new(
        &usos.base_url,
        Consumer {
            key: "legitka-key".into(),
            secret: Secret::new("not-the-secret".into()),
        },
        4,
    )
    .unwrap();
    assert!(matches!(
        forged.request_token(CALLBACK, &["cards"]).await,
        Err(UsosError::SignInAgain(m)) if m.contains("Invalid signature")
    ));
}

#[tokio::test]
async fn the_stand_in_checks_nonces_timestamps_and_consent() {
    let (_usos, api) = installation().await;
    let consumer = Consumer {
        key: "legitka-key".into(),
        secret: Secret::new("legitka-secret".into()),
    };
    let url = format!("{}services/oauth/request_token", api_base(&api));
    let send = |fresh: Freshness| {
        let body = signed(
            "POST",
            &url,
            &[("scopes".to_owned(), "cards".to_owned())],
            &consumer,
            None,
            &[("oauth_callback", CALLBACK)],
            &fresh,
        )
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
        let url = url.clone();
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let now = Freshness::now();
    let (nonce, timestamp) = (now.nonce.clone(), now.timestamp);
    assert_eq!(send(now).await.0, 200);
    let again = send(Freshness { nonce, timestamp }).await;
    assert_eq!(again.0, 401);
    assert!(again.1.contains("Nonce already used"), "{}", again.1);
    let stale = send(Freshness {
        nonce: "fresh-nonce".into(),
        timestamp: timestamp - 3600,
    })
    .await;
    assert_eq!(stale.0, 401);

    // The student declines: back to the callback with an error, no verifier.
    let request = api.request_token(CALLBACK, &["cards"]).await.unwrap();
    let declined = browser()
        .post(api.authorize_url(&request).split('?').next().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "oauth_token={}&username=anna&password=haslo-anny&decision=deny",
            encode(&request.key)
        ))
        .send()
        .await
        .unwrap();
    let location = declined.headers()["location"].to_str().unwrap();
    assert!(location.contains("error=access_denied") && !location.contains("oauth_verifier"));
    // A wrong password gets no verifier either.
    let wrong = browser()
        .post(api.authorize_url(&request).split('?').next().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "oauth_token={}&username=anna&password=nie&decision=allow",
            encode(&request.key)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(matches!(
        api.access_token(&request, "12345678").await,
        Err(UsosError::SignInAgain(_))
    ));
}

fn api_base(api: &Installation) -> String {
    api.authorize_url(&Token {
        key: String::new(),
        secret: Secret::new(String::new()),
    })
    .split("services/")
    .next()
    .unwrap()
    .to_owned()
}
