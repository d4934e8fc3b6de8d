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
    /// Which tier this process is: everything, the API only, or the web UI
    /// in front of an API tier.
    pub role: Role,
    /// The API tier the web tier forwards `/api/*` to (`--role web` only).
    #[serde(deserialize_with = "fields::http_url")]
    pub api_upstream: Option<String>,
    /// The `/api` path prefixes the web tier forwards; empty forwards all of
    /// `/api/*`, and with a list the others are served by the web tier itself.
    #[serde(deserialize_with = "fields::words")]
    pub proxy_routes: Vec<String>,
}

/// What one `portal serve` process serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Pages, API, MCP and background work in one process.
    #[default]
    All,
    /// The JSON API, MCP, metrics, health and the background work; no pages.
    Api,
    /// Pages, assets and health; `/api/*` forwarded to the API tier; no
    /// background work (the API tier runs the jobs).
    Web,
}

impl Role {
    /// The name as written in `PORTAL_ROLE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::All => "all",
            Role::Api => "api",
            Role::Web => "web",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "all" => Ok(Role::All),
            "api" => Ok(Role::Api),
            "web" => Ok(Role::Web),
            other => Err(format!("{other:?} is not a role (all, api or web)")),
        }
    }
}

impl HttpSettings {
    /// The first rule between the tier settings that does not hold, as
    /// (setting path, message); checked at start after the CLI flags apply.
    pub fn tier_problem(&self) -> Option<(&'static str, String)> {
        match (self.role, &self.api_upstream) {
            (Role::Web, None) => {
                return Some((
                    "http.api_upstream",
                    "is required with role web (the API tier's http(s) URL)".into(),
                ))
            }
            (Role::All | Role::Api, Some(_)) => {
                return Some(("http.api_upstream", "is only used with role web".into()))
            }
            _ => {}
        }
        if let Some(url) = &self.api_upstream {
            if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
                if rest.contains(['/', '?', '#', '@']) {
                    return Some((
                        "http.api_upstream",
                        format!("{url:?} must be scheme://host[:port] without path or credentials"),
                    ));
                }
            }
        }
        if !self.proxy_routes.is_empty() && self.role != Role::Web {
            return Some(("http.proxy_routes", "is only used with role web".into()));
        }
        if let Some(bad) = self
            .proxy_routes
            .iter()
            .find(|r| !(r.starts_with("/api/") && r.len() > 5) || r.contains(['?', '#', '*', ' ']))
        {
            return Some((
                "http.proxy_routes",
                format!("{bad:?} must be a path prefix under /api/ (e.g. /api/chat)"),
            ));
        }
        None
    }
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
            role: Role::All,
            api_upstream: None,
            proxy_routes: Vec::new(),
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
    Name::new("role", "PORTAL_ROLE"),
    Name::new("api_upstream", "PORTAL_API_UPSTREAM"),
    Name::new("proxy_routes", "PORTAL_PROXY_ROUTES"),
];
