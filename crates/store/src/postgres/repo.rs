//! The storage contract on PostgreSQL.
//!
//! Mirrors the SQLite implementation (`sqlite/repo.rs`) statement for
//! statement. Where SQLite relies on its single writer for atomicity of a
//! read-then-write (last-admin guard, first-run bootstrap, audit appends), the
//! code here takes an explicit lock inside the transaction instead. Text sort
//! keys use `COLLATE "C"` so listings come back in the same (byte) order as on
//! SQLite whatever the database's default collation is.

use std::time::Duration;

use async_trait::async_trait;
use portal_core::audit::{self, AuditHead, AuditRecord, NewAuditEntry};
use portal_core::crypto::Keys;
use portal_core::model::*;
use portal_core::rbac::Role;
use portal_core::store::StoreResult;
use portal_core::store::*;
use portal_core::{Availability, Backend, PoolStats, StoreError};
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use super::listen::CHANNEL;
use super::PgStore;
use crate::chat::{check_status, distinct, is_finished, wait_for_events};
use crate::{compartments, compartments_column};

const USER_COLS: &str =
    "u.id, u.email, u.name, u.platform_admin, u.created_at, u.must_change_password";
const ORG_COLS: &str = "o.id, o.slug, o.name, o.four_eyes, o.created_at, o.allowed_compartments";
const KEY_COLS: &str = "id, org_id, name, key_prefix, permissions, owner_user_id, created_by, created_at, expires_at, revoked_at, last_used_at";
const CHAT_COLS: &str =
    "s.id, s.org_id, s.principal_id, s.title, s.model, s.status, s.message_count, s.created_at, s.updated_at";
const MESSAGE_COLS: &str = "id, session_id, seq, role, content, meta, created_at";
const MESSAGE_COLS_M: &str = "m.id, m.session_id, m.seq, m.role, m.content, m.meta, m.created_at";
const TURN_COLS: &str = "id, org_id, session_id, principal_id, status, approval_id, state, lease_owner, lease_until, created_at, updated_at";
const EVENT_COLS: &str = "session_id, seq, turn_id, body, created_at";
const EVENT_COLS_E: &str = "e.session_id, e.seq, e.turn_id, e.body, e.created_at";
/// How often a chat stream follower re-reads the database while the listener is down.
const CHAT_POLL: Duration = Duration::from_millis(100);
/// How often it re-reads anyway while notifications flow (a safety net only).
const CHAT_RECHECK: Duration = Duration::from_secs(5);
const ACTIVITY_COLS: &str =
    "id, org_id, principal_id, tool_name, category, risk, status, args, error, duration_ms, approval_id, created_at";
const APPROVAL_COLS: &str =
    "id, org_id, requester, tool_name, risk, args_hash, args_redacted, tool_call_id, status, \
    decided_by, reason, created_at, expires_at, decided_at, consumed_at, four_eyes, args_sealed";
const OUTBOX_COLS: &str = "id, org_id, kind, payload, created_at, delivered_at";
/// Advisory lock serialising outbox appends (see `append_event`); outside the
/// `hashtext` range the audit chains lock on, and distinct from the migration lock.
const EVENTS_LOCK: i64 = 0x706f_7274_616c_0006;
const AUDIT_COLS: &str =
    "id, chain, seq, org_id, actor, action, target, outcome, detail, ip, created_at, prev_mac, mac";

/// True once any organisation admin or platform admin exists.
const ADMIN_EXISTS: &str = "SELECT EXISTS(SELECT 1 FROM org_members WHERE role = 'admin') \
    OR EXISTS(SELECT 1 FROM users WHERE platform_admin)";

const LAST_ADMIN: &str = "the organisation's last admin cannot be removed or demoted";

/// One column, with decoding failures reported as internal errors (never as
/// "unavailable": they say nothing about the connection).
fn col<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> StoreResult<T> {
    r.try_get(i)
        .map_err(|e| StoreError::Other(format!("decoding column {i}: {e}")))
}

fn user(r: &Row, at: usize) -> StoreResult<User> {
    Ok(User {
        id: col(r, at)?,
        email: col(r, at + 1)?,
        name: col(r, at + 2)?,
        platform_admin: col(r, at + 3)?,
        created_at: col(r, at + 4)?,
        must_change_password: col(r, at + 5)?,
    })
}

const INVITATION_COLS: &str = "i.id, i.org_id, i.user_id, i.role, i.invited_by, i.created_account, i.status, i.created_at, i.expires_at";

fn invitation(r: &Row, at: usize) -> StoreResult<Invitation> {
    let status: String = col(r, at + 6)?;
    Ok(Invitation {
        id: col(r, at)?,
        org_id: col(r, at + 1)?,
        user_id: col(r, at + 2)?,
        role: role(r, at + 3)?,
        invited_by: col(r, at + 4)?,
        created_account: col(r, at + 5)?,
        status: InvitationStatus::parse(&status)
            .ok_or_else(|| StoreError::Other(format!("unknown invitation status {status:?}")))?,
        created_at: col(r, at + 7)?,
        expires_at: col(r, at + 8)?,
    })
}

fn org(r: &Row, at: usize) -> StoreResult<Org> {
    Ok(Org {
        id: col(r, at)?,
        slug: col(r, at + 1)?,
        name: col(r, at + 2)?,
        four_eyes: col(r, at + 3)?,
        created_at: col(r, at + 4)?,
        allowed_compartments: compartments(col::<Option<String>>(r, at + 5)?.as_deref())
            .map_err(|e| StoreError::Other(format!("organizations.allowed_compartments: {e}")))?,
    })
}

fn role(r: &Row, at: usize) -> StoreResult<Role> {
    let s: String = col(r, at)?;
    s.parse().map_err(StoreError::Other)
}

fn api_key(r: &Row) -> StoreResult<ApiKey> {
    let perms: String = col(r, 4)?;
    Ok(ApiKey {
        id: col(r, 0)?,
        org_id: col(r, 1)?,
        name: col(r, 2)?,
        prefix: col(r, 3)?,
        permissions: serde_json::from_str(&perms).unwrap_or_default(),
        owner_user_id: col(r, 5)?,
        created_by: col(r, 6)?,
        created_at: col(r, 7)?,
        expires_at: col(r, 8)?,
        revoked_at: col(r, 9)?,
        last_used_at: col(r, 10)?,
    })
}

fn chat(r: &Row) -> StoreResult<ChatSession> {
    Ok(ChatSession {
        id: col(r, 0)?,
        org_id: col(r, 1)?,
        principal_id: col(r, 2)?,
        title: col(r, 3)?,
        model: col(r, 4)?,
        status: col(r, 5)?,
        message_count: col(r, 6)?,
        created_at: col(r, 7)?,
        updated_at: col(r, 8)?,
    })
}

fn message(r: &Row) -> StoreResult<ChatMessage> {
    Ok(ChatMessage {
        id: col(r, 0)?,
        session_id: col(r, 1)?,
        seq: col(r, 2)?,
        role: col(r, 3)?,
        content: col(r, 4)?,
        meta: col(r, 5)?,
        created_at: col(r, 6)?,
    })
}

fn turn(r: &Row) -> StoreResult<ChatTurn> {
    Ok(ChatTurn {
        id: col(r, 0)?,
        org_id: col(r, 1)?,
        session_id: col(r, 2)?,
        principal_id: col(r, 3)?,
        status: col(r, 4)?,
        approval_id: col(r, 5)?,
        state: col(r, 6)?,
        lease_owner: col(r, 7)?,
        lease_until: col(r, 8)?,
        created_at: col(r, 9)?,
        updated_at: col(r, 10)?,
    })
}

fn event(r: &Row) -> StoreResult<ChatEvent> {
    Ok(ChatEvent {
        session_id: col(r, 0)?,
        seq: col(r, 1)?,
        turn_id: col(r, 2)?,
        body: col(r, 3)?,
        created_at: col(r, 4)?,
    })
}

fn outbox_event(r: &Row) -> StoreResult<Event> {
    Ok(Event {
        id: col(r, 0)?,
        org_id: col(r, 1)?,
        kind: col(r, 2)?,
        payload: col(r, 3)?,
        created_at: col(r, 4)?,
        delivered_at: col(r, 5)?,
    })
}

fn activity(r: &Row) -> StoreResult<Activity> {
    Ok(Activity {
        id: col(r, 0)?,
        org_id: col(r, 1)?,
        principal_id: col(r, 2)?,
        tool_name: col(r, 3)?,
        category: col(r, 4)?,
        risk: col(r, 5)?,
        status: col(r, 6)?,
        args: col(r, 7)?,
        error: col(r, 8)?,
        duration_ms: col(r, 9)?,
        approval_id: col(r, 10)?,
        created_at: col(r, 11)?,
    })
}

fn approval(r: &Row) -> StoreResult<Approval> {
    Ok(Approval {
        id: col(r, 0)?,
        org_id: col(r, 1)?,
        requester: col(r, 2)?,
        tool_name: col(r, 3)?,
        risk: col(r, 4)?,
        args_hash: col(r, 5)?,
        args_redacted: col(r, 6)?,
        tool_call_id: col(r, 7)?,
        status: col(r, 8)?,
        decided_by: col(r, 9)?,
        reason: col(r, 10)?,
        created_at: col(r, 11)?,
        expires_at: col(r, 12)?,
        decided_at: col(r, 13)?,
        consumed_at: col(r, 14)?,
        four_eyes: col(r, 15)?,
        args_sealed: col(r, 16)?,
    })
}

fn audit_record(r: &Row) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        id: col(r, 0)?,
        chain: col(r, 1)?,
        seq: col(r, 2)?,
        org_id: col(r, 3)?,
        actor: col(r, 4)?,
        action: col(r, 5)?,
        target: col(r, 6)?,
        outcome: col(r, 7)?,
        detail: col(r, 8)?,
        ip: col(r, 9)?,
        created_at: col(r, 10)?,
        prev_mac: col(r, 11)?,
        mac: col(r, 12)?,
    })
}

fn all<T>(rows: &[Row], f: impl Fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect()
}

/// SQL `LIKE` prefix for audit action filters ending with `*`.
fn action_pattern(action: &str) -> (String, bool) {
    match action.strip_suffix('*') {
        Some(prefix) => (
            format!(
                "{}%",
                prefix
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            ),
            true,
        ),
        None => (action.to_string(), false),
    }
}

/// SQLite reads a negative `LIMIT` as "no limit" and a negative `OFFSET` as
/// zero; PostgreSQL refuses both. `LIMIT NULL` is PostgreSQL's "no limit".
fn page_bounds(limit: i64, offset: i64) -> (Option<i64>, i64) {
    ((limit >= 0).then_some(limit), offset.max(0))
}

impl PgStore {
    /// Serialises membership changes of one organisation (the last-admin guard
    /// reads, then writes). `FOR NO KEY UPDATE` does not block the key-share
    /// locks that foreign-key checks of other inserts take on the row.
    async fn lock_org(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        org_id: &str,
    ) -> StoreResult<()> {
        tx.query_opt(
            "SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE",
            &[&org_id],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        Ok(())
    }

    /// The member's current role (inside the guard's transaction).
    async fn current_role(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        org_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<String>> {
        let row = tx
            .query_opt(
                "SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2",
                &[&org_id, &user_id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| col(&r, 0)).transpose()
    }

    /// Admins of the organisation other than `without`.
    async fn admins_left(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        org_id: &str,
        without: &str,
    ) -> StoreResult<i64> {
        let row = tx
            .query_one(
                "SELECT COUNT(*) FROM org_members WHERE org_id = $1 AND role = 'admin' AND user_id <> $2",
                &[&org_id, &without],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        col(&row, 0)
    }

    /// Runs one write statement; returns the number of rows it touched.
    async fn exec(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> StoreResult<u64> {
        let conn = self.conn().await?;
        conn.execute(sql, params).await.map_err(|e| self.map_err(e))
    }
}

#[async_trait]
impl StoreInfo for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn availability(&self) -> &Availability {
        &self.inner.availability
    }

    async fn ping(&self) -> Result<Duration, StoreError> {
        let r = self.inner.ping().await;
        if r.is_ok() {
            self.inner.availability.set(true);
        }
        r
    }

    fn pool_stats(&self) -> PoolStats {
        let s = self.inner.pool.status();
        PoolStats {
            idle: s.available,
            in_use: s.size.saturating_sub(s.available),
            max: s.max_size,
        }
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        col(&row, 0)
    }
}

#[async_trait]
impl UserRepo for PgStore {
    async fn create_user(&self, u: NewUser, now: i64) -> StoreResult<User> {
        let id = uuid::Uuid::new_v4().to_string();
        self.exec(
            "INSERT INTO users (id, email, name, password_hash, platform_admin, must_change_password, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            &[&id, &u.email, &u.name, &u.password_hash, &u.platform_admin, &u.must_change_password, &now],
        )
        .await?;
        Ok(User {
            id,
            email: u.email,
            name: u.name,
            platform_admin: u.platform_admin,
            must_change_password: u.must_change_password,
            created_at: now,
        })
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.email = $1"),
                &[&email],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| Ok((user(&r, 0)?, col(&r, 6)?))).transpose()
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"),
                &[&id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| user(&r, 0)).transpose()
    }

    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt("SELECT password_hash FROM users WHERE id = $1", &[&user_id])
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(row
            .map(|r| col::<Option<String>>(&r, 0))
            .transpose()?
            .flatten())
    }

    async fn set_password(&self, user_id: &str, hash: &str, now: i64) -> StoreResult<()> {
        let n = self
            .exec(
                "UPDATE users SET password_hash = $2, must_change_password = FALSE, updated_at = $3 WHERE id = $1",
                &[&user_id, &hash, &now],
            )
            .await?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn set_platform_admin(&self, user_id: &str, on: bool, now: i64) -> StoreResult<()> {
        let n = self
            .exec(
                "UPDATE users SET platform_admin = $2, updated_at = $3 WHERE id = $1",
                &[&user_id, &on, &now],
            )
            .await?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl OrgRepo for PgStore {
    async fn create_org(&self, id: &str, slug: &str, name: &str, now: i64) -> StoreResult<Org> {
        self.exec(
            "INSERT INTO organizations (id, slug, name, created_at) VALUES ($1, $2, $3, $4)",
            &[&id, &slug, &name, &now],
        )
        .await?;
        Ok(Org {
            id: id.into(),
            slug: slug.into(),
            name: name.into(),
            four_eyes: true,
            allowed_compartments: Vec::new(),
            created_at: now,
        })
    }

    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &format!("SELECT {ORG_COLS} FROM organizations o WHERE o.slug = $1"),
                &[&slug],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| org(&r, 0)).transpose()
    }

    async fn org_by_id(&self, id: &str) -> StoreResult<Option<Org>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &format!("SELECT {ORG_COLS} FROM organizations o WHERE o.id = $1"),
                &[&id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| org(&r, 0)).transpose()
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!("SELECT {ORG_COLS} FROM organizations o ORDER BY o.slug COLLATE \"C\""),
                &[],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        all(&rows, |r| org(r, 0))
    }

    async fn set_org_compartments(&self, org_id: &str, allowed: &[String]) -> StoreResult<()> {
        let value = compartments_column(allowed);
        let n = self
            .exec(
                "UPDATE organizations SET allowed_compartments = $2 WHERE id = $1",
                &[&org_id, &value],
            )
            .await?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn set_org_four_eyes(&self, org_id: &str, on: bool) -> StoreResult<()> {
        let n = self
            .exec(
                "UPDATE organizations SET four_eyes = $2 WHERE id = $1",
                &[&org_id, &on],
            )
            .await?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn admin_exists(&self) -> StoreResult<bool> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(ADMIN_EXISTS, &[])
            .await
            .map_err(|e| self.map_err(e))?;
        col(&row, 0)
    }

    async fn bootstrap_admin(
        &self,
        u: NewUser,
        org_id: &str,
        slug: &str,
        org_name: &str,
        now: i64,
    ) -> StoreResult<(User, Org)> {
        // Cheap answer for the common case (setup already done) without taking locks.
        if self.admin_exists().await? {
            return Err(StoreError::Conflict("an admin already exists".into()));
        }
        let user_id = uuid::Uuid::new_v4().to_string();
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(|e| self.map_err(e))?;
        // SQLite's single writer makes the re-check and the inserts atomic; here,
        // hold off every other write to users and memberships (and other
        // bootstraps) until this transaction ends, so the re-check stays true.
        tx.batch_execute("LOCK TABLE users, org_members IN SHARE ROW EXCLUSIVE MODE")
            .await
            .map_err(|e| self.map_err(e))?;
        let exists: bool = col(
            &tx.query_one(ADMIN_EXISTS, &[])
                .await
                .map_err(|e| self.map_err(e))?,
            0,
        )?;
        if exists {
            return Err(StoreError::Conflict("an admin already exists".into()));
        }
        tx.execute(
            "INSERT INTO users (id, email, name, password_hash, platform_admin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, TRUE, $5, $5)",
            &[&user_id, &u.email, &u.name, &u.password_hash, &now],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        tx.execute(
            "INSERT INTO organizations (id, slug, name, created_at) VALUES ($1, $2, $3, $4)",
            &[&org_id, &slug, &org_name, &now],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        tx.execute(
            "INSERT INTO org_members (org_id, user_id, role, created_at, last_active_at) VALUES ($1, $2, 'admin', $3, $3)",
            &[&org_id, &user_id, &now],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        tx.commit().await.map_err(|e| self.map_err(e))?;
        Ok((
            User {
                id: user_id,
                email: u.email,
                name: u.name,
                platform_admin: true,
                must_change_password: false,
                created_at: now,
            },
            Org {
                id: org_id.into(),
                slug: slug.into(),
                name: org_name.into(),
                four_eyes: true,
                allowed_compartments: Vec::new(),
                created_at: now,
            },
        ))
    }
}

#[async_trait]
impl MemberRepo for PgStore {
    async fn add_member(
        &self,
        org_id: &str,
        user_id: &str,
        role: Role,
        now: i64,
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO org_members (org_id, user_id, role, created_at, last_active_at) VALUES ($1, $2, $3, $4, $4)",
            &[&org_id, &user_id, &role.as_str(), &now],
        )
        .await?;
        Ok(())
    }

    async fn set_member_role(&self, org_id: &str, user_id: &str, role: Role) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(|e| self.map_err(e))?;
        self.lock_org(&tx, org_id).await?;
        match self.current_role(&tx, org_id, user_id).await?.as_deref() {
            None => return Err(StoreError::NotFound),
            Some("admin")
                if role != Role::Admin && self.admins_left(&tx, org_id, user_id).await? == 0 =>
            {
                return Err(StoreError::Conflict(LAST_ADMIN.into()))
            }
            _ => {}
        }
        tx.execute(
            "UPDATE org_members SET role = $3 WHERE org_id = $1 AND user_id = $2",
            &[&org_id, &user_id, &role.as_str()],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        tx.commit().await.map_err(|e| self.map_err(e))
    }

    async fn remove_member(&self, org_id: &str, user_id: &str) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(|e| self.map_err(e))?;
        self.lock_org(&tx, org_id).await?;
        match self.current_role(&tx, org_id, user_id).await?.as_deref() {
            None => return Err(StoreError::NotFound),
            Some("admin") if self.admins_left(&tx, org_id, user_id).await? == 0 => {
                return Err(StoreError::Conflict(LAST_ADMIN.into()))
            }
            _ => {}
        }
        tx.execute(
            "DELETE FROM org_members WHERE org_id = $1 AND user_id = $2",
            &[&org_id, &user_id],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        tx.commit().await.map_err(|e| self.map_err(e))
    }

    async fn member_role(&self, org_id: &str, user_id: &str) -> StoreResult<Option<Role>> {
        let conn = self.conn().await?;
        let st = conn
            .prepare_cached("SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2")
            .await
            .map_err(|e| self.map_err(e))?;
        let row = conn
            .query_opt(&st, &[&org_id, &user_id])
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| role(&r, 0)).transpose()
    }

    async fn list_members(&self, org_id: &str) -> StoreResult<Vec<Member>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {USER_COLS}, m.role, m.created_at FROM org_members m JOIN users u ON u.id = m.user_id \
                     WHERE m.org_id = $1 ORDER BY u.email COLLATE \"C\""
                ),
                &[&org_id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        all(&rows, |r| {
            Ok(Member {
                user: user(r, 0)?,
                role: role(r, 6)?,
                joined_at: col(r, 7)?,
            })
        })
    }

    async fn user_orgs(&self, user_id: &str) -> StoreResult<Vec<(Org, Role)>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {ORG_COLS}, m.role FROM org_members m JOIN organizations o ON o.id = m.org_id \
                     WHERE m.user_id = $1 ORDER BY m.last_active_at IS NULL, m.last_active_at DESC, o.slug COLLATE \"C\""
                ),
                &[&user_id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        all(&rows, |r| Ok((org(r, 0)?, role(r, 6)?)))
    }

    async fn touch_membership(&self, org_id: &str, user_id: &str, now: i64) -> StoreResult<()> {
        self.exec(
            "UPDATE org_members SET last_active_at = $3 WHERE org_id = $1 AND user_id = $2",
            &[&org_id, &user_id, &now],
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl InvitationRepo for PgStore {
    async fn create_invitation(&self, inv: &Invitation) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(|e| self.map_err(e))?;
        tx.execute(
            "UPDATE invitations SET status = 'expired' WHERE org_id = $1 AND user_id = $2 AND status = 'pending' AND expires_at <= $3",
            &[&inv.org_id, &inv.user_id, &inv.created_at],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        tx.execute(
            "INSERT INTO invitations (id, org_id, user_id, role, invited_by, created_account, status, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &inv.id,
                &inv.org_id,
                &inv.user_id,
                &inv.role.as_str(),
                &inv.invited_by,
                &inv.created_account,
                &inv.status.as_str(),
                &inv.created_at,
                &inv.expires_at,
            ],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        tx.commit().await.map_err(|e| self.map_err(e))
    }

    async fn user_invitations(
        &self,
        user_id: &str,
        now: i64,
    ) -> StoreResult<Vec<(Invitation, Org)>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {INVITATION_COLS}, {ORG_COLS} FROM invitations i JOIN organizations o ON o.id = i.org_id \
                     WHERE i.user_id = $1 AND i.status = 'pending' AND i.expires_at > $2 ORDER BY i.created_at DESC, i.id"
                ),
                &[&user_id, &now],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        all(&rows, |r| Ok((invitation(r, 0)?, org(r, 9)?)))
    }

    async fn decide_invitation(
        &self,
        id: &str,
        user_id: &str,
        accept: bool,
        now: i64,
    ) -> StoreResult<Invitation> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(|e| self.map_err(e))?;
        let status = if accept {
            InvitationStatus::Accepted
        } else {
            InvitationStatus::Declined
        };
        // The conditional update claims the invitation: two concurrent decisions, one wins.
        let row = tx
            .query_opt(
                "UPDATE invitations SET status = $4, decided_at = $3 \
                 WHERE id = $1 AND user_id = $2 AND status = 'pending' AND expires_at > $3 RETURNING id",
                &[&id, &user_id, &now, &status.as_str()],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        if row.is_none() {
            return Err(StoreError::NotFound);
        }
        let row = tx
            .query_one(
                &format!("SELECT {INVITATION_COLS} FROM invitations i WHERE i.id = $1"),
                &[&id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        let inv = invitation(&row, 0)?;
        if accept {
            tx.execute(
                "INSERT INTO org_members (org_id, user_id, role, created_at, last_active_at) VALUES ($1, $2, $3, $4, NULL) \
                 ON CONFLICT (org_id, user_id) DO NOTHING",
                &[&inv.org_id, &inv.user_id, &inv.role.as_str(), &now],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        }
        tx.commit().await.map_err(|e| self.map_err(e))?;
        Ok(inv)
    }
}

#[async_trait]
impl AuthSessionRepo for PgStore {
    async fn create_auth_session(&self, s: NewAuthSession) -> StoreResult<()> {
        self.exec(
            "INSERT INTO auth_sessions (id, token_hash, user_id, active_org_id, created_at, expires_at, last_seen_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, $5, $7, $8)",
            &[
                &s.id,
                &s.token_hash,
                &s.user_id,
                &s.active_org_id,
                &s.created_at,
                &s.expires_at,
                &s.ip,
                &s.user_agent,
            ],
        )
        .await?;
        Ok(())
    }

    async fn auth_session_by_hash(&self, token_hash: &str) -> StoreResult<Option<AuthSession>> {
        let conn = self.conn().await?;
        let st = conn
            .prepare_cached(&format!(
                "SELECT s.id, s.active_org_id, s.expires_at, s.revoked_at, {USER_COLS} FROM auth_sessions s \
                 JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
            ))
            .await
            .map_err(|e| self.map_err(e))?;
        let row = conn
            .query_opt(&st, &[&token_hash])
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| {
            Ok(AuthSession {
                id: col(&r, 0)?,
                active_org_id: col(&r, 1)?,
                expires_at: col(&r, 2)?,
                revoked_at: col(&r, 3)?,
                user: user(&r, 4)?,
            })
        })
        .transpose()
    }

    async fn extend_auth_session(&self, id: &str, expires_at: i64, now: i64) -> StoreResult<()> {
        self.exec(
            "UPDATE auth_sessions SET expires_at = $2, last_seen_at = $3 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &expires_at, &now],
        )
        .await?;
        Ok(())
    }

    async fn revoke_auth_session(&self, id: &str, now: i64) -> StoreResult<()> {
        self.exec(
            "UPDATE auth_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &now],
        )
        .await?;
        Ok(())
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        self.exec(
            "UPDATE auth_sessions SET revoked_at = $3 \
             WHERE user_id = $1 AND revoked_at IS NULL AND id <> COALESCE($2::TEXT, '')",
            &[&user_id, &keep, &now],
        )
        .await?;
        Ok(())
    }

    async fn auth_session_active(&self, id: &str, now: i64) -> StoreResult<bool> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM auth_sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2)",
                &[&id, &now],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        col(&row, 0)
    }

    async fn set_session_org(&self, id: &str, org_id: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE auth_sessions SET active_org_id = $2 WHERE id = $1",
            &[&id, &org_id],
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl ApiKeyRepo for PgStore {
    async fn create_api_key(&self, k: NewApiKey) -> StoreResult<ApiKey> {
        let perms = serde_json::to_string(&k.permissions).unwrap_or_else(|_| "[]".into());
        self.exec(
            &format!(
                "INSERT INTO api_keys ({KEY_COLS}, key_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, $10)"
            ),
            &[
                &k.id,
                &k.org_id,
                &k.name,
                &k.prefix,
                &perms,
                &k.owner_user_id,
                &k.created_by,
                &k.created_at,
                &k.expires_at,
                &k.key_hash,
            ],
        )
        .await?;
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

    async fn list_api_keys(&self, org_id: &str) -> StoreResult<Vec<ApiKey>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {KEY_COLS} FROM api_keys WHERE org_id = $1 ORDER BY created_at DESC, name COLLATE \"C\""
                ),
                &[&org_id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        all(&rows, api_key)
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let conn = self.conn().await?;
        let st = conn
            .prepare_cached(&format!(
                "SELECT {KEY_COLS} FROM api_keys WHERE key_hash = $1"
            ))
            .await
            .map_err(|e| self.map_err(e))?;
        let row = conn
            .query_opt(&st, &[&key_hash])
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| api_key(&r)).transpose()
    }

    async fn revoke_user_api_keys(&self, user_id: &str, now: i64) -> StoreResult<u64> {
        self.exec(
            "UPDATE api_keys SET revoked_at = $2 WHERE owner_user_id = $1 AND revoked_at IS NULL",
            &[&user_id, &now],
        )
        .await
    }

    async fn revoke_api_key(&self, org_id: &str, id: &str, now: i64) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE api_keys SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL",
                &[&org_id, &id, &now],
            )
            .await?;
        Ok(n > 0)
    }

    async fn revoke_api_key_by_name(
        &self,
        org_id: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE api_keys SET revoked_at = $3 WHERE org_id = $1 AND name = $2 AND revoked_at IS NULL",
                &[&org_id, &name, &now],
            )
            .await?;
        Ok(n > 0)
    }

    async fn touch_api_keys(&self, used: &[(String, i64)]) -> StoreResult<()> {
        if used.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(|e| self.map_err(e))?;
        let st = tx
            .prepare_cached(
                "UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 0), $2) WHERE id = $1",
            )
            .await
            .map_err(|e| self.map_err(e))?;
        for (id, at) in used {
            tx.execute(&st, &[id, at])
                .await
                .map_err(|e| self.map_err(e))?;
        }
        tx.commit().await.map_err(|e| self.map_err(e))
    }
}

#[async_trait]
impl ChatRepo for PgStore {
    async fn create_chat_session(&self, s: &ChatSession) -> StoreResult<()> {
        self.exec(
            "INSERT INTO chat_sessions (id, org_id, principal_id, title, model, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &s.id,
                &s.org_id,
                &s.principal_id,
                &s.title,
                &s.model,
                &s.status,
                &s.created_at,
                &s.updated_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn list_chat_sessions(
        &self,
        org_id: &str,
        principal_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<ChatSession>> {
        let (limit, offset) = page_bounds(limit, offset);
        let conn = self.conn().await?;
        let count = conn
            .prepare_cached(
                "SELECT COALESCE((SELECT total FROM chat_session_counts WHERE org_id = $1 AND principal_id = $2), 0)",
            )
            .await
            .map_err(|e| self.map_err(e))?;
        let total: i64 = col(
            &conn
                .query_one(&count, &[&org_id, &principal_id])
                .await
                .map_err(|e| self.map_err(e))?,
            0,
        )?;
        let st = conn
            .prepare_cached(&format!(
                "SELECT {CHAT_COLS} FROM chat_sessions s WHERE s.org_id = $1 AND s.principal_id = $2 \
                 ORDER BY s.updated_at DESC, s.id COLLATE \"C\" LIMIT $3 OFFSET $4"
            ))
            .await
            .map_err(|e| self.map_err(e))?;
        let rows = conn
            .query(&st, &[&org_id, &principal_id, &limit, &offset])
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(Page {
            items: all(&rows, chat)?,
            total,
        })
    }

    async fn get_chat_session(
        &self,
        org_id: &str,
        principal_id: &str,
        id: &str,
    ) -> StoreResult<Option<ChatSession>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &format!(
                    "SELECT {CHAT_COLS} FROM chat_sessions s WHERE s.org_id = $1 AND s.principal_id = $2 AND s.id = $3"
                ),
                &[&org_id, &principal_id, &id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| chat(&r)).transpose()
    }

    async fn rename_chat_session(
        &self,
        org_id: &str,
        principal_id: &str,
        id: &str,
        title: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE chat_sessions SET title = $4, updated_at = $5 WHERE org_id = $1 AND principal_id = $2 AND id = $3",
                &[&org_id, &principal_id, &id, &title, &now],
            )
            .await?;
        Ok(n > 0)
    }

    async fn append_chat_messages(
        &self,
        org_id: &str,
        session_id: &str,
        messages: &[ChatMessage],
        now: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        let mut conn = self.conn().await?;
        if messages.is_empty() {
            let found = conn
                .query_opt(
                    "SELECT 1 FROM chat_sessions WHERE id = $1 AND org_id = $2",
                    &[&session_id, &org_id],
                )
                .await
                .map_err(|e| self.map_err(e))?
                .is_some();
            return if found {
                Ok(Vec::new())
            } else {
                Err(StoreError::NotFound)
            };
        }
        let tx = conn.transaction().await.map_err(|e| self.map_err(e))?;
        // Updating the session row locks it: concurrent appends to the session
        // queue here, and the MAX below (a fresh snapshot under READ COMMITTED)
        // sees the previous appender's messages.
        let n = tx
            .execute(
                "UPDATE chat_sessions SET updated_at = $3 WHERE id = $1 AND org_id = $2",
                &[&session_id, &org_id, &now],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let last: i64 = col(
            &tx.query_one(
                "SELECT COALESCE(MAX(seq), 0)::BIGINT FROM chat_messages WHERE session_id = $1",
                &[&session_id],
            )
            .await
            .map_err(|e| self.map_err(e))?,
            0,
        )?;
        let stored: Vec<ChatMessage> = messages
            .iter()
            .zip(last + 1..)
            .map(|(m, seq)| ChatMessage {
                session_id: session_id.to_string(),
                seq,
                ..m.clone()
            })
            .collect();
        let ids: Vec<&str> = stored.iter().map(|m| m.id.as_str()).collect();
        let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
        let roles: Vec<&str> = stored.iter().map(|m| m.role.as_str()).collect();
        let contents: Vec<&str> = stored.iter().map(|m| m.content.as_str()).collect();
        let metas: Vec<Option<&str>> = stored.iter().map(|m| m.meta.as_deref()).collect();
        let times: Vec<i64> = stored.iter().map(|m| m.created_at).collect();
        tx.execute(
            &format!(
                "INSERT INTO chat_messages ({MESSAGE_COLS}) \
                 SELECT id, $1, seq, role, content, meta, created_at \
                 FROM unnest($2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::BIGINT[]) \
                 AS m(id, seq, role, content, meta, created_at)"
            ),
            &[&session_id, &ids, &seqs, &roles, &contents, &metas, &times],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        tx.commit().await.map_err(|e| self.map_err(e))?;
        Ok(stored)
    }

    async fn list_chat_messages(
        &self,
        org_id: &str,
        session_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        let (limit, _) = page_bounds(limit, 0);
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {MESSAGE_COLS_M} FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id \
                     WHERE s.org_id = $1 AND m.session_id = $2 AND m.seq > $3 ORDER BY m.seq LIMIT $4"
                ),
                &[&org_id, &session_id, &after, &limit],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        all(&rows, message)
    }

    async fn set_chat_title_if_unset(
        &self,
        org_id: &str,
        session_id: &str,
        title: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE chat_sessions SET title = $3, updated_at = $4 WHERE id = $1 AND org_id = $2 AND title IS NULL",
                &[&session_id, &org_id, &title, &now],
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_chat_session(
        &self,
        org_id: &str,
        principal_id: &str,
        id: &str,
    ) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM chat_sessions WHERE org_id = $1 AND principal_id = $2 AND id = $3",
                &[&org_id, &principal_id, &id],
            )
            .await?;
        Ok(n > 0)
    }
}

#[async_trait]
impl ChatTurnRepo for PgStore {
    async fn create_chat_turn(&self, t: &ChatTurn) -> StoreResult<()> {
        check_status(&t.status)?;
        // Inserted only when the session belongs to the turn's organisation; the
        // partial unique index refuses a second unfinished turn, even from a
        // concurrent transaction on another replica.
        let n = self
            .exec(
                &format!(
                    "INSERT INTO chat_turns ({TURN_COLS}) \
                     SELECT $1::TEXT, $2::TEXT, $3::TEXT, $4::TEXT, $5::TEXT, $6::TEXT, $7::TEXT, $8::TEXT, \
                     $9::BIGINT, $10::BIGINT, $11::BIGINT \
                     FROM chat_sessions WHERE id = $3 AND org_id = $2"
                ),
                &[
                    &t.id,
                    &t.org_id,
                    &t.session_id,
                    &t.principal_id,
                    &t.status,
                    &t.approval_id,
                    &t.state,
                    &t.lease_owner,
                    &t.lease_until,
                    &t.created_at,
                    &t.updated_at,
                ],
            )
            .await?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn get_chat_turn(&self, org_id: &str, id: &str) -> StoreResult<Option<ChatTurn>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &format!("SELECT {TURN_COLS} FROM chat_turns WHERE org_id = $1 AND id = $2"),
                &[&org_id, &id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| turn(&r)).transpose()
    }

    async fn save_chat_turn(
        &self,
        t: &ChatTurn,
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<bool> {
        check_status(&t.status)?;
        let (lease_owner, lease_until) = if is_finished(&t.status) {
            (None, 0)
        } else {
            (Some(owner), lease_until)
        };
        let n = self
            .exec(
                "UPDATE chat_turns SET status = $4, approval_id = $5, state = $6, lease_owner = $7, lease_until = $8, \
                 updated_at = $9 WHERE id = $1 AND org_id = $2 AND lease_owner = $3 AND status NOT IN ('done', 'failed')",
                &[
                    &t.id,
                    &t.org_id,
                    &owner,
                    &t.status,
                    &t.approval_id,
                    &t.state,
                    &lease_owner,
                    &lease_until,
                    &now,
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn wake_chat_turn(
        &self,
        org_id: &str,
        approval_id: &str,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>> {
        self.end_wait(org_id, "approval_id", approval_id, "resumable", now)
            .await
    }

    async fn supersede_chat_turn(
        &self,
        org_id: &str,
        session_id: &str,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>> {
        self.end_wait(org_id, "session_id", session_id, "failed", now)
            .await
    }

    async fn claim_chat_turn(
        &self,
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>> {
        // SKIP LOCKED lets concurrent claimers pass over a turn another one is
        // taking; a row updated meanwhile is re-checked against the conditions.
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &format!(
                    "UPDATE chat_turns SET status = 'running', lease_owner = $1, lease_until = $2, updated_at = $3 \
                     WHERE id = (SELECT id FROM chat_turns WHERE status IN ('running', 'resumable') \
                     AND (status = 'resumable' OR lease_until < $3) ORDER BY updated_at, id COLLATE \"C\" LIMIT 1 \
                     FOR UPDATE SKIP LOCKED) RETURNING {TURN_COLS}"
                ),
                &[&owner, &lease_until, &now],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| turn(&r)).transpose()
    }
}

#[async_trait]
impl ChatEventRepo for PgStore {
    async fn append_chat_events(&self, events: &[ChatEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let sessions: Vec<&str> = events.iter().map(|e| e.session_id.as_str()).collect();
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        let turns: Vec<&str> = events.iter().map(|e| e.turn_id.as_str()).collect();
        let bodies: Vec<&str> = events.iter().map(|e| e.body.as_str()).collect();
        let times: Vec<i64> = events.iter().map(|e| e.created_at).collect();
        let notify = distinct(sessions.iter().copied());
        // One statement, so one transaction: the rows and the notifications
        // (delivered at commit) go together or not at all.
        let conn = self.conn().await?;
        conn.query(
            &format!(
                "WITH added AS (INSERT INTO chat_events ({EVENT_COLS}) \
                 SELECT * FROM unnest($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[])) \
                 SELECT pg_notify('{CHANNEL}', s) FROM unnest($6::TEXT[]) AS s"
            ),
            &[&sessions, &seqs, &turns, &bodies, &times, &notify],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        Ok(())
    }

    async fn list_chat_events(
        &self,
        org_id: &str,
        session_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatEvent>> {
        let (limit, _) = page_bounds(limit, 0);
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {EVENT_COLS_E} FROM chat_events e JOIN chat_sessions s ON s.id = e.session_id \
                     WHERE s.org_id = $1 AND e.session_id = $2 AND e.seq > $3 ORDER BY e.seq LIMIT $4"
                ),
                &[&org_id, &session_id, &after, &limit],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        all(&rows, event)
    }

    async fn last_chat_event(&self, session_id: &str) -> StoreResult<i64> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(
                "SELECT COALESCE(MAX(seq), 0)::BIGINT FROM chat_events WHERE session_id = $1",
                &[&session_id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        col(&row, 0)
    }

    async fn wait_chat_events(
        &self,
        session_id: &str,
        after: i64,
        timeout: Duration,
    ) -> StoreResult<()> {
        self.start_listener();
        // Notifications wake the wait; while the listener is down, poll.
        wait_for_events(
            &self.inner.chat_waiters,
            session_id,
            after,
            timeout,
            || {
                if self.chat_listener_ready() {
                    CHAT_RECHECK
                } else {
                    CHAT_POLL
                }
            },
            || self.last_chat_event(session_id),
        )
        .await
    }
}

#[async_trait]
impl ActivityRepo for PgStore {
    async fn record_activity(&self, a: &Activity) -> StoreResult<()> {
        self.exec(
            &format!(
                "INSERT INTO tool_executions ({ACTIVITY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ),
            &[
                &a.id,
                &a.org_id,
                &a.principal_id,
                &a.tool_name,
                &a.category,
                &a.risk,
                &a.status,
                &a.args,
                &a.error,
                &a.duration_ms,
                &a.approval_id,
                &a.created_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn list_activity(&self, org_id: &str, f: &ActivityFilter) -> StoreResult<Page<Activity>> {
        let filter = "org_id = $1 AND ($2::TEXT IS NULL OR tool_name = $2) AND ($3::TEXT IS NULL OR principal_id = $3) \
                      AND ($4::TEXT IS NULL OR status = $4) AND ($5::BIGINT IS NULL OR created_at >= $5) \
                      AND ($6::BIGINT IS NULL OR created_at < $6)";
        let (limit, offset) = page_bounds(f.limit, f.offset);
        let conn = self.conn().await?;
        let total: i64 = col(
            &conn
                .query_one(
                    &format!("SELECT COUNT(*) FROM tool_executions WHERE {filter}"),
                    &[&org_id, &f.tool, &f.principal, &f.status, &f.from, &f.to],
                )
                .await
                .map_err(|e| self.map_err(e))?,
            0,
        )?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {ACTIVITY_COLS} FROM tool_executions WHERE {filter} \
                     ORDER BY created_at DESC, id COLLATE \"C\" LIMIT $7 OFFSET $8"
                ),
                &[
                    &org_id,
                    &f.tool,
                    &f.principal,
                    &f.status,
                    &f.from,
                    &f.to,
                    &limit,
                    &offset,
                ],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(Page {
            items: all(&rows, activity)?,
            total,
        })
    }
}

#[async_trait]
impl ExecutionRepo for PgStore {
    async fn finish_execution(
        &self,
        a: &Activity,
        event_kind: &str,
        payload_json: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(|e| self.map_err(e))?;
        let n = tx
            .execute(
                "UPDATE tool_executions SET status = $3, error = $4, duration_ms = $5 \
                 WHERE org_id = $1 AND id = $2 AND status = 'running'",
                &[&a.org_id, &a.id, &a.status, &a.error, &a.duration_ms],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        if n == 0 {
            return Ok(false);
        }
        // The same ordering lock as `append_event`: ids become visible in order.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&EVENTS_LOCK])
            .await
            .map_err(|e| self.map_err(e))?;
        tx.execute(
            "INSERT INTO events (org_id, kind, payload, created_at) VALUES ($1, $2, $3, $4)",
            &[&a.org_id, &event_kind, &payload_json, &now],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        tx.commit().await.map_err(|e| self.map_err(e))?;
        Ok(true)
    }

    async fn stale_executions(&self, before: i64, limit: i64) -> StoreResult<Vec<Activity>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {ACTIVITY_COLS} FROM tool_executions WHERE status = 'running' AND created_at < $1 \
                     ORDER BY created_at, id COLLATE \"C\" LIMIT $2"
                ),
                &[&before, &limit],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        all(&rows, activity)
    }
}

#[async_trait]
impl ApprovalRepo for PgStore {
    async fn open_approval(
        &self,
        org_id: &str,
        requester: &str,
        tool: &str,
        args_hash: &str,
        now: i64,
    ) -> StoreResult<Option<Approval>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &format!(
                    "SELECT {APPROVAL_COLS} FROM approvals WHERE org_id = $1 AND requester = $2 AND tool_name = $3 AND args_hash = $4 \
                     AND status IN ('pending', 'approved') AND expires_at > $5 ORDER BY created_at DESC LIMIT 1"
                ),
                &[&org_id, &requester, &tool, &args_hash, &now],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| approval(&r)).transpose()
    }

    async fn create_approval(&self, a: &Approval, now: i64) -> StoreResult<Approval> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(|e| self.map_err(e))?;
        tx.execute(
            "UPDATE approvals SET status = 'expired' WHERE org_id = $1 AND requester = $2 AND tool_name = $3 AND args_hash = $4 \
             AND status = 'pending' AND expires_at <= $5",
            &[&a.org_id, &a.requester, &a.tool_name, &a.args_hash, &now],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        let inserted = tx
            .execute(
                &format!(
                    "INSERT INTO approvals ({APPROVAL_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                     ON CONFLICT DO NOTHING"
                ),
                &[
                    &a.id, &a.org_id, &a.requester, &a.tool_name, &a.risk, &a.args_hash, &a.args_redacted, &a.tool_call_id, &a.status,
                    &a.decided_by, &a.reason, &a.created_at, &a.expires_at, &a.decided_at, &a.consumed_at, &a.four_eyes, &a.args_sealed,
                ],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        let result = if inserted == 1 {
            a.clone()
        } else {
            let row = tx
                .query_one(
                    &format!(
                        "SELECT {APPROVAL_COLS} FROM approvals WHERE org_id = $1 AND requester = $2 AND tool_name = $3 AND args_hash = $4 \
                         AND status = 'pending'"
                    ),
                    &[&a.org_id, &a.requester, &a.tool_name, &a.args_hash],
                )
                .await
                .map_err(|e| self.map_err(e))?;
            approval(&row)?
        };
        tx.commit().await.map_err(|e| self.map_err(e))?;
        Ok(result)
    }

    async fn get_approval(&self, org_id: &str, id: &str) -> StoreResult<Option<Approval>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &format!("SELECT {APPROVAL_COLS} FROM approvals WHERE org_id = $1 AND id = $2"),
                &[&org_id, &id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| approval(&r)).transpose()
    }

    async fn approval_by_tool_call(
        &self,
        org_id: &str,
        requester: &str,
        tool_call_id: &str,
    ) -> StoreResult<Option<Approval>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &format!(
                    "SELECT {APPROVAL_COLS} FROM approvals WHERE org_id = $1 AND requester = $2 AND tool_call_id = $3 \
                     ORDER BY created_at DESC LIMIT 1"
                ),
                &[&org_id, &requester, &tool_call_id],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| approval(&r)).transpose()
    }

    async fn decide_approval(
        &self,
        org_id: &str,
        id: &str,
        approved: bool,
        by: &str,
        reason: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        let status = if approved { "approved" } else { "rejected" };
        let n = self
            .exec(
                "UPDATE approvals SET status = $3, decided_by = $4, reason = $5, decided_at = $6 \
                 WHERE org_id = $1 AND id = $2 AND status = 'pending' AND expires_at > $6",
                &[&org_id, &id, &status, &by, &reason, &now],
            )
            .await?;
        Ok(n == 1)
    }

    async fn consume_approval(
        &self,
        org_id: &str,
        id: &str,
        requester: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE approvals SET status = 'consumed', consumed_at = $4 \
                 WHERE org_id = $1 AND id = $2 AND requester = $3 AND status = 'approved' AND expires_at > $4",
                &[&org_id, &id, &requester, &now],
            )
            .await?;
        Ok(n == 1)
    }

    async fn list_pending_approvals(
        &self,
        org_id: &str,
        now: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<Approval>> {
        let (limit, offset) = page_bounds(limit, offset);
        let conn = self.conn().await?;
        let total: i64 = col(
            &conn
                .query_one(
                    "SELECT COUNT(*) FROM approvals WHERE org_id = $1 AND status = 'pending' AND expires_at > $2",
                    &[&org_id, &now],
                )
                .await
                .map_err(|e| self.map_err(e))?,
            0,
        )?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {APPROVAL_COLS} FROM approvals WHERE org_id = $1 AND status = 'pending' AND expires_at > $2 \
                     ORDER BY created_at DESC, id COLLATE \"C\" LIMIT $3 OFFSET $4"
                ),
                &[&org_id, &now, &limit, &offset],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(Page {
            items: all(&rows, approval)?,
            total,
        })
    }

    async fn count_pending_approvals_of(
        &self,
        org_id: &str,
        requester: &str,
        now: i64,
    ) -> StoreResult<i64> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(
                "SELECT COUNT(*) FROM approvals WHERE org_id = $1 AND requester = $2 AND status = 'pending' AND expires_at > $3",
                &[&org_id, &requester, &now],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        col(&row, 0)
    }

    async fn count_pending_approvals(&self, now: i64) -> StoreResult<i64> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(
                "SELECT COUNT(*) FROM approvals WHERE status = 'pending' AND expires_at > $1",
                &[&now],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        col(&row, 0)
    }
}

#[async_trait]
impl EventRepo for PgStore {
    async fn append_event(
        &self,
        org_id: &str,
        kind: &str,
        payload_json: &str,
        now: i64,
    ) -> StoreResult<i64> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(|e| self.map_err(e))?;
        // A sequence hands out ids at insert, but concurrent transactions may
        // commit out of id order: a poller that read id 11 would then never see
        // 10 committing after it. One appender at a time (the lock is released
        // after commit, when the row is already visible) makes visibility
        // follow id order, at the cost of serialising appends across replicas:
        // each holds the lock for one short insert.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&EVENTS_LOCK])
            .await
            .map_err(|e| self.map_err(e))?;
        let row = tx
            .query_one(
                "INSERT INTO events (org_id, kind, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                &[&org_id, &kind, &payload_json, &now],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        let id: i64 = col(&row, 0)?;
        tx.commit().await.map_err(|e| self.map_err(e))?;
        Ok(id)
    }

    async fn list_events(
        &self,
        org_id: &str,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<Event>> {
        let (limit, _) = page_bounds(limit, 0);
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {OUTBOX_COLS} FROM events WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                ),
                &[&org_id, &after_id, &limit],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        all(&rows, outbox_event)
    }

    async fn undelivered_events(&self, limit: i64) -> StoreResult<Vec<Event>> {
        let (limit, _) = page_bounds(limit, 0);
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {OUTBOX_COLS} FROM events WHERE delivered_at IS NULL ORDER BY id LIMIT $1"
                ),
                &[&limit],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        all(&rows, outbox_event)
    }

    async fn mark_events_delivered(&self, ids: &[i64], now: i64) -> StoreResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        self.exec(
            "UPDATE events SET delivered_at = $2 WHERE id = ANY($1) AND delivered_at IS NULL",
            &[&ids, &now],
        )
        .await
    }
}

#[async_trait]
impl AuditRepo for PgStore {
    async fn append_audit(&self, keys: &Keys, e: &NewAuditEntry) -> StoreResult<AuditRecord> {
        let chain = e.chain();
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(|e| self.map_err(e))?;
        // One appender per chain at a time (released at commit or rollback). Under
        // READ COMMITTED the head read below takes a fresh snapshot, so it sees
        // the previous appender's committed head. UNIQUE (chain, seq) backs this up.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&chain])
            .await
            .map_err(|e| self.map_err(e))?;
        let prev = tx
            .query_opt(
                "SELECT seq, mac FROM audit_heads WHERE chain = $1",
                &[&chain],
            )
            .await
            .map_err(|e| self.map_err(e))?
            .map(|r| Ok::<_, StoreError>((col::<i64>(&r, 0)?, col::<String>(&r, 1)?)))
            .transpose()?;
        let (seq, prev_mac, mac, detail) = audit::seal(
            keys,
            e,
            &chain,
            prev.as_ref().map(|(s, m)| (*s, m.as_str())),
        );
        let row = tx
            .query_one(
                "INSERT INTO audit_log (chain, seq, org_id, actor, action, target, outcome, detail, ip, created_at, prev_mac, mac) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                &[
                    &chain,
                    &seq,
                    &e.org_id,
                    &e.actor,
                    &e.action,
                    &e.target,
                    &e.outcome,
                    &detail,
                    &e.ip,
                    &e.created_at,
                    &prev_mac,
                    &mac,
                ],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        let id: i64 = col(&row, 0)?;
        let head = audit::head_mac(keys, &chain, seq, &mac);
        tx.execute(
            "INSERT INTO audit_heads (chain, seq, mac, head_mac) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, head_mac = excluded.head_mac",
            &[&chain, &seq, &mac, &head],
        )
        .await
        .map_err(|e| self.map_err(e))?;
        tx.commit().await.map_err(|e| self.map_err(e))?;
        Ok(AuditRecord {
            id,
            chain,
            seq,
            org_id: e.org_id.clone(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            outcome: e.outcome.clone(),
            detail,
            ip: e.ip.clone(),
            created_at: e.created_at,
            prev_mac,
            mac,
        })
    }

    async fn list_audit(&self, chain: &str, f: &AuditFilter) -> StoreResult<Page<AuditRecord>> {
        let (action, is_prefix) = match &f.action {
            Some(a) => {
                let (p, pre) = action_pattern(a);
                (Some(p), pre)
            }
            None => (None, false),
        };
        let action_clause = if is_prefix {
            "action LIKE $2 ESCAPE '\\'"
        } else {
            "action = $2"
        };
        let filter = format!(
            "chain = $1 AND ($2::TEXT IS NULL OR {action_clause}) AND ($3::TEXT IS NULL OR actor = $3) \
             AND ($4::BIGINT IS NULL OR created_at >= $4) AND ($5::BIGINT IS NULL OR created_at < $5)"
        );
        let (limit, offset) = page_bounds(f.limit, f.offset);
        let conn = self.conn().await?;
        let total: i64 = col(
            &conn
                .query_one(
                    &format!("SELECT COUNT(*) FROM audit_log WHERE {filter}"),
                    &[&chain, &action, &f.actor, &f.from, &f.to],
                )
                .await
                .map_err(|e| self.map_err(e))?,
            0,
        )?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {AUDIT_COLS} FROM audit_log WHERE {filter} ORDER BY seq DESC LIMIT $6 OFFSET $7"
                ),
                &[&chain, &action, &f.actor, &f.from, &f.to, &limit, &offset],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(Page {
            items: all(&rows, audit_record)?,
            total,
        })
    }

    async fn audit_records_after(
        &self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>> {
        let (limit, _) = page_bounds(limit, 0);
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {AUDIT_COLS} FROM audit_log WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3"
                ),
                &[&chain, &after, &limit],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        all(&rows, audit_record)
    }

    async fn audit_head(&self, chain: &str) -> StoreResult<Option<AuditHead>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                "SELECT chain, seq, mac, head_mac FROM audit_heads WHERE chain = $1",
                &[&chain],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| {
            Ok(AuditHead {
                chain: col(&r, 0)?,
                seq: col(&r, 1)?,
                mac: col(&r, 2)?,
                head_mac: col(&r, 3)?,
            })
        })
        .transpose()
    }
}

impl PgStore {
    /// Moves the org's turn waiting for an approval, matched on `column`, to `status`,
    /// releasing any lease; returns it. One statement, so a wake and a supersede race cleanly.
    async fn end_wait(
        &self,
        org_id: &str,
        column: &'static str,
        value: &str,
        status: &'static str,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(
                &format!(
                    "UPDATE chat_turns SET status = $4, lease_owner = NULL, lease_until = 0, updated_at = $3 \
                     WHERE org_id = $1 AND {column} = $2 AND status = 'awaiting_approval' RETURNING {TURN_COLS}"
                ),
                &[&org_id, &value, &now, &status],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        rows.first().map(turn).transpose()
    }
}
