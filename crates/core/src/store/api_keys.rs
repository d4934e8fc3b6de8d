//! API keys (the secret itself is never stored, only its hash).

use super::StoreResult;
use crate::journal::Journal;
use crate::model::*;
use async_trait::async_trait;

/// API keys (the secret itself is never stored, only its hash).
#[async_trait]
pub trait ApiKeyRepo: Send + Sync {
    /// Stores a key, with its journal; `Conflict` when the name is taken in the organisation.
    async fn create_api_key(&self, k: NewApiKey, j: &Journal<'_>) -> StoreResult<ApiKey>;
    /// The organisation's keys (revoked ones included, marked).
    async fn list_api_keys(&self, org_id: &crate::ids::OrgId) -> StoreResult<Vec<ApiKey>>;
    /// A key by the hash of its secret.
    async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>>;
    /// Revokes a key by id within the organisation, with its journal; false (and no journal) when there is no such live key.
    async fn revoke_api_key(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool>;
    /// Revokes a key by name within the organisation, with its journal; false (and no journal) when there is no such live key.
    async fn revoke_api_key_by_name(
        &self,
        org_id: &crate::ids::OrgId,
        name: &str,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool>;
    /// Revokes every live key acting as the user, in every organisation; the number revoked.
    async fn revoke_user_api_keys(
        &self,
        user_id: &crate::ids::UserId,
        now: i64,
    ) -> StoreResult<u64>;
    /// Writes `last_used_at` for a batch of keys.
    async fn touch_api_keys(&self, used: &[(String, i64)]) -> StoreResult<()>;
}
