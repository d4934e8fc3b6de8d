//! Row decoders, one per row type, with the column lists they read
//! (macros, so statements can `concat!` them).

use portal_core::audit::{AuditHead, AuditRecord};
use portal_core::model::*;
use portal_core::rbac::Role;
use portal_core::store::StoreResult;
use portal_core::StoreError;

use super::Row;
use crate::compartments;

macro_rules! user_cols {
    () => {
        "u.id, u.email, u.name, u.platform_admin, u.created_at, u.must_change_password"
    };
}
pub(crate) use user_cols;
macro_rules! org_cols {
    () => {
        "o.id, o.slug, o.name, o.four_eyes, o.created_at, o.allowed_compartments, o.password_sign_in"
    };
}
pub(crate) use org_cols;
macro_rules! invitation_cols {
    () => {
        "i.id, i.org_id, i.user_id, i.role, i.invited_by, \
    i.created_account, i.status, i.created_at, i.expires_at"
    };
}
pub(crate) use invitation_cols;
macro_rules! key_cols {
    () => {
        "id, org_id, name, key_prefix, permissions, owner_user_id, \
    created_by, created_at, expires_at, revoked_at, last_used_at"
    };
}
pub(crate) use key_cols;
macro_rules! chat_cols {
    () => {
        "s.id, s.org_id, s.principal_id, s.title, s.model, s.status, \
    s.message_count, s.created_at, s.updated_at"
    };
}
pub(crate) use chat_cols;
macro_rules! message_cols {
    () => {
        "id, session_id, seq, role, content, meta, created_at"
    };
}
pub(crate) use message_cols;
macro_rules! turn_cols {
    () => {
        "id, org_id, session_id, principal_id, status, approval_id, \
    state, lease_owner, lease_until, created_at, updated_at"
    };
}
pub(crate) use turn_cols;
macro_rules! event_cols {
    () => {
        "session_id, seq, turn_id, body, created_at"
    };
}
pub(crate) use event_cols;
macro_rules! activity_cols {
    () => {
        "id, org_id, principal_id, tool_name, category, risk, \
    status, args, error, duration_ms, approval_id, created_at"
    };
}
pub(crate) use activity_cols;
macro_rules! approval_cols {
    () => {
        "id, org_id, requester, tool_name, risk, args_hash, \
    args_redacted, tool_call_id, status, decided_by, reason, created_at, expires_at, decided_at, \
    consumed_at, four_eyes, args_sealed"
    };
}
pub(crate) use approval_cols;
macro_rules! outbox_cols {
    () => {
        "id, org_id, kind, payload, created_at, delivered_at"
    };
}
pub(crate) use outbox_cols;
macro_rules! audit_cols {
    () => {
        "id, chain, seq, org_id, actor, action, target, outcome, \
    detail, ip, created_at, prev_mac, mac"
    };
}
pub(crate) use audit_cols;

pub(crate) fn user(r: &dyn Row, at: usize) -> StoreResult<User> {
    Ok(User {
        id: r.text(at)?.into(),
        email: r.text(at + 1)?,
        name: r.text(at + 2)?,
        platform_admin: r.flag(at + 3)?,
        created_at: r.int(at + 4)?,
        must_change_password: r.flag(at + 5)?,
    })
}

/// A column holding one of a domain enum's stable texts.
pub(crate) fn state<T>(r: &dyn Row, at: usize, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    let text = r.text(at)?;
    parse(&text).ok_or_else(|| StoreError::Other(format!("unknown state {text:?} in column {at}")))
}

pub(crate) fn role(r: &dyn Row, at: usize) -> StoreResult<Role> {
    r.text(at)?.parse().map_err(StoreError::Other)
}

pub(crate) fn org(r: &dyn Row, at: usize) -> StoreResult<Org> {
    Ok(Org {
        id: r.text(at)?.into(),
        slug: r.text(at + 1)?,
        name: r.text(at + 2)?,
        four_eyes: r.flag(at + 3)?,
        created_at: r.int(at + 4)?,
        allowed_compartments: compartments(r.opt_text(at + 5)?.as_deref())
            .map_err(|e| StoreError::Other(format!("organizations.allowed_compartments: {e}")))?,
        password_sign_in: r.flag(at + 6)?,
    })
}

pub(crate) fn invitation(r: &dyn Row, at: usize) -> StoreResult<Invitation> {
    let status = r.text(at + 6)?;
    Ok(Invitation {
        id: r.text(at)?,
        org_id: r.text(at + 1)?.into(),
        user_id: r.text(at + 2)?.into(),
        role: role(r, at + 3)?,
        invited_by: r.text(at + 4)?,
        created_account: r.flag(at + 5)?,
        status: InvitationStatus::parse(&status)
            .ok_or_else(|| StoreError::Other(format!("unknown invitation status {status:?}")))?,
        created_at: r.int(at + 7)?,
        expires_at: r.int(at + 8)?,
    })
}

pub(crate) fn api_key(r: &dyn Row) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: r.text(0)?,
        org_id: r.text(1)?.into(),
        name: r.text(2)?,
        prefix: r.text(3)?,
        permissions: serde_json::from_str(&r.text(4)?).unwrap_or_default(),
        owner_user_id: r.opt_text(5)?.map(Into::into),
        created_by: r.text(6)?,
        created_at: r.int(7)?,
        expires_at: r.opt_int(8)?,
        revoked_at: r.opt_int(9)?,
        last_used_at: r.opt_int(10)?,
    })
}

pub(crate) fn chat(r: &dyn Row) -> StoreResult<ChatSession> {
    Ok(ChatSession {
        id: portal_core::ids::SessionId::from(r.text(0)?),
        org_id: r.text(1)?.into(),
        principal_id: r.text(2)?,
        title: r.opt_text(3)?,
        model: r.text(4)?,
        status: r.text(5)?,
        message_count: r.int(6)?,
        created_at: r.int(7)?,
        updated_at: r.int(8)?,
    })
}

pub(crate) fn message(r: &dyn Row) -> StoreResult<ChatMessage> {
    Ok(ChatMessage {
        id: r.text(0)?,
        session_id: portal_core::ids::SessionId::from(r.text(1)?),
        seq: r.int(2)?,
        role: r.text(3)?,
        content: r.text(4)?,
        meta: r.opt_text(5)?,
        created_at: r.int(6)?,
    })
}

pub(crate) fn turn(r: &dyn Row) -> StoreResult<ChatTurn> {
    Ok(ChatTurn {
        id: r.text(0)?,
        org_id: r.text(1)?.into(),
        session_id: portal_core::ids::SessionId::from(r.text(2)?),
        principal_id: r.text(3)?,
        status: state(r, 4, TurnStatus::parse)?,
        approval_id: r.opt_text(5)?.map(Into::into),
        state: r.text(6)?,
        lease_owner: r.opt_text(7)?,
        lease_until: r.int(8)?,
        created_at: r.int(9)?,
        updated_at: r.int(10)?,
    })
}

pub(crate) fn chat_event(r: &dyn Row) -> StoreResult<ChatEvent> {
    Ok(ChatEvent {
        session_id: portal_core::ids::SessionId::from(r.text(0)?),
        seq: r.int(1)?,
        turn_id: r.text(2)?,
        body: r.text(3)?,
        created_at: r.int(4)?,
    })
}

pub(crate) fn outbox_event(r: &dyn Row) -> StoreResult<Event> {
    Ok(Event {
        id: r.int(0)?,
        org_id: r.text(1)?.into(),
        kind: r.text(2)?,
        payload: r.text(3)?,
        created_at: r.int(4)?,
        delivered_at: r.opt_int(5)?,
    })
}

pub(crate) fn activity(r: &dyn Row) -> StoreResult<Activity> {
    Ok(Activity {
        id: r.text(0)?,
        org_id: r.text(1)?.into(),
        principal_id: r.text(2)?,
        tool_name: r.text(3)?,
        category: r.text(4)?,
        risk: state(r, 5, Risk::parse)?,
        status: state(r, 6, ExecutionStatus::parse)?,
        args: r.text(7)?,
        error: r.opt_text(8)?,
        duration_ms: r.opt_int(9)?,
        approval_id: r.opt_text(10)?.map(Into::into),
        created_at: r.int(11)?,
    })
}

/// A row of the usage graph's input.
pub(crate) fn usage_row(r: &dyn Row) -> StoreResult<UsageRow> {
    Ok(UsageRow {
        principal_id: r.text(0)?,
        hour: r.int(1)?,
        tool_name: r.text(2)?,
        args: r.text(3)?,
        count: r.int(4)?,
    })
}

pub(crate) fn approval(r: &dyn Row) -> StoreResult<Approval> {
    Ok(Approval {
        id: r.text(0)?.into(),
        org_id: r.text(1)?.into(),
        requester: r.text(2)?,
        tool_name: r.text(3)?,
        risk: state(r, 4, Risk::parse)?,
        args_hash: r.text(5)?,
        args_redacted: r.text(6)?,
        tool_call_id: r.opt_text(7)?,
        status: state(r, 8, ApprovalStatus::parse)?,
        decided_by: r.opt_text(9)?,
        reason: r.opt_text(10)?,
        created_at: r.int(11)?,
        expires_at: r.int(12)?,
        decided_at: r.opt_int(13)?,
        consumed_at: r.opt_int(14)?,
        four_eyes: r.flag(15)?,
        args_sealed: r.opt_text(16)?,
    })
}

pub(crate) fn audit_record(r: &dyn Row) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        id: r.int(0)?,
        chain: r.text(1)?,
        seq: r.int(2)?,
        org_id: r.opt_text(3)?,
        actor: r.text(4)?,
        action: r.text(5)?,
        target: r.opt_text(6)?,
        outcome: r.text(7)?,
        detail: r.text(8)?,
        ip: r.opt_text(9)?,
        created_at: r.int(10)?,
        prev_mac: r.text(11)?,
        mac: r.text(12)?,
    })
}

pub(crate) fn audit_head(r: &dyn Row) -> StoreResult<AuditHead> {
    Ok(AuditHead {
        chain: r.text(0)?,
        seq: r.int(1)?,
        mac: r.text(2)?,
        head_mac: r.text(3)?,
    })
}

/// A single integer column (counts, ids, maxima).
pub(crate) fn int(r: &dyn Row) -> StoreResult<i64> {
    r.int(0)
}

/// A single nullable integer column.
pub(crate) fn opt_int(r: &dyn Row) -> StoreResult<Option<i64>> {
    r.opt_int(0)
}

/// A single boolean column.
pub(crate) fn flag(r: &dyn Row) -> StoreResult<bool> {
    r.flag(0)
}

/// A single text column.
pub(crate) fn text(r: &dyn Row) -> StoreResult<String> {
    r.text(0)
}

/// The row exists; its columns do not matter.
pub(crate) fn unit(_: &dyn Row) -> StoreResult<()> {
    Ok(())
}

macro_rules! job_cols {
    () => {
        "id, kind, payload, state, run_after, attempts, max_attempts, last_error, lease_owner, \
         lease_until, created_at, updated_at"
    };
}
pub(crate) use job_cols;
