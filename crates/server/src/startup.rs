//! Builds the whole server from typed settings; binds port 0 in tests.

use crate::clock::{Clock, SystemClock};
use crate::db::Backend;
use crate::issuer::bridge::Bridge;
use crate::issuer::{self, Commands};
use crate::ops::requests;
use crate::outbox::Outbox;
use crate::peers;
use crate::push::Sender;
use crate::push::apns::ApnsSender;
use crate::push::dispatcher::Dispatcher;
use crate::push::fcm::FcmSender;
use crate::push::webpush::WebPushSender;
use crate::routes;
use crate::settings::Settings;
use crate::state::AppState;
use crate::usos_gateway::{self, Gateway};
use anyhow::Context;
use axum::Router;
use legitka_wire::PushPlatform;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// `/metrics`: the exposition, or 500 if the database cannot be read.
async fn scrape(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match crate::ops::metrics::render(&state.db, state.clock.now_ms()).await {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => crate::error::AppError::Unexpected(e).into_response(),
    }
}

pub struct Application {
    listener: TcpListener,
    /// `/metrics`, on its own address (`metrics_bind`).
    metrics: Option<TcpListener>,
    router: Router,
    state: AppState,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(
        mut settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("binding {}", settings.bind))?;
        // Without a public address, the one bound (port 0 resolved).
        let public = settings
            .public_url
            .get_or_insert_with(|| {
                format!(
                    "http://{}",
                    listener.local_addr().expect("a bound listener")
                )
            })
            .clone();
        let metrics = match settings.metrics_bind {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding metrics_bind {addr}"))?,
            ),
            None => None,
        };
        crate::ops::metrics::install();
        crate::passwords::set_password_checks_at_once(settings.password_checks_at_once);
        let state = AppState::build(settings, clock).await?;
        let mut router = routes::router(state.clone());
        let bridge = state.settings.issuer.clone();
        if let Some(bridge) = &bridge {
            router = router.merge(issuer::events::router(state.orders.clone(), &bridge.secret));
        }
        let gateway = (!state.usos.is_empty()).then(|| {
            Gateway::new(
                state.db.clone(),
                state.secrets.clone(),
                Arc::clone(&state.usos),
                state.orders.clone(),
                Arc::clone(&state.clock),
            )
        });
        if bridge.is_some() || gateway.is_some() {
            let commands = Commands {
                db: state.db.clone(),
                secrets: state.secrets.clone(),
                issuer: bridge.map(|b| Arc::new(Bridge::new(b)) as Arc<dyn issuer::Issuer>),
                usos: gateway
                    .clone()
                    .map(|g| Arc::new(g) as Arc<dyn issuer::UsosCommands>),
                callback_url: format!("{public}{}", legitka_wire::bridge::EVENTS_PATH),
                university_name: state.settings.university_name.clone(),
                default_card_validity_ms: i64::try_from(
                    state.settings.default_card_validity.as_millis(),
                )
                .unwrap_or(i64::MAX),
            };
            let mut outbox =
                Outbox::with_handler(state.db.clone(), Arc::clone(&state.clock), commands)
                    .with_wakeup(state.feed.issuer_wakeup());
            // An issuer outage may last hours: keep trying, at most every 10 minutes.
            outbox.max_attempts = 40;
            outbox.max_backoff = std::time::Duration::from_secs(600);
            outbox.base_backoff = std::time::Duration::from_millis(500);
            outbox.workers = state.settings.issuer_workers;
            // Each loop has up to 16 commands at the issuer at once.
            outbox.batch = 16;
            if outbox.workers > 0 {
                tokio::spawn(outbox.run());
            }
        }
        if let Some(gateway) = gateway {
            // It looks for due students every `idle`; an order's first look is due at once.
            let watcher = usos_gateway::watcher(
                gateway,
                state.settings.usos_workers,
                state.settings.usos_look_while_open,
            );
            if state.settings.usos_workers > 0 {
                tokio::spawn(watcher.run());
            }
        }
        let limits = requests::Limits {
            request_timeout: state.settings.request_timeout,
            // The live stream, which no request time limit cuts.
            streaming: Arc::from(format!(
                "{}{}",
                legitka_wire::API_PREFIX,
                legitka_wire::paths::EVENTS
            )),
        };
        let router = requests::around(router, limits);
        spawn_sweeper(state.clone());
        if state.db.backend == Backend::Sqlite {
            tokio::spawn(peers::follow_sqlite(
                state.db.clone(),
                uuid::Uuid::new_v4().to_string(),
                state.feed.clone(),
            ));
        }
        if state.db.backend == Backend::Postgres {
            let origin = uuid::Uuid::new_v4().to_string();
            let sender = peers::spawn_sender(state.db.pool.clone(), origin.clone());
            state.feed.tell_peers(sender);
            tokio::spawn(peers::listen(
                state.settings.database_url.clone(),
                origin,
                state.feed.clone(),
            ));
        }
        let mut senders: HashMap<PushPlatform, Arc<dyn Sender>> = HashMap::new();
        if let Some(fcm) = state.settings.fcm.clone() {
            senders.insert(PushPlatform::Fcm, Arc::new(FcmSender::new(fcm)));
        }
        if let Some(apns) = state.settings.apns.clone() {
            senders.insert(PushPlatform::Apns, Arc::new(ApnsSender::new(apns)));
        }
        if let Some(wp) = state.settings.web_push.clone() {
            senders.insert(PushPlatform::WebPush, Arc::new(WebPushSender::new(wp)));
        }
        if !senders.is_empty() && state.settings.push_workers > 0 {
            let mut dispatcher =
                Dispatcher::new(state.db.clone(), Arc::clone(&state.clock), senders)
                    .with_wakeup(state.feed.push_wakeup());
            dispatcher.workers = state.settings.push_workers;
            tokio::spawn(dispatcher.run());
        }
        // E-mail notices: their own outbox (it also looks every 250 ms; the
        // push wake-up goes to one waiter).
        if let Some(smtp) = &state.settings.smtp
            && state.settings.push_workers > 0
        {
            let mailer = crate::push::email::outbox(
                state.db.clone(),
                Arc::clone(&state.clock),
                state.secrets.clone(),
                smtp,
            )?
            .with_wakeup(state.feed.push_wakeup());
            tokio::spawn(mailer.run());
        }
        Ok(Self {
            listener,
            metrics,
            router,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` resolves (SIGTERM or Ctrl-C in `serve`).
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        let s = &self.state.settings;
        let (max_connections, files) = crate::serve::fit_connections(s.max_connections);
        if max_connections < s.max_connections {
            tracing::warn!(
                max_connections,
                open_file_limit = files,
                "max_connections lowered to fit the open-file limit (raise LimitNOFILE)"
            );
        }
        let limits = crate::serve::ConnectionLimits {
            max_connections,
            header_read: s.header_read_timeout,
            body_read: s.body_read_timeout,
            drain: s.shutdown_drain,
        };
        let stopping = Arc::clone(&self.state.stopping);
        if let Some(listener) = self.metrics {
            let mut stopped = self.state.stopping.subscribe();
            let router = Router::new()
                .route("/metrics", axum::routing::get(scrape))
                .with_state(self.state.clone());
            tokio::spawn(async move {
                let stop = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(stop)
                    .await
                {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            });
        }
        crate::serve::run(self.listener, self.router, limits, stop, move || {
            let _ = stopping.send(true);
        })
        .await
    }
}

/// How often what is kept only for a while is pruned.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Periodic upkeep: prunes personal data past its time (hourly), expires
/// activation data and cards on the clock's word, queues reminders, and
/// lets rate-limit state for quiet keys go.
fn spawn_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.settings.sweep_interval);
        let mut pruned_at: Option<std::time::Instant> = None;
        loop {
            tick.tick().await;
            // What is kept only for a while goes, hourly (and at start).
            if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                pruned_at = Some(std::time::Instant::now());
                match crate::ops::lifecycle::prune(&state).await {
                    Ok(p) => tracing::info!(
                        removed = p.total(),
                        notices = p.notices,
                        sign_ins = p.sign_ins,
                        idempotency_keys = p.idempotency_keys,
                        dead_letters = p.dead_letters,
                        "pruned what is no longer kept"
                    ),
                    Err(e) => tracing::error!(error = format!("{e:#}"), "pruning failed"),
                }
            }
            if let Err(e) = expire_due(&state).await {
                tracing::error!(error = format!("{e:#}"), "expiring orders failed");
            }
            if let Err(e) = state.orders.remind_due().await {
                tracing::error!(error = format!("{e:#}"), "queueing reminders failed");
            }
            state.limits.prune();
            state.cache.prune();
        }
    });
}

/// Expires what the clock says is over (the issuer outbox voids those
/// cards). Returns how many orders expired.
pub async fn expire_due(state: &AppState) -> anyhow::Result<usize> {
    Ok(state.orders.sweep().await?.len())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
