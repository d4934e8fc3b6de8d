//! Browser sessions: statements and repository.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::model::*;
use portal_core::store::{AuthSessionRepo, StoreResult};

use super::decode::{self, user, user_cols};
use super::{journal, Db, Exec, Sql, SqlStore};
use crate::args;

static INSERT: Sql = Sql::new(
    "INSERT INTO auth_sessions (id, token_hash, user_id, active_org_id, created_at, expires_at, \
     last_seen_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $5, $7, $8)",
);
static BY_HASH: Sql = Sql::new(concat!(
    "SELECT s.id, s.active_org_id, s.expires_at, s.revoked_at, ",
    user_cols!(),
    " FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
));
static EXTEND: Sql = Sql::new(
    "UPDATE auth_sessions SET expires_at = $2, last_seen_at = $3 WHERE id = $1 AND revoked_at IS NULL",
);
static REVOKE: Sql =
    Sql::new("UPDATE auth_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL");
pub(crate) static REVOKE_USER: Sql = Sql::new(
    "UPDATE auth_sessions SET revoked_at = $3 \
     WHERE user_id = $1 AND revoked_at IS NULL AND id <> COALESCE($2::TEXT, '')",
);
static ACTIVE: Sql = Sql::new(
    "SELECT EXISTS(SELECT 1 FROM auth_sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2)",
);
static LIST_USER: Sql = Sql::new(
    "SELECT id, created_at, last_seen_at, expires_at, ip, user_agent FROM auth_sessions \
     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id LIMIT 100",
);
static REVOKE_OWN: Sql = Sql::new(
    "UPDATE auth_sessions SET revoked_at = $3 \
     WHERE user_id = $1 AND id = $2 AND revoked_at IS NULL AND expires_at > $3",
);
static SET_ORG: Sql = Sql::new("UPDATE auth_sessions SET active_org_id = $2 WHERE id = $1");

#[async_trait]
impl<B: Db> AuthSessionRepo for SqlStore<B> {
    async fn create_auth_session(&self, s: NewAuthSession) -> StoreResult<()> {
        let mut w = self.0.writer().await?;
        w.execute(
            &INSERT,
            &args![
                s.id,
                s.token_hash,
                s.user_id,
                s.active_org_id,
                s.created_at,
                s.expires_at,
                s.ip,
                s.user_agent
            ],
        )
        .await?;
        w.commit().await
    }

    async fn auth_session_by_hash(&self, token_hash: &str) -> StoreResult<Option<AuthSession>> {
        let mut c = self.0.reader().await?;
        c.opt(&BY_HASH, &args![token_hash], |r| {
            Ok(AuthSession {
                id: r.text(0)?,
                active_org_id: r.opt_text(1)?.map(Into::into),
                expires_at: r.int(2)?,
                revoked_at: r.opt_int(3)?,
                user: user(r, 4)?,
            })
        })
        .await
    }

    async fn extend_auth_session(&self, id: &str, expires_at: i64, now: i64) -> StoreResult<()> {
        let mut w = self.0.writer().await?;
        w.execute(&EXTEND, &args![id, expires_at, now]).await?;
        w.commit().await
    }

    async fn revoke_auth_session(&self, id: &str, now: i64) -> StoreResult<()> {
        let mut w = self.0.writer().await?;
        w.execute(&REVOKE, &args![id, now]).await?;
        w.commit().await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &portal_core::ids::UserId,
        keep: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        let mut w = self.0.writer().await?;
        w.execute(&REVOKE_USER, &args![user_id, keep, now]).await?;
        w.commit().await
    }

    async fn auth_session_active(&self, id: &str, now: i64) -> StoreResult<bool> {
        let mut c = self.0.reader().await?;
        c.one(&ACTIVE, &args![id, now], decode::flag).await
    }

    async fn list_user_sessions(
        &self,
        user_id: &portal_core::ids::UserId,
        now: i64,
    ) -> StoreResult<Vec<SessionInfo>> {
        let mut c = self.0.reader().await?;
        c.rows(&LIST_USER, &args![user_id, now], |r| {
            Ok(SessionInfo {
                id: r.text(0)?,
                created_at: r.int(1)?,
                last_seen_at: r.int(2)?,
                expires_at: r.int(3)?,
                ip: r.opt_text(4)?,
                user_agent: r.opt_text(5)?,
            })
        })
        .await
    }

    async fn revoke_user_session(
        &self,
        user_id: &portal_core::ids::UserId,
        id: &str,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let mut tx = self.0.begin().await?;
        let n = tx.execute(&REVOKE_OWN, &args![user_id, id, now]).await?;
        journal::commit_touched(tx, n, j).await
    }

    async fn set_session_org(&self, id: &str, org_id: &portal_core::ids::OrgId) -> StoreResult<()> {
        let mut w = self.0.writer().await?;
        w.execute(&SET_ORG, &args![id, org_id]).await?;
        w.commit().await
    }
}
