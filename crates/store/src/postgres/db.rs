//! PostgreSQL's connections for the shared statements: pooled connections,
//! autocommit or inside a transaction (rolled back when dropped uncommitted),
//! with every statement prepared once per connection.

use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

use async_trait::async_trait;
use deadpool_postgres::Object;
use portal_core::store::{StoreInfo, StoreResult};
use portal_core::{Availability, Backend, PoolStats, StoreError};
use tokio::sync::Notify;
use tokio_postgres::types::ToSql;

use super::listen::{CHANNEL, JOBS_CHANNEL};
use super::{map_pg, Inner, Postgres};
use crate::args;
use crate::chat::Waiters;
use crate::sql::{locks, Arg, Db, Decode, Dialect, Exec, Lock, Sql};

/// How often a chat stream follower re-reads the database while the listener is down.
const CHAT_POLL: Duration = Duration::from_millis(100);
/// How often it re-reads anyway while notifications flow (a safety net only).
const CHAT_RECHECK: Duration = Duration::from_secs(5);

/// A pooled connection, possibly inside a transaction.
pub(crate) struct PgConn<'a> {
    inner: &'a Inner,
    conn: Option<Object>,
    /// Inside a transaction not yet committed.
    open: bool,
}

impl PgConn<'_> {
    fn client(&self) -> StoreResult<&Object> {
        self.conn.as_ref().ok_or(StoreError::Unavailable)
    }

    fn err(&self, e: tokio_postgres::Error) -> StoreError {
        map_pg(e, &self.inner.availability)
    }

    /// The statement, prepared once per connection.
    async fn prepared(&self, sql: &Sql) -> StoreResult<tokio_postgres::Statement> {
        self.client()?
            .prepare_cached(sql.get(Dialect::Postgres))
            .await
            .map_err(|e| self.err(e))
    }

    async fn query(&self, sql: &Sql, args: &[Arg<'_>]) -> StoreResult<Vec<tokio_postgres::Row>> {
        async {
            let st = self.prepared(sql).await?;
            let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(Arg::pg).collect();
            self.client()?
                .query(&st, &params)
                .await
                .map_err(|e| self.err(e))
        }
        .instrument(sql.span(Dialect::Postgres))
        .await
    }
}

impl Drop for PgConn<'_> {
    /// An uncommitted transaction is rolled back before the connection goes
    /// back to the pool; without a runtime to do that, the connection is
    /// closed instead (the server rolls back).
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let Some(conn) = self.conn.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Err(e) = conn.batch_execute("ROLLBACK").await {
                        tracing::debug!(error = %e, "rollback failed");
                        drop(Object::take(conn));
                    }
                });
            }
            Err(_) => drop(Object::take(conn)),
        }
    }
}

impl Exec for PgConn<'_> {
    async fn execute(&mut self, sql: &Sql, args: &[Arg<'_>]) -> StoreResult<u64> {
        let this = &*self;
        async move {
            let st = this.prepared(sql).await?;
            let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(Arg::pg).collect();
            this.client()?
                .execute(&st, &params)
                .await
                .map_err(|e| this.err(e))
        }
        .instrument(sql.span(Dialect::Postgres))
        .await
    }

    async fn rows<T: Send>(
        &mut self,
        sql: &Sql,
        args: &[Arg<'_>],
        f: Decode<T>,
    ) -> StoreResult<Vec<T>> {
        let rows = self.query(sql, args).await?;
        rows.iter().map(|r| f(r)).collect()
    }

    async fn opt<T: Send>(
        &mut self,
        sql: &Sql,
        args: &[Arg<'_>],
        f: Decode<T>,
    ) -> StoreResult<Option<T>> {
        let rows = self.query(sql, args).await?;
        rows.first().map(|r| f(r)).transpose()
    }

    async fn lock(&mut self, lock: Lock<'_>) -> StoreResult<()> {
        match lock {
            Lock::Org(id) => self.execute(&locks::ORG, &args![id]).await,
            Lock::Setup => self.execute(&locks::SETUP, &[]).await,
            Lock::Events => {
                self.execute(&locks::EVENTS, &args![locks::EVENTS_LOCK])
                    .await
            }
            Lock::AuditChain(chain) => self.execute(&locks::AUDIT_CHAIN, &args![chain]).await,
        }
        .map(drop)
    }

    /// Delivered at commit, with the rows, to every replica's listener.
    async fn notify_chat(&mut self, sessions: &[&str]) -> StoreResult<()> {
        static NOTIFY: Sql = Sql::new("SELECT pg_notify($1, s) FROM unnest($2::TEXT[]) AS s");
        let sessions = Arg::Texts(sessions.to_vec());
        self.execute(&NOTIFY, &[Arg::Text(CHANNEL), sessions])
            .await
            .map(drop)
    }

    /// After the insert committed; a lost notification only means the job
    /// waits for the runners' next poll.
    async fn notify_jobs(&mut self, kind: &str) {
        static NOTIFY: Sql = Sql::new("SELECT pg_notify($1, $2)");
        let args = [Arg::Text(JOBS_CHANNEL), Arg::Text(kind)];
        if let Err(e) = self.execute(&NOTIFY, &args).await {
            tracing::debug!(error = %e, "could not notify job runners");
        }
    }

    async fn commit(mut self) -> StoreResult<()> {
        if self.open {
            let r = self.client()?.batch_execute("COMMIT").await;
            self.open = false;
            r.map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}

impl Postgres {
    async fn pooled(&self) -> StoreResult<PgConn<'_>> {
        Ok(PgConn {
            inner: &self.inner,
            conn: Some(self.inner.conn().await?),
            open: false,
        })
    }
}

impl Db for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
    type Conn<'a> = PgConn<'a>;

    async fn reader(&self) -> StoreResult<PgConn<'_>> {
        self.pooled().await
    }

    async fn writer(&self) -> StoreResult<PgConn<'_>> {
        self.pooled().await
    }

    async fn begin(&self) -> StoreResult<PgConn<'_>> {
        let mut c = self.pooled().await?;
        c.client()?
            .batch_execute("BEGIN")
            .await
            .map_err(|e| c.err(e))?;
        c.open = true;
        Ok(c)
    }

    /// The listener wakes this process's followers too.
    fn chat_appended(&self, _sessions: &[&str]) {}

    fn chat_waiters(&self) -> &Waiters {
        &self.inner.chat_waiters
    }

    fn chat_pause(&self) -> Duration {
        self.start_listener();
        if self.chat_listener_ready() {
            CHAT_RECHECK
        } else {
            CHAT_POLL
        }
    }

    fn job_signal(&self) -> Option<Arc<Notify>> {
        self.start_listener();
        Some(self.inner.jobs_wake.clone())
    }
}

#[async_trait]
impl StoreInfo for crate::PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn availability(&self) -> &Availability {
        &self.inner.availability
    }

    async fn ping(&self) -> Result<Duration, StoreError> {
        let r = self.inner.ping().await;
        if r.is_ok() {
            self.inner.availability.set(true);
        }
        r
    }

    fn pool_stats(&self) -> PoolStats {
        let s = self.inner.pool.status();
        PoolStats {
            idle: s.available,
            in_use: s.size.saturating_sub(s.available),
            max: s.max_size,
        }
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.try_get(0).map_err(|e| StoreError::Other(e.to_string()))
    }
}
