//! The database: which one, how many connections, how often it is checked.

use std::path::PathBuf;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::names::Name;
use super::{fields, DEFAULT_DATA_DIR};
use crate::secret::Secret;

/// Which database the portal uses, from `PORTAL_DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    /// An SQLite file at this path.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (may embed a password, hence the wrapper).
    Postgres(Secret<String>),
}

/// Shown as `sqlite:PATH` or the URL with its password redacted.
impl Serialize for DatabaseKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DatabaseKind::Sqlite(p) => s.serialize_str(&format!("sqlite:{}", p.display())),
            DatabaseKind::Postgres(url) => s.serialize_str(&redact_url_password(url.expose())),
        }
    }
}

impl<'de> Deserialize<'de> for DatabaseKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        let url = raw.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseKind::Postgres(Secret::new(url.to_string())));
        }
        if url.starts_with("sqlite:") {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            if path.is_empty() {
                return Err(D::Error::custom("sqlite: URL has no file path"));
            }
            return Ok(DatabaseKind::Sqlite(PathBuf::from(path)));
        }
        Err(D::Error::custom(
            "must start with postgres://, postgresql:// or sqlite:",
        ))
    }
}

/// Database settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// The database; SQLite in the data dir unless set.
    pub url: DatabaseKind,
    /// Largest database pool size.
    #[serde(deserialize_with = "fields::positive")]
    pub pool_max: usize,
    /// Interval of the background database availability check (at least 50 ms).
    #[serde(rename = "check_interval_ms", with = "fields::millis")]
    pub check_interval: Duration,
    /// Do not run migrations at start (the operator runs `portal migrate`).
    pub skip_migrations: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: sqlite_in(&PathBuf::from(DEFAULT_DATA_DIR)),
            pool_max: 16,
            check_interval: Duration::from_secs(1),
            skip_migrations: false,
        }
    }
}

/// The SQLite database of a data dir.
pub(super) fn sqlite_in(data_dir: &std::path::Path) -> DatabaseKind {
    DatabaseKind::Sqlite(data_dir.join("portal.db"))
}

/// The names of the database settings.
pub(super) const NAMES: &[Name] = &[
    Name::new("url", "PORTAL_DATABASE_URL"),
    Name::new("pool_max", "PORTAL_DB_POOL_MAX"),
    Name::new("check_interval_ms", "PORTAL_DB_CHECK_INTERVAL_MS"),
    Name::new("skip_migrations", "PORTAL_SKIP_MIGRATIONS"),
];

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
