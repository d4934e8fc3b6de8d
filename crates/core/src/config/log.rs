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
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            filter: "info".into(),
            format: LogFormat::Pretty,
        }
    }
}

/// The names of the log settings.
pub(super) const NAMES: &[Name] = &[
    Name::new("filter", "PORTAL_LOG"),
    Name::new("format", "PORTAL_LOG_FORMAT"),
];
