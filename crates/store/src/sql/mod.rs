//! The storage contract written once for both backends.
//!
//! Each aggregate's file holds its statements (PostgreSQL text, rendered per
//! [`Dialect`]), its row decoders (over [`Row`]) and its repository impl for
//! [`SqlStore`]`<B>`, generic over the backend `B`. A backend ([`Db`]) only
//! supplies connections, transactions, locks and LISTEN/NOTIFY.

pub(crate) mod arg;
pub(crate) mod dialect;
pub(crate) mod row;

mod activity;
mod advisor;
mod advisor_schedules;
mod ai_providers;
mod api_keys;
mod approvals;
mod audit;
mod auth_sessions;
mod chat;
mod chat_control;
mod chat_events;
mod chat_turns;
mod decode;
mod events;
mod executions;
mod idp;
mod invitations;
mod jobs;
mod journal;
mod keyring;
pub(crate) mod locks;
mod mcp_servers;
mod members;
mod orgs;
mod portal_settings;
mod search;
mod users;
mod webhooks;
mod workflow_runs;
mod workflows;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use portal_core::store::StoreResult;
use portal_core::StoreError;
use tokio::sync::Notify;

pub(crate) use arg::Arg;
pub(crate) use dialect::{Dialect, Sql};
pub(crate) use locks::Lock;
pub(crate) use row::{Decode, Row};

/// `NotFound` unless a write touched a row.
pub(crate) fn touched(n: u64) -> StoreResult<()> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A store over backend `B`: implements every repository trait.
pub struct SqlStore<B>(pub(crate) B);

impl<B> Deref for SqlStore<B> {
    type Target = B;
    fn deref(&self) -> &B {
        &self.0
    }
}

/// A connection (or transaction) statements run on.
pub(crate) trait Exec: Send {
    /// Runs a statement; the number of rows it touched.
    fn execute(
        &mut self,
        sql: &Sql,
        args: &[Arg<'_>],
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Every row of a query, decoded.
    fn rows<T: Send>(
        &mut self,
        sql: &Sql,
        args: &[Arg<'_>],
        f: Decode<T>,
    ) -> impl Future<Output = StoreResult<Vec<T>>> + Send;

    /// The first row of a query, if any, decoded.
    fn opt<T: Send>(
        &mut self,
        sql: &Sql,
        args: &[Arg<'_>],
        f: Decode<T>,
    ) -> impl Future<Output = StoreResult<Option<T>>> + Send;

    /// Takes a lock inside this transaction (PostgreSQL; SQLite's single
    /// writer needs none).
    fn lock(&mut self, lock: Lock<'_>) -> impl Future<Output = StoreResult<()>> + Send;

    /// Inside this transaction, announces new stream events of these sessions
    /// to other replicas (PostgreSQL NOTIFY, delivered at commit; SQLite's
    /// other processes poll).
    fn notify_chat(&mut self, sessions: &[&str]) -> impl Future<Output = StoreResult<()>> + Send;

    /// After a write that made a job due now, wakes job runners (PostgreSQL
    /// NOTIFY, delivered at commit inside a transaction; on SQLite this
    /// process's runners).
    fn notify_jobs(&mut self, kind: &str) -> impl Future<Output = ()> + Send;

    /// Commits a transaction or write (a no-op for a plain reader).
    fn commit(self) -> impl Future<Output = StoreResult<()>> + Send;

    /// The one row of a query (an aggregate); `NotFound` when there is none.
    fn one<T: Send>(
        &mut self,
        sql: &Sql,
        args: &[Arg<'_>],
        f: Decode<T>,
    ) -> impl Future<Output = StoreResult<T>> + Send {
        let found = self.opt(sql, args, f);
        async move { found.await?.ok_or(StoreError::NotFound) }
    }
}

/// A database backend: where connections come from, and the few things that
/// differ beyond statement text.
pub(crate) trait Db: Send + Sync + 'static {
    /// The dialect of its statements.
    const DIALECT: Dialect;

    /// A connection of this backend, reading or writing.
    type Conn<'a>: Exec
    where
        Self: 'a;

    /// A connection for reads.
    fn reader(&self) -> impl Future<Output = StoreResult<Self::Conn<'_>>> + Send;

    /// A connection for one write statement (SQLite: the single writer in an
    /// immediate transaction; PostgreSQL: autocommit). Commit it.
    fn writer(&self) -> impl Future<Output = StoreResult<Self::Conn<'_>>> + Send;

    /// A transaction for several statements; rolled back unless committed.
    fn begin(&self) -> impl Future<Output = StoreResult<Self::Conn<'_>>> + Send;

    /// After commit, wakes this process's followers of these sessions.
    fn chat_appended(&self, sessions: &[&str]);

    /// This process's followers of chat event streams.
    fn chat_waiters(&self) -> &crate::chat::Waiters;

    /// How long a follower sleeps between checks when nothing woke it (read
    /// before each check; PostgreSQL starts its listener here).
    fn chat_pause(&self) -> std::time::Duration;

    /// The runners' wake-up signal, when the backend has one.
    fn job_signal(&self) -> Option<Arc<Notify>>;
}
