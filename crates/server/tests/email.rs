//! E-mail notices through a real SMTP server (Python's aiosmtpd, started
//! here on a loopback port): each notice goes to the student's university
//! address in Polish and English, never with the codes; a mailbox the
//! server refuses is dead-lettered; a server that is down is tried again.
//! A university that chooses UP's way (`codes_by_email`) gets the codes in
//! the "ready" e-mail: one view, however often the sending is tried.

mod common;

use common::{Db, TestApp, spawn_app_with};
use legitka_server::clock::Clock as _;
use legitka_server::push::email::{Security, SmtpSettings};
use legitka_wire::{ActivationData, OrderStatus};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

both!(
    notices_go_by_email_in_both_languages_without_the_codes,
    a_server_down_is_tried_again_and_a_refused_mailbox_is_dead_lettered,
    codes_by_email_take_one_view_however_often_the_sending_is_tried,
);

/// The SMTP server; stopped when dropped.
struct Smtp {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtp {
    fn start(port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("/usr/bin/python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_server.py"))
            .arg(dir.path())
            .arg(port.to_string())
            .spawn()
            .expect("python3 with python3-aiosmtpd (scripts/install)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !dir.path().join("ready").exists() {
            assert!(Instant::now() < deadline, "the SMTP server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, dir }
    }

    fn received(&self) -> Vec<serde_json::Value> {
        read_all(self.dir.path())
    }
}

fn read_all(dir: &Path) -> Vec<serde_json::Value> {
    let mut all = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            all.push(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap());
        }
    }
    all
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn with_smtp(db: Db, port: u16) -> TestApp {
    with_smtp_codes(db, port, false).await
}

async fn with_smtp_codes(db: Db, port: u16, codes_by_email: bool) -> TestApp {
    let mut smtp = SmtpSettings::new(
        "127.0.0.1",
        port,
        Security::None,
        None,
        "Legitka <legitka@uczelnia.example>",
    )
    .unwrap();
    smtp.codes_by_email = codes_by_email;
    spawn_app_with(db, |s| s.smtp = Some(smtp)).await
}

async fn until<F: AsyncFn() -> bool>(what: &str, check: F) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn notices_go_by_email_in_both_languages_without_the_codes(db: Db) {
    let port = free_port();
    let smtp = Smtp::start(port);
    let app = with_smtp(db, port).await;
    let (token, _) = app.ready_order("anna").await;
    until("three e-mails (ordered, in progress, ready)", async || {
        smtp.received().len() >= 3
    })
    .await;
    let codes: ActivationData = app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mails = smtp.received();
    let ready = mails
        .iter()
        .find(|m| m["subject"] == "mLegitymacja gotowa / Your mLegitymacja is ready")
        .unwrap_or_else(|| panic!("no ready e-mail: {mails:#?}"));
    assert_eq!(ready["to"][0], "anna@student.uczelnia.example");
    assert_eq!(ready["from"], "legitka@uczelnia.example");
    for part in ["text", "html"] {
        let body = ready[part].as_str().unwrap();
        assert!(body.contains("Anna"), "{part}: {body}");
        assert!(
            body.contains("Pokaż kody i dodaj ją w mObywatelu."),
            "{part}: {body}"
        );
        assert!(
            body.contains("Show the codes and add it in mObywatel."),
            "{part}: {body}"
        );
    }
    // A signal, never the codes.
    for m in &mails {
        let raw = m["raw"].as_str().unwrap();
        for secret in [
            &codes.qr_payload,
            &codes.manual_code,
            &codes.activation_code,
        ] {
            assert!(!raw.contains(secret.as_str()), "a code in an e-mail");
        }
    }
}

async fn a_server_down_is_tried_again_and_a_refused_mailbox_is_dead_lettered(db: Db) {
    // Nothing listens on the port yet.
    let port = free_port();
    let app = with_smtp(db, port).await;
    let token = app.sign_in("anna").await;
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert!(r.status().is_success());
    let pending_error = async || -> Option<String> {
        sqlx::query_scalar(
            "SELECT last_error FROM email_deliveries WHERE last_error IS NOT NULL LIMIT 1",
        )
        .fetch_optional(&app.state.db.pool)
        .await
        .unwrap()
        .flatten()
    };
    until("a failed attempt, kept for later", async || {
        pending_error().await.is_some()
    })
    .await;
    // The server comes up; the e-mails go out on their next try.
    let smtp = Smtp::start(port);
    app.clock.advance(60 * 60 * 1000);
    until("the e-mails delivered", async || {
        !smtp.received().is_empty()
    })
    .await;
    until("nothing left to send", async || {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM email_deliveries")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        left == 0
    })
    .await;

    // The mailbox is gone: refused for good, dead-lettered, not retried.
    sqlx::query("UPDATE students SET email = 'refuse.anna@student.uczelnia.example' WHERE username = 'anna'")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let r = app
        .post(&token, "/orders/current/cancel")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    until("the refusal dead-lettered", async || {
        let dead: Option<String> =
            sqlx::query_scalar("SELECT last_error FROM dead_email_deliveries LIMIT 1")
                .fetch_optional(&app.state.db.pool)
                .await
                .unwrap();
        dead.is_some_and(|e| e.contains("refused"))
    })
    .await;
    let order = app.me(&token).await.order.unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
}

async fn codes_by_email_take_one_view_however_often_the_sending_is_tried(db: Db) {
    // The mail server is down when the order becomes ready.
    let port = free_port();
    let app = with_smtp_codes(db, port, true).await;
    let (token, ready) = app.ready_order("anna").await;
    assert!(
        ready.codes_emailed,
        "the order says its codes went by e-mail"
    );
    assert_eq!(ready.reveals_left, 2, "the e-mail took one view");
    let sealed = async || -> Option<String> {
        sqlx::query_scalar(
            "SELECT sealed_codes FROM email_deliveries WHERE sealed_codes IS NOT NULL",
        )
        .fetch_optional(&app.state.db.pool)
        .await
        .unwrap()
    };
    let tries = async || -> i64 {
        sqlx::query_scalar("SELECT COALESCE(MAX(attempts), 0) FROM email_deliveries")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap()
    };
    until("a failed try", async || tries().await >= 1).await;
    app.clock.advance(60 * 60 * 1000);
    until("another failed try", async || tries().await >= 2).await;
    assert_eq!(app.me(&token).await.order.unwrap().reveals_left, 2);
    let at_rest = sealed()
        .await
        .expect("the codes wait in the outbox, sealed");

    // It comes up: the ready e-mail carries the codes, the QR as an image.
    let smtp = Smtp::start(port);
    app.clock.advance(60 * 60 * 1000);
    until("the ready e-mail", async || {
        smtp.received()
            .iter()
            .any(|m| m["subject"] == "mLegitymacja gotowa / Your mLegitymacja is ready")
    })
    .await;
    let codes: ActivationData = app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(codes.reveals_left, 1, "one view by e-mail, one in the app");
    for plain in [
        &codes.qr_payload,
        &codes.manual_code,
        &codes.activation_code,
    ] {
        assert!(
            !at_rest.contains(plain.as_str()),
            "codes at rest in the clear"
        );
    }
    let mails = smtp.received();
    let with_codes: Vec<_> = mails
        .iter()
        .filter(|m| m["raw"].as_str().unwrap().contains(&codes.activation_code))
        .collect();
    assert_eq!(with_codes.len(), 1, "the codes in exactly one e-mail");
    let mail = with_codes[0];
    assert_eq!(
        mail["subject"],
        "mLegitymacja gotowa / Your mLegitymacja is ready"
    );
    for part in ["text", "html"] {
        let body = mail[part].as_str().unwrap();
        assert!(body.contains(&codes.manual_code), "{part}: {body}");
        assert!(body.contains(&codes.activation_code), "{part}: {body}");
        assert!(body.contains("Kod aktywacyjny") && body.contains("Activation code"));
    }
    assert!(mail["html"].as_str().unwrap().contains("cid:qr"));
    assert!(mail["raw"].as_str().unwrap().contains("image/png"));
    until("the codes leave the outbox with the e-mail", async || {
        sealed().await.is_none()
    })
    .await;

    // A card cancelled while its e-mail waits: the signal goes, the codes
    // do not.
    drop(smtp);
    sqlx::query("UPDATE students SET els_valid_until = $1 WHERE username = 'bartek'")
        .bind(app.clock.now_ms() + 100 * 24 * 60 * 60 * 1000)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    app.state.cache.bump_all();
    let (token, _) = app.ready_order("bartek").await;
    until("bartek's codes wait", async || sealed().await.is_some()).await;
    let r = app
        .post(&token, "/orders/current/cancel")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let smtp = Smtp::start(port);
    app.clock.advance(60 * 60 * 1000);
    until("bartek's ready e-mail", async || {
        smtp.received().iter().any(|m| {
            m["to"][0] == "bartek@student.uczelnia.example"
                && m["subject"] == "mLegitymacja gotowa / Your mLegitymacja is ready"
        })
    })
    .await;
    for m in smtp.received() {
        let text = m["text"].as_str().unwrap();
        assert!(!text.contains("Kod aktywacyjny"), "{text}");
    }
}
