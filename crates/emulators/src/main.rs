//! `legitka-emulators`: the stand-ins as a process of their own (the demo).
//! Prints one `name=url` line per stand-in once all listen.

use clap::Parser;
use legitka_emulators::issuer::{IssuerConfig, IssuerEmulator};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// Loopback stand-ins for the issuer bridge with mObywatel and, when given
/// the public keys the server's push credentials pair with, FCM, APNs and
/// a Web Push service; with `--usos-port`, a USOS API installation with the
/// demo's students.
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
    /// FCM: the service account's public key (PEM); with --fcm-project and --fcm-client-email.
    #[arg(long, requires_all = ["fcm_project", "fcm_client_email"])]
    fcm_public_key: Option<PathBuf>,
    #[arg(long)]
    fcm_project: Option<String>,
    #[arg(long)]
    fcm_client_email: Option<String>,
    /// APNs: the .p8 key's public half (PEM); with --apns-team and --apns-key-id.
    #[arg(long, requires_all = ["apns_team", "apns_key_id"])]
    apns_public_key: Option<PathBuf>,
    #[arg(long)]
    apns_team: Option<String>,
    #[arg(long)]
    apns_key_id: Option<String>,
    #[arg(long, default_value = "pl.legitka.app")]
    apns_topic: String,
    /// Also run a Web Push service (subscriptions are made by the tests' API).
    #[arg(long)]
    webpush: bool,
    /// Also run a USOS API installation on this port of 127.0.0.1, whose
    /// orders move on by themselves (--accept-ms, --ready-ms); students
    /// `anna` (may order) and `bartek` (USOS says why not), password `legitka`.
    #[arg(long, requires_all = ["usos_consumer_key", "usos_consumer_secret_file"])]
    usos_port: Option<u16>,
    /// The consumer key the server signs with (its `[[usos]]` consumer_key).
    #[arg(long)]
    usos_consumer_key: Option<String>,
    /// File holding that key's secret (the server's consumer_secret_file).
    #[arg(long)]
    usos_consumer_secret_file: Option<PathBuf>,
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
    // The fakes live as long as the process: kept here.
    let mut fakes: Vec<Box<dyn std::any::Any>> = vec![];
    if let (Some(key), Some(project), Some(email)) =
        (&cli.fcm_public_key, &cli.fcm_project, &cli.fcm_client_email)
    {
        let pem = std::fs::read_to_string(key)?;
        let fcm = legitka_emulators::fcm::FcmEmulator::start(project, email, &pem).await?;
        println!("fcm={} fcm_token_uri={}", fcm.base_url, fcm.token_uri);
        fakes.push(Box::new(fcm));
    }
    if let (Some(key), Some(team), Some(key_id)) =
        (&cli.apns_public_key, &cli.apns_team, &cli.apns_key_id)
    {
        let pem = std::fs::read_to_string(key)?;
        let apns =
            legitka_emulators::apns::ApnsEmulator::start(team, key_id, &cli.apns_topic, &pem)
                .await?;
        println!("apns={}", apns.base_url);
        fakes.push(Box::new(apns));
    }
    if let (Some(port), Some(key), Some(secret_file)) = (
        cli.usos_port,
        &cli.usos_consumer_key,
        &cli.usos_consumer_secret_file,
    ) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let usos = legitka_emulators::usos::UsosEmulator::serve(listener, &base);
        usos.add_consumer(key, std::fs::read_to_string(secret_file)?.trim());
        usos.add_user("1001", "anna", "legitka", "Anna", "Nowak");
        usos.add_user("1002", "bartek", "legitka", "Bartek", "Kowalski");
        usos.set_why_cannot_order(
            "1002",
            Some(legitka_emulators::usos::lang_dict(
                "Twoja ELS nie jest przedłużona na bieżący semestr.",
                "Your student ID (ELS) is not extended for this semester.",
            )),
        );
        usos.set_progress(
            Duration::from_millis(cli.accept_ms),
            Duration::from_millis(cli.ready_ms),
        );
        println!("usos={}", usos.base_url);
        fakes.push(Box::new(usos));
    }
    if cli.webpush {
        let wp = legitka_emulators::webpush::WebPushEmulator::start().await?;
        println!("webpush={}", wp.base_url);
        fakes.push(Box::new(wp));
    }
    axum::serve(listener, legitka_emulators::issuer::router(issuer)).await?;
    Ok(())
}
