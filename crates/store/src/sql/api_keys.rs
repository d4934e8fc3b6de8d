//! API keys: statements and repository.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::model::*;
use portal_core::store::{ApiKeyRepo, StoreResult};

use super::decode::{api_key, key_cols};
use super::{journal, Db, Exec, Sql, SqlStore};
use crate::args;

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO api_keys (",
    key_cols!(),
    ", key_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, $10)"
));
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    key_cols!(),
    " FROM api_keys WHERE org_id = $1 ORDER BY created_at DESC, name{C}"
));
static BY_HASH: Sql = Sql::new(concat!(
    "SELECT ",
    key_cols!(),
    " FROM api_keys WHERE key_hash = $1"
));
pub(crate) static REVOKE_USER: Sql =
    Sql::new("UPDATE api_keys SET revoked_at = $2 WHERE owner_user_id = $1 AND revoked_at IS NULL");
static REVOKE: Sql = Sql::new(
    "UPDATE api_keys SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL",
);
static REVOKE_BY_NAME: Sql = Sql::new(
    "UPDATE api_keys SET revoked_at = $3 WHERE org_id = $1 AND name = $2 AND revoked_at IS NULL",
);
static TOUCH: Sql = Sql::new(
    "UPDATE api_keys SET last_used_at = {GREATEST}(COALESCE(last_used_at, 0), $2) WHERE id = $1",
);

#[async_trait]
impl<B: Db> ApiKeyRepo for SqlStore<B> {
    async fn create_api_key(&self, k: NewApiKey, j: &Journal<'_>) -> StoreResult<ApiKey> {
        let perms = serde_json::to_string(&k.permissions).unwrap_or_else(|_| "[]".into());
        let mut w = self.0.begin().await?;
        w.execute(
            &INSERT,
            &args![
                k.id,
                k.org_id,
                k.name,
                k.prefix,
                perms,
                k.owner_user_id,
                k.created_by,
                k.created_at,
                k.expires_at,
                k.key_hash
            ],
        )
        .await?;
        journal::write(&mut w, j).await?;
        w.commit().await?;
        Ok(ApiKey {
            id: k.id,
            org_id: k.org_id,
            name: k.name,
            prefix: k.prefix,
            permissions: k.permissions,
            owner_user_id: k.owner_user_id,
            created_by: k.created_by,
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: None,
            last_used_at: None,
        })
    }

    async fn list_api_keys(&self, org_id: &portal_core::ids::OrgId) -> StoreResult<Vec<ApiKey>> {
        let mut c = self.0.reader().await?;
        c.rows(&LIST, &args![org_id], api_key).await
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let mut c = self.0.reader().await?;
        c.opt(&BY_HASH, &args![key_hash], api_key).await
    }

    async fn revoke_api_key(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let mut tx = self.0.begin().await?;
        let n = tx.execute(&REVOKE, &args![org_id, id, now]).await?;
        journal::commit_touched(tx, n, j).await
    }

    async fn revoke_api_key_by_name(
        &self,
        org_id: &portal_core::ids::OrgId,
        name: &str,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let mut tx = self.0.begin().await?;
        let n = tx
            .execute(&REVOKE_BY_NAME, &args![org_id, name, now])
            .await?;
        journal::commit_touched(tx, n, j).await
    }

    async fn revoke_user_api_keys(
        &self,
        user_id: &portal_core::ids::UserId,
        now: i64,
    ) -> StoreResult<u64> {
        let mut w = self.0.writer().await?;
        let n = w.execute(&REVOKE_USER, &args![user_id, now]).await?;
        w.commit().await?;
        Ok(n)
    }

    async fn touch_api_keys(&self, used: &[(String, i64)]) -> StoreResult<()> {
        if used.is_empty() {
            return Ok(());
        }
        let mut tx = self.0.begin().await?;
        for (id, at) in used {
            tx.execute(&TOUCH, &args![id, at]).await?;
        }
        tx.commit().await
    }
}
