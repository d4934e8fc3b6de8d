//! The one application state every router and middleware shares.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use portal_core::{Settings, Store};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::middleware::caller::TrustedProxies;
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
    /// Metrics registry and series.
    pub metrics: Metrics,
    /// Per-caller rate limiter.
    pub limiter: RateLimiter,
    /// CORS policy.
    pub cors: CorsPolicy,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub proxies: TrustedProxies,
    /// Bounded concurrency for ordinary requests (load shedding).
    pub in_flight: Arc<Semaphore>,
    /// Bounded concurrency for streaming responses.
    pub streams: Arc<Semaphore>,
    /// Cancelled when shutdown starts; streams end with a final event.
    pub shutdown: CancellationToken,
    /// When this instance started (for uptime).
    pub started: Instant,
}

impl AppState {
    /// Builds the state from configuration and an opened store.
    pub fn new(settings: Settings, store: Arc<dyn Store>) -> Self {
        let limiter = RateLimiter::new(settings.rate_limit_api, settings.rate_limit_chat, 100_000);
        let cors = CorsPolicy::new(settings.cors_origins.clone(), !settings.is_production());
        let proxies = TrustedProxies(Arc::new(settings.trusted_proxies.clone()));
        Self(Arc::new(Inner {
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
            streams: Arc::new(Semaphore::new(settings.max_streams)),
            settings: Arc::new(settings),
            store,
            metrics: Metrics::new(),
            limiter,
            cors,
            proxies,
            shutdown: CancellationToken::new(),
            started: Instant::now(),
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
