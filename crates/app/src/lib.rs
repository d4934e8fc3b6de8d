//! The composition root. [`App::open`] builds, once per process, what every
//! adapter shares: configuration, the store, keys, metrics, caches, the cloud
//! and its tool gateway, the chat engine, and the background workers. The HTTP
//! crates and the CLI hold an [`App`] and get service contexts only from it
//! ([`App::ctx`]); nothing here knows about HTTP.

pub mod ai_providers;
pub mod chat;
pub mod cloud;
mod graph;
pub mod mcp;
pub mod metrics;
pub mod ops;
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
    /// The configured embedder cannot be used.
    #[error("search: {0}")]
    Search(String),
    /// The master secret does not fit the database's keyring.
    #[error(transparent)]
    Keyring(#[from] portal_core::keyring::KeyringError),
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
    /// The embedder (once connected) and the in-memory vector index.
    pub search: Arc<portal_core::search::engine::SearchEngine>,
    /// This replica's copy of the portal-wide settings.
    pub portal_settings: portal_core::portal_settings::SettingsCache,
    /// The OIDC relying party (built on first use).
    pub sso: OnceLock<sso::Sso>,
    /// The remote MCP servers' client side (rows cached per organisation).
    pub mcp: mcp::McpHub,
}

impl App {
    /// An application over an opened store, with the keys the store's keyring
    /// names for `master` (refused when it is not the current key); the cloud
    /// is not connected yet.
    pub async fn build(
        settings: Settings,
        store: Arc<dyn Store>,
        master: &Secret<Vec<u8>>,
    ) -> Result<Self, AppError> {
        let keys = portal_core::keyring::load(store.as_ref(), master).await?;
        Ok(Self::with_keys(settings, store, keys))
    }

    /// An application over an opened store with the keys of `master` as key
    /// version 1 (a store never rekeyed); prefer [`App::build`].
    pub fn new(settings: Settings, store: Arc<dyn Store>, master: &Secret<Vec<u8>>) -> Self {
        Self::with_keys(settings, store, Keys::derive(master))
    }

    fn with_keys(settings: Settings, store: Arc<dyn Store>, keys: Keys) -> Self {
        let principals = Arc::new(PrincipalCache::new(CACHE_TTL, 10_000));
        let tenancy = Arc::new(portal_core::graph::snapshot::Snapshots::new(
            settings.cloud.snapshot_ttl,
        ));
        let contexts = Contexts::new(store.clone(), keys.clone(), principals.clone(), tenancy);
        let mcp = mcp::McpHub::new(&settings.mcp.stdio);
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
            search: Arc::new(portal_core::search::engine::SearchEngine::new()),
            portal_settings: Default::default(),
            sso: OnceLock::new(),
            mcp,
        }))
    }

    /// Opens everything the configuration names: the master secret, the
    /// database (migrated unless `skip_migrations`) and the cloud.
    pub async fn open(settings: Settings) -> Result<Self, AppError> {
        let migrate = !settings.database.skip_migrations;
        let app = Self::open_store(settings, migrate).await?;
        app.connect_cloud().await?;
        app.connect_embedder().await?;
        Ok(app)
    }

    /// The master secret and the database (migrated when `migrate`), no cloud:
    /// what most CLI commands need.
    pub async fn open_store(settings: Settings, migrate: bool) -> Result<Self, AppError> {
        let master = settings
            .load_or_create_secret_key()
            .map_err(|e| AppError::Secret(e.to_string()))?;
        let store = portal_store::open(&settings, migrate).await?;
        Self::build(settings, store, &master).await
    }

    /// Loads or reaches the configured embedder (a no-op for
    /// `PORTAL_EMBEDDER=none` or when one is set): search turns hybrid.
    pub async fn connect_embedder(&self) -> Result<(), AppError> {
        if self.search.embedder().is_some() {
            return Ok(());
        }
        let found = portal_ai::embed::from_settings(&self.settings.search)
            .await
            .map_err(|e| AppError::Search(e.to_string()))?;
        if let Some(e) = found {
            tracing::info!(model = e.model_id(), dims = e.dims(), "embedder ready");
            self.search.set_embedder(e);
        }
        Ok(())
    }

    /// Embeds every message without a vector of the embedder's model
    /// (`portal search reindex`); `progress(done, total)` after each page.
    pub async fn reindex(&self, progress: impl FnMut(i64, i64) + Send) -> Result<i64, AppError> {
        let embedder = self
            .search
            .embedder()
            .ok_or_else(|| AppError::Search("no embedder configured (PORTAL_EMBEDDER)".into()))?;
        portal_core::search::indexing::backfill(self.store.as_ref(), embedder.as_ref(), progress)
            .await
            .map_err(|e| AppError::Search(e.to_string()))
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

    /// Who a request's credential stands for (through the principal cache).
    pub async fn resolve_credential(
        &self,
        cred: portal_core::identity::Credential<'_>,
        now: i64,
    ) -> portal_core::CoreResult<portal_core::identity::Resolution> {
        self.principals
            .resolve(self.store.as_ref(), cred, now)
            .await
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
        let ttl = self.settings_now().await.session_ttl_ms();
        match portal_core::service::auth::refresh_session(&ctx, p, ttl).await {
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

    /// The portal-wide settings, at most `portal_settings::REFRESH` old.
    pub async fn settings_now(&self) -> Arc<portal_core::portal_settings::PortalSettings> {
        self.portal_settings.get(self.store.as_ref()).await
    }

    /// Changes the portal-wide settings (platform admins): stored, then this
    /// replica's copy replaced at once (the others refresh within seconds).
    pub async fn change_portal_settings(
        &self,
        ctx: &Ctx<'_>,
        p: &portal_core::identity::Principal,
        change: portal_core::portal_settings::SettingsChange,
    ) -> portal_core::CoreResult<Arc<portal_core::portal_settings::PortalSettings>> {
        let s = Arc::new(portal_core::portal_settings::update(ctx, p, change).await?);
        self.portal_settings.put(s.clone());
        Ok(s)
    }

    /// Rotates the master secret to `new_master`: re-seals every sealed value
    /// (see [`portal_core::keyring::SEALED_COLUMNS`]) in one transaction. The
    /// process must then restart with the new key, like every replica.
    pub async fn rekey(
        &self,
        new_master: &Secret<Vec<u8>>,
    ) -> Result<portal_core::keyring::RekeyReport, AppError> {
        let now = self.system_ctx("portal-cli").now;
        Ok(portal_core::keyring::rekey(self.store.as_ref(), &self.keys, new_master, now).await?)
    }

    /// Starts the background workers (key-usage writer, execution sweeper, the
    /// chat engine and the job runner that resumes its turns) until
    /// [`Inner::shutdown`].
    pub fn spawn_workers(&self) -> Result<(), AppError> {
        workers::spawn(self)
    }

    /// What a web tier (`--role web`) runs: the chat engine (its pages read
    /// conversations and live turns through it; with no model configured it
    /// asks none) and the API keys' last-use writer. Jobs, webhook
    /// deliveries and the execution sweeper run on the API tier.
    pub fn spawn_web_workers(&self) -> Result<(), AppError> {
        workers::spawn_key_usage_writer(self.clone());
        chat::start(self).map_err(AppError::Chat)?;
        Ok(())
    }
}

impl Deref for App {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
