//! Chat sessions and their messages: statements and repository.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::model::*;
use portal_core::store::{ChatRepo, StoreResult};
use portal_core::StoreError;

use super::decode::{self, chat, chat_cols, message, message_cols};
use super::{Db, Dialect, Exec, Sql, SqlStore};
use crate::args;

static INSERT: Sql = Sql::new(
    "INSERT INTO chat_sessions (id, org_id, principal_id, title, model, status, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
);
static COUNT: Sql = Sql::new(
    "SELECT COALESCE((SELECT total FROM chat_session_counts WHERE org_id = $1 AND principal_id = $2), 0)",
);
/// The listing without its page (see [`list_page`]).
const LIST: &str = concat!(
    "SELECT ",
    chat_cols!(),
    " FROM chat_sessions s WHERE s.org_id = $1 AND s.principal_id = $2 \
     ORDER BY s.updated_at DESC, s.id{C}"
);
static LIST_BOUND: Sql = Sql::new(concat!(
    "SELECT ",
    chat_cols!(),
    " FROM chat_sessions s WHERE s.org_id = $1 AND s.principal_id = $2 \
     ORDER BY s.updated_at DESC, s.id{C} LIMIT $3 OFFSET $4"
));
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    chat_cols!(),
    " FROM chat_sessions s WHERE s.org_id = $1 AND s.principal_id = $2 AND s.id = $3"
));
static RENAME: Sql = Sql::new(
    "UPDATE chat_sessions SET title = $4, updated_at = $5 WHERE org_id = $1 AND principal_id = $2 AND id = $3",
);
static DELETE: Sql =
    Sql::new("DELETE FROM chat_sessions WHERE org_id = $1 AND principal_id = $2 AND id = $3");
static EXISTS: Sql = Sql::new("SELECT 1 FROM chat_sessions WHERE id = $1 AND org_id = $2");
/// Updating the session row locks it (PostgreSQL): concurrent appends to the
/// session queue here, and the MAX below (a fresh snapshot under READ
/// COMMITTED) sees the previous appender's messages. SQLite's single writer
/// makes reading the last seq and inserting atomic anyway.
static BUMP: Sql =
    Sql::new("UPDATE chat_sessions SET updated_at = $3 WHERE id = $1 AND org_id = $2");
static LAST_SEQ: Sql =
    Sql::new("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM chat_messages WHERE session_id = $1");
static INSERT_MESSAGE: Sql = Sql::new(concat!(
    "INSERT INTO chat_messages (",
    message_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
));
static MESSAGES: Sql = Sql::new(
    "SELECT m.id, m.session_id, m.seq, m.role, m.content, m.meta, m.created_at \
     FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id \
     WHERE s.org_id = $1 AND m.session_id = $2 AND m.seq > $3 ORDER BY m.seq LIMIT $4",
);
static SET_TITLE: Sql = Sql::new(
    "UPDATE chat_sessions SET title = $3, updated_at = $4 WHERE id = $1 AND org_id = $2 AND title IS NULL",
);

/// On SQLite, `LIMIT` and `OFFSET` are written as integer literals: bound to
/// parameters, SQLite re-prepares the statement on every execution (the
/// values feed its `ORDER BY … LIMIT` plan), which costs more than the query.
/// The common pages share a handful of cached texts.
fn list_page(limit: i64, offset: i64) -> Sql {
    Sql::dynamic(format!(
        "{LIST} LIMIT {} OFFSET {}",
        limit.max(0),
        offset.max(0)
    ))
}

#[async_trait]
impl<B: Db> ChatRepo for SqlStore<B> {
    async fn create_chat_session(&self, s: &ChatSession) -> StoreResult<()> {
        let mut w = self.0.writer().await?;
        w.execute(
            &INSERT,
            &args![
                s.id,
                s.org_id,
                s.principal_id,
                s.title,
                s.model,
                s.status,
                s.created_at,
                s.updated_at
            ],
        )
        .await?;
        w.commit().await
    }

    async fn list_chat_sessions(
        &self,
        org_id: &portal_core::ids::OrgId,
        principal_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<ChatSession>> {
        let mut c = self.0.reader().await?;
        let total = c
            .one(&COUNT, &args![org_id, principal_id], decode::int)
            .await?;
        let items = match B::DIALECT {
            Dialect::Sqlite => {
                c.rows(
                    &list_page(limit, offset),
                    &args![org_id, principal_id],
                    chat,
                )
                .await?
            }
            Dialect::Postgres => {
                let (limit, offset) = B::DIALECT.page(limit, offset);
                c.rows(
                    &LIST_BOUND,
                    &args![org_id, principal_id, limit, offset],
                    chat,
                )
                .await?
            }
        };
        Ok(Page { items, total })
    }

    async fn get_chat_session(
        &self,
        org_id: &portal_core::ids::OrgId,
        principal_id: &str,
        id: &portal_core::ids::SessionId,
    ) -> StoreResult<Option<ChatSession>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET, &args![org_id, principal_id, id], chat).await
    }

    async fn rename_chat_session(
        &self,
        org_id: &portal_core::ids::OrgId,
        principal_id: &str,
        id: &portal_core::ids::SessionId,
        title: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        let mut w = self.0.writer().await?;
        let n = w
            .execute(&RENAME, &args![org_id, principal_id, id, title, now])
            .await?;
        w.commit().await?;
        Ok(n > 0)
    }

    async fn delete_chat_session(
        &self,
        org_id: &portal_core::ids::OrgId,
        principal_id: &str,
        id: &portal_core::ids::SessionId,
    ) -> StoreResult<bool> {
        let mut w = self.0.writer().await?;
        let n = w.execute(&DELETE, &args![org_id, principal_id, id]).await?;
        w.commit().await?;
        Ok(n > 0)
    }

    async fn append_chat_messages_recorded(
        &self,
        org_id: &portal_core::ids::OrgId,
        session_id: &portal_core::ids::SessionId,
        messages: &[ChatMessage],
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<Vec<ChatMessage>> {
        if messages.is_empty() {
            let mut c = self.0.reader().await?;
            let found = c
                .opt(&EXISTS, &args![session_id, org_id], decode::unit)
                .await?;
            return found.map(|()| Vec::new()).ok_or(StoreError::NotFound);
        }
        let mut tx = self.0.begin().await?;
        if tx.execute(&BUMP, &args![session_id, org_id, now]).await? == 0 {
            return Err(StoreError::NotFound);
        }
        let last = tx.one(&LAST_SEQ, &args![session_id], decode::int).await?;
        let mut stored = Vec::with_capacity(messages.len());
        for (m, seq) in messages.iter().zip(last + 1..) {
            tx.execute(
                &INSERT_MESSAGE,
                &args![
                    m.id,
                    session_id,
                    seq,
                    m.role,
                    m.content,
                    m.meta,
                    m.created_at
                ],
            )
            .await?;
            stored.push(ChatMessage {
                session_id: portal_core::ids::SessionId::from(session_id.to_string()),
                seq,
                ..m.clone()
            });
        }
        // Indexing for search, off the request path: one job in this same
        // transaction, so a stored message is never left unindexed.
        let indexed: Vec<String> = stored
            .iter()
            .filter(|m| m.role != "summary")
            .map(|m| m.id.clone())
            .collect();
        if !indexed.is_empty() {
            let job = portal_core::search::indexing::job(org_id, indexed, now);
            super::jobs::insert(&mut tx, &job, now).await?;
        }
        super::journal::write(&mut tx, j).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn list_chat_messages(
        &self,
        org_id: &portal_core::ids::OrgId,
        session_id: &portal_core::ids::SessionId,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        let (limit, _) = B::DIALECT.page(limit, 0);
        let mut c = self.0.reader().await?;
        c.rows(&MESSAGES, &args![org_id, session_id, after, limit], message)
            .await
    }

    async fn set_chat_title_if_unset(
        &self,
        org_id: &portal_core::ids::OrgId,
        session_id: &portal_core::ids::SessionId,
        title: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let mut w = self.0.writer().await?;
        let n = w
            .execute(&SET_TITLE, &args![session_id, org_id, title, now])
            .await?;
        w.commit().await?;
        Ok(n > 0)
    }
}
