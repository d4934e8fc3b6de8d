//! Typed, layered configuration: defaults → optional TOML file → `PORTAL_*` environment.
//!
//! One struct per concern (one file each), defaults only in its `Default`, the
//! names of its settings in one table beside it. The layers are merged once
//! ([`layers`]) and deserialised once with serde ([`tree`]); a bad value stops
//! start-up with one line naming the variable or TOML key the user wrote.
//! `portal config check` is derived from the same structs (secrets print as
//! `[REDACTED]`). A new concern (auth/OIDC, webhooks, search, workflows) is a new
//! file, a field here and a row in [`CONCERNS`].

mod ai;
mod chat;
mod cloud;
mod database;
mod fields;
mod files;
mod http;
mod jobs;
mod layers;
mod limits;
mod log;
mod mcp;
mod names;
mod outbound;
mod search;
mod tree;
mod webhooks;

#[cfg(test)]
mod tests;

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

pub use ai::{AiProviderKind, AiSettings};
pub use chat::ChatSettings;
pub use cloud::{CloudMode, CloudSettings};
pub use database::{redact_url_password, DatabaseKind, DatabaseSettings};
pub use fields::parse_origin;
pub use files::{create_private_dir, make_private, write_private_file};
pub use http::{HttpSettings, Role};
pub use jobs::JobSettings;
pub use limits::LimitSettings;
pub use log::{LogFormat, LogSettings};
pub use mcp::{McpSettings, StdioServer};
pub use outbound::OutboundSettings;
pub use search::{EmbedderKind, SearchSettings};
pub use webhooks::WebhookSettings;

use layers::Layers;
use names::{Concern, Name};

/// The data directory when none is configured.
const DEFAULT_DATA_DIR: &str = "./data";

/// Every concern's table of names, where its struct sits in [`Settings`].
const CONCERNS: &[Concern] = &[
    Concern {
        key: "",
        names: NAMES,
    },
    Concern {
        key: "http",
        names: http::NAMES,
    },
    Concern {
        key: "limits",
        names: limits::NAMES,
    },
    Concern {
        key: "database",
        names: database::NAMES,
    },
    Concern {
        key: "cloud",
        names: cloud::NAMES,
    },
    Concern {
        key: "log",
        names: log::NAMES,
    },
    Concern {
        key: "jobs",
        names: jobs::NAMES,
    },
    Concern {
        key: "ai",
        names: ai::NAMES,
    },
    Concern {
        key: "ai.chat",
        names: chat::NAMES,
    },
    Concern {
        key: "outbound",
        names: outbound::NAMES,
    },
    Concern {
        key: "webhooks",
        names: webhooks::NAMES,
    },
    Concern {
        key: "search",
        names: search::NAMES,
    },
    Concern {
        key: "mcp",
        names: mcp::NAMES,
    },
];

/// Deployment mode: production turns on the strict checks and HSTS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Local use: generated secrets, localhost CORS, pretty logs.
    #[default]
    #[serde(alias = "dev")]
    Development,
    /// Real deployments: explicit secrets and origins required.
    #[serde(alias = "prod")]
    Production,
}

/// A configuration problem, reported as one line at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting has a value that does not parse or is not allowed.
    #[error("{setting}: {message}")]
    Invalid {
        /// The setting as the user wrote it: `PORTAL_BIND`, or a TOML key such as `bind`.
        setting: String,
        /// What is wrong with it.
        message: String,
    },
    /// The configuration file could not be read or is not valid TOML.
    #[error("config file {path}: {message}")]
    File {
        /// The file that was given with `--config`.
        path: String,
        /// What went wrong.
        message: String,
    },
}

fn invalid(setting: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.into(),
        message: message.into(),
    }
}

/// The portal's effective configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Development or production.
    #[serde(rename = "env")]
    pub environment: Environment,
    /// Folder holding the SQLite database, the generated secret key and other state.
    pub data_dir: PathBuf,
    /// Master secret; `None` in development means "generate one in the data dir".
    #[serde(deserialize_with = "fields::long_secret")]
    pub secret_key: Option<Secret<String>>,
    /// The HTTP server.
    pub http: HttpSettings,
    /// Load limits.
    pub limits: LimitSettings,
    /// The database.
    pub database: DatabaseSettings,
    /// The cloud that answers the tools.
    pub cloud: CloudSettings,
    /// Logging.
    pub log: LogSettings,
    /// The job runner.
    pub jobs: JobSettings,
    /// The chat model provider and the limits of a chat turn.
    pub ai: AiSettings,
    /// Calls to destinations admins or users chose (the SSRF guard).
    pub outbound: OutboundSettings,
    /// Webhook delivery.
    pub webhooks: WebhookSettings,
    /// Search (the embedder).
    pub search: SearchSettings,
    /// MCP servers started by the portal (stdio).
    pub mcp: McpSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            environment: Environment::Development,
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            secret_key: None,
            http: HttpSettings::default(),
            limits: LimitSettings::default(),
            database: DatabaseSettings::default(),
            cloud: CloudSettings::default(),
            log: LogSettings::default(),
            jobs: JobSettings::default(),
            ai: AiSettings::default(),
            outbound: OutboundSettings::default(),
            webhooks: WebhookSettings::default(),
            search: SearchSettings::default(),
            mcp: McpSettings::default(),
        }
    }
}

/// The names of the settings that belong to the whole portal.
const NAMES: &[Name] = &[
    Name::new("env", "PORTAL_ENV"),
    Name::new("data_dir", "PORTAL_DATA_DIR"),
    Name::new("secret_key", "PORTAL_SECRET_KEY").unset("(generated in the data dir)"),
];

impl Settings {
    /// Loads settings from defaults, the optional TOML file and the given environment.
    pub fn load<I>(file: Option<&Path>, env: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let layers = Layers::gather(file, env)?;
        let mut settings =
            Settings::deserialize(layers.tree()).map_err(|e| ConfigError::Invalid {
                setting: e.setting.unwrap_or_else(|| "configuration".into()),
                message: e.message,
            })?;
        settings.resolve(&layers)?;
        Ok(settings)
    }

    /// Loads from the process environment.
    pub fn from_env(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load(file, std::env::vars())
    }

    /// Fills the defaults that follow other settings and checks the rules
    /// between settings, naming the setting at fault.
    fn resolve(&mut self, layers: &Layers) -> Result<(), ConfigError> {
        let fail = |path: &str, message: &str| Err(invalid(layers.name_of(path), message));
        let prod = self.is_production();
        if !layers.is_set("http.public_url") {
            self.http.public_url = http::origin_of(self.http.bind);
        }
        if !layers.is_set("database.url") {
            self.database.url = database::sqlite_in(&self.data_dir);
        }
        if !layers.is_set("log.format") && prod {
            self.log.format = LogFormat::Json;
        }
        if prod && self.secret_key.is_none() {
            return fail(
                "secret_key",
                "is required in production (at least 32 random characters)",
            );
        }
        if prod && self.http.cors_origins.is_empty() {
            return fail(
                "http.cors_origins",
                "is required in production (comma-separated origins, never *)",
            );
        }
        if prod && !layers.is_set("cloud.mode") {
            return fail(
                "cloud.mode",
                "is required in production (emulator, oci or none)",
            );
        }
        if prod && self.http.dev_cors_localhost {
            return fail(
                "http.dev_cors_localhost",
                "is a development convenience and cannot be used in production",
            );
        }
        if prod && self.outbound.allow_http {
            return fail(
                "outbound.allow_http",
                "is a development convenience and cannot be used in production",
            );
        }
        if self.outbound.timeout.as_millis() < 10 {
            return fail("outbound.timeout_ms", "must be at least 10");
        }
        if self.webhooks.poll_interval.as_millis() < 10 {
            return fail("webhooks.poll_interval_ms", "must be at least 10");
        }
        if self.jobs.poll_interval.as_millis() < 10 {
            return fail("jobs.poll_interval_ms", "must be at least 10");
        }
        if self.cloud.snapshot_ttl.as_millis() > 60_000 {
            return fail("cloud.snapshot_ttl_ms", "must be at most 60000");
        }
        if self.database.check_interval.as_millis() < 50 {
            return fail("database.check_interval_ms", "must be at least 50");
        }
        if let Some((path, message)) = self.http.tier_problem() {
            return fail(path, &message);
        }
        if let Some((path, message)) = self.ai.problem() {
            return fail(path, &message);
        }
        if let Some((path, message)) = self.search.problem() {
            return fail(path, &message);
        }
        if let Some(message) = self.log.otlp_problem() {
            return fail("log.otlp_endpoint", message);
        }
        if let Some(path) = &self.mcp.stdio_file {
            match mcp::read_file(path) {
                Ok(servers) => self.mcp.stdio = servers,
                Err(message) => return fail("mcp.stdio_file", &message),
            }
        }
        Ok(())
    }

    /// True in production mode.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Cookies get `Secure` and the `__Host-` prefix in production and whenever
    /// the portal is served over https, whatever the environment.
    pub fn secure_cookies(&self) -> bool {
        self.is_production() || self.http.public_url.starts_with("https://")
    }

    /// The effective configuration as `(variable, value)` lines, secrets redacted:
    /// every setting of every concern, read back through serde.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let tree = serde_json::to_value(self).unwrap_or_default();
        names::all()
            .map(|(path, name)| {
                let pointer = format!("/{}", path.replace('.', "/"));
                (name.env, show(tree.pointer(&pointer), name.unset))
            })
            .collect()
    }

    /// Returns the master secret: the configured one, or in development one
    /// generated once and kept in `<data dir>/secret-key` with mode 0600.
    pub fn load_or_create_secret_key(&self) -> Result<Secret<Vec<u8>>, ConfigError> {
        if let Some(k) = &self.secret_key {
            return Ok(Secret::new(k.expose().as_bytes().to_vec()));
        }
        if self.is_production() {
            return Err(invalid("PORTAL_SECRET_KEY", "is required in production"));
        }
        let path = self.data_dir.join("secret-key");
        let io = |e: std::io::Error| invalid("PORTAL_DATA_DIR", format!("{}: {e}", path.display()));
        match fs::read_to_string(&path) {
            Ok(text) if text.trim().len() >= 32 => {
                return Ok(Secret::new(text.trim().as_bytes().to_vec()))
            }
            Ok(_) => {
                return Err(invalid(
                    "PORTAL_DATA_DIR",
                    format!("{} is too short", path.display()),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        create_private_dir(&self.data_dir).map_err(io)?;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| invalid("PORTAL_SECRET_KEY", e.to_string()))?;
        let key = hex::encode(bytes);
        write_private_file(&path, key.as_bytes()).map_err(io)?;
        Ok(Secret::new(key.into_bytes()))
    }
}

/// One value as `config check` prints it.
fn show(value: Option<&serde_json::Value>, unset: &str) -> String {
    use serde_json::Value;
    match value {
        None | Some(Value::Null) => unset.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.is_empty() => unset.to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| show(Some(i), unset))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}
