//! Accounts: identity, password hash, platform admin flag.

use super::StoreResult;
use crate::journal::Journal;
use crate::model::*;
use async_trait::async_trait;

/// Accounts: identity, password hash, platform admin flag.
#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Creates a user; `Conflict` when the email is taken.
    async fn create_user(&self, user: NewUser, now: i64) -> StoreResult<User>;
    /// A user and their password hash, by (normalised) email.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>>;
    /// A user by id.
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>>;
    /// The user's password hash.
    async fn password_hash(&self, user_id: &crate::ids::UserId) -> StoreResult<Option<String>>;
    /// Replaces the user's password hash.
    async fn set_password(
        &self,
        user_id: &crate::ids::UserId,
        hash: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// A password change in one transaction: replaces the hash, ends the
    /// user's sessions but `keep`, revokes their API keys, and writes the
    /// journal `record` makes of how many keys that revoked. Returns that count.
    async fn change_password<'k>(
        &self,
        user_id: &crate::ids::UserId,
        hash: &str,
        keep: Option<&str>,
        now: i64,
        record: &(dyn Fn(u64) -> Journal<'k> + Send + Sync),
    ) -> StoreResult<u64>;
    /// Sets or clears the platform admin flag.
    async fn set_platform_admin(
        &self,
        user_id: &crate::ids::UserId,
        on: bool,
        now: i64,
    ) -> StoreResult<()>;
}
