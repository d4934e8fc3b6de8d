//! Invitations to join an organisation.

use super::StoreResult;
use crate::journal::Journal;
use crate::model::*;
use async_trait::async_trait;

/// Invitations to join an organisation.
#[async_trait]
pub trait InvitationRepo: Send + Sync {
    /// Stores a pending invitation; first marks the pair's lapsed pending ones
    /// expired; with its journal. `Conflict` when one is still pending.
    async fn create_invitation(&self, inv: &Invitation, j: &Journal<'_>) -> StoreResult<()>;
    /// A new account (`inv.user_id`) with its first invitation, in one
    /// transaction with its journal. `Conflict` when the email is taken.
    async fn create_account_invitation(
        &self,
        user: &NewUser,
        inv: &Invitation,
        j: &Journal<'_>,
    ) -> StoreResult<User>;
    /// The user's pending, unexpired invitations, with their organisations, newest first.
    async fn user_invitations(
        &self,
        user_id: &crate::ids::UserId,
        now: i64,
    ) -> StoreResult<Vec<(Invitation, Org)>>;
    /// Accepts or declines the user's pending, unexpired invitation; accepting
    /// adds the membership (never used yet: `last_active_at` NULL) in the same
    /// transaction, with its journal. `NotFound` when there is no such
    /// invitation for this user (and nothing is recorded).
    async fn decide_invitation(
        &self,
        id: &str,
        user_id: &crate::ids::UserId,
        accept: bool,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<Invitation>;
}
