//! Browser sign-in sessions.

use super::StoreResult;
use crate::journal::Journal;
use crate::model::*;
use async_trait::async_trait;

/// Browser sign-in sessions.
#[async_trait]
pub trait AuthSessionRepo: Send + Sync {
    /// Stores a new session.
    async fn create_auth_session(&self, s: NewAuthSession) -> StoreResult<()>;
    /// A live or dead session by token hash (the caller checks expiry and revocation).
    async fn auth_session_by_hash(&self, token_hash: &str) -> StoreResult<Option<AuthSession>>;
    /// Moves the expiry.
    async fn extend_auth_session(&self, id: &str, expires_at: i64, now: i64) -> StoreResult<()>;
    /// Revokes one session.
    async fn revoke_auth_session(&self, id: &str, now: i64) -> StoreResult<()>;
    /// Revokes all the user's sessions except `keep`.
    async fn revoke_user_sessions(
        &self,
        user_id: &crate::ids::UserId,
        keep: Option<&str>,
        now: i64,
    ) -> StoreResult<()>;
    /// True while the session exists, is not revoked and has not expired.
    async fn auth_session_active(&self, id: &str, now: i64) -> StoreResult<bool>;
    /// The user's live sessions (not revoked, not expired at `now`), newest first.
    async fn list_user_sessions(
        &self,
        user_id: &crate::ids::UserId,
        now: i64,
    ) -> StoreResult<Vec<SessionInfo>>;
    /// Revokes one of the user's own sessions; false when it is not theirs or already over.
    async fn revoke_user_session(
        &self,
        user_id: &crate::ids::UserId,
        id: &str,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool>;
    /// Switches the session's active organisation.
    async fn set_session_org(&self, id: &str, org_id: &crate::ids::OrgId) -> StoreResult<()>;
}
