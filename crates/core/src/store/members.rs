//! Membership of users in organisations, with the last-admin guard.

use super::StoreResult;
use crate::journal::Journal;
use crate::model::*;
use crate::rbac::Role;
use async_trait::async_trait;

/// Membership of users in organisations, with the last-admin guard.
#[async_trait]
pub trait MemberRepo: Send + Sync {
    /// Adds a member, with its journal; `Conflict` when already a member.
    async fn add_member(
        &self,
        org_id: &crate::ids::OrgId,
        user_id: &crate::ids::UserId,
        role: Role,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<()>;
    /// Changes a member's role, with its journal; `NotFound` when not a member; `Conflict` when it
    /// would leave the organisation without an admin.
    async fn set_member_role(
        &self,
        org_id: &crate::ids::OrgId,
        user_id: &crate::ids::UserId,
        role: Role,
        j: &Journal<'_>,
    ) -> StoreResult<()>;
    /// Removes a member, with its journal; `NotFound` when not a member; `Conflict` for the last admin.
    async fn remove_member(
        &self,
        org_id: &crate::ids::OrgId,
        user_id: &crate::ids::UserId,
        j: &Journal<'_>,
    ) -> StoreResult<()>;
    /// The user's role in the organisation.
    async fn member_role(
        &self,
        org_id: &crate::ids::OrgId,
        user_id: &crate::ids::UserId,
    ) -> StoreResult<Option<Role>>;
    /// The organisation's members.
    async fn list_members(&self, org_id: &crate::ids::OrgId) -> StoreResult<Vec<Member>>;
    /// The user's organisations, most recently used first.
    async fn user_orgs(&self, user_id: &crate::ids::UserId) -> StoreResult<Vec<(Org, Role)>>;
    /// Records that the user worked in the organisation now.
    async fn touch_membership(
        &self,
        org_id: &crate::ids::OrgId,
        user_id: &crate::ids::UserId,
        now: i64,
    ) -> StoreResult<()>;
}
