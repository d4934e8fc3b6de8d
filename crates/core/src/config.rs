//! Typed, layered configuration: defaults → optional TOML file → `PORTAL_*` environment.
//!
//! Every setting is parsed from text through one table, so a bad value from any
//! layer stops start-up with a single line naming the setting, where it came from
//! and what is wrong.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;

use crate::secret::Secret;

/// Deployment mode: production turns on the strict checks and HSTS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Local use: generated secrets, localhost CORS, pretty logs.
    Development,
    /// Real deployments: explicit secrets and origins required.
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for log shippers.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Which cloud answers the tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudMode {
    /// The in-process OCI emulator with its seeded demo tenancy (development default).
    Emulator,
    /// Real OCI (or a standalone emulator) through the OCI config file.
    Oci,
    /// No cloud: tools are unavailable.
    None,
}

impl CloudMode {
    /// Stable name, shown in `/health` and tool results.
    pub fn as_str(self) -> &'static str {
        match self {
            CloudMode::Emulator => "emulator",
            CloudMode::Oci => "oci",
            CloudMode::None => "none",
        }
    }
}

/// Which database the portal uses, derived from `PORTAL_DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    /// An SQLite file at this path.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (may embed a password, hence the wrapper).
    Postgres(Secret<String>),
}

/// A configuration problem, reported as one line at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting has a value that does not parse or is not allowed.
    #[error("{setting}: {message}")]
    Invalid {
        /// The environment variable name of the setting, e.g. `PORTAL_BIND`.
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

fn invalid(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_string(),
        message: message.into(),
    }
}

/// The portal's effective configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// The portal's own origin (scheme://host[:port]), used for links and CSRF checks.
    pub public_url: String,
    /// Folder holding the SQLite database, the generated secret key and other state.
    pub data_dir: PathBuf,
    /// The database to use.
    pub database: DatabaseKind,
    /// Development or production.
    pub environment: Environment,
    /// Master secret from `PORTAL_SECRET_KEY`; `None` in development means "generate one".
    pub secret_key: Option<Secret<String>>,
    /// Browser origins allowed to call the API with credentials.
    pub cors_origins: Vec<String>,
    /// Peers whose `X-Forwarded-For` header is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// `tracing` filter directive, e.g. `info` or `portal_api=debug,info`.
    pub log_filter: String,
    /// Log line format.
    pub log_format: LogFormat,
    /// Do not run migrations at start (the operator runs `portal migrate`).
    pub skip_migrations: bool,
    /// Requests per minute per caller for the API class (0 = unlimited).
    pub rate_limit_api: u32,
    /// Requests per minute per caller for the chat class (0 = unlimited).
    pub rate_limit_chat: u32,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Time a request may take to produce its response head.
    pub request_timeout: Duration,
    /// Requests in flight before new ones are shed with 503.
    pub max_in_flight: usize,
    /// Concurrent streaming responses (SSE) allowed.
    pub max_streams: usize,
    /// Interval between SSE heartbeat comments.
    pub sse_heartbeat: Duration,
    /// How long shutdown waits for in-flight requests and streams.
    pub shutdown_grace: Duration,
    /// Concurrent anonymous `/api/health/stream` streams (a pool apart from chat's).
    pub max_health_streams: usize,
    /// Open streams one principal may hold at once (429 above).
    pub streams_per_principal: usize,
    /// Open streams one client address may hold at once (429 above).
    pub streams_per_ip: usize,
    /// Open TCP connections before new ones are closed at once.
    pub max_connections: usize,
    /// Time a connection may take to send a complete request head, also the
    /// longest idle wait between keep-alive requests.
    pub header_read_timeout: Duration,
    /// Bearer token for `/api/metrics` (`PORTAL_METRICS_TOKEN`).
    pub metrics_token: Option<Secret<String>>,
    /// Development convenience: credentialed CORS for `http://localhost:*` (opt-in).
    pub dev_cors_localhost: bool,
    /// Interval of the background database availability check.
    pub db_check_interval: Duration,
    /// How often an idle job runner looks for due jobs.
    pub jobs_poll_interval: Duration,
    /// Largest database pool size.
    pub db_pool_max: usize,
    /// Which cloud answers the tools.
    pub cloud: CloudMode,
    /// OCI config file (`PORTAL_CLOUD=oci`); default `~/.oci/config`.
    pub oci_config_file: Option<PathBuf>,
    /// Profile in the OCI config file.
    pub oci_profile: String,
    /// Base URL that replaces every OCI service endpoint (e.g. a standalone emulator).
    pub oci_endpoint: Option<String>,
    /// The chat model provider and the limits of a chat turn.
    pub ai: AiSettings,
}

/// Which model provider answers chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiProviderKind {
    /// No model: chat says so and still runs `/tool NAME {json}` commands.
    None,
    /// Any OpenAI-compatible Chat Completions endpoint.
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
    /// OCI Generative AI inference, signed with the OCI client's key.
    Oci,
}

impl AiProviderKind {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AiProviderKind::None => "none",
            AiProviderKind::OpenAi => "openai",
            AiProviderKind::Anthropic => "anthropic",
            AiProviderKind::Oci => "oci",
        }
    }
}

/// Chat configuration, kept behind one type so run-time provider management can replace it.
#[derive(Debug, Clone)]
pub struct AiSettings {
    /// `PORTAL_AI_PROVIDER`.
    pub provider: AiProviderKind,
    /// `PORTAL_AI_BASE_URL`: the provider's base URL (for OpenAI-compatible ones, up to `/v1`).
    pub base_url: Option<String>,
    /// `PORTAL_AI_API_KEY`.
    pub api_key: Option<Secret<String>>,
    /// `PORTAL_AI_MODEL`: the default model.
    pub model: Option<String>,
    /// `PORTAL_AI_MODELS`: further models callers may pick (comma-separated).
    pub extra_models: Vec<String>,
    /// `PORTAL_AI_COMPARTMENT`: compartment billed for OCI Generative AI calls (default: the tenancy).
    pub oci_compartment: Option<String>,
    /// `PORTAL_AI_TIMEOUT_SECS`: longest wait for the provider's first byte and between chunks.
    pub timeout: Duration,
    /// `PORTAL_CHAT_MAX_ROUNDS`: tool rounds per turn.
    pub max_rounds: u32,
    /// `PORTAL_CHAT_TURN_SECS`: wall-clock budget of a turn (waiting for approval excluded).
    pub turn_budget: Duration,
    /// `PORTAL_CHAT_MAX_INPUT_CHARS`: longest user message.
    pub max_input_chars: usize,
    /// `PORTAL_CHAT_MAX_OUTPUT_TOKENS`: output token cap per model call.
    pub max_output_tokens: u32,
    /// `PORTAL_CHAT_HISTORY`: messages fed back to the model before summarising.
    pub history_messages: usize,
}

/// One row of the settings table: its variable name, TOML key, default and parser.
struct Spec {
    env: &'static str,
    default: Option<&'static str>,
}

impl Spec {
    fn toml_key(&self) -> String {
        self.env.trim_start_matches("PORTAL_").to_ascii_lowercase()
    }
}

const SPECS: &[Spec] = &[
    Spec {
        env: "PORTAL_BIND",
        default: Some("127.0.0.1:8080"),
    },
    Spec {
        env: "PORTAL_PUBLIC_URL",
        default: None,
    },
    Spec {
        env: "PORTAL_DATA_DIR",
        default: Some("./data"),
    },
    Spec {
        env: "PORTAL_DATABASE_URL",
        default: None,
    },
    Spec {
        env: "PORTAL_ENV",
        default: Some("development"),
    },
    Spec {
        env: "PORTAL_SECRET_KEY",
        default: None,
    },
    Spec {
        env: "PORTAL_CORS_ORIGINS",
        default: None,
    },
    Spec {
        env: "PORTAL_TRUSTED_PROXIES",
        default: Some(""),
    },
    Spec {
        env: "PORTAL_LOG",
        default: Some("info"),
    },
    Spec {
        env: "PORTAL_LOG_FORMAT",
        default: None,
    },
    Spec {
        env: "PORTAL_SKIP_MIGRATIONS",
        default: Some("false"),
    },
    Spec {
        env: "PORTAL_RATE_LIMIT_API",
        default: Some("300"),
    },
    Spec {
        env: "PORTAL_RATE_LIMIT_CHAT",
        default: Some("20"),
    },
    Spec {
        env: "PORTAL_BODY_LIMIT_BYTES",
        default: Some("1048576"),
    },
    Spec {
        env: "PORTAL_REQUEST_TIMEOUT_SECS",
        default: Some("30"),
    },
    Spec {
        env: "PORTAL_MAX_IN_FLIGHT",
        default: Some("1024"),
    },
    Spec {
        env: "PORTAL_MAX_STREAMS",
        default: Some("256"),
    },
    Spec {
        env: "PORTAL_SSE_HEARTBEAT_SECS",
        default: Some("15"),
    },
    Spec {
        env: "PORTAL_MAX_HEALTH_STREAMS",
        default: Some("16"),
    },
    Spec {
        env: "PORTAL_STREAMS_PER_PRINCIPAL",
        default: Some("8"),
    },
    Spec {
        env: "PORTAL_STREAMS_PER_IP",
        default: Some("16"),
    },
    Spec {
        env: "PORTAL_MAX_CONNECTIONS",
        default: Some("2048"),
    },
    Spec {
        env: "PORTAL_HEADER_READ_TIMEOUT_SECS",
        default: Some("10"),
    },
    Spec {
        env: "PORTAL_METRICS_TOKEN",
        default: None,
    },
    Spec {
        env: "PORTAL_DEV_CORS_LOCALHOST",
        default: Some("false"),
    },
    Spec {
        env: "PORTAL_SHUTDOWN_GRACE_SECS",
        default: Some("10"),
    },
    Spec {
        env: "PORTAL_DB_CHECK_INTERVAL_MS",
        default: Some("1000"),
    },
    Spec {
        env: "PORTAL_JOBS_POLL_INTERVAL_MS",
        default: Some("1000"),
    },
    Spec {
        env: "PORTAL_DB_POOL_MAX",
        default: Some("16"),
    },
    Spec {
        env: "PORTAL_CLOUD",
        default: None,
    },
    Spec {
        env: "PORTAL_OCI_CONFIG_FILE",
        default: None,
    },
    Spec {
        env: "PORTAL_OCI_PROFILE",
        default: Some("DEFAULT"),
    },
    Spec {
        env: "PORTAL_OCI_ENDPOINT",
        default: None,
    },
    Spec {
        env: "PORTAL_AI_PROVIDER",
        default: Some("none"),
    },
    Spec {
        env: "PORTAL_AI_BASE_URL",
        default: None,
    },
    Spec {
        env: "PORTAL_AI_API_KEY",
        default: None,
    },
    Spec {
        env: "PORTAL_AI_MODEL",
        default: None,
    },
    Spec {
        env: "PORTAL_AI_MODELS",
        default: None,
    },
    Spec {
        env: "PORTAL_AI_COMPARTMENT",
        default: None,
    },
    Spec {
        env: "PORTAL_AI_TIMEOUT_SECS",
        default: Some("60"),
    },
    Spec {
        env: "PORTAL_CHAT_MAX_ROUNDS",
        default: Some("8"),
    },
    Spec {
        env: "PORTAL_CHAT_TURN_SECS",
        default: Some("120"),
    },
    Spec {
        env: "PORTAL_CHAT_MAX_INPUT_CHARS",
        default: Some("16000"),
    },
    Spec {
        env: "PORTAL_CHAT_MAX_OUTPUT_TOKENS",
        default: Some("4096"),
    },
    Spec {
        env: "PORTAL_CHAT_HISTORY",
        default: Some("40"),
    },
];

/// Where a value came from, for error messages and `portal config check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Built-in default.
    Default,
    /// The TOML file.
    File,
    /// The process environment.
    Env,
}

/// Raw values by variable name, after layering.
struct Layers(BTreeMap<&'static str, (String, Source)>);

impl Layers {
    fn get(&self, env: &str) -> Option<&str> {
        self.0
            .get(env)
            .map(|(v, _)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    fn parse<T: std::str::FromStr>(&self, env: &str) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.get(env).ok_or_else(|| invalid(env, "is required"))?;
        raw.trim()
            .parse()
            .map_err(|e| invalid(env, format!("invalid value {raw:?}: {e}")))
    }
}

fn toml_value_to_string(setting: &str, v: &toml::Value) -> Result<String, ConfigError> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Array(items) => items
            .iter()
            .map(|i| toml_value_to_string(setting, i))
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        other => Err(invalid(
            setting,
            format!("unsupported TOML value of type {}", other.type_str()),
        )),
    }
}

fn parse_bool(env: &str, raw: &str) -> Result<bool, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid(env, format!("expected true or false, got {raw:?}"))),
    }
}

/// Checks that `raw` is a bare origin (`scheme://host[:port]`) and returns it normalised.
pub fn parse_origin(env: &str, raw: &str) -> Result<String, ConfigError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| invalid(env, format!("{raw:?} must start with http:// or https://")))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ', '*']) {
        return Err(invalid(
            env,
            format!("{raw:?} must be an origin (scheme://host[:port]) without path or wildcard"),
        ));
    }
    Ok(trimmed.to_ascii_lowercase())
}

/// Parses the `PORTAL_AI_*` and `PORTAL_CHAT_*` settings.
fn ai_settings(
    l: &Layers,
    secs: &dyn Fn(&str) -> Result<Duration, ConfigError>,
    positive: &dyn Fn(&str) -> Result<usize, ConfigError>,
) -> Result<AiSettings, ConfigError> {
    let provider = match l.get("PORTAL_AI_PROVIDER").map(str::trim) {
        None | Some("none") => AiProviderKind::None,
        Some("openai") => AiProviderKind::OpenAi,
        Some("anthropic") => AiProviderKind::Anthropic,
        Some("oci") => AiProviderKind::Oci,
        Some(other) => {
            return Err(invalid(
                "PORTAL_AI_PROVIDER",
                format!("expected none, openai, anthropic or oci, got {other:?}"),
            ))
        }
    };
    let base_url = match l.get("PORTAL_AI_BASE_URL").map(str::trim) {
        Some(raw) => {
            let ok = (raw.starts_with("http://") || raw.starts_with("https://"))
                && !raw.contains(char::is_whitespace)
                && raw.split("://").nth(1).is_some_and(|r| !r.is_empty());
            if !ok {
                return Err(invalid(
                    "PORTAL_AI_BASE_URL",
                    format!("expected an http(s) URL, got {raw:?}"),
                ));
            }
            Some(raw.trim_end_matches('/').to_string())
        }
        None => None,
    };
    let model = l.get("PORTAL_AI_MODEL").map(|m| m.trim().to_string());
    if provider != AiProviderKind::None && model.is_none() {
        return Err(invalid(
            "PORTAL_AI_MODEL",
            format!("is required with PORTAL_AI_PROVIDER={}", provider.as_str()),
        ));
    }
    let api_key = l
        .get("PORTAL_AI_API_KEY")
        .map(|k| Secret::new(k.trim().to_string()));
    if provider == AiProviderKind::Anthropic && api_key.is_none() {
        return Err(invalid(
            "PORTAL_AI_API_KEY",
            "is required with PORTAL_AI_PROVIDER=anthropic",
        ));
    }
    let extra_models = l
        .get("PORTAL_AI_MODELS")
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let max_rounds: u32 = l.parse("PORTAL_CHAT_MAX_ROUNDS")?;
    if !(1..=64).contains(&max_rounds) {
        return Err(invalid(
            "PORTAL_CHAT_MAX_ROUNDS",
            "must be between 1 and 64",
        ));
    }
    Ok(AiSettings {
        provider,
        base_url,
        api_key,
        model,
        extra_models,
        oci_compartment: l.get("PORTAL_AI_COMPARTMENT").map(|c| c.trim().to_string()),
        timeout: secs("PORTAL_AI_TIMEOUT_SECS")?,
        max_rounds,
        turn_budget: secs("PORTAL_CHAT_TURN_SECS")?,
        max_input_chars: positive("PORTAL_CHAT_MAX_INPUT_CHARS")?,
        max_output_tokens: u32::try_from(positive("PORTAL_CHAT_MAX_OUTPUT_TOKENS")?)
            .map_err(|_| invalid("PORTAL_CHAT_MAX_OUTPUT_TOKENS", "is too large"))?,
        history_messages: positive("PORTAL_CHAT_HISTORY")?,
    })
}

impl Settings {
    /// Loads settings from defaults, the optional TOML file and the given environment.
    pub fn load<I>(file: Option<&Path>, env: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut layers = BTreeMap::new();
        for spec in SPECS {
            if let Some(d) = spec.default {
                layers.insert(spec.env, (d.to_string(), Source::Default));
            }
        }
        if let Some(path) = file {
            let text = fs::read_to_string(path).map_err(|e| ConfigError::File {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            let table: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::File {
                        path: path.display().to_string(),
                        message: e.message().to_string(),
                    })?;
            for (key, value) in table {
                let spec = SPECS.iter().find(|s| s.toml_key() == key).ok_or_else(|| {
                    ConfigError::File {
                        path: path.display().to_string(),
                        message: format!("unknown setting {key:?}"),
                    }
                })?;
                layers.insert(
                    spec.env,
                    (toml_value_to_string(spec.env, &value)?, Source::File),
                );
            }
        }
        for (key, value) in env {
            if let Some(spec) = SPECS.iter().find(|s| s.env == key) {
                layers.insert(spec.env, (value, Source::Env));
            }
        }
        Self::from_layers(&Layers(layers))
    }

    /// Loads from the process environment.
    pub fn from_env(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load(file, std::env::vars())
    }

    fn from_layers(l: &Layers) -> Result<Self, ConfigError> {
        let environment = match l.get("PORTAL_ENV").unwrap_or("development").trim() {
            "development" | "dev" => Environment::Development,
            "production" | "prod" => Environment::Production,
            other => {
                return Err(invalid(
                    "PORTAL_ENV",
                    format!("expected development or production, got {other:?}"),
                ))
            }
        };
        let prod = environment == Environment::Production;
        let bind: SocketAddr = l.parse("PORTAL_BIND")?;
        let public_url = match l.get("PORTAL_PUBLIC_URL") {
            Some(raw) => parse_origin("PORTAL_PUBLIC_URL", raw)?,
            None => {
                let host = if bind.ip().is_unspecified() {
                    "localhost".to_string()
                } else if bind.is_ipv6() {
                    format!("[{}]", bind.ip())
                } else {
                    bind.ip().to_string()
                };
                format!("http://{host}:{}", bind.port())
            }
        };
        let data_dir = PathBuf::from(l.get("PORTAL_DATA_DIR").unwrap_or("./data"));
        let database = match l.get("PORTAL_DATABASE_URL").map(str::trim) {
            None => DatabaseKind::Sqlite(data_dir.join("portal.db")),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                DatabaseKind::Postgres(Secret::new(url.to_string()))
            }
            Some(url) if url.starts_with("sqlite:") => {
                let path = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                if path.is_empty() {
                    return Err(invalid(
                        "PORTAL_DATABASE_URL",
                        "sqlite: URL has no file path",
                    ));
                }
                DatabaseKind::Sqlite(PathBuf::from(path))
            }
            Some(_) => {
                return Err(invalid(
                    "PORTAL_DATABASE_URL",
                    "must start with postgres://, postgresql:// or sqlite:",
                ))
            }
        };
        let secret_key = l
            .get("PORTAL_SECRET_KEY")
            .map(|s| Secret::new(s.to_string()));
        match &secret_key {
            Some(k) if k.expose().len() < 32 => {
                return Err(invalid(
                    "PORTAL_SECRET_KEY",
                    "must be at least 32 characters",
                ))
            }
            None if prod => {
                return Err(invalid(
                    "PORTAL_SECRET_KEY",
                    "is required in production (at least 32 random characters)",
                ))
            }
            _ => {}
        }
        let cors_origins = match l.get("PORTAL_CORS_ORIGINS") {
            Some(raw) => raw
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|o| {
                    if o == "*" {
                        Err(invalid(
                            "PORTAL_CORS_ORIGINS",
                            "\"*\" is not allowed: list explicit origins",
                        ))
                    } else {
                        parse_origin("PORTAL_CORS_ORIGINS", o)
                    }
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        if prod && cors_origins.is_empty() {
            return Err(invalid(
                "PORTAL_CORS_ORIGINS",
                "is required in production (comma-separated origins, never *)",
            ));
        }
        let trusted_proxies = l
            .get("PORTAL_TRUSTED_PROXIES")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        invalid(
                            "PORTAL_TRUSTED_PROXIES",
                            format!("{s:?} is not a CIDR or IP address"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let log_format = match l.get("PORTAL_LOG_FORMAT").map(str::trim) {
            None if prod => LogFormat::Json,
            None => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                return Err(invalid(
                    "PORTAL_LOG_FORMAT",
                    format!("expected json or pretty, got {other:?}"),
                ))
            }
        };
        let secs = |env: &str| -> Result<Duration, ConfigError> {
            let v: u64 = l.parse(env)?;
            if v == 0 {
                return Err(invalid(env, "must be greater than 0"));
            }
            Ok(Duration::from_secs(v))
        };
        let positive = |env: &str| -> Result<usize, ConfigError> {
            let v: usize = l.parse(env)?;
            if v == 0 {
                return Err(invalid(env, "must be greater than 0"));
            }
            Ok(v)
        };
        let cloud = match l.get("PORTAL_CLOUD").map(str::trim) {
            None if prod => {
                return Err(invalid(
                    "PORTAL_CLOUD",
                    "is required in production (emulator, oci or none)",
                ))
            }
            None | Some("emulator") => CloudMode::Emulator,
            Some("oci") => CloudMode::Oci,
            Some("none") => CloudMode::None,
            Some(other) => {
                return Err(invalid(
                    "PORTAL_CLOUD",
                    format!("expected emulator, oci or none, got {other:?}"),
                ))
            }
        };
        let oci_endpoint = match l.get("PORTAL_OCI_ENDPOINT") {
            Some(raw) => Some(parse_origin("PORTAL_OCI_ENDPOINT", raw)?),
            None => None,
        };
        let ai = ai_settings(l, &secs, &positive)?;
        let metrics_token = match l.get("PORTAL_METRICS_TOKEN").map(str::trim) {
            None | Some("") => None,
            Some(t) if t.len() < 32 => {
                return Err(invalid(
                    "PORTAL_METRICS_TOKEN",
                    "must be at least 32 characters",
                ))
            }
            Some(t) => Some(Secret::new(t.to_string())),
        };
        let dev_cors_localhost = parse_bool(
            "PORTAL_DEV_CORS_LOCALHOST",
            l.get("PORTAL_DEV_CORS_LOCALHOST").unwrap_or("false"),
        )?;
        if prod && dev_cors_localhost {
            return Err(invalid(
                "PORTAL_DEV_CORS_LOCALHOST",
                "is a development convenience and cannot be used in production",
            ));
        }
        let db_check_ms: u64 = l.parse("PORTAL_DB_CHECK_INTERVAL_MS")?;
        let jobs_poll_ms: u64 = l.parse("PORTAL_JOBS_POLL_INTERVAL_MS")?;
        if jobs_poll_ms < 10 {
            return Err(invalid(
                "PORTAL_JOBS_POLL_INTERVAL_MS",
                "must be at least 10",
            ));
        }
        if db_check_ms < 50 {
            return Err(invalid(
                "PORTAL_DB_CHECK_INTERVAL_MS",
                "must be at least 50",
            ));
        }
        Ok(Settings {
            bind,
            public_url,
            database,
            environment,
            secret_key,
            cors_origins,
            trusted_proxies,
            log_filter: l.get("PORTAL_LOG").unwrap_or("info").to_string(),
            log_format,
            skip_migrations: parse_bool(
                "PORTAL_SKIP_MIGRATIONS",
                l.get("PORTAL_SKIP_MIGRATIONS").unwrap_or("false"),
            )?,
            rate_limit_api: l.parse("PORTAL_RATE_LIMIT_API")?,
            rate_limit_chat: l.parse("PORTAL_RATE_LIMIT_CHAT")?,
            body_limit_bytes: positive("PORTAL_BODY_LIMIT_BYTES")?,
            request_timeout: secs("PORTAL_REQUEST_TIMEOUT_SECS")?,
            max_in_flight: positive("PORTAL_MAX_IN_FLIGHT")?,
            max_streams: positive("PORTAL_MAX_STREAMS")?,
            sse_heartbeat: secs("PORTAL_SSE_HEARTBEAT_SECS")?,
            shutdown_grace: secs("PORTAL_SHUTDOWN_GRACE_SECS")?,
            max_health_streams: positive("PORTAL_MAX_HEALTH_STREAMS")?,
            streams_per_principal: positive("PORTAL_STREAMS_PER_PRINCIPAL")?,
            streams_per_ip: positive("PORTAL_STREAMS_PER_IP")?,
            max_connections: positive("PORTAL_MAX_CONNECTIONS")?,
            header_read_timeout: secs("PORTAL_HEADER_READ_TIMEOUT_SECS")?,
            metrics_token,
            dev_cors_localhost,
            db_check_interval: Duration::from_millis(db_check_ms),
            jobs_poll_interval: Duration::from_millis(jobs_poll_ms),
            db_pool_max: positive("PORTAL_DB_POOL_MAX")?,
            cloud,
            oci_config_file: l.get("PORTAL_OCI_CONFIG_FILE").map(PathBuf::from),
            oci_profile: l.get("PORTAL_OCI_PROFILE").unwrap_or("DEFAULT").to_string(),
            oci_endpoint,
            data_dir,
            ai,
        })
    }

    /// True in production mode.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Cookies get `Secure` and the `__Host-` prefix in production and whenever
    /// the portal is served over https, whatever the environment.
    pub fn secure_cookies(&self) -> bool {
        self.is_production() || self.public_url.starts_with("https://")
    }

    /// The effective configuration as `(setting, value)` lines, secrets redacted.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let list = |v: &[String]| {
            if v.is_empty() {
                "(none)".to_string()
            } else {
                v.join(",")
            }
        };
        vec![
            (
                "PORTAL_ENV",
                match self.environment {
                    Environment::Development => "development".into(),
                    Environment::Production => "production".into(),
                },
            ),
            ("PORTAL_BIND", self.bind.to_string()),
            ("PORTAL_PUBLIC_URL", self.public_url.clone()),
            ("PORTAL_DATA_DIR", self.data_dir.display().to_string()),
            (
                "PORTAL_DATABASE_URL",
                match &self.database {
                    DatabaseKind::Sqlite(p) => format!("sqlite:{}", p.display()),
                    DatabaseKind::Postgres(url) => redact_url_password(url.expose()),
                },
            ),
            (
                "PORTAL_SECRET_KEY",
                match &self.secret_key {
                    Some(_) => "[REDACTED]".into(),
                    None => "(generated in the data dir)".into(),
                },
            ),
            ("PORTAL_CORS_ORIGINS", list(&self.cors_origins)),
            (
                "PORTAL_TRUSTED_PROXIES",
                list(
                    &self
                        .trusted_proxies
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>(),
                ),
            ),
            ("PORTAL_LOG", self.log_filter.clone()),
            (
                "PORTAL_LOG_FORMAT",
                match self.log_format {
                    LogFormat::Json => "json".into(),
                    LogFormat::Pretty => "pretty".into(),
                },
            ),
            ("PORTAL_SKIP_MIGRATIONS", self.skip_migrations.to_string()),
            ("PORTAL_RATE_LIMIT_API", self.rate_limit_api.to_string()),
            ("PORTAL_RATE_LIMIT_CHAT", self.rate_limit_chat.to_string()),
            ("PORTAL_BODY_LIMIT_BYTES", self.body_limit_bytes.to_string()),
            (
                "PORTAL_REQUEST_TIMEOUT_SECS",
                self.request_timeout.as_secs().to_string(),
            ),
            ("PORTAL_MAX_IN_FLIGHT", self.max_in_flight.to_string()),
            ("PORTAL_MAX_STREAMS", self.max_streams.to_string()),
            (
                "PORTAL_SSE_HEARTBEAT_SECS",
                self.sse_heartbeat.as_secs().to_string(),
            ),
            (
                "PORTAL_SHUTDOWN_GRACE_SECS",
                self.shutdown_grace.as_secs().to_string(),
            ),
            (
                "PORTAL_MAX_HEALTH_STREAMS",
                self.max_health_streams.to_string(),
            ),
            (
                "PORTAL_STREAMS_PER_PRINCIPAL",
                self.streams_per_principal.to_string(),
            ),
            ("PORTAL_STREAMS_PER_IP", self.streams_per_ip.to_string()),
            ("PORTAL_MAX_CONNECTIONS", self.max_connections.to_string()),
            (
                "PORTAL_HEADER_READ_TIMEOUT_SECS",
                self.header_read_timeout.as_secs().to_string(),
            ),
            (
                "PORTAL_METRICS_TOKEN",
                if self.metrics_token.is_some() {
                    "[REDACTED]"
                } else {
                    "(none)"
                }
                .into(),
            ),
            (
                "PORTAL_DEV_CORS_LOCALHOST",
                self.dev_cors_localhost.to_string(),
            ),
            (
                "PORTAL_DB_CHECK_INTERVAL_MS",
                self.db_check_interval.as_millis().to_string(),
            ),
            (
                "PORTAL_JOBS_POLL_INTERVAL_MS",
                self.jobs_poll_interval.as_millis().to_string(),
            ),
            ("PORTAL_DB_POOL_MAX", self.db_pool_max.to_string()),
            ("PORTAL_CLOUD", self.cloud.as_str().to_string()),
            (
                "PORTAL_OCI_CONFIG_FILE",
                self.oci_config_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "~/.oci/config".into()),
            ),
            ("PORTAL_OCI_PROFILE", self.oci_profile.clone()),
            (
                "PORTAL_OCI_ENDPOINT",
                self.oci_endpoint
                    .clone()
                    .unwrap_or_else(|| "(OCI's endpoints)".into()),
            ),
            ("PORTAL_AI_PROVIDER", self.ai.provider.as_str().to_string()),
            (
                "PORTAL_AI_BASE_URL",
                self.ai
                    .base_url
                    .clone()
                    .unwrap_or_else(|| "(the provider's own)".into()),
            ),
            (
                "PORTAL_AI_API_KEY",
                if self.ai.api_key.is_some() {
                    "[REDACTED]"
                } else {
                    "(none)"
                }
                .into(),
            ),
            (
                "PORTAL_AI_MODEL",
                self.ai.model.clone().unwrap_or_else(|| "(none)".into()),
            ),
            ("PORTAL_AI_MODELS", list(&self.ai.extra_models)),
            ("PORTAL_CHAT_MAX_ROUNDS", self.ai.max_rounds.to_string()),
            (
                "PORTAL_CHAT_TURN_SECS",
                self.ai.turn_budget.as_secs().to_string(),
            ),
        ]
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

/// Creates the data directory (and missing parents) readable by its owner only
/// (0700 on Unix). An existing directory open to group or others is left as it
/// is (it may be shared on purpose) but named in a warning: the files the portal
/// writes in it are 0600 whatever the directory's mode.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if let Ok(meta) = fs::metadata(dir) {
            let mode = meta.permissions().mode() & 0o777;
            if meta.is_dir() && mode & 0o077 != 0 {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = format!("{mode:o}"),
                    "the data directory is open to other users; chmod 700 it"
                );
            }
            return Ok(());
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

/// Makes an existing file readable by its owner only (0600 on Unix); a
/// missing file is not an error.
pub fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match fs::metadata(path) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            }
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Writes a file readable by its owner only (0600 on Unix), failing if it exists.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// Replaces the password of a `scheme://user:password@host/...` URL with `[REDACTED]`.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:[REDACTED]@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_usable() {
        let s = Settings::load(None, env(&[])).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert_eq!(
            s.database,
            DatabaseKind::Sqlite(PathBuf::from("./data/portal.db"))
        );
        assert_eq!(s.environment, Environment::Development);
        assert_eq!(s.log_format, LogFormat::Pretty);
        assert_eq!(s.body_limit_bytes, 1024 * 1024);
    }

    #[test]
    fn env_overrides_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portal.toml");
        fs::write(&path, "bind = \"0.0.0.0:9000\"\nrate_limit_api = 5\ncors_origins = [\"https://a.example\", \"https://b.example\"]\n").unwrap();
        let s = Settings::load(Some(&path), env(&[("PORTAL_RATE_LIMIT_API", "7")])).unwrap();
        assert_eq!(s.bind.port(), 9000);
        assert_eq!(s.public_url, "http://localhost:9000");
        assert_eq!(s.rate_limit_api, 7);
        assert_eq!(
            s.cors_origins,
            vec!["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn jobs_poll_interval_is_read_and_bounded() {
        let s = Settings::load(None, env(&[])).unwrap();
        assert_eq!(s.jobs_poll_interval, Duration::from_secs(1));
        let s = Settings::load(None, env(&[("PORTAL_JOBS_POLL_INTERVAL_MS", "250")])).unwrap();
        assert_eq!(s.jobs_poll_interval, Duration::from_millis(250));
        let err = Settings::load(None, env(&[("PORTAL_JOBS_POLL_INTERVAL_MS", "5")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("PORTAL_JOBS_POLL_INTERVAL_MS"), "{err}");
    }

    #[test]
    fn unknown_file_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portal.toml");
        fs::write(&path, "bnd = \"x\"\n").unwrap();
        let err = Settings::load(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown setting \"bnd\""), "{err}");
    }

    #[test]
    fn bad_values_name_the_setting() {
        for (k, v) in [
            ("PORTAL_BIND", "nope"),
            ("PORTAL_ENV", "staging"),
            ("PORTAL_RATE_LIMIT_API", "-1"),
            ("PORTAL_TRUSTED_PROXIES", "10.0.0.0/99"),
            ("PORTAL_DATABASE_URL", "mysql://x"),
            ("PORTAL_PUBLIC_URL", "ftp://x"),
            ("PORTAL_LOG_FORMAT", "xml"),
            ("PORTAL_SKIP_MIGRATIONS", "maybe"),
            ("PORTAL_SECRET_KEY", "short"),
        ] {
            let err = Settings::load(None, env(&[(k, v)]))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(k), "{k}: {err}");
        }
    }

    #[test]
    fn production_requires_secret_and_explicit_cors() {
        let err = Settings::load(None, env(&[("PORTAL_ENV", "production")])).unwrap_err();
        assert!(err.to_string().starts_with("PORTAL_SECRET_KEY"), "{err}");
        let key = "k".repeat(40);
        let err = Settings::load(
            None,
            env(&[("PORTAL_ENV", "production"), ("PORTAL_SECRET_KEY", &key)]),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("PORTAL_CORS_ORIGINS"), "{err}");
        let err = Settings::load(
            None,
            env(&[
                ("PORTAL_ENV", "production"),
                ("PORTAL_SECRET_KEY", &key),
                ("PORTAL_CORS_ORIGINS", "*"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"*\" is not allowed"), "{err}");
        let err = Settings::load(
            None,
            env(&[
                ("PORTAL_ENV", "production"),
                ("PORTAL_SECRET_KEY", &key),
                ("PORTAL_CORS_ORIGINS", "https://portal.example"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("PORTAL_CLOUD"), "{err}");
        let ok = Settings::load(
            None,
            env(&[
                ("PORTAL_ENV", "production"),
                ("PORTAL_SECRET_KEY", &key),
                ("PORTAL_CORS_ORIGINS", "https://portal.example"),
                ("PORTAL_CLOUD", "oci"),
            ]),
        )
        .unwrap();
        assert_eq!(ok.log_format, LogFormat::Json);
        assert_eq!(ok.cloud, CloudMode::Oci);
    }

    #[test]
    fn describe_redacts_secrets() {
        let key = "s".repeat(40);
        let s = Settings::load(
            None,
            env(&[
                ("PORTAL_SECRET_KEY", &key),
                ("PORTAL_DATABASE_URL", "postgres://u:pw@db:5432/portal"),
            ]),
        )
        .unwrap();
        let text = format!("{:?}", s.describe());
        assert!(!text.contains(&key));
        assert!(!text.contains("pw@"));
        assert!(text.contains("postgres://u:[REDACTED]@db:5432/portal"));
        assert!(!format!("{s:?}").contains(&key));
    }

    #[test]
    fn dev_secret_is_generated_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load(
            None,
            env(&[("PORTAL_DATA_DIR", dir.path().to_str().unwrap())]),
        )
        .unwrap();
        let a = s.load_or_create_secret_key().unwrap();
        let b = s.load_or_create_secret_key().unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("secret-key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn ai_settings_default_to_no_model_and_name_bad_values() {
        let s = Settings::load(None, env(&[])).unwrap();
        assert_eq!(s.ai.provider, AiProviderKind::None);
        assert_eq!(s.ai.max_rounds, 8);
        assert_eq!(s.ai.turn_budget, Duration::from_secs(120));
        let s = Settings::load(
            None,
            env(&[
                ("PORTAL_AI_PROVIDER", "openai"),
                ("PORTAL_AI_MODEL", "gpt-4o-mini"),
                ("PORTAL_AI_BASE_URL", "http://127.0.0.1:11434/v1/"),
                ("PORTAL_AI_MODELS", "a, b,,c"),
            ]),
        )
        .unwrap();
        assert_eq!(s.ai.provider, AiProviderKind::OpenAi);
        assert_eq!(s.ai.base_url.as_deref(), Some("http://127.0.0.1:11434/v1"));
        assert_eq!(s.ai.extra_models, ["a", "b", "c"]);
        for (pairs, setting) in [
            (&[("PORTAL_AI_PROVIDER", "gpt")][..], "PORTAL_AI_PROVIDER"),
            (&[("PORTAL_AI_PROVIDER", "openai")][..], "PORTAL_AI_MODEL"),
            (
                &[
                    ("PORTAL_AI_PROVIDER", "anthropic"),
                    ("PORTAL_AI_MODEL", "m"),
                ][..],
                "PORTAL_AI_API_KEY",
            ),
            (
                &[("PORTAL_AI_BASE_URL", "ftp://x")][..],
                "PORTAL_AI_BASE_URL",
            ),
            (
                &[("PORTAL_CHAT_MAX_ROUNDS", "0")][..],
                "PORTAL_CHAT_MAX_ROUNDS",
            ),
            (
                &[("PORTAL_CHAT_TURN_SECS", "0")][..],
                "PORTAL_CHAT_TURN_SECS",
            ),
        ] {
            let err = Settings::load(None, env(pairs)).unwrap_err().to_string();
            assert!(err.contains(setting), "{err}");
        }
        let described = Settings::load(
            None,
            env(&[
                ("PORTAL_AI_PROVIDER", "anthropic"),
                ("PORTAL_AI_MODEL", "m"),
                ("PORTAL_AI_API_KEY", "sk-ant-secret"),
            ]),
        )
        .unwrap()
        .describe();
        assert!(!format!("{described:?}").contains("sk-ant-secret"));
    }
}
