//! End to end: the real backend on loopback and the real desktop app
//! (WebKitGTK) driven through tauri-driver + WebKitWebDriver.
//!
//! Needs a display (Xvfb), a session bus with an unlocked Secret Service, the
//! app built by `tauri build --debug --no-bundle` (`LEGITKA_APP`, else the
//! binary cargo built) and `tauri-driver` on PATH. `scripts/test` sets all of
//! that up. The push providers are the backend's loopback emulators (FCM,
//! APNs, Web Push), and a small notification server on the session bus
//! (`notification_daemon.py`) shows and taps the app's desktop notices. Screenshots of each step go to `LEGITKA_SCREENSHOTS` (default:
//! the target directory).

#[path = "../crates/server/tests/common/keys.rs"]
mod keys;
#[path = "../crates/server/tests/common/ldap.rs"]
mod ldap;
#[path = "../crates/server/tests/common/oidc.rs"]
#[allow(dead_code)] // its tampering is the backend tests'
mod oidc;

use fantoccini::{Client, ClientBuilder, Locator};
use legitka_emulators::apns::ApnsEmulator;
use legitka_emulators::fcm::FcmEmulator;
use legitka_emulators::webpush::WebPushEmulator;
use legitka_server::clock::SystemClock;
use legitka_server::crypto::Secret;
use legitka_server::push::apns::ApnsSettings;
use legitka_server::push::fcm::FcmSettings;
use legitka_server::push::webpush::{WebPushSender, WebPushSettings};
use legitka_server::{Settings, demo};
use legitka_testkit::Stack;
use serde_json::json;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
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

/// Starts tauri-driver with `LEGITKA_SERVER` pointing the app at our backend,
/// the system language `lang`, and app data (the webview's local storage)
/// in `data`, so each test starts as a fresh install.
fn start_driver(server: &str, lang: &str, data: &std::path::Path) -> Driver {
    start_driver_with(server, lang, data, None)
}

/// As [`start_driver`], with the system browser the app opens (`browser`).
fn start_driver_with(
    server: &str,
    lang: &str,
    data: &std::path::Path,
    browser: Option<&SystemBrowser>,
) -> Driver {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the E2E test needs a display: run it through scripts/test (Xvfb)"
    );
    let port = free_port();
    let mut driver = Command::new("tauri-driver");
    app_env(&mut driver, server, lang, data);
    if let Some(browser) = browser {
        driver.env("PATH", browser.path_env());
    }
    let child = driver
        .args(["--port", &port.to_string()])
        .args(["--native-port", &free_port().to_string()])
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

/// What the app is started with: its server, the system language and its
/// own data directory.
fn app_env(command: &mut Command, server: &str, lang: &str, data: &std::path::Path) {
    command
        .env("LEGITKA_SERVER", server)
        .env("LANGUAGE", lang)
        .env("XDG_DATA_HOME", data)
        .env("NO_AT_BRIDGE", "1");
}

async fn launch(driver: &Driver) -> Client {
    launch_with(driver, &[]).await
}

/// Starts the app with `args` on its command line (a link, as the system
/// starts it when one is opened and it is not running).
async fn launch_with(driver: &Driver, args: &[&str]) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert(
        "tauri:options".into(),
        json!({ "application": app_binary(), "args": args }),
    );
    // tauri-driver accepts connections before WebKitWebDriver behind it is
    // up; a session request in that gap is cut off: ask again.
    let mut attempts = 0;
    loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&driver.url)
            .await
        {
            Ok(c) => return c,
            Err(e) if attempts < 5 => {
                attempts += 1;
                eprintln!("WebDriver session not ready ({e}); asking again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => panic!("a WebDriver session with the app: {e}"),
        }
    }
}

/// The screen as it is, in the light and the dark theme (the student's own
/// choice is put back afterwards), each audited for accessibility
/// (`a11y.js`: contrast, names, focus order, targets, text at 200 %).
async fn shot(c: &Client, name: &str) {
    let mut problems = Vec::new();
    let mut chosen = None;
    for theme in ["light", "dark"] {
        let before = set_look(c, json!(theme), "").await;
        chosen.get_or_insert(before);
        save_screenshot(c, &format!("{name}-{theme}")).await;
        let found = c
            .execute_async(include_str!("a11y.js"), vec![])
            .await
            .unwrap();
        problems.extend(
            found
                .as_array()
                .expect("the audit's list")
                .iter()
                .map(|p| format!("{theme}: {}", p.as_str().unwrap_or_default())),
        );
    }
    set_look(c, chosen.expect("two themes"), "").await;
    assert!(
        problems.is_empty(),
        "{name} fails the accessibility audit:\n{}",
        problems.join("\n")
    );
}

/// The screen with the text at 200 % (as a phone's largest text setting),
/// light theme: it reflows, nothing scrolls sideways (the audit checks it).
async fn shot_large_text(c: &Client, name: &str) {
    let chosen = set_look(c, json!("light"), "200%").await;
    save_screenshot(c, &format!("{name}-light")).await;
    set_look(c, chosen, "").await;
}

/// Sets the page's theme (`null`: the system's) and root text size (`""`:
/// the default); returns the theme it had.
async fn set_look(c: &Client, theme: serde_json::Value, text_size: &str) -> serde_json::Value {
    c.execute(
        "const [theme, size] = arguments; const r = document.documentElement; \
         const before = r.getAttribute('data-theme'); \
         if (theme === null) r.removeAttribute('data-theme'); else r.setAttribute('data-theme', theme); \
         r.style.fontSize = size; return before;",
        vec![theme, json!(text_size)],
    )
    .await
    .unwrap()
}

/// Saves the screen, once painted, as `{file}.png` in the screenshot directory.
async fn save_screenshot(c: &Client, file: &str) {
    painted(c).await;
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{file}.png")), png).unwrap();
}

/// Returns once the page has painted what the last script changed.
async fn painted(c: &Client) {
    c.execute_async(
        "const done = arguments[0]; \
         requestAnimationFrame(() => requestAnimationFrame(() => done()));",
        vec![],
    )
    .await
    .unwrap();
}

/// One E2E test at a time: they share the display, the session bus and
/// the Secret Service.
/// The backend's test settings with its SQLite database in `dir`.
fn settings_in(dir: &std::path::Path) -> Settings {
    Settings::for_tests(format!("sqlite://{}", dir.join("e2e.db").display()))
}

/// The backend on loopback with its issuer stand-in, on the real clock.
async fn backend(settings: Settings, dir: &std::path::Path) -> Stack {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Stack::start(settings, Arc::new(SystemClock), dir)
        .await
        .unwrap()
}

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The first screen: the university, from the list or by its address.
async fn choose_university(c: &Client, typed: Option<&str>) {
    match typed {
        None => click(c, "#university-0").await,
        Some(address) => {
            wait_css(c, "#university-address")
                .await
                .send_keys(address)
                .await
                .unwrap();
            click(c, "#university-continue").await;
        }
    }
    // The server said who it is.
    assert_eq!(text(c, "#university-name").await, "Uniwersytet Testowy");
}

/// Clicks what matches `css` once it is enabled; found again if the page
/// re-rendered it between finding and clicking (a live update can).
async fn click(c: &Client, css: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let element = wait_css(c, css).await;
        let outcome = match element.is_enabled().await {
            Ok(true) => element.click().await.map(|_| true),
            other => other,
        };
        match outcome {
            Ok(true) => return,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("{css} could not be clicked: {other:?}"),
        }
    }
}

async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

/// Whether what matches `css` can be used now.
async fn enabled(c: &Client, css: &str) -> bool {
    wait_css(c, css).await.is_enabled().await.unwrap()
}

/// Waits until nothing matches `css`.
async fn gone(c: &Client, css: &str) {
    let deadline = Instant::now() + WAIT;
    while c.find(Locator::Css(css)).await.is_ok() {
        assert!(Instant::now() < deadline, "{css} did not go away");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Calls a shell command from the page, as any script in it could:
/// "ok", or the refusal.
async fn call_from_page(c: &Client, command: &str) -> String {
    c.execute_async(
        "const [command, done] = arguments; \
         window.__TAURI__.core.invoke(command, {}).then(() => done('ok'), e => done(String(e)));",
        vec![json!(command)],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// The text of what matches `css`; read again if the page re-rendered it
/// between finding and reading (a live update can).
async fn text(c: &Client, css: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        match wait_css(c, css).await.text().await {
            Ok(text) => return text,
            Err(e) if Instant::now() < deadline => {
                eprintln!("{css} changed while read ({e}); reading again");
            }
            Err(e) => panic!("{css}: {e}"),
        }
    }
}

/// A code as issued (the page shows it in groups of four).
async fn code(c: &Client, css: &str) -> String {
    wait_css(c, css)
        .await
        .attr("data-code")
        .await
        .unwrap()
        .unwrap_or_default()
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
    click(c, "#sign-in").await;
}

/// The three push services, as emulators the backend is configured for.
struct Providers {
    fcm: Arc<FcmEmulator>,
    apns: Arc<ApnsEmulator>,
    web_push: Arc<WebPushEmulator>,
    /// A UnifiedPush subscription made for this backend's VAPID key.
    subscription: String,
}

const IPHONE: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

async fn providers(settings: &mut Settings) -> Providers {
    let (rsa_private, rsa_public) = keys::rsa_pair();
    let fcm = FcmEmulator::start(
        "legitka-e2e",
        "push@legitka-e2e.iam.gserviceaccount.com",
        &rsa_public,
    )
    .await
    .unwrap();
    settings.fcm = Some(FcmSettings {
        project_id: fcm.project_id.clone(),
        endpoint: fcm.base_url.clone(),
        token_uri: fcm.token_uri.clone(),
        client_email: fcm.client_email.clone(),
        private_key_pem: Secret::new(rsa_private),
    });
    let (p8, p8_public) = keys::ec_pair();
    let apns = ApnsEmulator::start("TEAM123456", "KEY7654321", "pl.legitka.app", &p8_public)
        .await
        .unwrap();
    settings.apns = Some(ApnsSettings {
        endpoint: apns.base_url.clone(),
        team_id: apns.team_id.clone(),
        key_id: apns.key_id.clone(),
        private_key_pem: Secret::new(p8),
        topic: apns.topic.clone(),
    });
    let (vapid, _) = keys::ec_pair();
    let wp = WebPushSettings {
        private_key_pem: Secret::new(vapid),
        contact: "mailto:it@uczelnia.example".into(),
        allow_http: true,
    };
    let web_push = WebPushEmulator::start().await.unwrap();
    let subscription = web_push.subscribe(WebPushSender::new(wp.clone()).public_key().unwrap());
    settings.web_push = Some(wp);
    Providers {
        fcm,
        apns,
        web_push,
        subscription,
    }
}

/// The student's other devices: an Android phone, an iPhone and a laptop
/// with UnifiedPush, registered through the API as those apps would.
async fn register_devices(server: &str, p: &Providers) {
    let http = reqwest::Client::new();
    let signed_in: legitka_wire::SignInResponse = http
        .post(format!("{server}/api/v1/session"))
        .json(&json!({"username": "anna", "password": demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed_in.tokens.access_token;
    for (platform, device) in [
        ("fcm", "anna-android-fcm-token"),
        ("apns", IPHONE),
        ("web_push", p.subscription.as_str()),
    ] {
        let r = http
            .post(format!("{server}/api/v1/devices"))
            .bearer_auth(&token)
            .json(&json!({"platform": platform, "token": device, "locale": "pl"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::NO_CONTENT, "{platform}");
    }
}

/// The statuses each provider delivered, per device, once every one arrived.
async fn pushed_statuses(p: &Providers, want: usize) -> [Vec<String>; 3] {
    let deadline = Instant::now() + WAIT;
    loop {
        let str_of = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        let mut got = [
            p.fcm
                .received()
                .iter()
                .map(|m| str_of(&m["data"]["status"]))
                .collect::<Vec<_>>(),
            p.apns
                .received()
                .iter()
                .map(|(_, m)| str_of(&m["status"]))
                .collect(),
            p.web_push
                .received()
                .iter()
                .map(|m| str_of(&m["status"]))
                .collect(),
        ];
        if got.iter().all(|g| g.len() >= want) || Instant::now() > deadline {
            for g in &mut got {
                g.sort();
            }
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The test's notification server; dropped, it stops.
struct Notices {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Notices {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Notices {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("/usr/bin/python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/notification_daemon.py"
            ))
            .arg(dir.path().join("log"))
            .arg(dir.path())
            .spawn()
            .expect("python3 with python3-dbus and python3-gi (scripts/install)");
        let deadline = Instant::now() + WAIT;
        while !dir.path().join("ready").exists() {
            assert!(
                Instant::now() < deadline,
                "the notification server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, dir }
    }

    fn shown(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits for a notice whose title is one of `titles`; returns it.
    async fn wait_for(&self, titles: &[&str]) -> serde_json::Value {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(n) = self
                .shown()
                .into_iter()
                .find(|n| titles.contains(&n["summary"].as_str().unwrap_or_default()))
            {
                return n;
            }
            assert!(
                Instant::now() < deadline,
                "no notice {titles:?}: {:?}",
                self.shown()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The student taps the notice.
    fn tap(&self, notice: &serde_json::Value) {
        std::fs::write(self.dir.path().join(format!("click-{}", notice["id"])), "").unwrap();
    }
}

/// The phone's network: a loopback relay in front of the backend that can
/// be cut (every open connection dropped, new ones refused) and restored.
struct Network {
    address: String,
    online: Arc<std::sync::atomic::AtomicBool>,
    links: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Network {
    async fn start(backend: &str) -> Self {
        use std::sync::atomic::Ordering;
        let backend = backend.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let online = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (up, open) = (online.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut phone, _)) = listener.accept().await {
                if !up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection fails at once
                }
                let backend = backend.clone();
                open.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut phone, &mut server).await;
                    }
                }));
            }
        });
        Self {
            address,
            online,
            links,
        }
    }

    fn cut(&self) {
        self.online
            .store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.online.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// mObywatel (the issuer stand-in's side) takes the codes.
async fn activate(mobywatel: &str, body: serde_json::Value) -> reqwest::StatusCode {
    legitka_testkit::activate(mobywatel, body).await.status()
}

#[tokio::test(flavor = "multi_thread")]
async fn order_ready_handoff_received_in_the_real_app() {
    let _one = ONE_AT_A_TIME.lock().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    // Short access tokens: the app must renew them mid-flow and after a
    // restart, with the rotated refresh token it saved in the keystore.
    settings.access_ttl = Duration::from_secs(2);
    settings.help_contact = Some("legitymacje@uczelnia.example".to_owned());
    settings.terms_url = Some("https://uczelnia.example/mlegitymacja".to_owned());
    // The registry's photos (the demo draws stand-ins there).
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    settings.photos_dir = Some(photos);
    let push = providers(&mut settings).await;
    let stack = Stack::start(settings, Arc::new(SystemClock), dir.path())
        .await
        .unwrap();
    let d = Duration::from_millis(1000);
    stack.issuer.set_delays(d, d);
    let (server, mobywatel) = (stack.base.clone(), stack.issuer.base_url.clone());
    register_devices(&server, &push).await;
    let notices = Notices::start();
    let driver = start_driver(&server, "en", dir.path());

    // 1. First launch: choose the university (the list); a wrong password
    //    is a clear sentence, not raw JSON.
    let c = launch(&driver).await;
    wait_css(&c, "#university-0").await;
    shot(&c, "00-welcome").await;
    choose_university(&c, None).await;
    sign_in(&c, "anna", "wrong-password").await;
    let error = text(&c, "#error").await;
    assert!(error.contains("Wrong username or password"), "{error}");
    assert!(!error.contains('{') && !error.contains("invalid_credentials"));
    // Where to get help, as the university set it.
    assert_eq!(
        text(&c, "#help-contact").await,
        "Questions about mLegitymacja: legitymacje@uczelnia.example"
    );
    shot(&c, "01-sign-in-error").await;

    // 2. Sign in: eligible, nothing ordered yet.
    wait_css(&c, "#password").await.clear().await.unwrap();
    wait_css(&c, "#password")
        .await
        .send_keys(demo::DEMO_PASSWORD)
        .await
        .unwrap();
    click(&c, "#sign-in").await;
    wait_css(&c, "#status[data-status='none']").await;
    assert_eq!(text(&c, "#student-name").await, "Anna Nowak");
    // What the card will show, to check before confirming; PESEL masked.
    assert_eq!(text(&c, "#card-els").await, "ELS/100200");
    assert_eq!(text(&c, "#card-birth-date").await, "2000-01-08");
    assert!(text(&c, "#card-pesel").await.starts_with("*********"));
    // The photo the card will show, drawn by the webview from the server's file.
    wait_css(&c, "#card-photo-img").await;
    let mut drawn = json!(0);
    for _ in 0..50 {
        drawn = c
            .execute(
                "const i = document.querySelector('#card-photo-img'); \
                 return i.complete ? i.naturalWidth : 0;",
                vec![],
            )
            .await
            .unwrap();
        if drawn != json!(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(drawn, json!(300), "the registry photo is drawn");
    shot(&c, "02-home").await;
    // The window may call what its capability grants, nothing more: a
    // desktop has no mObywatel to open and no push token to register.
    assert_eq!(call_from_page(&c, "app_config").await, "ok");
    for phone_only in ["open_mobywatel", "register_push_token"] {
        let refusal = call_from_page(&c, phone_only).await;
        assert!(refusal.contains("not allowed"), "{phone_only}: {refusal}");
    }

    // 3. Order; the status follows the issuer live, with no reload.
    click(&c, "#terms").await;
    click(&c, "#order").await;
    wait_css(
        &c,
        "#status[data-status='pending'], #status[data-status='in_progress']",
    )
    .await;
    shot(&c, "03-ordered").await;
    wait_css(&c, "#status[data-status='ready']").await;
    // What comes next in mObywatel can be read before a view is spent.
    click(&c, "#mobywatel-steps-first summary").await;
    assert!(
        text(&c, "#mobywatel-steps-first")
            .await
            .contains("mObywatel")
    );
    shot(&c, "04-ready").await;

    // 4. The desktop notice says it is ready; one tap on it shows the codes.
    let ready_titles = ["Your mLegitymacja is ready", "mLegitymacja gotowa"];
    let notice = notices.wait_for(&ready_titles).await;
    let body = notice["body"].as_str().unwrap();
    assert!(
        body.contains("3"),
        "the notice says how many views are left: {body}"
    );
    notices.tap(&notice);
    let manual = code(&c, "#manual-code").await;
    let activation = code(&c, "#activation-code").await;
    assert_eq!(manual.len(), 19, "{manual}");
    assert_eq!(activation.len(), 8, "{activation}");
    wait_css(&c, "#qr svg").await;
    click(&c, "#copy-activation").await;
    wait_css(&c, ".copied").await;
    shot(&c, "05-codes").await;

    // 5. mObywatel refuses a wrong activation code, accepts the right one.
    let wrong = if activation == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    let status = activate(
        &mobywatel,
        json!({"manual_code": manual, "activation_code": wrong}),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let status = activate(
        &mobywatel,
        json!({"manual_code": manual, "activation_code": activation}),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::OK);

    // 6. "Received" appears in the app by itself; the codes leave the screen.
    wait_css(&c, "#status[data-status='received']").await;
    assert!(c.find(Locator::Css("#activation-code")).await.is_err());
    shot(&c, "06-received").await;
    shot_large_text(&c, "08-large-text").await;

    // 7. Every registered device got exactly one signed notice per change,
    //    and the desktop showed "ready" once.
    let expected = ["in_progress", "pending", "ready", "received"];
    for (provider, got) in ["FCM", "APNs", "Web Push"]
        .iter()
        .zip(pushed_statuses(&push, expected.len()).await)
    {
        assert_eq!(got, expected, "{provider}");
    }
    let ready_notices = notices
        .shown()
        .iter()
        .filter(|n| ready_titles.contains(&n["summary"].as_str().unwrap_or_default()))
        .count();
    assert_eq!(ready_notices, 1);
    c.close().await.unwrap();

    // 8. The session survives a restart (it is in the OS keystore), even
    //    after its access token expired.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c = launch(&driver).await;
    wait_css(&c, "#status[data-status='received']").await;

    // 9. What the student does themselves raises no notice: revoking
    //    (notices on) shows none, where "ready" showed one.
    let shown = notices.shown().len();
    click(&c, "#revoke").await;
    click(&c, "#revoke-confirm").await;
    wait_css(&c, "#status[data-status='revoked']").await;
    // (The change also comes back on the live stream, where a notice
    // would be raised: give it time.)
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(notices.shown().len(), shown, "{:?}", notices.shown());

    //    Notices can be switched off in Settings: a new order then gets
    //    ready with no notice at all.
    click(&c, "#open-settings").await;
    wait_css(&c, "#sign-out").await;
    shot(&c, "07-settings").await;
    // About: the licence texts the app carries, each library's own.
    click(&c, "#licence-texts-open").await;
    wait_css(&c, "#licence-texts").await;
    let texts = text(&c, "#licence-texts").await;
    assert!(
        texts.contains("Apache License"),
        "{}",
        &texts[..texts.len().min(300)]
    );
    assert!(texts.contains("Permission is hereby granted"));
    for library in ["Used by: ", "tauri 2.", "yew 0."] {
        assert!(
            texts.contains(library),
            "{library} missing from the licence texts"
        );
    }
    click(&c, "#notifications").await;
    click(&c, "#settings-back").await;
    order_until_ready(&c).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(notices.shown().len(), shown, "{:?}", notices.shown());

    // 10. Signing out wipes the session.
    click(&c, "#open-settings").await;
    click(&c, "#sign-out").await;
    wait_css(&c, "#username").await;
    c.close().await.unwrap();
    let c = launch(&driver).await;
    wait_css(&c, "#username").await;
    c.close().await.unwrap();
}

/// What the university's `/pair` page shows a student who signs in there:
/// a one-time pairing code (XXXX-XXXX).
async fn pairing_code(server: &str, username: &str) -> String {
    let page = reqwest::Client::new()
        .post(format!("{server}/pair"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "username={username}&password={}",
            demo::DEMO_PASSWORD
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = page.find("id=\"pairing-code\">").expect("a pairing code") + 18;
    page[at..at + 9].to_owned()
}

/// Links into the app, as the system hands them over: the app started with
/// a pairing link is signed in; a link to another university reaching the
/// running app (a second instance hands it over) asks before switching;
/// Back (Escape here; Android's button takes the same path) returns from
/// settings and leaves nothing on a first screen.
#[tokio::test(flavor = "multi_thread")]
async fn links_open_the_app_at_the_right_screen_and_back_goes_back() {
    use legitka_wire::shell::{pair_link, setup_link};
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let stack = backend(settings_in(dir.path()), dir.path()).await;
    let server = stack.base.clone();
    let driver = start_driver(&server, "en", dir.path());

    // 1. Not running, no university chosen: opened with a pairing link.
    let code = pairing_code(&server, "anna").await;
    let c = launch_with(&driver, &[&pair_link(&server, None, &code)]).await;
    assert_eq!(text(&c, "#student-name").await, "Anna Nowak");

    // 2. Back in the real WebKit: settings, then Escape, is home again.
    click(&c, "#open-settings").await;
    wait_css(&c, "#language").await;
    press_escape(&c).await;
    wait_css(&c, "#student-name").await;

    // 3. The same server under another name is another university to the
    //    app: a setup link to it reaches the running app, which asks first.
    let other = server.replace("127.0.0.1", "localhost");
    let link = setup_link(&other, None);
    open_in_app(&link, &server, "en", dir.path()).await;
    // Named with its address: another server may take the same name.
    let body = text(&c, "#switch-body").await;
    assert_eq!(
        body,
        format!(
            "This link is for Uniwersytet Testowy at {other}. \
             Legitka is set up for Uniwersytet Testowy."
        )
    );
    wait_css(&c, "#switch-signs-out").await;
    shot(&c, "links-01-switch").await;
    click(&c, "#switch-no").await;
    assert_eq!(text(&c, "#student-name").await, "Anna Nowak");

    // 4. Asked again, she switches: signed out here, at the other's sign-in.
    open_in_app(&link, &server, "en", dir.path()).await;
    click(&c, "#switch-yes").await;
    wait_css(&c, "#username").await;
    assert_eq!(text(&c, "#university-name").await, "Uniwersytet Testowy");
    let chosen = c
        .execute("return localStorage.getItem('legitka.university');", vec![])
        .await
        .unwrap();
    assert!(chosen.as_str().unwrap().contains(&other), "{chosen}");
    // A first screen: Escape leaves nothing to go back to.
    press_escape(&c).await;
    wait_css(&c, "#username").await;
    c.close().await.unwrap();
}

async fn press_escape(c: &Client) {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{e00c}")
        .await
        .unwrap();
}

/// A university that signs its students in with its own accounts, in the
/// real app: through its directory (a real OpenLDAP), then through its
/// OpenID Connect provider (the npm `oidc-provider`) in the browser, with
/// the way back into the app a `legitka://pair` link.
#[tokio::test(flavor = "multi_thread")]
async fn the_universitys_own_accounts_sign_in_in_the_real_app() {
    use legitka_server::settings::IdentitySettings;
    let _one = ONE_AT_A_TIME.lock().await;

    // 1. The directory: the app's password form, checked by LDAP.
    let slapd = ldap::Slapd::start(&[
        ldap::Person {
            uid: "anna",
            given: "Anna",
            sn: "Nowak",
            password: "haslo-z-katalogu",
            locked: false,
        },
        ldap::Person {
            uid: "bartek",
            given: "Bartosz",
            sn: "Lis",
            password: "haslo-bartka",
            locked: true,
        },
    ]);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.identity = IdentitySettings::Ldap(Box::new(slapd.settings_at(slapd.url())));
    let stack = backend(settings, dir.path()).await;
    let driver = start_driver(&stack.base, "en", dir.path());
    let c = launch(&driver).await;
    choose_university(&c, None).await;
    sign_in(&c, "bartek", "haslo-bartka").await;
    let said = text(&c, "#error").await;
    assert!(said.contains("locked this account"), "{said}");
    shot(&c, "accounts-01-locked").await;
    c.find(Locator::Css("#username"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    sign_in(&c, "anna", "haslo-z-katalogu").await;
    assert_eq!(text(&c, "#student-name").await, "Anna Nowak");
    // Signed out: the keystore holds no session for the next app.
    click(&c, "#open-settings").await;
    click(&c, "#sign-out").await;
    wait_css(&c, "#username").await;
    c.close().await.unwrap();
    drop(driver);
    drop(stack);

    // 2. The provider: the browser opens at the server's /oidc/login; the
    //    student signs in at the university's page; its link opens the app.
    let mut op = oidc::Op::bind().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.identity = IdentitySettings::Oidc(op.settings());
    let stack = backend(settings, dir.path()).await;
    let server = stack.base.clone();
    op.run(&format!("{server}/oidc/callback")).await;
    let browser = SystemBrowser::install();
    let driver = start_driver_with(&server, "en", dir.path(), Some(&browser));
    let c = launch(&driver).await;
    choose_university(&c, None).await;
    assert_eq!(
        text(&c, "#sign-in-usos").await,
        "Sign in with your university account"
    );
    assert!(c.find(Locator::Css("#password")).await.is_err());
    shot(&c, "accounts-02-university-sign-in").await;
    click(&c, "#sign-in-usos").await;
    wait_css(&c, "#usos-waiting").await;
    let login = browser.opened(0).await;
    assert_eq!(login, format!("{server}/oidc/login"));
    let (status, page) = oidc::through_provider(&login, "anna", "haslo-anny-oidc", "allow").await;
    assert_eq!(status, reqwest::StatusCode::OK, "{page}");
    let link = app_link_on(&page);
    assert!(link.starts_with("legitka://pair?"), "{link}");
    open_in_app(&link, &server, "en", dir.path()).await;
    assert_eq!(text(&c, "#student-name").await, "Anna Nowak");
    // Signed out: the keystore holds no session for the next test's app.
    click(&c, "#open-settings").await;
    click(&c, "#sign-out").await;
    wait_css(&c, "#sign-in-usos").await;
    c.close().await.unwrap();
}

/// Shows the codes of the ready order and types them into (emulated) mObywatel.
async fn hand_over_to_mobywatel(c: &Client, mobywatel: &str) {
    click(c, "#reveal").await;
    let manual = code(c, "#manual-code").await;
    let activation = code(c, "#activation-code").await;
    let body = json!({"manual_code": manual, "activation_code": activation});
    assert_eq!(activate(mobywatel, body).await, reqwest::StatusCode::OK);
    wait_css(c, "#status[data-status='received']").await;
}

async fn order_until_ready(c: &Client) {
    // (Read again after each tap: a live update may re-render it.)
    while !wait_css(c, "#terms")
        .await
        .is_selected()
        .await
        .unwrap_or(false)
    {
        click(c, "#terms").await;
    }
    click(c, "#order").await;
    wait_css(c, "#status[data-status='ready']").await;
}

/// Every other flow, in Polish (chosen on the first screen): the university by
/// address, an ineligible student's checklist, signing in with a pairing code, cancelling, a lost phone,
/// losing the network (and starting without it), renewal after an ELS extension, revocation with its 24-hour note, the
/// history, and switching the language.
#[tokio::test(flavor = "multi_thread")]
async fn every_other_flow_in_polish() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let stack = backend(settings_in(dir.path()), dir.path()).await;
    let d = Duration::from_millis(300);
    stack.issuer.set_delays(d, d);
    let state = stack.state.clone();
    let (server, mobywatel) = (stack.base.clone(), stack.issuer.base_url.clone());
    // The app reaches the server through a network the test can cut.
    let network = Network::start(&server).await;
    let driver = start_driver(&network.address, "en", dir.path());

    // 1. The first screen speaks the system's language (English here);
    //    Polish is one tap away. The university by its address (typed
    //    without the scheme is HTTPS, so the loopback server is typed whole).
    let c = launch(&driver).await;
    assert_eq!(text(&c, "#welcome-title").await, "Choose your university");
    click(&c, "#switch-language").await;
    assert_eq!(text(&c, "#welcome-title").await, "Wybierz swoją uczelnię");
    choose_university(&c, Some(&network.address)).await;
    shot(&c, "pl-01-sign-in").await;

    // 2. Celina has no photo: the checklist says what to do, and there is
    //    nothing to order.
    sign_in(&c, "celina", demo::DEMO_PASSWORD).await;
    let failed = text(&c, "li.failed[data-check='has_photo']").await;
    assert!(failed.contains("Dodaj zdjęcie w USOSweb"), "{failed}");
    assert!(c.find(Locator::Css("#order")).await.is_err());
    shot(&c, "pl-02-not-eligible").await;
    click(&c, "#open-settings").await;
    click(&c, "#sign-out").await;

    // 3. Anna signs in with a pairing code from the university's page,
    //    typed as on a desktop; a wrong one is explained. Then she orders,
    //    and cancels (after confirming).
    click(&c, "#switch-sign-in").await;
    // (0 and O are not in the codes' alphabet: this one never exists.)
    wait_css(&c, "#pair-code")
        .await
        .send_keys("0000-0000")
        .await
        .unwrap();
    click(&c, "#sign-in").await;
    let error = text(&c, "#error").await;
    assert!(
        error.starts_with("Ten kod parowania jest błędny"),
        "{error}"
    );
    shot(&c, "pl-09-pairing-code").await;
    let field = wait_css(&c, "#pair-code").await;
    field.clear().await.unwrap();
    field
        .send_keys(&pairing_code(&server, "anna").await)
        .await
        .unwrap();
    click(&c, "#sign-in").await;
    wait_css(&c, "#status[data-status='none']").await;
    assert_eq!(text(&c, "#student-name").await, "Anna Nowak");
    click(&c, "#terms").await;
    click(&c, "#order").await;
    // (Once it is ready: the screen does not move under the tap.)
    wait_css(&c, "#status[data-status='ready']").await;
    click(&c, "#cancel").await;
    assert!(text(&c, "#cancel-question").await.contains("Anulować"));
    click(&c, "#cancel-confirm").await;
    wait_css(&c, "#status[data-status='cancelled']").await;
    assert_eq!(text(&c, "#status").await, "Anulowane");
    shot(&c, "pl-03-cancelled").await;

    // 4. Ordered again: ready; the codes go to mObywatel; received.
    order_until_ready(&c).await;
    hand_over_to_mobywatel(&c, &mobywatel).await;

    // 5. Lost phone: new codes; the new order gets ready by itself.
    click(&c, "#replace").await;
    shot(&c, "pl-04-lost-phone").await;
    click(&c, "#replace-confirm").await;
    wait_css(&c, "#status[data-status='ready']").await;
    hand_over_to_mobywatel(&c, &mobywatel).await;

    // 6. The network goes: the last known status stays, with its age, and
    //    the actions wait, saying why — also after a restart without network.
    //    Back online, the app carries on by itself.
    wait_css(&c, "#replace").await;
    network.cut();
    wait_css(&c, "#offline").await;
    assert!(!enabled(&c, "#replace").await);
    assert!(
        text(&c, "#actions-offline")
            .await
            .contains("wymagają połączenia")
    );
    c.close().await.unwrap();
    let c = launch(&driver).await;
    wait_css(&c, "#status[data-status='received']").await;
    let offline = text(&c, "#offline").await;
    assert!(offline.contains("Ostatnia aktualizacja"), "{offline}");
    assert!(!enabled(&c, "#replace").await);
    shot(&c, "pl-08-offline").await;
    network.restore();
    gone(&c, "#offline").await;
    assert!(enabled(&c, "#replace").await);

    // 7. The dean's office extends the ELS: on the next start the app
    //    offers renewal for the new semester.
    let now = legitka_server::clock::Clock::now_ms(&*state.clock);
    legitka_server::admin::extend_els(&state, "anna", now + 300 * 24 * 3_600_000)
        .await
        .unwrap();
    c.close().await.unwrap();
    let c = launch(&driver).await;
    assert_eq!(text(&c, "#order").await, "Odnów na nowy semestr");
    shot(&c, "pl-05-renew").await;
    order_until_ready(&c).await;
    hand_over_to_mobywatel(&c, &mobywatel).await;

    // 8. Revoking asks first and explains the up-to-24-hour note.
    click(&c, "#revoke").await;
    assert!(text(&c, "#revoke-question").await.contains("24 godzin"));
    click(&c, "#revoke-confirm").await;
    wait_css(&c, "#status[data-status='revoked']").await;
    assert!(
        text(&c, "#info")
            .await
            .starts_with("Unieważniono. Może działać jeszcze do")
    );
    shot(&c, "pl-06-revoked").await;

    // 9. The history lists every step of the order.
    click(&c, "#timeline summary").await;
    wait_css(&c, "#timeline li").await;
    let steps = c
        .find_all(Locator::Css("#timeline li"))
        .await
        .unwrap()
        .len();
    assert!(
        steps >= 5,
        "pending, in progress, ready, received, revoked: {steps}"
    );
    shot(&c, "pl-07-history").await;

    // 10. Settings: English from now on.
    click(&c, "#open-settings").await;
    c.find(Locator::Css("#language option[value='en']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(text(&c, "#settings-back").await, "Back");
    click(&c, "#settings-back").await;
    assert_eq!(text(&c, "#status").await, "Revoked");
    click(&c, "#open-settings").await;
    click(&c, "#sign-out").await;
    wait_css(&c, "#username").await;
    c.close().await.unwrap();
}

/// The system browser as the app meets it: `xdg-open` first on the app's
/// PATH (the opener tries it first on Linux), recording each address it is
/// asked to open. The test then plays the student in that browser.
struct SystemBrowser {
    dir: tempfile::TempDir,
}

impl SystemBrowser {
    fn install() -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("xdg-open");
        std::fs::write(
            &script,
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> \"$(dirname \"$0\")/opened\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        Self { dir }
    }

    fn path_env(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// The `n`th address the app opened (from 0), once it has.
    async fn opened(&self, n: usize) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let log = std::fs::read_to_string(self.dir.path().join("opened")).unwrap_or_default();
            if let Some(url) = log.lines().nth(n) {
                return url.to_owned();
            }
            assert!(Instant::now() < deadline, "the app opened no browser");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The student in the browser: our USOS login → USOS's page, where they
/// sign in and allow Legitka → back to our page. Returns that page.
async fn through_usos(login: &str, username: &str, password: &str) -> String {
    let b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let location = |r: &reqwest::Response| {
        assert!(r.status().is_redirection(), "{}", r.status());
        r.headers()["location"].to_str().unwrap().to_owned()
    };
    let authorize = location(&b.get(login).send().await.unwrap());
    let page = b
        .get(&authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = between(&page, "name=\"oauth_token\" value=\"", "\"");
    let back = b
        .post(authorize.split('?').next().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "oauth_token={token}&username={username}&password={password}&decision=allow"
        ))
        .send()
        .await
        .unwrap();
    let page = b.get(location(&back)).send().await.unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    page.text().await.unwrap()
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {text}"))
        + start.len();
    let len = text[from..].find(end).unwrap();
    text[from..from + len].to_owned()
}

/// The link the page's "open the app" button carries.
fn app_link_on(page: &str) -> String {
    between(page, "id=\"open-app\" href=\"", "\"").replace("&amp;", "&")
}

/// The system opens a `legitka://` link: it starts the app with it, as the
/// desktop entry says; the running app takes it and the new one exits.
async fn open_in_app(link: &str, server: &str, lang: &str, data: &std::path::Path) {
    let mut app = Command::new(app_binary());
    app_env(&mut app, server, lang, data);
    let mut child = app.arg(link).stdout(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the second instance did not hand the link over"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn usos_sign_in_order_and_handoff_in_english_and_polish() {
    use legitka_emulators::usos::{UsosEmulator, guess, lang_dict};
    let _one = ONE_AT_A_TIME.lock().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.usos_look_while_open = Duration::from_secs(1);
    let push = providers(&mut settings).await;
    let usos = UsosEmulator::start().await.unwrap();
    usos.add_consumer("legitka-key", "legitka-consumer-secret");
    usos.add_user("1001", "anna", "haslo-anny", "Anna", "Nowak");
    usos.set_why_cannot_order(
        "1001",
        Some(lang_dict(
            "Twoja ELS nie jest przedłużona na bieżący semestr.",
            "Your ELS is not extended for this semester.",
        )),
    );
    settings.usos = vec![
        legitka_server::usos::UsosUniversity::new(
            "uwu",
            "Uniwersytet USOS",
            &usos.base_url,
            "legitka-key",
            "legitka-consumer-secret",
        )
        .unwrap(),
    ];
    let stack = Stack::start(settings, Arc::new(SystemClock), dir.path())
        .await
        .unwrap();
    let server = stack.base.clone();
    let browser = SystemBrowser::install();
    let notices = Notices::start();
    let driver = start_driver_with(&server, "en", dir.path(), Some(&browser));

    // 1. English. The university's setup link (as its /setup page shows it)
    //    names the USOS university on the server: the sign-in is USOS's.
    let c = launch(&driver).await;
    let setup = between(
        &reqwest::get(format!("{server}/setup?university=uwu"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "data-link=\"",
        "\"",
    )
    .replace("&amp;", "&");
    wait_css(&c, "#university-address")
        .await
        .send_keys(&setup)
        .await
        .unwrap();
    click(&c, "#university-continue").await;
    assert_eq!(text(&c, "#university-name").await, "Uniwersytet USOS");
    assert_eq!(text(&c, "#sign-in-usos").await, "Sign in with USOS");
    assert!(c.find(Locator::Css("#password")).await.is_err());
    shot(&c, "usos-01-sign-in").await;

    // 2. The browser opens at the server's USOS login; the student signs in
    //    at USOS; the page's link opens the app, which is signed in.
    click(&c, "#sign-in-usos").await;
    wait_css(&c, "#usos-waiting").await;
    let login = browser.opened(0).await;
    assert_eq!(login, format!("{server}/usos/uwu/login"));
    let page = through_usos(&login, "anna", "haslo-anny").await;
    let link = app_link_on(&page);
    assert!(link.starts_with("legitka://pair?"), "{link}");
    open_in_app(&link, &server, "en", dir.path()).await;
    assert_eq!(text(&c, "#student-name").await, "Anna Nowak");

    // 3. USOS says why she may not order, in its own words: English here …
    assert_eq!(
        text(&c, "#university-says").await,
        "Your ELS is not extended for this semester."
    );
    assert!(c.find(Locator::Css("#order")).await.is_err());
    shot(&c, "usos-02-university-says").await;
    // … and Polish once she switches.
    click(&c, "#open-settings").await;
    c.find(Locator::Css("#language option[value='pl']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "#settings-back").await;
    assert_eq!(
        text(&c, "#university-says").await,
        "Twoja ELS nie jest przedłużona na bieżący semestr."
    );

    // 4. Polish from here. The dean's office extends her ELS; she signs in
    //    again, this time typing the code the page shows (the fallback).
    usos.set_why_cannot_order("1001", None);
    click(&c, "#open-settings").await;
    click(&c, "#sign-out").await;
    assert_eq!(text(&c, "#sign-in-usos").await, "Zaloguj się przez USOS");
    click(&c, "#sign-in-usos").await;
    wait_css(&c, "#usos-waiting").await;
    let page = through_usos(&browser.opened(1).await, "anna", "haslo-anny").await;
    let typed = between(&page, "id=\"pairing-code\">", "<");
    wait_css(&c, "#pair-code")
        .await
        .send_keys(&typed)
        .await
        .unwrap();
    shot(&c, "usos-03-code").await;
    click(&c, "#sign-in").await;
    wait_css(&c, "#status[data-status='none']").await;

    // Her phone gets pushes too (a second device, signed in the same way).
    let phone = through_usos(&format!("{server}/usos/uwu/login"), "anna", "haslo-anny").await;
    let http = reqwest::Client::new();
    let session: legitka_wire::SignInResponse = http
        .post(format!("{server}/api/v1/session/pair"))
        .json(&json!({ "code": between(&phone, "id=\"pairing-code\">", "<") }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .post(format!("{server}/api/v1/devices"))
        .bearer_auth(&session.tokens.access_token)
        .json(&json!({"platform": "fcm", "token": "anna-android-fcm-token", "locale": "pl"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NO_CONTENT);

    // 5. She orders; USOS works on it and readies it by itself; the watcher
    //    (the app is open: it looks every second) brings each step live.
    usos.set_progress(Duration::from_secs(2), Duration::from_secs(6));
    click(&c, "#terms").await;
    click(&c, "#order").await;
    wait_css(&c, "#status[data-status='in_progress']").await;
    // Named as USOSweb names it too.
    assert_eq!(text(&c, "#status-usosweb").await, "W USOSweb: „W trakcie”.");
    let checked = text(&c, "#usos-checked").await;
    assert!(
        checked.starts_with("USOS sprawdzony przed chwilą"),
        "{checked}"
    );
    shot(&c, "usos-04-in-progress").await;
    wait_css(&c, "#status[data-status='ready']").await;
    assert_eq!(usos.orders()[0].status, guess::READY);

    // The help pages' way: the QR on a computer's screen, for this phone
    // to scan. The app gives a one-time code for the university's page.
    click(&c, "#on-computer").await;
    let typed = text(&c, "#second-screen-code").await;
    let shown_at = text(&c, "#second-screen").await;
    assert!(shown_at.contains(&format!("{server}/show")), "{shown_at}");
    shot(&c, "usos-05a-second-screen").await;
    let computer = http
        .post(format!("{server}/show"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("code={typed}"))
        .send()
        .await
        .unwrap();
    assert_eq!(computer.headers()["cache-control"], "no-store");
    let computer = computer.text().await.unwrap();
    let usos_token = usos.orders()[0].token.clone().unwrap();
    assert!(computer.contains(&usos_token) && computer.contains("<svg"));

    // 6. The desktop notice says it is ready; a tap shows USOS's codes.
    let notice = notices
        .wait_for(&["mLegitymacja gotowa", "Your mLegitymacja is ready"])
        .await;
    notices.tap(&notice);
    let token = code(&c, "#manual-code").await;
    let pass = code(&c, "#activation-code").await;
    assert_eq!(Some(token.clone()), usos.orders()[0].token);
    assert_eq!(Some(pass.clone()), usos.orders()[0].distribution_pass);
    wait_css(&c, "#qr svg").await;
    shot(&c, "usos-05-codes").await;

    // 7. mObywatel takes them and tells USOS; "received" reaches the app.
    let activated = http
        .post(format!("{}mobywatel/activate", usos.base_url))
        .json(&json!({"qr_payload": token, "activation_code": pass}))
        .send()
        .await
        .unwrap();
    assert_eq!(activated.status(), reqwest::StatusCode::OK);
    wait_css(&c, "#status[data-status='received']").await;
    shot(&c, "usos-06-received").await;

    // 8. Her phone was pushed each step, once.
    let deadline = Instant::now() + WAIT;
    let pushed = loop {
        let got: Vec<String> = push
            .fcm
            .received()
            .iter()
            .map(|m| m["data"]["status"].as_str().unwrap_or_default().to_owned())
            .collect();
        if got.len() >= 4 || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(pushed, ["pending", "in_progress", "ready", "received"]);
    c.close().await.unwrap();
}
