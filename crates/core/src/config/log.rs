//! Logging: the `tracing` filter and the line format.

use serde::{Deserialize, Serialize};

use super::names::Name;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, for log shippers.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Log settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// `tracing` filter directive, e.g. `info` or `portal_api=debug,info`.
    pub filter: String,
    /// Log line format; JSON in production unless set.
    pub format: LogFormat,
    /// OTLP/HTTP collector base URL (e.g. `http://collector:4318`): spans go to
    /// `{endpoint}/v1/traces`. Unset, no span is made and nothing is exported.
    pub otlp_endpoint: Option<String>,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            filter: "info".into(),
            format: LogFormat::Pretty,
            otlp_endpoint: None,
        }
    }
}

impl LogSettings {
    /// What is wrong with the OTLP endpoint, if anything: an http(s) URL with a
    /// host and no credentials (a collector's token goes in no URL that is logged).
    pub(super) fn otlp_problem(&self) -> Option<&'static str> {
        let raw = self.otlp_endpoint.as_deref()?;
        let Ok(url) = url::Url::parse(raw) else {
            return Some("must be an http(s) URL such as http://127.0.0.1:4318");
        };
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Some("must be an http(s) URL such as http://127.0.0.1:4318");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Some("must not carry credentials");
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Some("must have no query or fragment");
        }
        None
    }

    /// Where spans are posted: the endpoint's `/v1/traces` (the OTLP/HTTP convention).
    pub fn otlp_traces_url(&self) -> Option<String> {
        let base = self.otlp_endpoint.as_deref()?;
        Some(format!("{}/v1/traces", base.trim_end_matches('/')))
    }
}

/// The names of the log settings.
pub(super) const NAMES: &[Name] = &[
    Name::new("filter", "PORTAL_LOG"),
    Name::new("format", "PORTAL_LOG_FORMAT"),
    Name::new("otlp_endpoint", "PORTAL_OTLP_ENDPOINT"),
];
