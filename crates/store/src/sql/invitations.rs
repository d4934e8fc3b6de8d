//! Invitations: statements and repository.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::model::*;
use portal_core::store::{InvitationRepo, StoreResult};
use portal_core::StoreError;

use super::decode::{invitation, invitation_cols, org, org_cols};
use super::{journal, users, Db, Exec, Sql, SqlStore};
use crate::args;

static EXPIRE_LAPSED: Sql = Sql::new(
    "UPDATE invitations SET status = 'expired' WHERE org_id = $1 AND user_id = $2 \
     AND status = 'pending' AND expires_at <= $3",
);
static INSERT: Sql = Sql::new(
    "INSERT INTO invitations (id, org_id, user_id, role, invited_by, created_account, status, \
     created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
);
static OF_USER: Sql = Sql::new(concat!(
    "SELECT ",
    invitation_cols!(),
    ", ",
    org_cols!(),
    " FROM invitations i JOIN organizations o ON o.id = i.org_id \
     WHERE i.user_id = $1 AND i.status = 'pending' AND i.expires_at > $2 \
     ORDER BY i.created_at DESC, i.id"
));
/// The conditional update claims the invitation: two concurrent decisions, one wins.
static DECIDE: Sql = Sql::new(
    "UPDATE invitations SET status = $4, decided_at = $3 \
     WHERE id = $1 AND user_id = $2 AND status = 'pending' AND expires_at > $3 RETURNING id",
);
static BY_ID: Sql = Sql::new(concat!(
    "SELECT ",
    invitation_cols!(),
    " FROM invitations i WHERE i.id = $1"
));
static ACCEPT_MEMBER: Sql = Sql::new(
    "INSERT INTO org_members (org_id, user_id, role, created_at, last_active_at) \
     VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (org_id, user_id) DO NOTHING",
);

/// Stores a pending invitation, first marking the pair's lapsed ones expired.
async fn insert<E: Exec>(tx: &mut E, inv: &Invitation) -> StoreResult<()> {
    tx.execute(
        &EXPIRE_LAPSED,
        &args![inv.org_id, inv.user_id, inv.created_at],
    )
    .await?;
    tx.execute(
        &INSERT,
        &args![
            inv.id,
            inv.org_id,
            inv.user_id,
            inv.role.as_str(),
            inv.invited_by,
            inv.created_account,
            inv.status.as_str(),
            inv.created_at,
            inv.expires_at
        ],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl<B: Db> InvitationRepo for SqlStore<B> {
    async fn create_invitation(&self, inv: &Invitation, j: &Journal<'_>) -> StoreResult<()> {
        let mut tx = self.0.begin().await?;
        insert(&mut tx, inv).await?;
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }

    async fn create_account_invitation(
        &self,
        user: &NewUser,
        inv: &Invitation,
        j: &Journal<'_>,
    ) -> StoreResult<User> {
        let mut tx = self.0.begin().await?;
        users::insert(&mut tx, &inv.user_id, user, inv.created_at).await?;
        insert(&mut tx, inv).await?;
        journal::write(&mut tx, j).await?;
        tx.commit().await?;
        Ok(User {
            id: inv.user_id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            platform_admin: user.platform_admin,
            must_change_password: user.must_change_password,
            created_at: inv.created_at,
        })
    }

    async fn user_invitations(
        &self,
        user_id: &portal_core::ids::UserId,
        now: i64,
    ) -> StoreResult<Vec<(Invitation, Org)>> {
        let mut c = self.0.reader().await?;
        c.rows(&OF_USER, &args![user_id, now], |r| {
            Ok((invitation(r, 0)?, org(r, 9)?))
        })
        .await
    }

    async fn decide_invitation(
        &self,
        id: &str,
        user_id: &portal_core::ids::UserId,
        accept: bool,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<Invitation> {
        let status = if accept {
            InvitationStatus::Accepted
        } else {
            InvitationStatus::Declined
        };
        let mut tx = self.0.begin().await?;
        let claimed = tx
            .opt(&DECIDE, &args![id, user_id, now, status.as_str()], |_| {
                Ok(())
            })
            .await?;
        if claimed.is_none() {
            return Err(StoreError::NotFound);
        }
        let inv = tx.one(&BY_ID, &args![id], |r| invitation(r, 0)).await?;
        if accept {
            tx.execute(
                &ACCEPT_MEMBER,
                &args![inv.org_id, inv.user_id, inv.role.as_str(), now],
            )
            .await?;
        }
        journal::write(&mut tx, j).await?;
        tx.commit().await?;
        Ok(inv)
    }
}
