//! Identity providers, the links of their subjects to accounts, the
//! memberships they manage, and the spent sign-in states.

use super::StoreResult;
use crate::journal::Journal;
use crate::sso::{IdentityLink, IdentityProvider};
use async_trait::async_trait;

/// Identity providers are platform data (a platform admin manages them); a
/// provider's organisation, when it has one, is a column, not a tenant
/// boundary of the admin API.
#[async_trait]
pub trait IdpRepo: Send + Sync {
    /// Stores a provider with its journal.
    async fn create_idp(&self, p: &IdentityProvider, j: &Journal<'_>) -> StoreResult<()>;
    /// Every provider, oldest first.
    async fn list_idps(&self) -> StoreResult<Vec<IdentityProvider>>;
    /// One provider.
    async fn get_idp(&self, id: &str) -> StoreResult<Option<IdentityProvider>>;
    /// Writes a provider's changeable fields with its journal; false when absent.
    async fn update_idp(&self, p: &IdentityProvider, j: &Journal<'_>) -> StoreResult<bool>;
    /// Deletes a provider (its links and managed memberships go with it)
    /// with its journal; false when absent.
    async fn delete_idp(&self, id: &str, j: &Journal<'_>) -> StoreResult<bool>;
    /// The account a provider's subject is linked to.
    async fn identity_link(&self, idp_id: &str, subject: &str) -> StoreResult<Option<String>>;
    /// Links a subject to an account (`Conflict` when the subject is linked).
    async fn link_identity(&self, l: &IdentityLink, now: i64) -> StoreResult<()>;
    /// Records that the provider signed the member in (it may manage the role).
    async fn mark_sso_member(
        &self,
        org_id: &crate::ids::OrgId,
        user_id: &crate::ids::UserId,
        idp_id: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// The name of a provider that manages this member's role, if any.
    async fn role_managed_by(
        &self,
        org_id: &crate::ids::OrgId,
        user_id: &crate::ids::UserId,
    ) -> StoreResult<Option<String>>;
    /// The providers that have signed members into this organisation.
    async fn idps_signed_into(&self, org_id: &crate::ids::OrgId) -> StoreResult<Vec<String>>;
    /// Records that a browser session was opened by a provider, with its ID
    /// token sealed (for RP-initiated logout).
    async fn record_sso_session(
        &self,
        session_id: &str,
        idp_id: &str,
        id_token_sealed: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// The provider that opened a browser session and its sealed ID token.
    async fn sso_session(&self, session_id: &str) -> StoreResult<Option<(String, String)>>;
    /// Spends a sign-in state (by its hash): false when it was spent before.
    /// Spent states older than `now` are forgotten.
    async fn spend_sso_state(&self, hash: &str, expires_at: i64, now: i64) -> StoreResult<bool>;
}
