//! SQLite's connections for the shared statements: pooled readers, and the
//! single writer inside an immediate transaction (rolled back when dropped
//! uncommitted). Statements run inline: a small query costs tens of
//! microseconds, less than a hop to a blocking thread would.

use std::future::{ready, Future};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use portal_core::store::{StoreInfo, StoreResult};
use portal_core::{Availability, Backend, PoolStats, StoreError};
use rusqlite::{params_from_iter, Connection};
use tokio::sync::{MutexGuard, Notify, SemaphorePermit};

use super::{open_conn, other, Db as _, Sqlite};
use crate::chat::Waiters;
use crate::sql::{Arg, Db, Decode, Dialect, Exec, Lock, Sql};

/// How often a chat stream follower re-reads the database (other processes'
/// appends are seen only by polling).
const CHAT_POLL: Duration = Duration::from_millis(100);

/// A reader from the pool, or the writer inside its transaction.
pub(crate) struct SqliteConn<'a> {
    store: &'a Sqlite,
    kind: Kind<'a>,
}

enum Kind<'a> {
    Read {
        conn: Option<Connection>,
        _permit: SemaphorePermit<'a>,
    },
    Write {
        conn: MutexGuard<'a, Connection>,
        open: bool,
    },
}

impl SqliteConn<'_> {
    pub(super) fn conn(&self) -> &Connection {
        match &self.kind {
            Kind::Read { conn, .. } => conn.as_ref().expect("reader present until drop"),
            Kind::Write { conn, .. } => conn,
        }
    }

    fn run(
        &self,
        sql: &Sql,
        args: &[Arg<'_>],
        mut each: impl FnMut(&rusqlite::Row<'_>) -> StoreResult<bool>,
    ) -> StoreResult<()> {
        let span = sql.span(Dialect::Sqlite);
        let _in_span = span.enter();
        let mut st = self
            .conn()
            .prepare_cached(sql.get(Dialect::Sqlite))
            .map_err(other)?;
        let mut rows = st.query(params_from_iter(args.iter())).map_err(other)?;
        while let Some(r) = rows.next().map_err(other)? {
            if !each(r)? {
                break;
            }
        }
        Ok(())
    }
}

impl Drop for SqliteConn<'_> {
    fn drop(&mut self) {
        match &mut self.kind {
            Kind::Read { conn, .. } => {
                if let (Some(c), Ok(mut pool)) = (conn.take(), self.store.readers.lock()) {
                    pool.push(c);
                }
            }
            Kind::Write { conn, open } => {
                if *open {
                    if let Err(e) = conn.execute_batch("ROLLBACK") {
                        tracing::warn!(error = %e, "rollback failed");
                    }
                }
            }
        }
    }
}

impl Exec for SqliteConn<'_> {
    fn execute(
        &mut self,
        sql: &Sql,
        args: &[Arg<'_>],
    ) -> impl Future<Output = StoreResult<u64>> + Send {
        let run = || -> StoreResult<u64> {
            let span = sql.span(Dialect::Sqlite);
            let _in_span = span.enter();
            let mut st = self
                .conn()
                .prepare_cached(sql.get(Dialect::Sqlite))
                .map_err(other)?;
            let n = st.execute(params_from_iter(args.iter())).map_err(other)?;
            Ok(n as u64)
        };
        ready(run())
    }

    fn rows<T: Send>(
        &mut self,
        sql: &Sql,
        args: &[Arg<'_>],
        f: Decode<T>,
    ) -> impl Future<Output = StoreResult<Vec<T>>> + Send {
        let mut out = Vec::new();
        let r = self.run(sql, args, |r| {
            out.push(f(r)?);
            Ok(true)
        });
        ready(r.map(|()| out))
    }

    fn opt<T: Send>(
        &mut self,
        sql: &Sql,
        args: &[Arg<'_>],
        f: Decode<T>,
    ) -> impl Future<Output = StoreResult<Option<T>>> + Send {
        let mut out = None;
        let r = self.run(sql, args, |r| {
            out = Some(f(r)?);
            Ok(false)
        });
        ready(r.map(|()| out))
    }

    /// The single writer serialises every transaction already.
    fn lock(&mut self, _lock: Lock<'_>) -> impl Future<Output = StoreResult<()>> + Send {
        ready(Ok(()))
    }

    /// Other processes poll; this one is woken after commit.
    fn notify_chat(&mut self, _sessions: &[&str]) -> impl Future<Output = StoreResult<()>> + Send {
        ready(Ok(()))
    }

    /// Wakes this process's runners (the only ones: SQLite has one process).
    /// Their claims wait for this writer, so they see the write once committed.
    fn notify_jobs(&mut self, _kind: &str) -> impl Future<Output = ()> + Send {
        self.store.jobs_wake.notify_one();
        ready(())
    }

    fn commit(mut self) -> impl Future<Output = StoreResult<()>> + Send {
        let r = match &mut self.kind {
            Kind::Read { .. } => Ok(()),
            Kind::Write { conn, open } => {
                *open = false;
                conn.execute_batch("COMMIT").map_err(other)
            }
        };
        ready(r)
    }
}

impl Sqlite {
    async fn write_conn(&self) -> StoreResult<SqliteConn<'_>> {
        let conn = self.writer.lock().await;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(other)?;
        Ok(SqliteConn {
            store: self,
            kind: Kind::Write { conn, open: true },
        })
    }
}

impl Db for Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;
    type Conn<'a> = SqliteConn<'a>;

    async fn reader(&self) -> StoreResult<SqliteConn<'_>> {
        let permit = self
            .reader_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable)?;
        let pooled = self.readers.lock().ok().and_then(|mut v| v.pop());
        let conn = match pooled {
            Some(c) => c,
            None => open_conn(&self.path)?,
        };
        Ok(SqliteConn {
            store: self,
            kind: Kind::Read {
                conn: Some(conn),
                _permit: permit,
            },
        })
    }

    async fn writer(&self) -> StoreResult<SqliteConn<'_>> {
        self.write_conn().await
    }

    async fn begin(&self) -> StoreResult<SqliteConn<'_>> {
        self.write_conn().await
    }

    fn chat_appended(&self, sessions: &[&str]) {
        for s in sessions {
            self.chat_waiters.wake(s);
        }
    }

    fn chat_waiters(&self) -> &Waiters {
        &self.chat_waiters
    }

    fn chat_pause(&self) -> Duration {
        CHAT_POLL
    }

    fn job_signal(&self) -> Option<Arc<Notify>> {
        Some(self.jobs_wake.clone())
    }
}

#[async_trait]
impl StoreInfo for crate::SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn availability(&self) -> &Availability {
        &self.availability
    }

    async fn ping(&self) -> Result<Duration, StoreError> {
        let start = Instant::now();
        self.read(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).db())
            .await?;
        Ok(start.elapsed())
    }

    fn pool_stats(&self) -> PoolStats {
        let idle = self.readers.lock().map(|v| v.len()).unwrap_or(0);
        let in_use = self.max_readers - self.reader_slots.available_permits();
        PoolStats {
            idle,
            in_use,
            max: self.max_readers,
        }
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )
            .db()
        })
        .await
    }
}
