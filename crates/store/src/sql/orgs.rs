//! Organisations, their settings and first-run setup: statements and repository.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::model::*;
use portal_core::store::{OrgRepo, StoreResult};
use portal_core::StoreError;

use super::decode::{self, org, org_cols};
use super::{journal, touched, Db, Exec, Lock, Sql, SqlStore};
use crate::{args, compartments_column};

pub(crate) static INSERT: Sql =
    Sql::new("INSERT INTO organizations (id, slug, name, created_at) VALUES ($1, $2, $3, $4)");
static BY_SLUG: Sql = Sql::new(concat!(
    "SELECT ",
    org_cols!(),
    " FROM organizations o WHERE o.slug = $1"
));
static BY_ID: Sql = Sql::new(concat!(
    "SELECT ",
    org_cols!(),
    " FROM organizations o WHERE o.id = $1"
));
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    org_cols!(),
    " FROM organizations o ORDER BY o.slug{C}"
));
static SET_COMPARTMENTS: Sql =
    Sql::new("UPDATE organizations SET allowed_compartments = $2 WHERE id = $1");
static SET_FOUR_EYES: Sql = Sql::new("UPDATE organizations SET four_eyes = $2 WHERE id = $1");
static SET_PASSWORD_SIGN_IN: Sql =
    Sql::new("UPDATE organizations SET password_sign_in = $2 WHERE id = $1");
static PASSWORD_REFUSED_BY: Sql = Sql::new(
    "SELECT o.name FROM org_members m JOIN organizations o ON o.id = m.org_id \
     WHERE m.user_id = $1 AND o.password_sign_in = FALSE ORDER BY o.slug LIMIT 1",
);
/// True once any organisation admin or platform admin exists.
static ADMIN_EXISTS: Sql = Sql::new(
    "SELECT EXISTS(SELECT 1 FROM org_members WHERE role = 'admin') \
     OR EXISTS(SELECT 1 FROM users WHERE platform_admin)",
);
static INSERT_SETUP_ADMIN: Sql = Sql::new(
    "INSERT INTO users (id, email, name, password_hash, platform_admin, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, TRUE, $5, $5)",
);
/// The first admin of an organisation (at setup, or its creator).
static INSERT_SETUP_MEMBER: Sql = Sql::new(
    "INSERT INTO org_members (org_id, user_id, role, created_at, last_active_at) \
     VALUES ($1, $2, 'admin', $3, $3)",
);

fn new_org(id: &str, slug: &str, name: &str, now: i64) -> Org {
    Org {
        id: id.into(),
        slug: slug.into(),
        name: name.into(),
        four_eyes: true,
        allowed_compartments: Vec::new(),
        password_sign_in: true,
        created_at: now,
    }
}

#[async_trait]
impl<B: Db> OrgRepo for SqlStore<B> {
    async fn create_org_with(
        &self,
        id: &str,
        slug: &str,
        name: &str,
        admin: Option<&str>,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<Org> {
        let mut tx = self.0.begin().await?;
        tx.execute(&INSERT, &args![id, slug, name, now]).await?;
        if let Some(user_id) = admin {
            tx.execute(&INSERT_SETUP_MEMBER, &args![id, user_id, now])
                .await?;
        }
        journal::write(&mut tx, j).await?;
        tx.commit().await?;
        Ok(new_org(id, slug, name, now))
    }

    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>> {
        let mut c = self.0.reader().await?;
        c.opt(&BY_SLUG, &args![slug], |r| org(r, 0)).await
    }

    async fn org_by_id(&self, id: &str) -> StoreResult<Option<Org>> {
        let mut c = self.0.reader().await?;
        c.opt(&BY_ID, &args![id], |r| org(r, 0)).await
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        let mut c = self.0.reader().await?;
        c.rows(&LIST, &[], |r| org(r, 0)).await
    }

    async fn set_org_compartments(
        &self,
        org_id: &portal_core::ids::OrgId,
        allowed: &[String],
        j: &Journal<'_>,
    ) -> StoreResult<()> {
        let value = compartments_column(allowed);
        let mut tx = self.0.begin().await?;
        touched(tx.execute(&SET_COMPARTMENTS, &args![org_id, value]).await?)?;
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }

    async fn set_org_four_eyes(
        &self,
        org_id: &portal_core::ids::OrgId,
        on: bool,
        j: &Journal<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.0.begin().await?;
        touched(tx.execute(&SET_FOUR_EYES, &args![org_id, on]).await?)?;
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }

    async fn set_org_password_sign_in(
        &self,
        org_id: &portal_core::ids::OrgId,
        on: bool,
        j: &Journal<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.0.begin().await?;
        touched(
            tx.execute(&SET_PASSWORD_SIGN_IN, &args![org_id, on])
                .await?,
        )?;
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }

    async fn password_sign_in_refused_by(
        &self,
        user_id: &portal_core::ids::UserId,
    ) -> StoreResult<Option<String>> {
        let mut c = self.0.reader().await?;
        c.opt(&PASSWORD_REFUSED_BY, &args![user_id], |r| r.text(0))
            .await
    }

    async fn admin_exists(&self) -> StoreResult<bool> {
        let mut c = self.0.reader().await?;
        c.one(&ADMIN_EXISTS, &[], decode::flag).await
    }

    async fn bootstrap_admin(
        &self,
        user_id: &portal_core::ids::UserId,
        u: NewUser,
        org_id: &portal_core::ids::OrgId,
        slug: &str,
        org_name: &str,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<(User, Org)> {
        let taken = || StoreError::Conflict("an admin already exists".into());
        // Cheap answer for the common case (setup already done) without taking locks.
        if self.admin_exists().await? {
            return Err(taken());
        }
        let mut tx = self.0.begin().await?;
        tx.lock(Lock::Setup).await?;
        if tx.one(&ADMIN_EXISTS, &[], decode::flag).await? {
            return Err(taken());
        }
        tx.execute(
            &INSERT_SETUP_ADMIN,
            &args![user_id, u.email, u.name, u.password_hash, now],
        )
        .await?;
        tx.execute(&INSERT, &args![org_id, slug, org_name, now])
            .await?;
        tx.execute(&INSERT_SETUP_MEMBER, &args![org_id, user_id, now])
            .await?;
        journal::write(&mut tx, j).await?;
        tx.commit().await?;
        Ok((
            User {
                id: user_id.into(),
                email: u.email,
                name: u.name,
                platform_admin: true,
                must_change_password: false,
                created_at: now,
            },
            new_org(org_id, slug, org_name, now),
        ))
    }
}
