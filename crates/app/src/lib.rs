//! The composition root. [`App::open`] builds, once per process, what every
//! adapter shares: configuration, the store, keys, metrics, caches, the cloud
//! and its tool gateway, the chat engine, and the background workers. The HTTP
//! crates and the CLI hold an [`App`] and get service contexts only from it
//! ([`App::ctx`]); nothing here knows about HTTP.

pub mod chat;
pub mod cloud;
pub mod metrics;
pub mod setup;
pub mod sso;
pub mod webhooks;
mod workers;

use std::net::IpAddr;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use portal_core::crypto::Keys;
use portal_core::identity::{KeyUsage, PrincipalCache, CACHE_TTL};
use portal_core::service::{Contexts, Ctx};
use portal_core::throttle::SignInThrottle;
use portal_core::{Secret, Settings, Store};
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::setup::SetupToken;

/// How long one tool call may run (API, MCP, chat and the CLI alike).
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the application could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The master secret could not be read or created.
    #[error("secret key: {0}")]
    Secret(String),
    /// The database could not be opened or migrated.
    #[error("opening the database: {0}")]
    Store(#[from] portal_core::StoreError),
    /// The configured cloud could not be connected.
    #[error("{0}")]
    Cloud(#[from] cloud::CloudError),
    /// The chat engine's configuration cannot work.
    #[error("{0}")]
    Chat(String),
    /// Webhook delivery could not be set up.
    #[error("webhooks: {0}")]
    Webhooks(String),
}

/// Cheap-to-clone handle on the application.
#[derive(Clone)]
pub struct App(Arc<Inner>);

/// What the handle points at.
pub struct Inner {
    /// Effective configuration.
    pub settings: Arc<Settings>,
    /// The database.
    pub store: Arc<dyn Store>,
    /// Keys derived from the master secret.
    pub keys: Keys,
    /// Metrics registry and series.
    pub metrics: Metrics,
    /// Resolved credentials, briefly.
    pub principals: Arc<PrincipalCache>,
    /// The makings of every service context (the only place they are made).
    pub contexts: Contexts,
    /// Failed sign-in memory.
    pub throttle: SignInThrottle,
    /// API key uses waiting to be written.
    pub key_usage: KeyUsage,
    /// The one-time setup token while no admin exists.
    pub setup: SetupToken,
    /// Cancelled when shutdown starts; streams end with a final event.
    pub shutdown: CancellationToken,
    /// When this instance started (for uptime).
    pub started: Instant,
    /// The cloud the tools talk to, once connected.
    pub cloud: OnceLock<Arc<cloud::Cloud>>,
    /// The chat engine, once the workers run (after the cloud is connected).
    pub chat: OnceLock<Arc<portal_ai::chat::ChatEngine>>,
    /// The OIDC relying party (built on first use).
    pub sso: OnceLock<sso::Sso>,
}

impl App {
    /// An application over an opened store; the cloud is not connected yet.
    pub fn new(settings: Settings, store: Arc<dyn Store>, master: &Secret<Vec<u8>>) -> Self {
        let keys = Keys::derive(master);
        let principals = Arc::new(PrincipalCache::new(CACHE_TTL, 10_000));
        let contexts = Contexts::new(store.clone(), keys.clone(), principals.clone());
        Self(Arc::new(Inner {
            settings: Arc::new(settings),
            store,
            keys,
            metrics: Metrics::new(),
            principals,
            contexts,
            throttle: SignInThrottle::default(),
            key_usage: KeyUsage::default(),
            setup: SetupToken::default(),
            shutdown: CancellationToken::new(),
            started: Instant::now(),
            cloud: OnceLock::new(),
            chat: OnceLock::new(),
            sso: OnceLock::new(),
        }))
    }

    /// Opens everything the configuration names: the master secret, the
    /// database (migrated unless `skip_migrations`) and the cloud.
    pub async fn open(settings: Settings) -> Result<Self, AppError> {
        let migrate = !settings.database.skip_migrations;
        let app = Self::open_store(settings, migrate).await?;
        app.connect_cloud().await?;
        Ok(app)
    }

    /// The master secret and the database (migrated when `migrate`), no cloud:
    /// what most CLI commands need.
    pub async fn open_store(settings: Settings, migrate: bool) -> Result<Self, AppError> {
        let master = settings
            .load_or_create_secret_key()
            .map_err(|e| AppError::Secret(e.to_string()))?;
        let store = portal_store::open(&settings, migrate).await?;
        Ok(Self::new(settings, store, &master))
    }

    /// Connects the configured cloud (a no-op when connected or `PORTAL_CLOUD=none`).
    pub async fn connect_cloud(&self) -> Result<Option<Arc<cloud::Cloud>>, AppError> {
        if let Some(c) = self.cloud.get() {
            return Ok(Some(c.clone()));
        }
        let Some(c) = cloud::connect(&self.settings, self.shutdown.clone()).await? else {
            return Ok(None);
        };
        tracing::info!(cloud = c.mode.as_str(), region = %c.region, "cloud connected");
        let _ = self.cloud.set(c);
        Ok(self.cloud.get().cloned())
    }

    /// The service context for a request from `ip` with `user_agent`.
    pub fn ctx<'a>(&'a self, ip: Option<IpAddr>, user_agent: Option<&'a str>) -> Ctx<'a> {
        self.contexts.ctx(ip, user_agent)
    }

    /// The service context of the process itself (workers, the CLI).
    pub fn system_ctx(&self, user_agent: &'static str) -> Ctx<'_> {
        self.ctx(None, Some(user_agent))
    }

    /// Credentials or permissions changed (a role, a key, a membership, a
    /// password): cached principals are resolved afresh.
    pub fn principals_changed(&self) {
        self.principals.clear();
    }

    /// Extends a browser session that is used (at most once a day, see
    /// `portal_core::service::auth::refresh_session`); returns the new expiry.
    pub async fn refresh_session(
        &self,
        token: &str,
        p: &portal_core::identity::Principal,
        now: i64,
    ) -> Option<i64> {
        p.session_expires_at?;
        let mut ctx = self.ctx(None, None);
        ctx.now = now;
        match portal_core::service::auth::refresh_session(&ctx, p).await {
            Ok(Some(exp)) => {
                self.principals.forget(token);
                Some(exp)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::debug!(error = %e, "session refresh skipped");
                None
            }
        }
    }

    /// Starts the background workers (key-usage writer, execution sweeper, the
    /// chat engine and the job runner that resumes its turns) until
    /// [`Inner::shutdown`].
    pub fn spawn_workers(&self) -> Result<(), AppError> {
        workers::spawn(self)
    }
}

impl Deref for App {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
