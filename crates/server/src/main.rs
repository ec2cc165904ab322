//! The `legitka-server` command: the server and the IT team's admin commands.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use legitka_server::admin::{self, Removal};
use legitka_server::clock::SystemClock;
use legitka_server::import::{self, ImportError};
use legitka_server::settings::Settings;
use legitka_server::state::AppState;
use legitka_server::{Application, demo};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

/// Legitka university backend: orders for mLegitymacja, the student
/// registry, and the issuer adapter.
///
/// Settings come from defaults, then --config FILE (TOML), then APP_…
/// environment variables (APP_DATABASE_URL, APP_ACTIVATION_KEY, APP_BIND,
/// APP_ELIGIBILITY, APP_ISSUER_URL, APP_ISSUER_SECRET_FILE, APP_PUBLIC_URL,
/// APP_SESSION_TTL_DAYS, APP_CARD_VALIDITY_DAYS, APP_SWEEP_INTERVAL_SECS).
#[derive(Parser, Debug)]
#[command(version, about, long_about)]
struct Cli {
    /// Settings file (TOML); environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP server (API, event stream, the issuer outbox and its events).
    Serve {
        /// Seed the demo students (password "legitka") and allow the demo key.
        #[arg(long)]
        demo: bool,
        /// Listen address (overrides `bind`).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Import students from CSV: all rows or none; every bad row is reported.
    #[command(after_help = format!("Columns (header row, any order):\n  {}\nOptional: {}.\n\
        Dates are YYYY-MM-DD; flags are true/false; password_hash is an argon2 PHC \
        string (see `hash-password`).", import::COLUMNS, import::OPTIONAL_COLUMNS))]
    ImportStudents {
        /// The CSV file.
        file: PathBuf,
    },
    /// Fill the registry from the university's directory (identity =
    /// "ldap", with an [ldap.sync] table naming the attributes): the same
    /// checks as a CSV import, all entries or none.
    LdapSync,
    /// Extend a student's ELS for a new semester (they may then renew).
    ExtendEls {
        username: String,
        /// Last day the ELS is valid, YYYY-MM-DD.
        #[arg(long)]
        until: String,
    },
    /// Record a duplicate ELS (new number, issued today): the student may
    /// then renew their mLegitymacja.
    ElsDuplicate {
        username: String,
        /// The duplicate's ELS number.
        #[arg(long)]
        number: String,
    },
    /// Mark a student graduated or removed: orders on the way are
    /// cancelled; a card in use stays valid one month.
    Remove {
        username: String,
        #[arg(long, value_enum)]
        reason: RemovalArg,
    },
    /// Show a student, their eligibility, and their orders with history.
    Show { username: String },
    /// Create the demo students (password "legitka").
    DemoData,
    /// Hash a password read from standard input (for the CSV's password_hash).
    HashPassword,
    /// Print the OpenAPI document (docs/openapi.json), or with --bridge the
    /// issuer-bridge contract (docs/issuer-bridge.openapi.json).
    Openapi {
        #[arg(long)]
        bridge: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum RemovalArg {
    Graduated,
    Removed,
}

#[tokio::main]
async fn main() -> ExitCode {
    // reqwest is built without a default TLS provider (push senders use it).
    let _ = rustls::crypto::ring::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The admin tools' state: their changes are told to the running servers.
async fn state(cli_config: Option<&std::path::Path>, demo: bool) -> anyhow::Result<AppState> {
    let settings = Settings::load(cli_config, demo)?;
    let state = AppState::build(settings, Arc::new(SystemClock)).await?;
    state
        .feed
        .tell_directly(format!("admin-{}", uuid::Uuid::new_v4()));
    Ok(state)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Serve { demo, bind } => {
            let mut settings = Settings::load(config, demo)?;
            if let Some(b) = bind {
                settings.bind = b;
            }
            anyhow::ensure!(
                settings.issuer.is_some() || !settings.usos.is_empty(),
                "no issuer configured: set issuer_url and issuer_secret_file \
                 (APP_ISSUER_URL, APP_ISSUER_SECRET_FILE) to the issuer bridge, or a [[usos]] university"
            );
            let app = Application::build(settings).await?;
            if demo {
                let added = demo::seed(app.state()).await?;
                tracing::info!(
                    added,
                    "demo students ready (password \"{}\")",
                    demo::DEMO_PASSWORD
                );
            }
            println!("legitka-server listening on http://{}", app.local_addr());
            app.run_until_stopped().await?;
        }
        Command::ImportStudents { file } => {
            let state = state(config, false).await?;
            let input = std::fs::File::open(&file)
                .with_context(|| format!("opening {}", file.display()))?;
            match import::import_students(&state, input).await {
                Ok(r) => println!("imported: {} new, {} updated", r.inserted, r.updated),
                Err(ImportError::BadRows(rows)) => {
                    eprintln!("nothing was imported: {} bad row(s)", rows.len());
                    for r in rows {
                        eprintln!("  line {}: {}", r.line, r.reason);
                    }
                    return Ok(ExitCode::from(2));
                }
                Err(ImportError::Failed(e)) => return Err(anyhow::Error::new(e)),
            }
        }
        Command::LdapSync => {
            let state = state(config, false).await?;
            let legitka_server::identity::Identity::Ldap(directory) = &*state.identity else {
                anyhow::bail!("ldap-sync needs identity = \"ldap\" and an [ldap] table");
            };
            let students = directory
                .students()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            match import::import_directory(&state, &students).await {
                Ok(r) => println!(
                    "synced from the directory: {} new, {} updated",
                    r.inserted, r.updated
                ),
                Err(ImportError::BadRows(rows)) => {
                    eprintln!("nothing was synced: {} bad entr(y/ies)", rows.len());
                    for r in rows {
                        let at = usize::try_from(r.line.saturating_sub(2)).unwrap_or(usize::MAX);
                        let dn = students.get(at).map_or("?", |s| s.dn.as_str());
                        eprintln!("  {dn}: {}", r.reason);
                    }
                    return Ok(ExitCode::from(2));
                }
                Err(ImportError::Failed(e)) => return Err(anyhow::Error::new(e)),
            }
        }
        Command::ExtendEls { username, until } => {
            let state = state(config, false).await?;
            let until_ms = legitka_server::calendar::day_end(&until).map_err(anyhow::Error::msg)?;
            admin::extend_els(&state, &username, until_ms).await?;
            println!(
                "{username}: ELS valid until {} (through that day)",
                legitka_server::calendar::day_of(until_ms)
            );
        }
        Command::ElsDuplicate { username, number } => {
            let state = state(config, false).await?;
            admin::record_els_duplicate(&state, &username, &number).await?;
            println!("{username}: duplicate ELS {} recorded", number.trim());
        }
        Command::Remove { username, reason } => {
            let state = state(config, false).await?;
            let how = match reason {
                RemovalArg::Graduated => Removal::Graduated,
                RemovalArg::Removed => Removal::Removed,
            };
            admin::remove_student(&state, &username, how).await?;
            println!("{username}: marked {}", how.as_str());
        }
        Command::Show { username } => {
            let state = state(config, false).await?;
            print!("{}", admin::show(&state, &username).await?);
        }
        Command::DemoData => {
            let state = state(config, true).await?;
            let added = demo::seed(&state).await?;
            println!(
                "demo students: {added} added (password \"{}\")",
                demo::DEMO_PASSWORD
            );
        }
        Command::Openapi { bridge: false } => print!("{}", legitka_server::routes::openapi_json()),
        Command::Openapi { bridge: true } => {
            print!("{}", legitka_server::issuer::contract::openapi_json());
        }
        Command::HashPassword => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            anyhow::ensure!(!password.is_empty(), "empty password");
            println!("{}", legitka_server::auth::hash_password(password).await?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
