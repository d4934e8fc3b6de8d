//! The state every router and middleware shares: the application (the
//! composition root, [`portal_app::App`]) and what only HTTP needs.

use std::ops::Deref;
use std::sync::Arc;

use portal_app::App;
use portal_core::service::Ctx;
use portal_core::{Secret, Settings, Store};
use tokio::sync::Semaphore;

use crate::middleware::caller::{Caller, TrustedProxies};
use crate::middleware::cors::CorsPolicy;
use crate::middleware::rate_limit::RateLimiter;

/// Cheap-to-clone handle on the shared state. Derefs to [`Inner`], which
/// derefs to the application's ([`portal_app::Inner`]).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What the handle points at.
pub struct Inner {
    /// The application.
    pub app: App,
    /// Per-caller rate limiter.
    pub limiter: RateLimiter,
    /// CORS policy.
    pub cors: CorsPolicy,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub proxies: TrustedProxies,
    /// Bounded concurrency for ordinary requests (load shedding).
    pub in_flight: Arc<Semaphore>,
    /// Streaming slots: the chat and health pools and the per-caller caps.
    pub streams: crate::streams::StreamLimits,
    /// The API tier `/api/*` is forwarded to (`--role web` only).
    pub upstream: Option<crate::proxy::Upstream>,
}

impl AppState {
    /// The HTTP state around an application.
    pub fn of(app: App) -> Self {
        Self::of_tier(app, None)
    }

    /// The HTTP state of one tier: with an upstream, a web tier forwarding to it.
    pub fn of_tier(app: App, upstream: Option<crate::proxy::Upstream>) -> Self {
        let settings = &app.settings;
        let limiter = RateLimiter::new(
            settings.limits.rate_limit_api,
            settings.limits.rate_limit_chat,
            100_000,
        );
        // Credentialed CORS for any local port is an explicit development opt-in:
        // same-origin browser use needs no CORS at all.
        let cors = CorsPolicy::new(
            settings.http.cors_origins.clone(),
            settings.http.dev_cors_localhost && !settings.is_production(),
        );
        let proxies = TrustedProxies(Arc::new(settings.http.trusted_proxies.clone()));
        let in_flight = Arc::new(Semaphore::new(settings.limits.max_in_flight));
        let streams = crate::streams::StreamLimits::new(
            settings.limits.max_streams,
            settings.limits.max_health_streams,
            settings.limits.streams_per_principal,
            settings.limits.streams_per_ip,
        );
        Self(Arc::new(Inner {
            app,
            limiter,
            cors,
            proxies,
            in_flight,
            streams,
            upstream,
        }))
    }

    /// Builds the state from configuration, an opened store and the master secret.
    pub fn new(settings: Settings, store: Arc<dyn Store>, master: &Secret<Vec<u8>>) -> Self {
        Self::of(App::new(settings, store, master))
    }

    /// The service context for a request from `caller`.
    pub fn ctx<'a>(&'a self, caller: &'a Caller) -> Ctx<'a> {
        self.app.ctx(
            Some(caller.ip),
            caller.user_agent.as_ref().and_then(|v| v.to_str().ok()),
        )
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Deref for Inner {
    type Target = portal_app::Inner;

    fn deref(&self) -> &portal_app::Inner {
        &self.app
    }
}
