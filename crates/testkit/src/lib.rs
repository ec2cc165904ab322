//! One way to start a backend for tests, the E2E and the benchmarks: the
//! issuer-bridge stand-in (with mObywatel) on a loopback port of its own,
//! the real server configured for it as for a real bridge, and the demo
//! students. The server reaches the stand-in only over HTTP.

use legitka_emulators::issuer::{IssuerConfig, IssuerEmulator};
use legitka_server::clock::Clock;
use legitka_server::issuer::bridge::BridgeSettings;
use legitka_server::state::AppState;
use legitka_server::{Application, Settings, demo};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use legitka_emulators::issuer::Outcome;

/// The shared secret between the test backend and its issuer stand-in.
pub const BRIDGE_SECRET: &str = "legitka-test-bridge-secret";

/// A running backend: the server on loopback and its issuer stand-in.
pub struct Stack {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// `http://127.0.0.1:<port>/metrics`, when the settings serve metrics.
    pub metrics: Option<String>,
    pub state: AppState,
    pub issuer: Arc<IssuerEmulator>,
}

/// Starts the issuer stand-in with its records in `dir`, on `clock`'s time.
pub async fn start_issuer(
    dir: &Path,
    clock: Arc<dyn Clock>,
    delays: (Duration, Duration),
) -> anyhow::Result<Arc<IssuerEmulator>> {
    IssuerEmulator::start(IssuerConfig {
        secret: BRIDGE_SECRET.to_owned(),
        database_url: format!("sqlite://{}", dir.join("issuer.db").display()),
        accept_delay: delays.0,
        ready_delay: delays.1,
        clock: Arc::new(move || clock.now_ms()),
    })
    .await
}

/// The server's issuer setting for a stand-in.
pub fn bridge_for(issuer: &IssuerEmulator) -> BridgeSettings {
    BridgeSettings::new(&issuer.base_url, BRIDGE_SECRET.to_owned())
        .expect("a loopback bridge is a valid setting")
}

impl Stack {
    /// Starts the issuer stand-in (50 ms + 50 ms to ready; see
    /// `IssuerEmulator::set_delays`), then the server configured for it
    /// with `settings`, and seeds the demo students.
    pub async fn start(
        mut settings: Settings,
        clock: Arc<dyn Clock>,
        dir: &Path,
    ) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let delays = (Duration::from_millis(50), Duration::from_millis(50));
        let issuer = start_issuer(dir, Arc::clone(&clock), delays).await?;
        settings.issuer = Some(bridge_for(&issuer));
        let app = Application::build_with_clock(settings, clock).await?;
        demo::seed(app.state()).await?;
        let base = format!("http://{}", app.local_addr());
        let metrics = app.metrics_addr().map(|m| format!("http://{m}/metrics"));
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        Ok(Self {
            base,
            metrics,
            state,
            issuer,
        })
    }

    /// mObywatel: activate with the QR payload or manual code plus the activation code.
    pub async fn activate(&self, body: serde_json::Value) -> reqwest::Response {
        activate(&self.issuer.base_url, body).await
    }
}

/// mObywatel at an issuer stand-in's address.
pub async fn activate(issuer_base: &str, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{issuer_base}/mobywatel/activate"))
        .json(&body)
        .send()
        .await
        .expect("the mObywatel stand-in answers")
}
