//! Storage backends for the portal: SQLite (embedded default, rusqlite) and
//! PostgreSQL (production, tokio-postgres with a deadpool pool).
//!
//! rusqlite is used for SQLite because it costs about a third of the CPU per
//! small query of sqlx's SQLite driver (PERFORMANCE.md); the two cannot share a
//! build, so PostgreSQL goes through tokio-postgres.

mod chat;
mod migrations;
mod postgres;
mod sql;
mod sqlite;

use std::sync::Arc;

use portal_core::{DatabaseKind, Settings, Store, StoreError};

pub use migrations::{Migration, MIGRATIONS};
pub use postgres::Postgres;
pub use sql::SqlStore;
pub use sqlite::backup as sqlite_backup;
pub use sqlite::Sqlite;

/// The SQLite store: the embedded default.
pub type SqliteStore = SqlStore<Sqlite>;
/// The PostgreSQL store: the production database.
pub type PgStore = SqlStore<Postgres>;

/// Opens the configured database and, unless `migrate` is false, applies pending migrations.
pub async fn open(settings: &Settings, migrate: bool) -> Result<Arc<dyn Store>, StoreError> {
    match &settings.database.url {
        DatabaseKind::Sqlite(path) => {
            let store = SqliteStore::open(path, settings.database.pool_max).await?;
            if migrate {
                store.migrate().await?;
            }
            Ok(Arc::new(store))
        }
        DatabaseKind::Postgres(url) => {
            let store = PgStore::connect(
                url.expose(),
                settings.database.pool_max,
                settings.database.check_interval,
            )?;
            if migrate {
                store.migrate().await?;
            }
            Ok(Arc::new(store))
        }
    }
}

/// Reads the `organizations.allowed_compartments` column (a JSON array, or NULL).
pub(crate) fn compartments(raw: Option<&str>) -> Result<Vec<String>, serde_json::Error> {
    match raw {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text),
    }
}

/// The `organizations.allowed_compartments` value for an assignment (NULL when
/// nothing is assigned: the organisation acts in no compartment).
pub(crate) fn compartments_column(allowed: &[String]) -> Option<String> {
    if allowed.is_empty() {
        None
    } else {
        serde_json::to_string(allowed).ok()
    }
}
