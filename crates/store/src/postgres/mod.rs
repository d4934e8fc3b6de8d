//! PostgreSQL backend: tokio-postgres behind a deadpool pool, with a background
//! monitor that tracks availability so the server can degrade instead of hang
//! while the database is away, and recover on its own when it returns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use portal_core::store::Constraint;
use portal_core::{Availability, StoreError};
use tokio_postgres::error::SqlState;

use crate::chat::Waiters;
use crate::migrations::MIGRATIONS;

mod db;
mod listen;
mod tls;

/// Arbitrary constant naming the advisory lock that serialises migrations across replicas.
const MIGRATION_LOCK: i64 = 0x706f_7274_616c;

/// The PostgreSQL backend of [`SqlStore`](crate::SqlStore): [`crate::PgStore`].
pub struct Postgres {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    availability: Availability,
    /// Connection settings for the chat-event listener's own connection.
    listen_config: tokio_postgres::Config,
    /// The TLS connector both use (plain when `sslmode` asks for none).
    tls: tls::MakeRustls,
    /// Set once the listener task has been started.
    listener_started: AtomicBool,
    /// True while the listener is connected and LISTENing.
    listening: AtomicBool,
    /// Followers of chat event streams, woken by notifications.
    chat_waiters: Waiters,
    /// Job runners, woken by job notifications (see `jobs.rs`).
    jobs_wake: Arc<tokio::sync::Notify>,
    /// Dropped with the store, which stops the listener.
    stop: tokio::sync::watch::Sender<()>,
}

/// Maps a driver error: lost connections mean "unavailable", constraint
/// violations are conflicts, the rest is internal.
///
/// Classified by what the error *is* (the SQLSTATE, or an I/O error in its
/// source chain), never by its message text: tokio-postgres words a refused
/// connection "error connecting to server: Connection refused", and matching on
/// text missed it (M8: refused connections answered 500).
fn map_pg(e: tokio_postgres::Error, availability: &Availability) -> StoreError {
    if is_unavailable(&e) {
        availability.set(false);
        return StoreError::Unavailable;
    }
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION || *c == SqlState::FOREIGN_KEY_VIOLATION => {
            let named = e
                .as_db_error()
                .and_then(|d| d.constraint())
                .and_then(Constraint::from_name);
            StoreError::Conflict(named.map_or_else(|| e.to_string(), |c| c.name().into()))
        }
        _ => StoreError::Other(with_causes(&e)),
    }
}

/// The error and its causes: tokio-postgres' own text is only the kind
/// ("error performing TLS handshake"); the cause says which certificate check failed.
fn with_causes(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// True when the error means the server cannot be reached or talked to now:
/// the connection is closed, an I/O error (refused, reset, timed out…) caused
/// it, or the server answered with SQLSTATE class 08 (connection exception) or
/// 57P01–57P03 (shutting down, crashed, starting up).
fn is_unavailable(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(c) = e.code() {
        return is_unavailable_state(c);
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return is_connection_io(io.kind());
        }
        source = s.source();
    }
    false
}

/// SQLSTATEs that mean "the server is not available", not "the query is wrong".
fn is_unavailable_state(c: &SqlState) -> bool {
    c.code().starts_with("08")
        || *c == SqlState::ADMIN_SHUTDOWN
        || *c == SqlState::CRASH_SHUTDOWN
        || *c == SqlState::CANNOT_CONNECT_NOW
}

/// I/O error kinds of a transport problem. tokio-postgres also wraps its own
/// encoding and parsing failures in I/O errors (`InvalidInput`/`InvalidData`):
/// those are bugs, not outages.
fn is_connection_io(kind: std::io::ErrorKind) -> bool {
    !matches!(
        kind,
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
    )
}

impl crate::PgStore {
    /// Builds the pool (connections open lazily) and starts the availability monitor.
    pub fn connect(url: &str, max: usize, check_interval: Duration) -> Result<Self, StoreError> {
        Postgres::connect(url, max, check_interval).map(crate::SqlStore)
    }
}

impl Postgres {
    fn connect(url: &str, max: usize, check_interval: Duration) -> Result<Self, StoreError> {
        let bad = |e: String| StoreError::Other(format!("invalid PostgreSQL URL: {e}"));
        let split = tls::split(url).map_err(bad)?;
        let tls = tls::connector(split.mode, split.root_cert.as_deref()).map_err(bad)?;
        let mut cfg: tokio_postgres::Config = split
            .url
            .parse()
            .map_err(|e: tokio_postgres::Error| bad(e.to_string()))?;
        cfg.ssl_mode(tls::driver_mode(split.mode));
        if cfg.get_connect_timeout().is_none() {
            cfg.connect_timeout(Duration::from_secs(2));
        }
        let mut listen_config = cfg.clone();
        listen_config.application_name(listen::APPLICATION_NAME);
        cfg.application_name("oci-portal");
        let mgr = Manager::from_config(
            cfg,
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(max.max(1))
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(2)))
            .wait_timeout(Some(Duration::from_secs(3)))
            .recycle_timeout(Some(Duration::from_secs(2)))
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let inner = Arc::new(Inner {
            pool,
            availability: Availability::default(),
            listen_config,
            tls,
            listener_started: AtomicBool::new(false),
            listening: AtomicBool::new(false),
            chat_waiters: Waiters::default(),
            jobs_wake: Arc::new(tokio::sync::Notify::new()),
            stop: tokio::sync::watch::channel(()).0,
        });
        spawn_monitor(Arc::downgrade(&inner), check_interval);
        Ok(Self { inner })
    }

    /// Checks out a connection, failing fast with `Unavailable` when the database is away.
    pub async fn conn(&self) -> Result<Object, StoreError> {
        self.inner.conn().await
    }

    /// True while this store's chat-event listener is connected and LISTENing
    /// (it starts with the first [`Store::wait_chat_events`] or job runner).
    ///
    /// [`Store::wait_chat_events`]: portal_core::store::ChatEventRepo::wait_chat_events
    pub fn chat_listener_ready(&self) -> bool {
        self.inner.listening.load(Ordering::Acquire)
    }

    /// Starts the chat-event listener unless it runs already.
    pub(crate) fn start_listener(&self) {
        if !self.inner.listener_started.swap(true, Ordering::AcqRel) {
            let stop = self.inner.stop.subscribe();
            tokio::spawn(listen::run(Arc::downgrade(&self.inner), stop));
        }
    }

    /// Maps a driver error, updating the availability flag.
    pub fn map_err(&self, e: tokio_postgres::Error) -> StoreError {
        map_pg(e, &self.inner.availability)
    }

    /// Applies pending migrations under an advisory lock; returns the versions applied.
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        let mut conn = self.conn().await?;
        let m = |e| map_pg(e, &self.inner.availability);
        conn.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(m)?;
        let result = self.migrate_locked(&mut conn).await;
        let unlock = conn
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await;
        let applied = result?;
        unlock.map_err(m)?;
        Ok(applied)
    }

    async fn migrate_locked(&self, conn: &mut Object) -> Result<Vec<i64>, StoreError> {
        let m = |e| map_pg(e, &self.inner.availability);
        conn.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    BIGINT PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await
        .map_err(m)?;
        let mut applied = Vec::new();
        for mig in MIGRATIONS {
            let tx = conn.transaction().await.map_err(m)?;
            let done = tx
                .query_opt(
                    "SELECT 1 FROM schema_migrations WHERE version = $1",
                    &[&mig.version],
                )
                .await
                .map_err(m)?
                .is_some();
            if done {
                continue;
            }
            tx.batch_execute(mig.postgres)
                .await
                .map_err(|e| StoreError::Migration {
                    version: mig.version,
                    message: e.to_string(),
                })?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&mig.version, &mig.name],
            )
            .await
            .map_err(m)?;
            tx.commit().await.map_err(m)?;
            tracing::info!(version = mig.version, name = mig.name, "applied migration");
            applied.push(mig.version);
        }
        Ok(applied)
    }
}

impl Inner {
    /// Checks out a connection; while the monitor says the database is down,
    /// fails at once with `Unavailable` instead of trying (and waiting on) a
    /// connection per request. The monitor's own check uses [`Self::checkout`].
    async fn conn(&self) -> Result<Object, StoreError> {
        if !self.availability.is_up() {
            return Err(StoreError::Unavailable);
        }
        self.checkout().await
    }

    /// Checks out a connection whatever the availability flag says; a pool
    /// timeout, a failed create or a closed pool mean "unavailable".
    async fn checkout(&self) -> Result<Object, StoreError> {
        match self.pool.get().await {
            Ok(c) => Ok(c),
            Err(PoolError::Backend(e)) => Err(map_pg(e, &self.availability)),
            Err(e) => {
                tracing::debug!(error = %e, "database pool checkout failed");
                self.availability.set(false);
                Err(StoreError::Unavailable)
            }
        }
    }

    async fn ping(&self) -> Result<Duration, StoreError> {
        let start = Instant::now();
        let conn = self.checkout().await?;
        conn.simple_query("SELECT 1")
            .await
            .map_err(|e| map_pg(e, &self.availability))?;
        Ok(start.elapsed())
    }
}

/// Pings the database every `interval` while the store lives, flipping the
/// availability flag and logging each transition once.
fn spawn_monitor(inner: Weak<Inner>, interval: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let Some(inner) = inner.upgrade() else { return };
            let up = matches!(
                tokio::time::timeout(Duration::from_secs(2), inner.ping()).await,
                Ok(Ok(_))
            );
            if !up {
                // Drop idle connections that may point at a dead server.
                inner.pool.retain(|_, _| false);
            }
            if inner.availability.set(up) {
                if up {
                    tracing::info!("database is reachable again");
                } else {
                    tracing::warn!("database is unreachable; serving degraded");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_postgres::NoTls;

    /// A refused connection (a port nobody listens on) is "unavailable",
    /// whatever tokio-postgres calls it in its message.
    #[tokio::test]
    async fn refused_connection_is_unavailable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let url = format!("postgres://nobody@127.0.0.1:{port}/none");
        let err = tokio_postgres::connect(&url, NoTls).await.err().unwrap();
        let availability = Availability::default();
        assert!(matches!(
            map_pg(err, &availability),
            StoreError::Unavailable
        ));
        assert!(!availability.is_up());
    }

    #[test]
    fn sqlstates_of_a_server_going_away_are_unavailable() {
        for c in [
            SqlState::CONNECTION_FAILURE,
            SqlState::CONNECTION_EXCEPTION,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ] {
            assert!(is_unavailable_state(&c), "{c:?}");
        }
        for c in [SqlState::UNIQUE_VIOLATION, SqlState::SYNTAX_ERROR] {
            assert!(!is_unavailable_state(&c), "{c:?}");
        }
    }
}
