//! Chat stream events: statements and repository. Followers wait on the
//! backend's wake-ups (LISTEN/NOTIFY on PostgreSQL, in-process on SQLite).

use std::time::Duration;

use async_trait::async_trait;
use portal_core::model::*;
use portal_core::store::{ChatEventRepo, StoreResult};

use super::decode::{self, chat_event, event_cols};
use super::{Db, Exec, Sql, SqlStore};
use crate::args;
use crate::chat::{distinct, wait_for_events};

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO chat_events (",
    event_cols!(),
    ") VALUES ($1, $2, $3, $4, $5)"
));
static LIST: Sql = Sql::new(
    "SELECT e.session_id, e.seq, e.turn_id, e.body, e.created_at \
     FROM chat_events e JOIN chat_sessions s ON s.id = e.session_id \
     WHERE s.org_id = $1 AND e.session_id = $2 AND e.seq > $3 ORDER BY e.seq LIMIT $4",
);
static LAST: Sql =
    Sql::new("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM chat_events WHERE session_id = $1");

#[async_trait]
impl<B: Db> ChatEventRepo for SqlStore<B> {
    async fn append_chat_events(&self, events: &[ChatEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let sessions = distinct(events.iter().map(|e| e.session_id.as_str()));
        // One transaction: the rows and the notifications (delivered at
        // commit) go together or not at all.
        let mut tx = self.0.begin().await?;
        for e in events {
            tx.execute(
                &INSERT,
                &args![e.session_id, e.seq, e.turn_id, e.body, e.created_at],
            )
            .await?;
        }
        tx.notify_chat(&sessions).await?;
        tx.commit().await?;
        self.0.chat_appended(&sessions);
        Ok(())
    }

    async fn list_chat_events(
        &self,
        org_id: &portal_core::ids::OrgId,
        session_id: &portal_core::ids::SessionId,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatEvent>> {
        let (limit, _) = B::DIALECT.page(limit, 0);
        let mut c = self.0.reader().await?;
        c.rows(&LIST, &args![org_id, session_id, after, limit], chat_event)
            .await
    }

    async fn last_chat_event(&self, session_id: &portal_core::ids::SessionId) -> StoreResult<i64> {
        let mut c = self.0.reader().await?;
        c.one(&LAST, &args![session_id], decode::int).await
    }

    async fn wait_chat_events(
        &self,
        session_id: &portal_core::ids::SessionId,
        after: i64,
        timeout: Duration,
    ) -> StoreResult<()> {
        wait_for_events(
            self.0.chat_waiters(),
            session_id,
            after,
            timeout,
            || self.0.chat_pause(),
            || self.last_chat_event(session_id),
        )
        .await
    }
}
