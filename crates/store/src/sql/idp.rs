//! Identity providers, identity links, SSO-managed memberships and spent
//! sign-in states: statements, row decoder and repository.

use std::collections::BTreeMap;

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::sso::{GroupsSource, IdentityLink, IdentityProvider};
use portal_core::store::{IdpRepo, StoreResult};
use portal_core::StoreError;

use super::{journal, Db, Exec, Row, Sql, SqlStore};
use crate::args;

macro_rules! idp_cols {
    () => {
        "id, org_id, name, issuer, client_id, client_secret_sealed, scopes, groups_claim, \
         groups_source, admin_groups, operator_groups, org_claim, org_map, default_org_id, \
         roles_managed, jit, allowed_domains, enabled, created_at, updated_at"
    };
}

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO identity_providers (",
    idp_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
     $18, $19, $20)"
));
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    idp_cols!(),
    " FROM identity_providers ORDER BY created_at, id{C}"
));
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    idp_cols!(),
    " FROM identity_providers WHERE id = $1"
));
static UPDATE: Sql = Sql::new(
    "UPDATE identity_providers SET org_id = $2, name = $3, issuer = $4, client_id = $5, \
     client_secret_sealed = $6, scopes = $7, groups_claim = $8, groups_source = $9, \
     admin_groups = $10, operator_groups = $11, org_claim = $12, org_map = $13, \
     default_org_id = $14, roles_managed = $15, jit = $16, allowed_domains = $17, \
     enabled = $18, updated_at = $20 WHERE id = $1 AND created_at = $19",
);
static DELETE: Sql = Sql::new("DELETE FROM identity_providers WHERE id = $1");
static LINK_OF: Sql =
    Sql::new("SELECT user_id FROM identity_links WHERE idp_id = $1 AND subject = $2");
static LINK: Sql = Sql::new(
    "INSERT INTO identity_links (idp_id, subject, user_id, created_at) VALUES ($1, $2, $3, $4)",
);
static MARK: Sql = Sql::new(
    "INSERT INTO sso_members (org_id, user_id, idp_id, updated_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (org_id, user_id, idp_id) DO UPDATE SET updated_at = $4",
);
static MANAGED_BY: Sql = Sql::new(
    "SELECT p.name FROM sso_members m JOIN identity_providers p ON p.id = m.idp_id \
     WHERE m.org_id = $1 AND m.user_id = $2 AND p.roles_managed = TRUE \
     ORDER BY p.created_at LIMIT 1",
);
static SIGNED_INTO: Sql =
    Sql::new("SELECT DISTINCT idp_id FROM sso_members WHERE org_id = $1 ORDER BY idp_id");
static RECORD_SESSION: Sql = Sql::new(
    "INSERT INTO sso_sessions (session_id, idp_id, id_token_sealed, created_at) \
     VALUES ($1, $2, $3, $4)",
);
static SESSION: Sql =
    Sql::new("SELECT idp_id, id_token_sealed FROM sso_sessions WHERE session_id = $1");
static FORGET_STATES: Sql = Sql::new("DELETE FROM sso_states WHERE expires_at < $1");
static SPEND: Sql = Sql::new(
    "INSERT INTO sso_states (state_hash, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
);

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Other(format!("identity provider: {e}")))
}

fn idp(r: &dyn Row) -> StoreResult<IdentityProvider> {
    let source = r.text(8)?;
    let org_map: BTreeMap<String, String> = parse(&r.text(12)?)?;
    Ok(IdentityProvider {
        id: r.text(0)?,
        org_id: r.opt_text(1)?.map(Into::into),
        name: r.text(2)?,
        issuer: r.text(3)?,
        client_id: r.text(4)?,
        client_secret_sealed: r.opt_text(5)?,
        scopes: parse(&r.text(6)?)?,
        groups_claim: r.text(7)?,
        groups_source: GroupsSource::parse(&source)
            .ok_or_else(|| StoreError::Other(format!("unknown groups source {source:?}")))?,
        admin_groups: parse(&r.text(9)?)?,
        operator_groups: parse(&r.text(10)?)?,
        org_claim: r.opt_text(11)?,
        org_map,
        default_org_id: r.opt_text(13)?,
        roles_managed: r.flag(14)?,
        jit: r.flag(15)?,
        allowed_domains: parse(&r.text(16)?)?,
        enabled: r.flag(17)?,
        created_at: r.int(18)?,
        updated_at: r.int(19)?,
    })
}

async fn write<E: Exec>(c: &mut E, sql: &Sql, p: &IdentityProvider) -> StoreResult<u64> {
    c.execute(
        sql,
        &args![
            p.id,
            p.org_id,
            p.name,
            p.issuer,
            p.client_id,
            p.client_secret_sealed,
            json(&p.scopes),
            p.groups_claim,
            p.groups_source.as_str(),
            json(&p.admin_groups),
            json(&p.operator_groups),
            p.org_claim,
            json(&p.org_map),
            p.default_org_id,
            p.roles_managed,
            p.jit,
            json(&p.allowed_domains),
            p.enabled,
            p.created_at,
            p.updated_at
        ],
    )
    .await
}

#[async_trait]
impl<B: Db> IdpRepo for SqlStore<B> {
    async fn create_idp(&self, p: &IdentityProvider, j: &Journal<'_>) -> StoreResult<()> {
        let mut c = self.0.begin().await?;
        write(&mut c, &INSERT, p).await?;
        journal::write(&mut c, j).await?;
        c.commit().await
    }

    async fn list_idps(&self) -> StoreResult<Vec<IdentityProvider>> {
        let mut c = self.0.reader().await?;
        c.rows(&LIST, &args![], idp).await
    }

    async fn get_idp(&self, id: &str) -> StoreResult<Option<IdentityProvider>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET, &args![id], idp).await
    }

    async fn update_idp(&self, p: &IdentityProvider, j: &Journal<'_>) -> StoreResult<bool> {
        let mut c = self.0.begin().await?;
        let n = write(&mut c, &UPDATE, p).await?;
        journal::commit_touched(c, n, j).await
    }

    async fn delete_idp(&self, id: &str, j: &Journal<'_>) -> StoreResult<bool> {
        let mut c = self.0.begin().await?;
        let n = c.execute(&DELETE, &args![id]).await?;
        journal::commit_touched(c, n, j).await
    }

    async fn identity_link(&self, idp_id: &str, subject: &str) -> StoreResult<Option<String>> {
        let mut c = self.0.reader().await?;
        c.opt(&LINK_OF, &args![idp_id, subject], |r| r.text(0))
            .await
    }

    async fn link_identity(&self, l: &IdentityLink, now: i64) -> StoreResult<()> {
        let mut c = self.0.writer().await?;
        c.execute(&LINK, &args![l.idp_id, l.subject, l.user_id, now])
            .await?;
        c.commit().await
    }

    async fn mark_sso_member(
        &self,
        org_id: &portal_core::ids::OrgId,
        user_id: &portal_core::ids::UserId,
        idp_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut c = self.0.writer().await?;
        c.execute(&MARK, &args![org_id, user_id, idp_id, now])
            .await?;
        c.commit().await
    }

    async fn role_managed_by(
        &self,
        org_id: &portal_core::ids::OrgId,
        user_id: &portal_core::ids::UserId,
    ) -> StoreResult<Option<String>> {
        let mut c = self.0.reader().await?;
        c.opt(&MANAGED_BY, &args![org_id, user_id], |r| r.text(0))
            .await
    }

    async fn idps_signed_into(&self, org_id: &portal_core::ids::OrgId) -> StoreResult<Vec<String>> {
        let mut c = self.0.reader().await?;
        c.rows(&SIGNED_INTO, &args![org_id], |r| r.text(0)).await
    }

    async fn record_sso_session(
        &self,
        session_id: &str,
        idp_id: &str,
        id_token_sealed: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut c = self.0.writer().await?;
        c.execute(
            &RECORD_SESSION,
            &args![session_id, idp_id, id_token_sealed, now],
        )
        .await?;
        c.commit().await
    }

    async fn sso_session(&self, session_id: &str) -> StoreResult<Option<(String, String)>> {
        let mut c = self.0.reader().await?;
        c.opt(&SESSION, &args![session_id], |r| {
            Ok((r.text(0)?, r.text(1)?))
        })
        .await
    }

    async fn spend_sso_state(&self, hash: &str, expires_at: i64, now: i64) -> StoreResult<bool> {
        let mut c = self.0.begin().await?;
        c.execute(&FORGET_STATES, &args![now]).await?;
        let n = c.execute(&SPEND, &args![hash, expires_at]).await?;
        c.commit().await?;
        Ok(n == 1)
    }
}
