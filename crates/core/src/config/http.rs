//! The HTTP server: where it listens, who may call it from a browser, whom it
//! believes about client addresses, and its timeouts.

use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::fields;
use super::names::Name;
use crate::secret::Secret;

/// HTTP server settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// The portal's own origin (scheme://host[:port]), used for links and CSRF
    /// checks; follows `bind` unless set.
    #[serde(deserialize_with = "fields::origin_field")]
    pub public_url: String,
    /// Browser origins allowed to call the API with credentials.
    #[serde(deserialize_with = "fields::origins")]
    pub cors_origins: Vec<String>,
    /// Development convenience: credentialed CORS for `http://localhost:*` (opt-in).
    pub dev_cors_localhost: bool,
    /// Peers whose `X-Forwarded-For` header is believed.
    #[serde(with = "fields::nets")]
    pub trusted_proxies: Vec<IpNet>,
    /// Time a request may take to produce its response head.
    #[serde(rename = "request_timeout_secs", with = "fields::secs")]
    pub request_timeout: Duration,
    /// Time a connection may take to send a complete request head, also the
    /// longest idle wait between keep-alive requests.
    #[serde(rename = "header_read_timeout_secs", with = "fields::secs")]
    pub header_read_timeout: Duration,
    /// Interval between SSE heartbeat comments.
    #[serde(rename = "sse_heartbeat_secs", with = "fields::secs")]
    pub sse_heartbeat: Duration,
    /// How long shutdown waits for in-flight requests and streams.
    #[serde(rename = "shutdown_grace_secs", with = "fields::secs")]
    pub shutdown_grace: Duration,
    /// Bearer token for `/api/metrics` and `/health` details.
    #[serde(deserialize_with = "fields::long_token")]
    pub metrics_token: Option<Secret<String>>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        let bind = SocketAddr::from(([127, 0, 0, 1], 8080));
        Self {
            bind,
            public_url: origin_of(bind),
            cors_origins: Vec::new(),
            dev_cors_localhost: false,
            trusted_proxies: Vec::new(),
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            sse_heartbeat: Duration::from_secs(15),
            shutdown_grace: Duration::from_secs(10),
            metrics_token: None,
        }
    }
}

/// The origin a browser reaches the bind address at.
pub(super) fn origin_of(bind: SocketAddr) -> String {
    let host = if bind.ip().is_unspecified() {
        "localhost".to_string()
    } else if bind.is_ipv6() {
        format!("[{}]", bind.ip())
    } else {
        bind.ip().to_string()
    };
    format!("http://{host}:{}", bind.port())
}

/// The names of the HTTP settings.
pub(super) const NAMES: &[Name] = &[
    Name::new("bind", "PORTAL_BIND"),
    Name::new("public_url", "PORTAL_PUBLIC_URL"),
    Name::new("cors_origins", "PORTAL_CORS_ORIGINS"),
    Name::new("dev_cors_localhost", "PORTAL_DEV_CORS_LOCALHOST"),
    Name::new("trusted_proxies", "PORTAL_TRUSTED_PROXIES"),
    Name::new("request_timeout_secs", "PORTAL_REQUEST_TIMEOUT_SECS"),
    Name::new(
        "header_read_timeout_secs",
        "PORTAL_HEADER_READ_TIMEOUT_SECS",
    ),
    Name::new("sse_heartbeat_secs", "PORTAL_SSE_HEARTBEAT_SECS"),
    Name::new("shutdown_grace_secs", "PORTAL_SHUTDOWN_GRACE_SECS"),
    Name::new("metrics_token", "PORTAL_METRICS_TOKEN"),
];
