//! What the IT team runs the server by: metrics (checked by Prometheus's
//! own `promtool`), readiness, request ids and JSON logs, the schema
//! migrated as its own step, and the effective settings with secrets masked.

mod common;

use common::{Db, database_url, spawn_app, spawn_app_with};
use legitka_server::pesel::Pesel;
use reqwest::StatusCode;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

both!(
    metrics_count_requests_and_read_the_database,
    ready_says_what_is_wrong,
    the_schema_is_migrated_by_its_own_step,
);

const KEY: &str = "4242424242424242424242424242424242424242424242424242424242424242";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_legitka-server"));
    c.env("RUST_LOG", "warn").env("APP_METRICS_BIND", "off");
    c
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The value of the one sample whose name and labels include all of `parts`.
fn sample(text: &str, name: &str, parts: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .find(|l| parts.iter().all(|p| l.contains(p)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn metrics_count_requests_and_read_the_database(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.ready_order("anna").await;
    let r = app.get(&token, "/no-such-thing").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let url = app.metrics.clone().expect("tests serve metrics");
    assert!(
        !url.starts_with(&app.base),
        "metrics are on their own address"
    );
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();

    // Requests by route template and status; a 404 is `unmatched`, so
    // scanning random paths makes no new series.
    let placed = sample(
        &text,
        "legitka_http_requests_total",
        &[
            "method=\"POST\"",
            "route=\"/api/v1/orders\"",
            "status=\"201\"",
        ],
    );
    assert!(placed >= Some(1.0), "{text}");
    assert!(
        sample(
            &text,
            "legitka_http_requests_total",
            &["route=\"unmatched\"", "status=\"404\""]
        ) >= Some(1.0),
        "{text}"
    );
    assert!(!text.contains("no-such-thing"), "{text}");
    assert!(
        text.contains("legitka_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    // What the database holds, read at the scrape.
    assert_eq!(
        sample(&text, "legitka_orders", &["status=\"ready\""]),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "legitka_orders", &["status=\"pending\""]),
        Some(0.0)
    );
    for channel in [
        "issuer",
        "push:fcm",
        "push:apns",
        "push:web_push",
        "email",
        "usos-watch",
    ] {
        let label = format!("channel=\"{channel}\"");
        assert_eq!(
            sample(&text, "legitka_outbox_depth", &[&label]),
            Some(0.0),
            "{channel}: {text}"
        );
        assert!(
            sample(&text, "legitka_dead_letters", &[&label]).is_some(),
            "{text}"
        );
    }
    assert!(
        sample(
            &text,
            "legitka_outbox_steps_total",
            &["queue=\"issuer\"", "outcome=\"delivered\""]
        ) >= Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, "legitka_db_pool_max_connections", &[]) > Some(0.0),
        "{text}"
    );

    // Prometheus's own parser and linter take it.
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; scripts/install)");
    use std::io::Write;
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = check.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "promtool: {}{}\n{text}",
        out(&o),
        err(&o)
    );
}

async fn ready_says_what_is_wrong(db: Db) {
    // No issuer workers here: a command waits until another instance, or
    // nobody, takes it.
    let app = spawn_app_with(db, |s| s.issuer_workers = 0).await;
    let health = reqwest::get(format!("{}/health", app.base)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = |app: &common::TestApp| {
        let url = format!("{}/ready", app.base);
        async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = ready(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ready"], true);
    assert_eq!(body["schema"], "ok");

    let token = app.sign_in("anna").await;
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    app.clock.advance(2 * 60 * 1000);
    assert_eq!(
        ready(&app).await.0,
        StatusCode::OK,
        "two minutes is not stuck"
    );
    app.clock.advance(4 * 60 * 1000);
    let (status, body) = ready(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["ready"], false);
    assert_eq!(body["database"], "ok");
    let outboxes = body["outboxes"].as_str().unwrap();
    assert!(outboxes.starts_with("stuck: issuer ("), "{outboxes}");
}

async fn the_schema_is_migrated_by_its_own_step(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = match db {
        // A file that is not there yet: nothing but `migrate` creates it.
        Db::Sqlite => format!("sqlite://{}", dir.path().join("new.db").display()),
        Db::Postgres => database_url(db, &dir).await,
    };
    std::fs::write(dir.path().join("bridge.secret"), "s".repeat(64)).unwrap();
    let run = |args: &[&str]| {
        bin()
            .args(args)
            .env("APP_DATABASE_URL", &url)
            .env("APP_ISSUER_URL", "http://127.0.0.1:9")
            .env("APP_ISSUER_SECRET_FILE", dir.path().join("bridge.secret"))
            .env("APP_ACTIVATION_KEY", KEY)
            .output()
            .unwrap()
    };
    for refused in [&["show", "anna"][..], &["serve", "--bind", "127.0.0.1:0"]] {
        let o = run(refused);
        assert!(!o.status.success(), "{refused:?}");
        assert!(
            err(&o).contains("legitka-server migrate"),
            "{refused:?}: {}",
            err(&o)
        );
    }
    if db == Db::Sqlite {
        assert!(
            !dir.path().join("new.db").exists(),
            "created by a refused start"
        );
    }
    let o = run(&["check-config"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("not reachable") || out(&o).contains("schema behind"),
        "{}",
        out(&o)
    );

    let o = run(&["migrate"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("schema up to date"), "{}", out(&o));
    let o = run(&["migrate"]);
    assert!(
        out(&o).contains("0 migration(s) applied now"),
        "a second run changes nothing: {}",
        out(&o)
    );
    let o = run(&["check-config"]);
    assert!(out(&o).contains("schema current"), "{}", out(&o));

    // A registry from before PESELs were sealed: `migrate` seals them.
    let pesel = Pesel::with_check_digit("0321081234").unwrap();
    let o = run(&["demo-data"]);
    assert!(o.status.success(), "{}", err(&o));
    let conn = legitka_server::db::Db::connect(&url).await.unwrap();
    sqlx::query(
        "UPDATE students SET pesel_sealed = $1, pesel_masked = NULL, birth_date = NULL \
         WHERE username = 'anna'",
    )
    .bind(pesel.expose())
    .execute(&conn.pool)
    .await
    .unwrap();
    let o = run(&["migrate"]);
    assert!(out(&o).contains("1 PESEL(s) sealed"), "{}", out(&o));
    let (sealed, masked, born): (String, String, String) = sqlx::query_as(
        "SELECT pesel_sealed, pesel_masked, birth_date FROM students WHERE username = 'anna'",
    )
    .fetch_one(&conn.pool)
    .await
    .unwrap();
    assert!(!sealed.contains(pesel.expose()), "{sealed}");
    assert_eq!(masked, legitka_server::pesel::masked(pesel.expose()));
    assert_eq!(born, pesel.birth_date().to_string());
    let o = run(&["show", "anna"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains(&masked), "{}", out(&o));
}

#[test]
fn check_config_shows_the_settings_with_every_secret_masked() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let key = file("activation.key", &"ab".repeat(32));
    let bridge = file("bridge.secret", "bridge-secret-value-0123456789abcdef");
    let smtp = file("smtp.password", "smtp-password-value");
    let usos = file("usos.secret", "usos-consumer-secret-value");
    let config = file(
        "server.toml",
        &format!(
            "database_url = \"postgres://legitka:db-password-value@127.0.0.1:1/legitka\"\n\
             activation_key_file = \"{key}\"\n\
             previous_activation_keys = \"{}\"\n\
             issuer_url = \"http://127.0.0.1:9\"\nissuer_secret_file = \"{bridge}\"\n\
             log_format = \"json\"\nmetrics_bind = \"127.0.0.1:9464\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\nfrom = \"a@b.example\"\n\
             username = \"legitka\"\npassword_file = \"{smtp}\"\n\
             [[usos]]\nid = \"demo\"\nname = \"Demo\"\nbase_url = \"http://127.0.0.1:9/\"\n\
             consumer_key = \"key\"\nconsumer_secret_file = \"{usos}\"\n",
            "cd".repeat(32)
        ),
    );
    let o = bin()
        .args(["--config", &config, "check-config"])
        .env_remove("APP_METRICS_BIND")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", err(&o));
    let shown = out(&o);
    for secret in [
        "ab".repeat(32),
        "cd".repeat(32),
        "bridge-secret-value".to_owned(),
        "smtp-password-value".to_owned(),
        "usos-consumer-secret-value".to_owned(),
        "db-password-value".to_owned(),
    ] {
        assert!(!shown.contains(&secret), "{secret} shown:\n{shown}");
    }
    assert!(
        shown.contains("postgres://***@127.0.0.1:1/legitka"),
        "{shown}"
    );
    assert!(shown.contains("Secret(***)"), "{shown}");
    assert!(shown.contains("metrics_bind: Some("), "{shown}");
    assert!(shown.contains("127.0.0.1:9464"), "{shown}");
    assert!(shown.contains("log_format: Json"), "{shown}");
    assert!(shown.contains("database: not reachable"), "{shown}");

    // A bad value or an unknown key: refused, by its name.
    for (text, named) in [
        ("metrics_bind = \"everywhere\"\n", "metrics_bind"),
        ("log_format = \"xml\"\n", "log_format"),
        ("retention_dayz = 3\n", "retention_dayz"),
        ("request_timeout_secs = \"soon\"\n", "request_timeout_secs"),
        ("activation_key_file = \"/nowhere/key\"\n", "/nowhere/key"),
    ] {
        let bad = file("bad.toml", text);
        let mut c = bin();
        c.args(["--config", &bad, "check-config"])
            .env_remove("APP_METRICS_BIND");
        if !text.starts_with("activation_key_file") {
            c.env("APP_ACTIVATION_KEY", KEY);
        }
        let o = c.output().unwrap();
        assert!(!o.status.success(), "{text}");
        assert!(err(&o).contains(named), "{text}: {}", err(&o));
    }
}

/// `log_format = json`: one JSON object a line, the request's line with
/// its id (the client's, here), route, status and latency.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id() {
    use std::io::{BufRead, BufReader};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bridge.secret"), "s".repeat(64)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = bin()
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .env(
            "APP_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("s.db").display()),
        )
        .env("APP_ISSUER_URL", "http://127.0.0.1:9")
        .env("APP_ISSUER_SECRET_FILE", dir.path().join("bridge.secret"))
        .env("APP_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/health")).await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = reqwest::Client::new()
        .get(format!("{base}/ready"))
        .header("x-request-id", "edge-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "edge-7f3a");
    let mut seen = vec![];
    let line = loop {
        let l = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no request line; saw:\n{}", seen.join("\n")));
        let v: serde_json::Value =
            serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        if v["span"]["id"] == "edge-7f3a" && v["message"] == "request" {
            break v;
        }
        seen.push(l);
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(line["level"], "INFO", "{line}");
    assert_eq!(line["route"], "/ready", "{line}");
    assert_eq!(line["method"], "GET", "{line}");
    assert_eq!(line["status"], 200, "{line}");
    assert!(line["latency_ms"].as_f64().unwrap() >= 0.0, "{line}");
}

/// The shipped systemd unit: valid (`systemd-analyze verify`, with the
/// binary where the unit expects it replaced by this build's) and hardened
/// (`systemd-analyze security`: exposure at most 2.0, "OK").
#[test]
fn the_systemd_unit_verifies_and_is_hardened() {
    let dir = tempfile::tempdir().unwrap();
    let unit = include_str!("../../../deploy/legitka.service").replace(
        "/usr/local/bin/legitka-server",
        env!("CARGO_BIN_EXE_legitka-server"),
    );
    let path = dir.path().join("legitka.service");
    std::fs::write(&path, unit).unwrap();
    let o = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    assert!(o.status.success(), "verify: {}{}", out(&o), err(&o));
    assert!(err(&o).trim().is_empty(), "verify warns: {}", err(&o));
    let o = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=20"])
        .arg(&path)
        .output()
        .unwrap();
    let report = format!("{}{}", out(&o), err(&o));
    assert!(o.status.success(), "exposure above 2.0:\n{report}");
    let level = report
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for legitka.service: ")
                .nth(1)
        })
        .expect("an overall exposure level");
    assert!(level.contains("OK") || level.contains("SAFE"), "{level}");
}
