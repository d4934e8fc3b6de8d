//! Users: statements and repository.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::model::*;
use portal_core::store::{StoreResult, UserRepo};

use super::decode::user;
use super::{api_keys, auth_sessions, journal, touched, Db, Exec, Sql, SqlStore};
use crate::args;

pub(crate) static INSERT: Sql = Sql::new(
    "INSERT INTO users (id, email, name, password_hash, platform_admin, must_change_password, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
);
static BY_EMAIL: Sql = Sql::new(
    "SELECT u.id, u.email, u.name, u.platform_admin, u.created_at, u.must_change_password, \
     u.password_hash FROM users u WHERE u.email = $1",
);
static BY_ID: Sql = Sql::new(
    "SELECT u.id, u.email, u.name, u.platform_admin, u.created_at, u.must_change_password \
     FROM users u WHERE u.id = $1",
);
static PASSWORD_HASH: Sql = Sql::new("SELECT password_hash FROM users WHERE id = $1");
static SET_PASSWORD: Sql = Sql::new(
    "UPDATE users SET password_hash = $2, must_change_password = FALSE, updated_at = $3 WHERE id = $1",
);
static SET_PLATFORM_ADMIN: Sql =
    Sql::new("UPDATE users SET platform_admin = $2, updated_at = $3 WHERE id = $1");

/// Inserts the account `id`.
pub(crate) async fn insert<E: Exec>(w: &mut E, id: &str, u: &NewUser, now: i64) -> StoreResult<()> {
    w.execute(
        &INSERT,
        &args![
            id,
            u.email,
            u.name,
            u.password_hash,
            u.platform_admin,
            u.must_change_password,
            now
        ],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl<B: Db> UserRepo for SqlStore<B> {
    async fn create_user(&self, u: NewUser, now: i64) -> StoreResult<User> {
        let id = uuid::Uuid::new_v4().to_string();
        let mut w = self.0.writer().await?;
        insert(&mut w, &id, &u, now).await?;
        w.commit().await?;
        Ok(User {
            id: id.into(),
            email: u.email,
            name: u.name,
            platform_admin: u.platform_admin,
            must_change_password: u.must_change_password,
            created_at: now,
        })
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>> {
        let mut c = self.0.reader().await?;
        c.opt(&BY_EMAIL, &args![email], |r| {
            Ok((user(r, 0)?, r.opt_text(6)?))
        })
        .await
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        let mut c = self.0.reader().await?;
        c.opt(&BY_ID, &args![id], |r| user(r, 0)).await
    }

    async fn password_hash(
        &self,
        user_id: &portal_core::ids::UserId,
    ) -> StoreResult<Option<String>> {
        let mut c = self.0.reader().await?;
        let hash = c
            .opt(&PASSWORD_HASH, &args![user_id], |r| r.opt_text(0))
            .await?;
        Ok(hash.flatten())
    }

    async fn set_password(
        &self,
        user_id: &portal_core::ids::UserId,
        hash: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut w = self.0.writer().await?;
        let n = w.execute(&SET_PASSWORD, &args![user_id, hash, now]).await?;
        touched(n)?;
        w.commit().await
    }

    async fn change_password<'k>(
        &self,
        user_id: &portal_core::ids::UserId,
        hash: &str,
        keep: Option<&str>,
        now: i64,
        record: &(dyn Fn(u64) -> Journal<'k> + Send + Sync),
    ) -> StoreResult<u64> {
        let mut tx = self.0.begin().await?;
        touched(
            tx.execute(&SET_PASSWORD, &args![user_id, hash, now])
                .await?,
        )?;
        tx.execute(&auth_sessions::REVOKE_USER, &args![user_id, keep, now])
            .await?;
        let keys = tx
            .execute(&api_keys::REVOKE_USER, &args![user_id, now])
            .await?;
        journal::write(&mut tx, &record(keys)).await?;
        tx.commit().await?;
        Ok(keys)
    }

    async fn set_platform_admin(
        &self,
        user_id: &portal_core::ids::UserId,
        on: bool,
        now: i64,
    ) -> StoreResult<()> {
        let mut w = self.0.writer().await?;
        let n = w
            .execute(&SET_PLATFORM_ADMIN, &args![user_id, on, now])
            .await?;
        touched(n)?;
        w.commit().await
    }
}
