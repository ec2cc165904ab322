use anyhow::Context;
use clap::Parser;
use legitka_server::crypto::Secret;
use legitka_server::domain::eligibility::Policy;
use legitka_server::settings::{IssuerSettings, Settings};
use legitka_server::{Application, demo};
use std::net::SocketAddr;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// A demo-only key, used when --demo runs without one. Never use it for real data.
const DEMO_KEY: &str = "de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d";

/// Legitka university backend.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "APP_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Database URL (an SQLite file is created on first start).
    #[arg(long, env = "APP_DATABASE_URL", default_value = "sqlite://legitka.db")]
    database_url: String,
    /// 64 hex digits: encrypts activation data at rest. Required unless --demo.
    #[arg(long, env = "APP_ACTIVATION_KEY", hide_env_values = true)]
    activation_key: Option<String>,
    /// Eligibility policy: `seeds` (plastic ELS required) or `no-els-2025`.
    #[arg(long, env = "APP_ELIGIBILITY", default_value = "seeds")]
    eligibility: String,
    /// Issuer emulator: milliseconds from pending to in progress.
    #[arg(long, env = "APP_ISSUER_ACCEPT_MS", default_value_t = 3000)]
    issuer_accept_ms: u64,
    /// Issuer emulator: milliseconds from in progress to ready.
    #[arg(long, env = "APP_ISSUER_READY_MS", default_value_t = 5000)]
    issuer_ready_ms: u64,
    /// Seed the demo students (password "legitka").
    #[arg(long)]
    demo: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let activation_key = match (cli.activation_key, cli.demo) {
        (Some(k), _) => k,
        (None, true) => {
            tracing::warn!("no activation key given: using the demo key (demo data only)");
            DEMO_KEY.to_owned()
        }
        (None, false) => anyhow::bail!("set APP_ACTIVATION_KEY (64 hex digits) or pass --demo"),
    };
    let settings = Settings {
        bind: cli.bind,
        database_url: cli.database_url,
        activation_key: Secret::new(activation_key),
        eligibility: Policy::parse(&cli.eligibility)
            .with_context(|| format!("unknown eligibility policy {:?}", cli.eligibility))?,
        issuer: IssuerSettings {
            accept_delay: Duration::from_millis(cli.issuer_accept_ms),
            ready_delay: Duration::from_millis(cli.issuer_ready_ms),
            outcomes: vec![],
        },
        session_ttl: Duration::from_secs(30 * 24 * 3600),
        default_card_validity: Duration::from_secs(183 * 24 * 3600),
        sweep_interval: Duration::from_secs(60),
    };
    let app = Application::build(settings).await?;
    if cli.demo {
        let added = demo::seed(app.state()).await?;
        tracing::info!(
            added,
            "demo students ready (password \"{}\")",
            demo::DEMO_PASSWORD
        );
    }
    println!("legitka-server listening on http://{}", app.local_addr());
    app.run_until_stopped().await?;
    Ok(())
}
