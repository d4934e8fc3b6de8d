//! Organisations, their settings (compartment policy, four-eyes) and first-run setup.

use super::StoreResult;
use crate::journal::Journal;
use crate::model::*;
use async_trait::async_trait;

/// Organisations, their settings (compartment policy, four-eyes) and first-run setup.
#[async_trait]
pub trait OrgRepo: Send + Sync {
    /// Creates an organisation; `Conflict` when the slug is taken.
    async fn create_org(&self, id: &str, slug: &str, name: &str, now: i64) -> StoreResult<Org> {
        self.create_org_with(id, slug, name, None, now, Journal::NONE)
            .await
    }
    /// Creates an organisation and, when `admin` names a user, makes them its
    /// admin, with its journal: one transaction, so an organisation never
    /// exists without its creator's membership or its record.
    async fn create_org_with(
        &self,
        id: &str,
        slug: &str,
        name: &str,
        admin: Option<&str>,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<Org>;
    /// An organisation by slug.
    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>>;
    /// An organisation by id.
    async fn org_by_id(&self, id: &str) -> StoreResult<Option<Org>>;
    /// Every organisation (platform admins).
    async fn list_orgs(&self) -> StoreResult<Vec<Org>>;
    /// Sets the organisation's compartment policy (empty: no restriction), with its journal.
    async fn set_org_compartments(
        &self,
        org_id: &crate::ids::OrgId,
        allowed: &[String],
        j: &Journal<'_>,
    ) -> StoreResult<()>;
    /// Turns four-eyes approval of `danger` tools on or off, with its journal.
    async fn set_org_four_eyes(
        &self,
        org_id: &crate::ids::OrgId,
        on: bool,
        j: &Journal<'_>,
    ) -> StoreResult<()>;
    /// Allows or refuses password sign-in for the organisation's members, with its journal.
    async fn set_org_password_sign_in(
        &self,
        org_id: &crate::ids::OrgId,
        on: bool,
        j: &Journal<'_>,
    ) -> StoreResult<()>;
    /// The name of an organisation the user belongs to that refuses password
    /// sign-in (`None`: every one of theirs allows it).
    async fn password_sign_in_refused_by(
        &self,
        user_id: &crate::ids::UserId,
    ) -> StoreResult<Option<String>>;
    /// True once any organisation admin or platform admin exists.
    async fn admin_exists(&self) -> StoreResult<bool>;
    /// First-run setup in one transaction with its journal: re-checks that no
    /// admin exists (`Conflict` otherwise), creates the user `user_id`
    /// (platform admin) and the organisation, and makes the user its admin.
    #[allow(clippy::too_many_arguments)]
    async fn bootstrap_admin(
        &self,
        user_id: &crate::ids::UserId,
        user: NewUser,
        org_id: &crate::ids::OrgId,
        slug: &str,
        org_name: &str,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<(User, Org)>;
}
