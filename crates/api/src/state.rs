//! The one application state every router and middleware shares.

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use portal_core::crypto::Keys;
use portal_core::identity::{now_ms, KeyUsage, PrincipalCache, CACHE_TTL};
use portal_core::service::Ctx;
use portal_core::throttle::SignInThrottle;
use portal_core::{Secret, Settings, Store};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::middleware::caller::{Caller, TrustedProxies};
use crate::middleware::cors::CorsPolicy;
use crate::middleware::rate_limit::RateLimiter;

/// Cheap-to-clone handle on the shared state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

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
    /// Per-caller rate limiter.
    pub limiter: RateLimiter,
    /// Resolved credentials, briefly.
    pub principals: PrincipalCache,
    /// Failed sign-in memory.
    pub throttle: SignInThrottle,
    /// API key uses waiting to be written.
    pub key_usage: KeyUsage,
    /// SHA-256 of the one-time setup token while no admin exists.
    pub setup_token: Mutex<Option<String>>,
    /// CORS policy.
    pub cors: CorsPolicy,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub proxies: TrustedProxies,
    /// Bounded concurrency for ordinary requests (load shedding).
    pub in_flight: Arc<Semaphore>,
    /// Streaming slots: the chat and health pools and the per-caller caps.
    pub streams: crate::streams::StreamLimits,
    /// Cancelled when shutdown starts; streams end with a final event.
    pub shutdown: CancellationToken,
    /// When this instance started (for uptime).
    pub started: Instant,
    /// The cloud the tools talk to, once connected.
    pub cloud: std::sync::OnceLock<Arc<crate::cloud::Cloud>>,
    /// The chat engine, once serving starts (after the cloud is connected).
    pub chat: std::sync::OnceLock<Arc<portal_ai::chat::ChatEngine>>,
}

impl AppState {
    /// Builds the state from configuration, an opened store and the master secret.
    pub fn new(settings: Settings, store: Arc<dyn Store>, master: &Secret<Vec<u8>>) -> Self {
        let limiter = RateLimiter::new(settings.rate_limit_api, settings.rate_limit_chat, 100_000);
        // Credentialed CORS for any local port is an explicit development opt-in:
        // same-origin browser use needs no CORS at all.
        let cors = CorsPolicy::new(
            settings.cors_origins.clone(),
            settings.dev_cors_localhost && !settings.is_production(),
        );
        let proxies = TrustedProxies(Arc::new(settings.trusted_proxies.clone()));
        Self(Arc::new(Inner {
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
            streams: crate::streams::StreamLimits::new(
                settings.max_streams,
                settings.max_health_streams,
                settings.streams_per_principal,
                settings.streams_per_ip,
            ),
            settings: Arc::new(settings),
            store,
            keys: Keys::derive(master),
            metrics: Metrics::new(),
            limiter,
            principals: PrincipalCache::new(CACHE_TTL, 10_000),
            throttle: SignInThrottle::default(),
            key_usage: KeyUsage::default(),
            setup_token: Mutex::new(None),
            cors,
            proxies,
            shutdown: CancellationToken::new(),
            started: Instant::now(),
            cloud: std::sync::OnceLock::new(),
            chat: std::sync::OnceLock::new(),
        }))
    }

    /// The service context for a request from `caller`.
    pub fn ctx<'a>(&'a self, caller: &'a Caller) -> Ctx<'a> {
        Ctx {
            store: self.store.as_ref(),
            keys: &self.keys,
            ip: Some(caller.ip),
            user_agent: caller.user_agent.as_ref().and_then(|v| v.to_str().ok()),
            now: now_ms(),
        }
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
