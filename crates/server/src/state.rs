use crate::cache::ReadCache;
use crate::clock::Clock;
use crate::crypto::SecretBox;
use crate::db::Db;
use crate::feed::ChangeFeed;
use crate::orders::{Orders, Terms};
use crate::ratelimit::Limits;
use crate::settings::Settings;
use crate::usos::UsosSite;
use std::collections::HashMap;
use std::sync::Arc;

/// `migrate` (and `serve --migrate`): the schema brought up to this
/// version's, then what an older version kept in the clear sealed.
/// Returns how many migrations ran and how many PESELs were sealed.
pub async fn migrate(db: &Db, secrets: &SecretBox) -> anyhow::Result<(usize, usize)> {
    let ran = db.migrate().await?;
    let sealed = crate::registry::seal_plain_pesels(db, secrets).await?;
    Ok((ran, sealed))
}

/// Everything a handler (or an admin command) needs. One shared value:
/// the router hands a clone to every request (and every extractor takes
/// its own), so a clone is one reference count, not one per service.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Services {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub orders: Orders,
    /// Committed order changes, for whoever must hear of them.
    pub feed: ChangeFeed,
    pub settings: Arc<Settings>,
    pub limits: Arc<Limits>,
    /// How students prove who they are (`identity` in the settings).
    pub identity: Arc<crate::identity::Identity>,
    pub cache: Arc<ReadCache>,
    /// Seals what the server keeps secret at rest (activation data, USOS tokens).
    pub secrets: SecretBox,
    /// The USOS universities this server signs students in for, by id.
    pub usos: Arc<HashMap<String, Arc<UsosSite>>>,
    /// Sessions this process ended (sign-out, a stolen refresh token, a
    /// removal): their live streams end at once.
    pub session_ends: tokio::sync::broadcast::Sender<Arc<str>>,
    /// The live streams open in this process (a cap per student).
    pub streams: Arc<crate::feed::LiveStreams>,
    /// Becomes `true` when the server stops: live streams end.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    /// Connects the database (migrating it first with `migrate_on_start`;
    /// a schema behind this version is refused) and wires the services; no
    /// listener, no background work.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let secrets = settings.secrets()?;
        let db = if settings.migrate_on_start {
            let db = Db::connect_creating(&settings.database_url).await?;
            migrate(&db, &secrets).await?;
            db
        } else {
            Db::connect(&settings.database_url).await?
        };
        db.require_current().await?;
        let validity =
            i64::try_from(settings.default_card_validity.as_millis()).unwrap_or(i64::MAX);
        let cache = Arc::new(ReadCache::new(settings.read_cache_ttl));
        let feed = ChangeFeed::new(Arc::clone(&cache));
        let usos = Arc::new(crate::usos::sites(&settings.usos)?);
        let orders = Orders::new(
            db.clone(),
            Arc::clone(&clock),
            secrets.clone(),
            feed.clone(),
            Arc::clone(&cache),
            Terms {
                policy: settings.eligibility,
                default_card_validity_ms: validity,
                university_name: settings.university_name.clone(),
                email_notices: settings.smtp.is_some(),
                codes_by_email: settings.smtp.as_ref().is_some_and(|s| s.codes_by_email),
                photos: settings.photos_dir.is_some(),
            },
            Arc::clone(&usos),
        );
        let limits = Arc::new(Limits::new(settings.rates));
        let identity = Arc::new(crate::identity::Identity::new(&settings.identity)?);
        let state = Self(Arc::new(Services {
            db,
            clock,
            orders,
            feed,
            settings: Arc::new(settings),
            limits,
            identity,
            cache,
            secrets,
            usos,
            session_ends: tokio::sync::broadcast::channel(1024).0,
            streams: Arc::default(),
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
        }));
        Ok(state)
    }
}
