//! Chat sessions and their messages (tenancy: every read names the org).

use super::StoreResult;
use crate::journal::Journal;
use crate::model::*;
use async_trait::async_trait;

/// Chat sessions and their messages (tenancy: every read names the org).
#[async_trait]
pub trait ChatRepo: Send + Sync {
    /// Creates a chat session.
    async fn create_chat_session(&self, s: &ChatSession) -> StoreResult<()>;
    /// The principal's sessions in the organisation, newest first.
    async fn list_chat_sessions(
        &self,
        org_id: &crate::ids::OrgId,
        principal_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<ChatSession>>;
    /// One of the principal's sessions.
    async fn get_chat_session(
        &self,
        org_id: &crate::ids::OrgId,
        principal_id: &str,
        id: &crate::ids::SessionId,
    ) -> StoreResult<Option<ChatSession>>;
    /// Renames a session; false when not found.
    async fn rename_chat_session(
        &self,
        org_id: &crate::ids::OrgId,
        principal_id: &str,
        id: &crate::ids::SessionId,
        title: Option<&str>,
        now: i64,
    ) -> StoreResult<bool>;
    /// Deletes a session and its messages; false when not found.
    async fn delete_chat_session(
        &self,
        org_id: &crate::ids::OrgId,
        principal_id: &str,
        id: &crate::ids::SessionId,
    ) -> StoreResult<bool>;
    /// Appends messages to a session, assigning each the next `seq` (the given `seq`
    /// is ignored), and bumps the session's `updated_at`. Returns them as stored.
    /// `NotFound` when the session is not in the organisation.
    async fn append_chat_messages(
        &self,
        org_id: &crate::ids::OrgId,
        session_id: &crate::ids::SessionId,
        messages: &[ChatMessage],
        now: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        self.append_chat_messages_recorded(org_id, session_id, messages, now, Journal::NONE)
            .await
    }
    /// [`ChatRepo::append_chat_messages`] with a journal written in the same
    /// transaction (a refused message and its audit entry).
    async fn append_chat_messages_recorded(
        &self,
        org_id: &crate::ids::OrgId,
        session_id: &crate::ids::SessionId,
        messages: &[ChatMessage],
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<Vec<ChatMessage>>;
    /// A session's messages with `seq > after`, oldest first, at most `limit`.
    async fn list_chat_messages(
        &self,
        org_id: &crate::ids::OrgId,
        session_id: &crate::ids::SessionId,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>>;
    /// Sets a session's title when it has none; false when it already had one.
    async fn set_chat_title_if_unset(
        &self,
        org_id: &crate::ids::OrgId,
        session_id: &crate::ids::SessionId,
        title: &str,
        now: i64,
    ) -> StoreResult<bool>;
}
