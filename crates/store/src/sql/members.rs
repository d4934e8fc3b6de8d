//! Membership of users in organisations: statements and repository.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::model::*;
use portal_core::rbac::Role;
use portal_core::store::{MemberRepo, StoreResult};
use portal_core::StoreError;

use super::decode::{self, org, org_cols, role, user, user_cols};
use super::{journal, Db, Exec, Lock, Sql, SqlStore};
use crate::args;

const LAST_ADMIN: &str = "the organisation's last admin cannot be removed or demoted";

static INSERT: Sql = Sql::new(
    "INSERT INTO org_members (org_id, user_id, role, created_at, last_active_at) \
     VALUES ($1, $2, $3, $4, $4)",
);
static ROLE: Sql = Sql::new("SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2");
static ADMINS_LEFT: Sql = Sql::new(
    "SELECT COUNT(*) FROM org_members WHERE org_id = $1 AND role = 'admin' AND user_id <> $2",
);
static SET_ROLE: Sql =
    Sql::new("UPDATE org_members SET role = $3 WHERE org_id = $1 AND user_id = $2");
static DELETE: Sql = Sql::new("DELETE FROM org_members WHERE org_id = $1 AND user_id = $2");
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    user_cols!(),
    ", m.role, m.created_at FROM org_members m JOIN users u ON u.id = m.user_id \
     WHERE m.org_id = $1 ORDER BY u.email{C}"
));
static USER_ORGS: Sql = Sql::new(concat!(
    "SELECT ",
    org_cols!(),
    ", m.role FROM org_members m JOIN organizations o ON o.id = m.org_id \
     WHERE m.user_id = $1 ORDER BY m.last_active_at IS NULL, m.last_active_at DESC, o.slug{C}"
));
static TOUCH: Sql =
    Sql::new("UPDATE org_members SET last_active_at = $3 WHERE org_id = $1 AND user_id = $2");

/// Inside `tx` (locking the org): refuses to leave the organisation without
/// an admin when the member stops being one (`demote`). `NotFound` when not a
/// member.
async fn guard_last_admin(
    tx: &mut impl Exec,
    org_id: &portal_core::ids::OrgId,
    user_id: &portal_core::ids::UserId,
    demote: bool,
) -> StoreResult<()> {
    tx.lock(Lock::Org(org_id)).await?;
    let current = tx.opt(&ROLE, &args![org_id, user_id], decode::text).await?;
    match current.as_deref() {
        None => Err(StoreError::NotFound),
        Some("admin")
            if demote
                && tx
                    .one(&ADMINS_LEFT, &args![org_id, user_id], decode::int)
                    .await?
                    == 0 =>
        {
            Err(StoreError::Conflict(LAST_ADMIN.into()))
        }
        _ => Ok(()),
    }
}

#[async_trait]
impl<B: Db> MemberRepo for SqlStore<B> {
    async fn add_member(
        &self,
        org_id: &portal_core::ids::OrgId,
        user_id: &portal_core::ids::UserId,
        role: Role,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.0.begin().await?;
        tx.execute(&INSERT, &args![org_id, user_id, role.as_str(), now])
            .await?;
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }

    async fn set_member_role(
        &self,
        org_id: &portal_core::ids::OrgId,
        user_id: &portal_core::ids::UserId,
        role: Role,
        j: &Journal<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.0.begin().await?;
        guard_last_admin(&mut tx, org_id, user_id, role != Role::Admin).await?;
        tx.execute(&SET_ROLE, &args![org_id, user_id, role.as_str()])
            .await?;
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }

    async fn remove_member(
        &self,
        org_id: &portal_core::ids::OrgId,
        user_id: &portal_core::ids::UserId,
        j: &Journal<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.0.begin().await?;
        guard_last_admin(&mut tx, org_id, user_id, true).await?;
        tx.execute(&DELETE, &args![org_id, user_id]).await?;
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }

    async fn member_role(
        &self,
        org_id: &portal_core::ids::OrgId,
        user_id: &portal_core::ids::UserId,
    ) -> StoreResult<Option<Role>> {
        let mut c = self.0.reader().await?;
        c.opt(&ROLE, &args![org_id, user_id], |r| role(r, 0)).await
    }

    async fn list_members(&self, org_id: &portal_core::ids::OrgId) -> StoreResult<Vec<Member>> {
        let mut c = self.0.reader().await?;
        c.rows(&LIST, &args![org_id], |r| {
            Ok(Member {
                user: user(r, 0)?,
                role: role(r, 6)?,
                joined_at: r.int(7)?,
            })
        })
        .await
    }

    async fn user_orgs(&self, user_id: &portal_core::ids::UserId) -> StoreResult<Vec<(Org, Role)>> {
        let mut c = self.0.reader().await?;
        c.rows(&USER_ORGS, &args![user_id], |r| {
            Ok((org(r, 0)?, role(r, 7)?))
        })
        .await
    }

    async fn touch_membership(
        &self,
        org_id: &portal_core::ids::OrgId,
        user_id: &portal_core::ids::UserId,
        now: i64,
    ) -> StoreResult<()> {
        let mut w = self.0.writer().await?;
        w.execute(&TOUCH, &args![org_id, user_id, now]).await?;
        w.commit().await
    }
}
