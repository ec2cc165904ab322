//! End to end: the real backend on loopback and the real desktop app
//! (WebKitGTK) driven through tauri-driver + WebKitWebDriver.
//!
//! Needs a display (Xvfb), a session bus with an unlocked Secret Service, the
//! app built by `tauri build --debug --no-bundle` (`LEGITKA_APP`, else the
//! binary cargo built) and `tauri-driver` on PATH. `scripts/test` sets all of
//! that up. Screenshots of each step go to `LEGITKA_SCREENSHOTS` (default:
//! the target directory).

use fantoccini::{Client, ClientBuilder, Locator};
use legitka_server::{Application, Settings, demo};
use serde_json::json;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn app_binary() -> PathBuf {
    let path = std::env::var_os("LEGITKA_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_legitka")));
    assert!(path.exists(), "app binary missing: {}", path.display());
    path
}

fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("LEGITKA_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("legitka-e2e-screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts tauri-driver with `LEGITKA_SERVER` pointing the app at our backend.
fn start_driver(server: &str) -> Driver {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the E2E test needs a display: run it through scripts/test (Xvfb)"
    );
    let port = free_port();
    let child = Command::new("tauri-driver")
        .args(["--port", &port.to_string()])
        .args(["--native-port", &free_port().to_string()])
        .env("LEGITKA_SERVER", server)
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("tauri-driver on PATH (scripts/install puts it there)");
    let deadline = Instant::now() + WAIT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn launch(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert(
        "tauri:options".into(),
        json!({ "application": app_binary() }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session with the app")
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

async fn text(c: &Client, css: &str) -> String {
    wait_css(c, css).await.text().await.unwrap()
}

async fn sign_in(c: &Client, user: &str, password: &str) {
    wait_css(c, "#username")
        .await
        .send_keys(user)
        .await
        .unwrap();
    wait_css(c, "#password")
        .await
        .send_keys(password)
        .await
        .unwrap();
    wait_css(c, "#sign-in").await.click().await.unwrap();
}

async fn activate(server: &str, body: serde_json::Value) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("{server}/emulator/mobywatel/activate"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread")]
async fn order_ready_handoff_received_in_the_real_app() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let mut settings =
        Settings::for_tests(format!("sqlite://{}", dir.path().join("e2e.db").display()));
    settings.issuer.accept_delay = Duration::from_millis(1000);
    settings.issuer.ready_delay = Duration::from_millis(1000);
    // Short access tokens: the app must renew them mid-flow and after a
    // restart, with the rotated refresh token it saved in the keystore.
    settings.access_ttl = Duration::from_secs(2);
    let backend = Application::build(settings).await.unwrap();
    demo::seed(backend.state()).await.unwrap();
    let server = format!("http://{}", backend.local_addr());
    tokio::spawn(backend.run_until_stopped());
    let driver = start_driver(&server);

    // 1. A wrong password is a clear sentence, not raw JSON.
    let c = launch(&driver).await;
    sign_in(&c, "anna", "wrong-password").await;
    let error = text(&c, "#error").await;
    assert!(error.contains("Wrong username or password"), "{error}");
    assert!(!error.contains('{') && !error.contains("invalid_credentials"));
    shot(&c, "01-sign-in-error").await;

    // 2. Sign in: eligible, nothing ordered yet.
    wait_css(&c, "#password").await.clear().await.unwrap();
    wait_css(&c, "#password")
        .await
        .send_keys(demo::DEMO_PASSWORD)
        .await
        .unwrap();
    wait_css(&c, "#sign-in").await.click().await.unwrap();
    wait_css(&c, "#status[data-status='none']").await;
    assert_eq!(text(&c, "#student-name").await, "Anna Nowak");
    shot(&c, "02-home").await;

    // 3. Order; the status follows the issuer live, with no reload.
    wait_css(&c, "#order").await.click().await.unwrap();
    wait_css(
        &c,
        "#status[data-status='pending'], #status[data-status='in_progress']",
    )
    .await;
    shot(&c, "03-ordered").await;
    wait_css(&c, "#status[data-status='ready']").await;
    shot(&c, "04-ready").await;

    // 4. Reveal and read both codes from the page.
    wait_css(&c, "#reveal").await.click().await.unwrap();
    let manual = text(&c, "#manual-code").await;
    let activation = text(&c, "#activation-code").await;
    assert_eq!(manual.len(), 19, "{manual}");
    assert_eq!(activation.len(), 8, "{activation}");
    wait_css(&c, "#qr svg").await;
    wait_css(&c, "#copy-activation")
        .await
        .click()
        .await
        .unwrap();
    wait_css(&c, ".copied").await;
    shot(&c, "05-codes").await;

    // 5. mObywatel refuses a wrong activation code, accepts the right one.
    let wrong = if activation == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    let status = activate(
        &server,
        json!({"manual_code": manual, "activation_code": wrong}),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let status = activate(
        &server,
        json!({"manual_code": manual, "activation_code": activation}),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::OK);

    // 6. "Received" appears in the app by itself; the codes leave the screen.
    wait_css(&c, "#status[data-status='received']").await;
    assert!(c.find(Locator::Css("#activation-code")).await.is_err());
    shot(&c, "06-received").await;
    c.close().await.unwrap();

    // 7. The session survives a restart (it is in the OS keystore), even
    //    after its access token expired …
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c = launch(&driver).await;
    wait_css(&c, "#status[data-status='received']").await;
    // … and signing out wipes it.
    wait_css(&c, "#sign-out").await.click().await.unwrap();
    wait_css(&c, "#username").await;
    c.close().await.unwrap();
    let c = launch(&driver).await;
    wait_css(&c, "#username").await;
    c.close().await.unwrap();
}
