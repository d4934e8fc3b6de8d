//! The storage contract on SQLite.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use portal_core::audit::{self, AuditHead, AuditRecord, NewAuditEntry};
use portal_core::crypto::Keys;
use portal_core::model::*;
use portal_core::rbac::Role;
use portal_core::store::StoreResult;
use portal_core::store::*;
use portal_core::{Availability, Backend, PoolStats, StoreError};
use rusqlite::{params, OptionalExtension, Row};

use super::{Db, SqliteStore};
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
/// How often a chat stream follower re-reads the database.
const CHAT_POLL: Duration = Duration::from_millis(100);
const ACTIVITY_COLS: &str =
    "id, org_id, principal_id, tool_name, category, risk, status, args, error, duration_ms, approval_id, created_at";
const APPROVAL_COLS: &str =
    "id, org_id, requester, tool_name, risk, args_hash, args_redacted, tool_call_id, status, \
    decided_by, reason, created_at, expires_at, decided_at, consumed_at, four_eyes, args_sealed";
const OUTBOX_COLS: &str = "id, org_id, kind, payload, created_at, delivered_at";
const AUDIT_COLS: &str =
    "id, chain, seq, org_id, actor, action, target, outcome, detail, ip, created_at, prev_mac, mac";

fn user(r: &Row, at: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(at)?,
        email: r.get(at + 1)?,
        name: r.get(at + 2)?,
        platform_admin: r.get(at + 3)?,
        created_at: r.get(at + 4)?,
        must_change_password: r.get(at + 5)?,
    })
}

const INVITATION_COLS: &str = "i.id, i.org_id, i.user_id, i.role, i.invited_by, i.created_account, i.status, i.created_at, i.expires_at";

fn invitation(r: &Row, at: usize) -> rusqlite::Result<Invitation> {
    let status: String = r.get(at + 6)?;
    Ok(Invitation {
        id: r.get(at)?,
        org_id: r.get(at + 1)?,
        user_id: r.get(at + 2)?,
        role: role(r, at + 3)?,
        invited_by: r.get(at + 4)?,
        created_account: r.get(at + 5)?,
        status: InvitationStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                at + 6,
                rusqlite::types::Type::Text,
                format!("unknown invitation status {status:?}").into(),
            )
        })?,
        created_at: r.get(at + 7)?,
        expires_at: r.get(at + 8)?,
    })
}

fn org(r: &Row, at: usize) -> rusqlite::Result<Org> {
    Ok(Org {
        id: r.get(at)?,
        slug: r.get(at + 1)?,
        name: r.get(at + 2)?,
        four_eyes: r.get(at + 3)?,
        created_at: r.get(at + 4)?,
        allowed_compartments: compartments(r.get::<_, Option<String>>(at + 5)?.as_deref())
            .map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    at + 5,
                    rusqlite::types::Type::Text,
                    e.into(),
                )
            })?,
    })
}

fn role(r: &Row, at: usize) -> rusqlite::Result<Role> {
    let s: String = r.get(at)?;
    s.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(at, rusqlite::types::Type::Text, e.into())
    })
}

fn api_key(r: &Row) -> rusqlite::Result<ApiKey> {
    let perms: String = r.get(4)?;
    Ok(ApiKey {
        id: r.get(0)?,
        org_id: r.get(1)?,
        name: r.get(2)?,
        prefix: r.get(3)?,
        permissions: serde_json::from_str(&perms).unwrap_or_default(),
        owner_user_id: r.get(5)?,
        created_by: r.get(6)?,
        created_at: r.get(7)?,
        expires_at: r.get(8)?,
        revoked_at: r.get(9)?,
        last_used_at: r.get(10)?,
    })
}

fn chat(r: &Row) -> rusqlite::Result<ChatSession> {
    Ok(ChatSession {
        id: r.get(0)?,
        org_id: r.get(1)?,
        principal_id: r.get(2)?,
        title: r.get(3)?,
        model: r.get(4)?,
        status: r.get(5)?,
        message_count: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

fn message(r: &Row) -> rusqlite::Result<ChatMessage> {
    Ok(ChatMessage {
        id: r.get(0)?,
        session_id: r.get(1)?,
        seq: r.get(2)?,
        role: r.get(3)?,
        content: r.get(4)?,
        meta: r.get(5)?,
        created_at: r.get(6)?,
    })
}

fn turn(r: &Row) -> rusqlite::Result<ChatTurn> {
    Ok(ChatTurn {
        id: r.get(0)?,
        org_id: r.get(1)?,
        session_id: r.get(2)?,
        principal_id: r.get(3)?,
        status: r.get(4)?,
        approval_id: r.get(5)?,
        state: r.get(6)?,
        lease_owner: r.get(7)?,
        lease_until: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

fn event(r: &Row) -> rusqlite::Result<ChatEvent> {
    Ok(ChatEvent {
        session_id: r.get(0)?,
        seq: r.get(1)?,
        turn_id: r.get(2)?,
        body: r.get(3)?,
        created_at: r.get(4)?,
    })
}

fn outbox_event(r: &Row) -> rusqlite::Result<Event> {
    Ok(Event {
        id: r.get(0)?,
        org_id: r.get(1)?,
        kind: r.get(2)?,
        payload: r.get(3)?,
        created_at: r.get(4)?,
        delivered_at: r.get(5)?,
    })
}

fn activity(r: &Row) -> rusqlite::Result<Activity> {
    Ok(Activity {
        id: r.get(0)?,
        org_id: r.get(1)?,
        principal_id: r.get(2)?,
        tool_name: r.get(3)?,
        category: r.get(4)?,
        risk: r.get(5)?,
        status: r.get(6)?,
        args: r.get(7)?,
        error: r.get(8)?,
        duration_ms: r.get(9)?,
        approval_id: r.get(10)?,
        created_at: r.get(11)?,
    })
}

fn approval(r: &Row) -> rusqlite::Result<Approval> {
    Ok(Approval {
        id: r.get(0)?,
        org_id: r.get(1)?,
        requester: r.get(2)?,
        tool_name: r.get(3)?,
        risk: r.get(4)?,
        args_hash: r.get(5)?,
        args_redacted: r.get(6)?,
        tool_call_id: r.get(7)?,
        status: r.get(8)?,
        decided_by: r.get(9)?,
        reason: r.get(10)?,
        created_at: r.get(11)?,
        expires_at: r.get(12)?,
        decided_at: r.get(13)?,
        consumed_at: r.get(14)?,
        four_eyes: r.get(15)?,
        args_sealed: r.get(16)?,
    })
}

fn audit_record(r: &Row) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        id: r.get(0)?,
        chain: r.get(1)?,
        seq: r.get(2)?,
        org_id: r.get(3)?,
        actor: r.get(4)?,
        action: r.get(5)?,
        target: r.get(6)?,
        outcome: r.get(7)?,
        detail: r.get(8)?,
        ip: r.get(9)?,
        created_at: r.get(10)?,
        prev_mac: r.get(11)?,
        mac: r.get(12)?,
    })
}

fn admins_left(
    tx: &rusqlite::Transaction<'_>,
    org_id: &str,
    without: &str,
) -> Result<i64, StoreError> {
    tx.query_row(
        "SELECT COUNT(*) FROM org_members WHERE org_id = ?1 AND role = 'admin' AND user_id <> ?2",
        params![org_id, without],
        |r| r.get(0),
    )
    .db()
}

const LAST_ADMIN: &str = "the organisation's last admin cannot be removed or demoted";

/// SQL `GLOB` prefix for audit action filters ending with `*`. GLOB, unlike
/// SQLite's `LIKE`, is case-sensitive, like the exact match (and PostgreSQL's `LIKE`).
fn action_pattern(action: &str) -> (String, bool) {
    match action.strip_suffix('*') {
        Some(prefix) => {
            let mut p = String::with_capacity(prefix.len() + 1);
            for ch in prefix.chars() {
                match ch {
                    '*' | '?' | '[' => {
                        p.push('[');
                        p.push(ch);
                        p.push(']');
                    }
                    _ => p.push(ch),
                }
            }
            p.push('*');
            (p, true)
        }
        None => (action.to_string(), false),
    }
}

#[async_trait]
impl StoreInfo for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn availability(&self) -> &Availability {
        &self.availability
    }

    async fn ping(&self) -> Result<Duration, StoreError> {
        let start = Instant::now();
        self.read(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).db())
            .await?;
        Ok(start.elapsed())
    }

    fn pool_stats(&self) -> PoolStats {
        let idle = self.readers.lock().map(|v| v.len()).unwrap_or(0);
        let in_use = self.max_readers - self.reader_slots.available_permits();
        PoolStats {
            idle,
            in_use,
            max: self.max_readers,
        }
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )
            .db()
        })
        .await
    }
}

#[async_trait]
impl UserRepo for SqliteStore {
    async fn create_user(&self, u: NewUser, now: i64) -> StoreResult<User> {
        let id = uuid::Uuid::new_v4().to_string();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO users (id, email, name, password_hash, platform_admin, must_change_password, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![id, u.email, u.name, u.password_hash, u.platform_admin, u.must_change_password, now],
            )
            .db()?;
            Ok(User { id: id.clone(), email: u.email.clone(), name: u.name.clone(), platform_admin: u.platform_admin, must_change_password: u.must_change_password, created_at: now })
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.email = ?1"),
                [email],
                |r| Ok((user(r, 0)?, r.get(6)?)),
            )
            .optional()
            .db()
        })
        .await
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1"),
                [id],
                |r| user(r, 0),
            )
            .optional()
            .db()
        })
        .await
    }

    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        self.read(|c| {
            c.query_row(
                "SELECT password_hash FROM users WHERE id = ?1",
                [user_id],
                |r| r.get(0),
            )
            .optional()
            .db()
            .map(Option::flatten)
        })
        .await
    }

    async fn set_password(&self, user_id: &str, hash: &str, now: i64) -> StoreResult<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET password_hash = ?2, must_change_password = 0, updated_at = ?3 WHERE id = ?1",
                    params![user_id, hash, now],
                )
                .db()?;
            if n == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn set_platform_admin(&self, user_id: &str, on: bool, now: i64) -> StoreResult<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET platform_admin = ?2, updated_at = ?3 WHERE id = ?1",
                    params![user_id, on, now],
                )
                .db()?;
            if n == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }
}

#[async_trait]
impl OrgRepo for SqliteStore {
    async fn create_org(&self, id: &str, slug: &str, name: &str, now: i64) -> StoreResult<Org> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO organizations (id, slug, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, slug, name, now],
            )
            .db()?;
            Ok(Org {
                id: id.into(),
                slug: slug.into(),
                name: name.into(),
                four_eyes: true,
                allowed_compartments: Vec::new(),
                created_at: now,
            })
        })
        .await
    }

    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {ORG_COLS} FROM organizations o WHERE o.slug = ?1"),
                [slug],
                |r| org(r, 0),
            )
            .optional()
            .db()
        })
        .await
    }

    async fn org_by_id(&self, id: &str) -> StoreResult<Option<Org>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {ORG_COLS} FROM organizations o WHERE o.id = ?1"),
                [id],
                |r| org(r, 0),
            )
            .optional()
            .db()
        })
        .await
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {ORG_COLS} FROM organizations o ORDER BY o.slug"
                ))
                .db()?;
            let rows = st.query_map([], |r| org(r, 0)).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn set_org_compartments(&self, org_id: &str, allowed: &[String]) -> StoreResult<()> {
        let value = compartments_column(allowed);
        self.write(move |tx| {
            let n = tx
                .execute(
                    "UPDATE organizations SET allowed_compartments = ?2 WHERE id = ?1",
                    params![org_id, value],
                )
                .db()?;
            if n == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn set_org_four_eyes(&self, org_id: &str, on: bool) -> StoreResult<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE organizations SET four_eyes = ?2 WHERE id = ?1",
                    params![org_id, on],
                )
                .db()?;
            if n == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn admin_exists(&self) -> StoreResult<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS(SELECT 1 FROM org_members WHERE role = 'admin') OR EXISTS(SELECT 1 FROM users WHERE platform_admin = 1)",
                [],
                |r| r.get(0),
            )
            .db()
        })
        .await
    }

    async fn bootstrap_admin(
        &self,
        u: NewUser,
        org_id: &str,
        slug: &str,
        org_name: &str,
        now: i64,
    ) -> StoreResult<(User, Org)> {
        let user_id = uuid::Uuid::new_v4().to_string();
        self.write(|tx| {
            let exists: bool = tx
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM org_members WHERE role = 'admin') OR EXISTS(SELECT 1 FROM users WHERE platform_admin = 1)",
                    [],
                    |r| r.get(0),
                )
                .db()?;
            if exists {
                return Err(StoreError::Conflict("an admin already exists".into()));
            }
            tx.execute(
                "INSERT INTO users (id, email, name, password_hash, platform_admin, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
                params![user_id, u.email, u.name, u.password_hash, now],
            )
            .db()?;
            tx.execute("INSERT INTO organizations (id, slug, name, created_at) VALUES (?1, ?2, ?3, ?4)", params![org_id, slug, org_name, now])
                .db()?;
            tx.execute(
                "INSERT INTO org_members (org_id, user_id, role, created_at, last_active_at) VALUES (?1, ?2, 'admin', ?3, ?3)",
                params![org_id, user_id, now],
            )
            .db()?;
            Ok((
                User { id: user_id.clone(), email: u.email.clone(), name: u.name.clone(), platform_admin: true, must_change_password: false, created_at: now },
                Org { id: org_id.into(), slug: slug.into(), name: org_name.into(), four_eyes: true,
                allowed_compartments: Vec::new(), created_at: now },
            ))
        })
        .await
    }
}

#[async_trait]
impl MemberRepo for SqliteStore {
    async fn add_member(
        &self,
        org_id: &str,
        user_id: &str,
        role: Role,
        now: i64,
    ) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO org_members (org_id, user_id, role, created_at, last_active_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![org_id, user_id, role.as_str(), now],
            )
            .db()?;
            Ok(())
        })
        .await
    }

    async fn set_member_role(&self, org_id: &str, user_id: &str, role: Role) -> StoreResult<()> {
        self.write(|tx| {
            let current: Option<String> = tx
                .query_row(
                    "SELECT role FROM org_members WHERE org_id = ?1 AND user_id = ?2",
                    params![org_id, user_id],
                    |r| r.get(0),
                )
                .optional()
                .db()?;
            match current.as_deref() {
                None => return Err(StoreError::NotFound),
                Some("admin") if role != Role::Admin && admins_left(tx, org_id, user_id)? == 0 => {
                    return Err(StoreError::Conflict(LAST_ADMIN.into()))
                }
                _ => {}
            }
            tx.execute(
                "UPDATE org_members SET role = ?3 WHERE org_id = ?1 AND user_id = ?2",
                params![org_id, user_id, role.as_str()],
            )
            .db()?;
            Ok(())
        })
        .await
    }

    async fn remove_member(&self, org_id: &str, user_id: &str) -> StoreResult<()> {
        self.write(|tx| {
            let current: Option<String> = tx
                .query_row(
                    "SELECT role FROM org_members WHERE org_id = ?1 AND user_id = ?2",
                    params![org_id, user_id],
                    |r| r.get(0),
                )
                .optional()
                .db()?;
            match current.as_deref() {
                None => return Err(StoreError::NotFound),
                Some("admin") if admins_left(tx, org_id, user_id)? == 0 => {
                    return Err(StoreError::Conflict(LAST_ADMIN.into()))
                }
                _ => {}
            }
            tx.execute(
                "DELETE FROM org_members WHERE org_id = ?1 AND user_id = ?2",
                params![org_id, user_id],
            )
            .db()?;
            Ok(())
        })
        .await
    }

    async fn member_role(&self, org_id: &str, user_id: &str) -> StoreResult<Option<Role>> {
        self.read(|c| {
            c.prepare_cached("SELECT role FROM org_members WHERE org_id = ?1 AND user_id = ?2")
                .db()?
                .query_row(params![org_id, user_id], |r| role(r, 0))
                .optional()
                .db()
        })
        .await
    }

    async fn list_members(&self, org_id: &str) -> StoreResult<Vec<Member>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {USER_COLS}, m.role, m.created_at FROM org_members m JOIN users u ON u.id = m.user_id \
                     WHERE m.org_id = ?1 ORDER BY u.email"
                ))
                .db()?;
            let rows = st.query_map([org_id], |r| Ok(Member { user: user(r, 0)?, role: role(r, 6)?, joined_at: r.get(7)? })).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn user_orgs(&self, user_id: &str) -> StoreResult<Vec<(Org, Role)>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {ORG_COLS}, m.role FROM org_members m JOIN organizations o ON o.id = m.org_id \
                     WHERE m.user_id = ?1 ORDER BY m.last_active_at IS NULL, m.last_active_at DESC, o.slug"
                ))
                .db()?;
            let rows = st.query_map([user_id], |r| Ok((org(r, 0)?, role(r, 6)?))).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn touch_membership(&self, org_id: &str, user_id: &str, now: i64) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE org_members SET last_active_at = ?3 WHERE org_id = ?1 AND user_id = ?2",
                params![org_id, user_id, now],
            )
            .db()?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl InvitationRepo for SqliteStore {
    async fn create_invitation(&self, inv: &Invitation) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE invitations SET status = 'expired' WHERE org_id = ?1 AND user_id = ?2 AND status = 'pending' AND expires_at <= ?3",
                params![inv.org_id, inv.user_id, inv.created_at],
            )
            .db()?;
            tx.execute(
                "INSERT INTO invitations (id, org_id, user_id, role, invited_by, created_account, status, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
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
            .db()?;
            Ok(())
        })
        .await
    }

    async fn user_invitations(
        &self,
        user_id: &str,
        now: i64,
    ) -> StoreResult<Vec<(Invitation, Org)>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {INVITATION_COLS}, {ORG_COLS} FROM invitations i JOIN organizations o ON o.id = i.org_id \
                     WHERE i.user_id = ?1 AND i.status = 'pending' AND i.expires_at > ?2 ORDER BY i.created_at DESC, i.id"
                ))
                .db()?;
            let rows = st
                .query_map(params![user_id, now], |r| Ok((invitation(r, 0)?, org(r, 9)?)))
                .db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn decide_invitation(
        &self,
        id: &str,
        user_id: &str,
        accept: bool,
        now: i64,
    ) -> StoreResult<Invitation> {
        self.write(|tx| {
            let found = tx
                .query_row(
                    &format!(
                        "SELECT {INVITATION_COLS} FROM invitations i \
                         WHERE i.id = ?1 AND i.user_id = ?2 AND i.status = 'pending' AND i.expires_at > ?3"
                    ),
                    params![id, user_id, now],
                    |r| invitation(r, 0),
                )
                .optional()
                .db()?;
            let Some(mut inv) = found else {
                return Err(StoreError::NotFound);
            };
            inv.status = if accept { InvitationStatus::Accepted } else { InvitationStatus::Declined };
            tx.execute(
                "UPDATE invitations SET status = ?2, decided_at = ?3 WHERE id = ?1",
                params![id, inv.status.as_str(), now],
            )
            .db()?;
            if accept {
                tx.execute(
                    "INSERT INTO org_members (org_id, user_id, role, created_at, last_active_at) VALUES (?1, ?2, ?3, ?4, NULL) \
                     ON CONFLICT (org_id, user_id) DO NOTHING",
                    params![inv.org_id, inv.user_id, inv.role.as_str(), now],
                )
                .db()?;
            }
            Ok(inv)
        })
        .await
    }
}

#[async_trait]
impl AuthSessionRepo for SqliteStore {
    async fn create_auth_session(&self, s: NewAuthSession) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO auth_sessions (id, token_hash, user_id, active_org_id, created_at, expires_at, last_seen_at, ip, user_agent) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?7, ?8)",
                params![s.id, s.token_hash, s.user_id, s.active_org_id, s.created_at, s.expires_at, s.ip, s.user_agent],
            )
            .db()?;
            Ok(())
        })
        .await
    }

    async fn auth_session_by_hash(&self, token_hash: &str) -> StoreResult<Option<AuthSession>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT s.id, s.active_org_id, s.expires_at, s.revoked_at, {USER_COLS} FROM auth_sessions s \
                 JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1"
            ))
            .db()?
            .query_row([token_hash], |r| {
                Ok(AuthSession { id: r.get(0)?, active_org_id: r.get(1)?, expires_at: r.get(2)?, revoked_at: r.get(3)?, user: user(r, 4)? })
            })
            .optional()
            .db()
        })
        .await
    }

    async fn extend_auth_session(&self, id: &str, expires_at: i64, now: i64) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE auth_sessions SET expires_at = ?2, last_seen_at = ?3 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, expires_at, now],
            )
            .db()?;
            Ok(())
        })
        .await
    }

    async fn revoke_auth_session(&self, id: &str, now: i64) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE auth_sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now],
            )
            .db()?;
            Ok(())
        })
        .await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE auth_sessions SET revoked_at = ?3 WHERE user_id = ?1 AND revoked_at IS NULL AND id <> COALESCE(?2, '')",
                params![user_id, keep, now],
            )
            .db()?;
            Ok(())
        })
        .await
    }

    async fn auth_session_active(&self, id: &str, now: i64) -> StoreResult<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS(SELECT 1 FROM auth_sessions WHERE id = ?1 AND revoked_at IS NULL AND expires_at > ?2)",
                params![id, now],
                |r| r.get(0),
            )
            .db()
        })
        .await
    }

    async fn set_session_org(&self, id: &str, org_id: &str) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE auth_sessions SET active_org_id = ?2 WHERE id = ?1",
                params![id, org_id],
            )
            .db()?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl ApiKeyRepo for SqliteStore {
    async fn create_api_key(&self, k: NewApiKey) -> StoreResult<ApiKey> {
        let perms = serde_json::to_string(&k.permissions).unwrap_or_else(|_| "[]".into());
        self.write(|tx| {
            tx.execute(
                &format!("INSERT INTO api_keys ({KEY_COLS}, key_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, ?10)"),
                params![k.id, k.org_id, k.name, k.prefix, perms, k.owner_user_id, k.created_by, k.created_at, k.expires_at, k.key_hash],
            )
            .db()?;
            Ok(ApiKey {
                id: k.id.clone(),
                org_id: k.org_id.clone(),
                name: k.name.clone(),
                prefix: k.prefix.clone(),
                permissions: k.permissions.clone(),
                owner_user_id: k.owner_user_id.clone(),
                created_by: k.created_by.clone(),
                created_at: k.created_at,
                expires_at: k.expires_at,
                revoked_at: None,
                last_used_at: None,
            })
        })
        .await
    }

    async fn list_api_keys(&self, org_id: &str) -> StoreResult<Vec<ApiKey>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!("SELECT {KEY_COLS} FROM api_keys WHERE org_id = ?1 ORDER BY created_at DESC, name")).db()?;
            let rows = st.query_map([org_id], api_key).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {KEY_COLS} FROM api_keys WHERE key_hash = ?1"
            ))
            .db()?
            .query_row([key_hash], api_key)
            .optional()
            .db()
        })
        .await
    }

    async fn revoke_user_api_keys(&self, user_id: &str, now: i64) -> StoreResult<u64> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE api_keys SET revoked_at = ?2 WHERE owner_user_id = ?1 AND revoked_at IS NULL",
                    params![user_id, now],
                )
                .db()?;
            Ok(n as u64)
        })
        .await
    }

    async fn revoke_api_key(&self, org_id: &str, id: &str, now: i64) -> StoreResult<bool> {
        self.write(|tx| {
            let n = tx
                .execute("UPDATE api_keys SET revoked_at = ?3 WHERE org_id = ?1 AND id = ?2 AND revoked_at IS NULL", params![org_id, id, now])
                .db()?;
            Ok(n > 0)
        })
        .await
    }

    async fn revoke_api_key_by_name(
        &self,
        org_id: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let n = tx
                .execute("UPDATE api_keys SET revoked_at = ?3 WHERE org_id = ?1 AND name = ?2 AND revoked_at IS NULL", params![org_id, name, now])
                .db()?;
            Ok(n > 0)
        })
        .await
    }

    async fn touch_api_keys(&self, used: &[(String, i64)]) -> StoreResult<()> {
        if used.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut st = tx
                .prepare_cached("UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?2) WHERE id = ?1")
                .db()?;
            for (id, at) in used {
                st.execute(params![id, at]).db()?;
            }
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl ChatRepo for SqliteStore {
    async fn create_chat_session(&self, s: &ChatSession) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO chat_sessions (id, org_id, principal_id, title, model, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![s.id, s.org_id, s.principal_id, s.title, s.model, s.status, s.created_at, s.updated_at],
            )
            .db()?;
            Ok(())
        })
        .await
    }

    async fn list_chat_sessions(
        &self,
        org_id: &str,
        principal_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<ChatSession>> {
        self.read(|c| {
            let total: i64 = c
                .prepare_cached("SELECT COALESCE((SELECT total FROM chat_session_counts WHERE org_id = ?1 AND principal_id = ?2), 0)")
                .db()?
                .query_row(params![org_id, principal_id], |r| r.get(0))
                .db()?;
            // LIMIT and OFFSET are written as integer literals: bound to
            // parameters, SQLite re-prepares the statement on every execution
            // (the values feed its ORDER BY ... LIMIT plan), which costs more
            // than the query. The common pages share a handful of cached texts.
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {CHAT_COLS} FROM chat_sessions s WHERE s.org_id = ?1 AND s.principal_id = ?2 \
                     ORDER BY s.updated_at DESC, s.id LIMIT {} OFFSET {}",
                    limit.max(0),
                    offset.max(0)
                ))
                .db()?;
            let items = st
                .query_map(params![org_id, principal_id], chat)
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
            Ok(Page { items, total })
        })
        .await
    }

    async fn get_chat_session(
        &self,
        org_id: &str,
        principal_id: &str,
        id: &str,
    ) -> StoreResult<Option<ChatSession>> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {CHAT_COLS} FROM chat_sessions s WHERE s.org_id = ?1 AND s.principal_id = ?2 AND s.id = ?3"))
                .db()?
                .query_row(params![org_id, principal_id, id], chat)
                .optional()
                .db()
        })
        .await
    }

    async fn rename_chat_session(
        &self,
        org_id: &str,
        principal_id: &str,
        id: &str,
        title: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE chat_sessions SET title = ?4, updated_at = ?5 WHERE org_id = ?1 AND principal_id = ?2 AND id = ?3",
                    params![org_id, principal_id, id, title, now],
                )
                .db()?;
            Ok(n > 0)
        })
        .await
    }

    async fn append_chat_messages(
        &self,
        org_id: &str,
        session_id: &str,
        messages: &[ChatMessage],
        now: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        if messages.is_empty() {
            let found = self
                .read(|c| {
                    c.prepare_cached("SELECT 1 FROM chat_sessions WHERE id = ?1 AND org_id = ?2")
                        .db()?
                        .exists(params![session_id, org_id])
                        .db()
                })
                .await?;
            return if found {
                Ok(Vec::new())
            } else {
                Err(StoreError::NotFound)
            };
        }
        // The single writer makes reading the last seq and inserting atomic.
        self.write(|tx| {
            let n = tx
                .prepare_cached("UPDATE chat_sessions SET updated_at = ?3 WHERE id = ?1 AND org_id = ?2")
                .db()?
                .execute(params![session_id, org_id, now])
                .db()?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let last: i64 = tx
                .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM chat_messages WHERE session_id = ?1")
                .db()?
                .query_row([session_id], |r| r.get(0))
                .db()?;
            let mut st = tx
                .prepare_cached(&format!("INSERT INTO chat_messages ({MESSAGE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"))
                .db()?;
            let mut stored = Vec::with_capacity(messages.len());
            for (m, seq) in messages.iter().zip(last + 1..) {
                st.execute(params![m.id, session_id, seq, m.role, m.content, m.meta, m.created_at]).db()?;
                stored.push(ChatMessage { session_id: session_id.to_string(), seq, ..m.clone() });
            }
            Ok(stored)
        })
        .await
    }

    async fn list_chat_messages(
        &self,
        org_id: &str,
        session_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLS_M} FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id \
                     WHERE s.org_id = ?1 AND m.session_id = ?2 AND m.seq > ?3 ORDER BY m.seq LIMIT ?4"
                ))
                .db()?;
            let rows = st.query_map(params![org_id, session_id, after, limit], message).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn set_chat_title_if_unset(
        &self,
        org_id: &str,
        session_id: &str,
        title: &str,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE chat_sessions SET title = ?3, updated_at = ?4 WHERE id = ?1 AND org_id = ?2 AND title IS NULL",
                    params![session_id, org_id, title, now],
                )
                .db()?;
            Ok(n > 0)
        })
        .await
    }

    async fn delete_chat_session(
        &self,
        org_id: &str,
        principal_id: &str,
        id: &str,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM chat_sessions WHERE org_id = ?1 AND principal_id = ?2 AND id = ?3",
                    params![org_id, principal_id, id],
                )
                .db()?;
            Ok(n > 0)
        })
        .await
    }
}

#[async_trait]
impl ChatTurnRepo for SqliteStore {
    async fn create_chat_turn(&self, t: &ChatTurn) -> StoreResult<()> {
        check_status(&t.status)?;
        self.write(|tx| {
            // Inserted only when the session belongs to the turn's organisation.
            let n = tx
                .execute(
                    &format!(
                        "INSERT INTO chat_turns ({TURN_COLS}) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 \
                         FROM chat_sessions WHERE id = ?3 AND org_id = ?2"
                    ),
                    params![
                        t.id, t.org_id, t.session_id, t.principal_id, t.status, t.approval_id, t.state, t.lease_owner,
                        t.lease_until, t.created_at, t.updated_at
                    ],
                )
                .db()?;
            if n == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn get_chat_turn(&self, org_id: &str, id: &str) -> StoreResult<Option<ChatTurn>> {
        self.read_opt(
            &format!("SELECT {TURN_COLS} FROM chat_turns WHERE org_id = ?1 AND id = ?2"),
            (org_id, id),
            turn,
        )
        .await
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
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE chat_turns SET status = ?4, approval_id = ?5, state = ?6, lease_owner = ?7, lease_until = ?8, updated_at = ?9 \
                     WHERE id = ?1 AND org_id = ?2 AND lease_owner = ?3 AND status NOT IN ('done', 'failed')",
                    params![t.id, t.org_id, owner, t.status, t.approval_id, t.state, lease_owner, lease_until, now],
                )
                .db()?;
            Ok(n == 1)
        })
        .await
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
        // The single writer makes the pick and the update atomic.
        self.write(|tx| {
            tx.prepare_cached(&format!(
                "UPDATE chat_turns SET status = 'running', lease_owner = ?1, lease_until = ?2, updated_at = ?3 \
                 WHERE id = (SELECT id FROM chat_turns WHERE status IN ('running', 'resumable') \
                 AND (status = 'resumable' OR lease_until < ?3) ORDER BY updated_at, id LIMIT 1) \
                 RETURNING {TURN_COLS}"
            ))
            .db()?
            .query_row(params![owner, lease_until, now], turn)
            .optional()
            .db()
        })
        .await
    }
}

#[async_trait]
impl ChatEventRepo for SqliteStore {
    async fn append_chat_events(&self, events: &[ChatEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut st = tx
                .prepare_cached(&format!(
                    "INSERT INTO chat_events ({EVENT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5)"
                ))
                .db()?;
            for e in events {
                st.execute(params![
                    e.session_id,
                    e.seq,
                    e.turn_id,
                    e.body,
                    e.created_at
                ])
                .db()?;
            }
            Ok(())
        })
        .await?;
        for session in distinct(events.iter().map(|e| e.session_id.as_str())) {
            self.chat_waiters.wake(session);
        }
        Ok(())
    }

    async fn list_chat_events(
        &self,
        org_id: &str,
        session_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatEvent>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {EVENT_COLS_E} FROM chat_events e JOIN chat_sessions s ON s.id = e.session_id \
                     WHERE s.org_id = ?1 AND e.session_id = ?2 AND e.seq > ?3 ORDER BY e.seq LIMIT ?4"
                ))
                .db()?;
            let rows = st.query_map(params![org_id, session_id, after, limit], event).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn last_chat_event(&self, session_id: &str) -> StoreResult<i64> {
        self.read(|c| {
            c.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM chat_events WHERE session_id = ?1")
                .db()?
                .query_row([session_id], |r| r.get(0))
                .db()
        })
        .await
    }

    async fn wait_chat_events(
        &self,
        session_id: &str,
        after: i64,
        timeout: Duration,
    ) -> StoreResult<()> {
        // Appends in this process wake the wait at once; polling catches other writers.
        wait_for_events(
            &self.chat_waiters,
            session_id,
            after,
            timeout,
            || CHAT_POLL,
            || self.last_chat_event(session_id),
        )
        .await
    }
}

#[async_trait]
impl ActivityRepo for SqliteStore {
    async fn record_activity(&self, a: &Activity) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                &format!("INSERT INTO tool_executions ({ACTIVITY_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
                params![
                    a.id, a.org_id, a.principal_id, a.tool_name, a.category, a.risk, a.status, a.args, a.error, a.duration_ms,
                    a.approval_id, a.created_at
                ],
            )
            .db()?;
            Ok(())
        })
        .await
    }

    async fn list_activity(&self, org_id: &str, f: &ActivityFilter) -> StoreResult<Page<Activity>> {
        let filter = "org_id = ?1 AND (?2 IS NULL OR tool_name = ?2) AND (?3 IS NULL OR principal_id = ?3) \
                      AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR created_at >= ?5) AND (?6 IS NULL OR created_at < ?6)";
        self.read(|c| {
            let p = params![org_id, f.tool, f.principal, f.status, f.from, f.to];
            let total: i64 = c.prepare_cached(&format!("SELECT COUNT(*) FROM tool_executions WHERE {filter}")).db()?.query_row(p, |r| r.get(0)).db()?;
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {ACTIVITY_COLS} FROM tool_executions WHERE {filter} ORDER BY created_at DESC, id LIMIT ?7 OFFSET ?8"
                ))
                .db()?;
            let items = st
                .query_map(params![org_id, f.tool, f.principal, f.status, f.from, f.to, f.limit, f.offset], activity)
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
            Ok(Page { items, total })
        })
        .await
    }
}

#[async_trait]
impl ExecutionRepo for SqliteStore {
    async fn finish_execution(
        &self,
        a: &Activity,
        event_kind: &str,
        payload_json: &str,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE tool_executions SET status = ?3, error = ?4, duration_ms = ?5 \
                     WHERE org_id = ?1 AND id = ?2 AND status = 'running'",
                    params![a.org_id, a.id, a.status, a.error, a.duration_ms],
                )
                .db()?;
            if n == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO events (org_id, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![a.org_id, event_kind, payload_json, now],
            )
            .db()?;
            Ok(true)
        })
        .await
    }

    async fn stale_executions(&self, before: i64, limit: i64) -> StoreResult<Vec<Activity>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {ACTIVITY_COLS} FROM tool_executions WHERE status = 'running' AND created_at < ?1 \
                     ORDER BY created_at, id LIMIT ?2"
                ))
                .db()?;
            let rows = st.query_map(params![before, limit], activity).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }
}

#[async_trait]
impl ApprovalRepo for SqliteStore {
    async fn open_approval(
        &self,
        org_id: &str,
        requester: &str,
        tool: &str,
        args_hash: &str,
        now: i64,
    ) -> StoreResult<Option<Approval>> {
        self.read_opt(&format!(
                "SELECT {APPROVAL_COLS} FROM approvals WHERE org_id = ?1 AND requester = ?2 AND tool_name = ?3 AND args_hash = ?4 \
                 AND status IN ('pending', 'approved') AND expires_at > ?5 ORDER BY created_at DESC LIMIT 1"
            ), (org_id, requester, tool, args_hash, now,), approval)
            .await
    }

    async fn create_approval(&self, a: &Approval, now: i64) -> StoreResult<Approval> {
        self.write(|tx| {
            tx.execute(
                "UPDATE approvals SET status = 'expired' WHERE org_id = ?1 AND requester = ?2 AND tool_name = ?3 AND args_hash = ?4 \
                 AND status = 'pending' AND expires_at <= ?5",
                params![a.org_id, a.requester, a.tool_name, a.args_hash, now],
            )
            .db()?;
            let inserted = tx
                .execute(
                    &format!(
                        "INSERT INTO approvals ({APPROVAL_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) \
                         ON CONFLICT DO NOTHING"
                    ),
                    params![
                        a.id, a.org_id, a.requester, a.tool_name, a.risk, a.args_hash, a.args_redacted, a.tool_call_id, a.status,
                        a.decided_by, a.reason, a.created_at, a.expires_at, a.decided_at, a.consumed_at, a.four_eyes, a.args_sealed
                    ],
                )
                .db()?;
            if inserted == 1 {
                return Ok(a.clone());
            }
            tx.query_row(
                &format!(
                    "SELECT {APPROVAL_COLS} FROM approvals WHERE org_id = ?1 AND requester = ?2 AND tool_name = ?3 AND args_hash = ?4 \
                     AND status = 'pending'"
                ),
                params![a.org_id, a.requester, a.tool_name, a.args_hash],
                approval,
            )
            .db()
        })
        .await
    }

    async fn get_approval(&self, org_id: &str, id: &str) -> StoreResult<Option<Approval>> {
        self.read_opt(
            &format!("SELECT {APPROVAL_COLS} FROM approvals WHERE org_id = ?1 AND id = ?2"),
            (org_id, id),
            approval,
        )
        .await
    }

    async fn approval_by_tool_call(
        &self,
        org_id: &str,
        requester: &str,
        tool_call_id: &str,
    ) -> StoreResult<Option<Approval>> {
        self.read_opt(&format!(
                "SELECT {APPROVAL_COLS} FROM approvals WHERE org_id = ?1 AND requester = ?2 AND tool_call_id = ?3 \
                 ORDER BY created_at DESC LIMIT 1"
            ), (org_id, requester, tool_call_id,), approval)
            .await
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
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE approvals SET status = ?3, decided_by = ?4, reason = ?5, decided_at = ?6 \
                     WHERE org_id = ?1 AND id = ?2 AND status = 'pending' AND expires_at > ?6",
                    params![org_id, id, status, by, reason, now],
                )
                .db()?;
            Ok(n == 1)
        })
        .await
    }

    async fn consume_approval(
        &self,
        org_id: &str,
        id: &str,
        requester: &str,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE approvals SET status = 'consumed', consumed_at = ?4 \
                     WHERE org_id = ?1 AND id = ?2 AND requester = ?3 AND status = 'approved' AND expires_at > ?4",
                    params![org_id, id, requester, now],
                )
                .db()?;
            Ok(n == 1)
        })
        .await
    }

    async fn list_pending_approvals(
        &self,
        org_id: &str,
        now: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<Approval>> {
        self.read(|c| {
            let total: i64 = c
                .prepare_cached(
                    "SELECT COUNT(*) FROM approvals WHERE org_id = ?1 AND status = 'pending' AND expires_at > ?2",
                )
                .db()?
                .query_row(params![org_id, now], |r| r.get(0))
                .db()?;
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {APPROVAL_COLS} FROM approvals WHERE org_id = ?1 AND status = 'pending' AND expires_at > ?2 \
                     ORDER BY created_at DESC, id LIMIT ?3 OFFSET ?4"
                ))
                .db()?;
            let items = st
                .query_map(params![org_id, now, limit, offset], approval)
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
            Ok(Page { items, total })
        })
        .await
    }

    async fn count_pending_approvals_of(
        &self,
        org_id: &str,
        requester: &str,
        now: i64,
    ) -> StoreResult<i64> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT COUNT(*) FROM approvals WHERE org_id = ?1 AND requester = ?2 AND status = 'pending' AND expires_at > ?3",
            )
            .db()?
            .query_row(params![org_id, requester, now], |r| r.get(0))
            .db()
        })
        .await
    }

    async fn count_pending_approvals(&self, now: i64) -> StoreResult<i64> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT COUNT(*) FROM approvals WHERE status = 'pending' AND expires_at > ?1",
            )
            .db()?
            .query_row([now], |r| r.get(0))
            .db()
        })
        .await
    }
}

#[async_trait]
impl EventRepo for SqliteStore {
    async fn append_event(
        &self,
        org_id: &str,
        kind: &str,
        payload_json: &str,
        now: i64,
    ) -> StoreResult<i64> {
        // The single writer commits appends in id order: no extra lock needed.
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO events (org_id, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
            )
            .db()?
            .query_row(params![org_id, kind, payload_json, now], |r| r.get(0))
            .db()
        })
        .await
    }

    async fn list_events(
        &self,
        org_id: &str,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<Event>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {OUTBOX_COLS} FROM events WHERE org_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
                ))
                .db()?;
            let rows = st
                .query_map(params![org_id, after_id, limit], outbox_event)
                .db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn undelivered_events(&self, limit: i64) -> StoreResult<Vec<Event>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {OUTBOX_COLS} FROM events WHERE delivered_at IS NULL ORDER BY id LIMIT ?1"
                ))
                .db()?;
            let rows = st.query_map([limit], outbox_event).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn mark_events_delivered(&self, ids: &[i64], now: i64) -> StoreResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        self.write(|tx| {
            let mut st = tx
                .prepare_cached(
                    "UPDATE events SET delivered_at = ?2 WHERE id = ?1 AND delivered_at IS NULL",
                )
                .db()?;
            let mut n = 0u64;
            for id in ids {
                n += st.execute(params![id, now]).db()? as u64;
            }
            Ok(n)
        })
        .await
    }
}

#[async_trait]
impl AuditRepo for SqliteStore {
    async fn append_audit(&self, keys: &Keys, e: &NewAuditEntry) -> StoreResult<AuditRecord> {
        let chain = e.chain();
        self.write(|tx| {
            let prev: Option<(i64, String)> = tx
                .query_row("SELECT seq, mac FROM audit_heads WHERE chain = ?1", [&chain], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .db()?;
            let (seq, prev_mac, mac, detail) = audit::seal(keys, e, &chain, prev.as_ref().map(|(s, m)| (*s, m.as_str())));
            tx.execute(
                "INSERT INTO audit_log (chain, seq, org_id, actor, action, target, outcome, detail, ip, created_at, prev_mac, mac) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![chain, seq, e.org_id, e.actor, e.action, e.target, e.outcome, detail, e.ip, e.created_at, prev_mac, mac],
            )
            .db()?;
            let id = tx.last_insert_rowid();
            let head = audit::head_mac(keys, &chain, seq, &mac);
            tx.execute(
                "INSERT INTO audit_heads (chain, seq, mac, head_mac) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, head_mac = excluded.head_mac",
                params![chain, seq, mac, head],
            )
            .db()?;
            Ok(AuditRecord {
                id,
                chain: chain.clone(),
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
        })
        .await
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
            "action GLOB ?2"
        } else {
            "action = ?2"
        };
        let filter = format!(
            "chain = ?1 AND (?2 IS NULL OR {action_clause}) AND (?3 IS NULL OR actor = ?3) \
             AND (?4 IS NULL OR created_at >= ?4) AND (?5 IS NULL OR created_at < ?5)"
        );
        self.read(|c| {
            let total: i64 = c
                .prepare_cached(&format!("SELECT COUNT(*) FROM audit_log WHERE {filter}"))
                .db()?
                .query_row(params![chain, action, f.actor, f.from, f.to], |r| r.get(0))
                .db()?;
            let mut st = c
                .prepare_cached(&format!("SELECT {AUDIT_COLS} FROM audit_log WHERE {filter} ORDER BY seq DESC LIMIT ?6 OFFSET ?7"))
                .db()?;
            let items = st
                .query_map(params![chain, action, f.actor, f.from, f.to, f.limit, f.offset], audit_record)
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
            Ok(Page { items, total })
        })
        .await
    }

    async fn audit_records_after(
        &self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!("SELECT {AUDIT_COLS} FROM audit_log WHERE chain = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"))
                .db()?;
            let rows = st.query_map(params![chain, after, limit], audit_record).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn audit_head(&self, chain: &str) -> StoreResult<Option<AuditHead>> {
        self.read(|c| {
            c.query_row(
                "SELECT chain, seq, mac, head_mac FROM audit_heads WHERE chain = ?1",
                [chain],
                |r| {
                    Ok(AuditHead {
                        chain: r.get(0)?,
                        seq: r.get(1)?,
                        mac: r.get(2)?,
                        head_mac: r.get(3)?,
                    })
                },
            )
            .optional()
            .db()
        })
        .await
    }
}

impl SqliteStore {
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
        self.write(|tx| {
            tx.query_row(
                &format!(
                    "UPDATE chat_turns SET status = ?4, lease_owner = NULL, lease_until = 0, updated_at = ?3 \
                     WHERE org_id = ?1 AND {column} = ?2 AND status = 'awaiting_approval' RETURNING {TURN_COLS}"
                ),
                params![org_id, value, now, status],
                turn,
            )
            .optional()
            .db()
        })
        .await
    }
}

impl SqliteStore {
    /// One row or none, read with a cached statement on a reader connection.
    async fn read_opt<T, P: rusqlite::Params + Send>(
        &self,
        sql: &str,
        params: P,
        row: impl FnOnce(&Row<'_>) -> rusqlite::Result<T> + Send,
    ) -> StoreResult<Option<T>> {
        self.read(|c| {
            c.prepare_cached(sql)
                .db()?
                .query_row(params, row)
                .optional()
                .db()
        })
        .await
    }
}
