//! `legitka-emulators`: the stand-ins as a process of their own (the demo).
//! Prints one `name=url` line per stand-in once all listen.

use clap::Parser;
use legitka_emulators::issuer::{IssuerConfig, IssuerEmulator};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// Loopback stand-ins for the issuer bridge with mObywatel (the push
/// fakes are started by tests, which hold their keys).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// The issuer bridge's port on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 0)]
    issuer_port: u16,
    /// File holding the bridge's shared secret (the server's issuer_secret_file).
    #[arg(long)]
    secret_file: PathBuf,
    /// The issuer's own records (SQLite); in memory when not given.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Milliseconds from pending to in progress.
    #[arg(long, default_value_t = 3000)]
    accept_ms: u64,
    /// Milliseconds from in progress to ready.
    #[arg(long, default_value_t = 5000)]
    ready_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // reqwest is built without a default TLS provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let secret = std::fs::read_to_string(&cli.secret_file)?.trim().to_owned();
    let database_url = cli.data.map_or_else(
        || "sqlite::memory:".to_owned(),
        |p| format!("sqlite://{}", p.display()),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cli.issuer_port)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let config = IssuerConfig {
        secret,
        database_url,
        accept_delay: Duration::from_millis(cli.accept_ms),
        ready_delay: Duration::from_millis(cli.ready_ms),
        clock: Arc::new(legitka_emulators::push::now_ms),
    };
    let issuer = IssuerEmulator::open(config, base_url).await?;
    println!("issuer={}", issuer.base_url);
    println!("mobywatel={}/mobywatel/activate", issuer.base_url);
    axum::serve(listener, legitka_emulators::issuer::router(issuer)).await?;
    Ok(())
}
