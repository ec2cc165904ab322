//! The `legitka-server` command: the server and the IT team's admin commands.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use legitka_server::admin::{self, Removal};
use legitka_server::clock::SystemClock;
use legitka_server::import::{self, ImportError};
use legitka_server::settings::{LogFormat, Settings};
use legitka_server::state::AppState;
use legitka_server::{Application, demo, ops};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

/// Legitka university backend: orders for mLegitymacja, the student
/// registry, and the issuer adapter.
///
/// Settings come from defaults, then --config FILE (TOML), then APP_…
/// environment variables (APP_DATABASE_URL, APP_ACTIVATION_KEY_FILE or
/// APP_ACTIVATION_KEY, APP_BIND, APP_ELIGIBILITY, APP_ISSUER_URL,
/// APP_ISSUER_SECRET_FILE, APP_PUBLIC_URL, APP_METRICS_BIND, APP_LOG_FORMAT,
/// …: every key of the settings file). `check-config` shows what they add
/// up to. The schema is brought up to date by `migrate` (or `serve
/// --migrate`); every other command refuses a schema behind this version.
#[derive(Parser, Debug)]
#[command(version, about, long_about)]
struct Cli {
    /// Settings file (TOML); environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Who runs an admin command, recorded with what it did (by default
    /// the account's name).
    #[arg(long, global = true, env = "LEGITKA_OPERATOR", value_name = "NAME")]
    operator: Option<String>,
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
        /// Bring the database schema up to date first (for a single
        /// instance; with several, run `migrate` once before starting them).
        #[arg(long)]
        migrate: bool,
    },
    /// Bring the database schema up to this version's (run once per
    /// upgrade, before the servers start).
    Migrate,
    /// Check the settings and print them as they take effect (secrets
    /// masked), with the database's schema state.
    CheckConfig,
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
    /// Erase a student's personal data: sessions, devices, notices, USOS
    /// tokens, and their record's names, PESEL and numbers. Their orders'
    /// history stays, naming no one. Refused while an order is open.
    Erase { username: String },
    /// Orders by status, each outbox's backlog and dead letters with its
    /// last error, and the latest admin actions.
    Stats,
    /// The jobs the outboxes gave up on.
    DeadLetters {
        #[command(subcommand)]
        action: DeadLetterAction,
    },
    /// Remove now what is kept only for a while (the server does it hourly).
    Prune,
    /// Re-seal every sealed value with activation_key (the old key in
    /// previous_activation_keys until this has run; see docs/operations.md).
    RotateKey,
    /// Copy the live SQLite database to FILE (PostgreSQL: pg_dump; the
    /// message says how). The activation key is backed up apart.
    Backup { file: PathBuf },
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

#[derive(Subcommand, Debug)]
enum DeadLetterAction {
    /// The newest dead letters of a queue.
    List {
        /// issuer, push, email or usos-watch.
        queue: String,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Put dead letters back in their outbox: one by --id, or --all.
    Requeue {
        queue: String,
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Drop dead letters: one by --id, or --all.
    Purge {
        queue: String,
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

fn queue(name: &str) -> anyhow::Result<&'static legitka_server::outbox::Queue> {
    ops::queue_named(name).ok_or_else(|| {
        let names: Vec<_> = ops::queues().iter().map(|q| q.name).collect();
        anyhow::anyhow!("no queue {name:?} ({})", names.join(", "))
    })
}

/// Records an admin action under the operator's name.
async fn audit(
    state: &AppState,
    operator: &str,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> anyhow::Result<()> {
    ops::audit::record(
        &state.db.pool,
        state.clock.now_ms(),
        operator,
        action,
        subject,
        detail,
    )
    .await?;
    Ok(())
}

/// Records an admin action on a student (by id, never by name).
async fn audit_student(
    state: &AppState,
    operator: &str,
    action: &str,
    username: &str,
    detail: Option<&str>,
) -> anyhow::Result<()> {
    let id = legitka_server::registry::by_username(&state.db.pool, username)
        .await?
        .map(|s| s.id);
    audit(state, operator, action, id.as_deref(), detail).await?;
    Ok(())
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
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match LogFormat::peek(cli.config.as_deref()) {
        LogFormat::Json => logs.json().flatten_event(true).init(),
        LogFormat::Text => logs.init(),
    }
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The admin tools' state: their changes are told to the running servers.
async fn state(cli_config: Option<&std::path::Path>, demo: bool) -> anyhow::Result<AppState> {
    let mut settings = Settings::load(cli_config, demo)?;
    settings.migrate_on_start = demo;
    let state = AppState::build(settings, Arc::new(SystemClock)).await?;
    state
        .feed
        .tell_directly(format!("admin-{}", uuid::Uuid::new_v4()));
    Ok(state)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_deref();
    let operator = ops::audit::operator(cli.operator.clone());
    let operator = operator.as_str();
    match cli.command {
        Command::Serve {
            demo,
            bind,
            migrate,
        } => {
            let mut settings = Settings::load(config, demo)?;
            if let Some(b) = bind {
                settings.bind = b;
            }
            // The demo's database is its own: it is always brought up to date.
            settings.migrate_on_start = migrate || demo;
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
            if let Some(m) = app.metrics_addr() {
                println!("metrics on http://{m}/metrics");
            }
            app.run_until_stopped().await?;
        }
        Command::ImportStudents { file } => {
            let state = state(config, false).await?;
            let input = std::fs::File::open(&file)
                .with_context(|| format!("opening {}", file.display()))?;
            match import::import_students(&state, input).await {
                Ok(r) => {
                    let detail = format!("{} new, {} updated", r.inserted, r.updated);
                    audit(&state, operator, "import-students", None, Some(&detail)).await?;
                    println!("imported: {detail}");
                }
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
                Ok(r) => {
                    let detail = format!("{} new, {} updated", r.inserted, r.updated);
                    audit(&state, operator, "ldap-sync", None, Some(&detail)).await?;
                    println!("synced from the directory: {detail}");
                }
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
            audit_student(&state, operator, "extend-els", &username, Some(&until)).await?;
            println!(
                "{username}: ELS valid until {} (through that day)",
                legitka_server::calendar::day_of(until_ms)
            );
        }
        Command::ElsDuplicate { username, number } => {
            let state = state(config, false).await?;
            admin::record_els_duplicate(&state, &username, &number).await?;
            audit_student(&state, operator, "els-duplicate", &username, None).await?;
            println!("{username}: duplicate ELS {} recorded", number.trim());
        }
        Command::Remove { username, reason } => {
            let state = state(config, false).await?;
            let how = match reason {
                RemovalArg::Graduated => Removal::Graduated,
                RemovalArg::Removed => Removal::Removed,
            };
            admin::remove_student(&state, &username, how).await?;
            audit_student(&state, operator, "remove", &username, Some(how.as_str())).await?;
            println!("{username}: marked {}", how.as_str());
        }
        Command::Show { username } => {
            let state = state(config, false).await?;
            let shown = admin::show(&state, &username).await?;
            // Reading a student's data is recorded too.
            audit_student(&state, operator, "show", &username, None).await?;
            print!("{shown}");
        }
        Command::Migrate => {
            let settings = Settings::load(config, false)?;
            let db = legitka_server::db::Db::connect_creating(&settings.database_url).await?;
            let (ran, sealed) = legitka_server::state::migrate(&db, &settings.secrets()?).await?;
            let schema = db.schema().await?;
            println!(
                "schema up to date: {ran} migration(s) applied now, {} of {} in all",
                schema.applied, schema.known
            );
            if sealed > 0 {
                println!("{sealed} PESEL(s) sealed");
            }
        }
        Command::CheckConfig => {
            let settings = Settings::load(config, false)?;
            println!("{}", settings.effective());
            let connect = legitka_server::db::Db::connect(&settings.database_url);
            let connected = tokio::time::timeout(std::time::Duration::from_secs(5), connect)
                .await
                .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within 5 s")));
            match connected {
                Ok(db) => match db.schema().await {
                    Ok(s) if s.applied == s.known => {
                        println!(
                            "database: reachable, schema current ({} migrations)",
                            s.known
                        );
                    }
                    Ok(s) => println!(
                        "database: reachable, schema behind ({} of {} migrations): run `migrate`",
                        s.applied, s.known
                    ),
                    Err(e) => println!("database: reachable, schema unreadable: {e:#}"),
                },
                Err(e) => println!("database: not reachable: {e:#}"),
            }
        }
        Command::Erase { username } => {
            let state = state(config, false).await?;
            let id = ops::lifecycle::erase(&state, &username, operator).await?;
            println!(
                "{username}: personal data erased (their orders' history stays as student {id})"
            );
        }
        Command::Stats => {
            let state = state(config, false).await?;
            print!("{}", ops::stats(&state.db, state.clock.now_ms()).await?);
        }
        Command::DeadLetters { action } => {
            let state = state(config, false).await?;
            let now = state.clock.now_ms();
            match action {
                DeadLetterAction::List { queue: name, limit } => {
                    let letters =
                        legitka_server::outbox::dead_letters(&state.db, queue(&name)?, limit)
                            .await?;
                    if letters.is_empty() {
                        println!("{name}: no dead letters");
                    }
                    for d in letters {
                        println!(
                            "{}  {}  {} attempt(s)  {}",
                            d.id,
                            jiff::Timestamp::from_millisecond(d.dead_at)
                                .map_or_else(|_| d.dead_at.to_string(), |t| t.to_string()),
                            d.attempts,
                            d.last_error
                        );
                    }
                }
                DeadLetterAction::Requeue {
                    queue: name, id, ..
                } => {
                    let n = legitka_server::outbox::requeue(
                        &state.db,
                        queue(&name)?,
                        id.as_deref(),
                        now,
                    )
                    .await?;
                    audit(
                        &state,
                        operator,
                        "dead-letters requeue",
                        Some(&name),
                        id.as_deref(),
                    )
                    .await?;
                    println!("{name}: {n} dead letter(s) back in the outbox");
                }
                DeadLetterAction::Purge {
                    queue: name, id, ..
                } => {
                    let n = legitka_server::outbox::purge(
                        &state.db,
                        queue(&name)?,
                        id.as_deref(),
                        i64::MAX,
                    )
                    .await?;
                    audit(
                        &state,
                        operator,
                        "dead-letters purge",
                        Some(&name),
                        id.as_deref(),
                    )
                    .await?;
                    println!("{name}: {n} dead letter(s) dropped");
                }
            }
        }
        Command::Prune => {
            let state = state(config, false).await?;
            let p = ops::lifecycle::prune(&state).await?;
            println!(
                "removed: {} notice/device row(s), {} sign-in row(s), {} idempotency key(s), \
                 {} unfinished sign-in(s), {} dead letter(s)",
                p.notices, p.sign_ins, p.idempotency_keys, p.unfinished, p.dead_letters
            );
        }
        Command::RotateKey => {
            let state = state(config, false).await?;
            let rotated = ops::keys::rotate(&state.db, &state.secrets).await?;
            let total: u64 = rotated.iter().map(|r| r.resealed).sum();
            for r in &rotated {
                println!("{:<30} {} re-sealed", r.column, r.resealed);
            }
            audit(
                &state,
                operator,
                "rotate-key",
                None,
                Some(&format!(
                    "{total} re-sealed with key {}",
                    state.secrets.key_id()
                )),
            )
            .await?;
            println!(
                "every sealed value is now under key {}: previous_activation_keys may be dropped",
                state.secrets.key_id()
            );
        }
        Command::Backup { file } => {
            let settings = Settings::load(config, false)?;
            let db = legitka_server::db::Db::connect(&settings.database_url).await?;
            let size = ops::backup::backup(&db, &file).await?;
            println!(
                "{}: {size} bytes. Keep the activation key apart from it: without the key \
                 its sealed values open to no one, with it to anyone.",
                file.display()
            );
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
