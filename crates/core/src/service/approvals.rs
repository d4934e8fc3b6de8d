//! Approvals for tools that change the cloud. An approval is bound to the
//! organisation, the requesting principal, the tool and a keyed MAC (HMAC-SHA256
//! under its own purpose key) of the canonical (RFC 8785) form of the validated
//! arguments; it is single-use, expires, and needs a second person (four-eyes)
//! for `danger` tools (unless the organisation turned that off) and always for
//! tools that run code or change IAM. Secret arguments are sealed in the
//! approval so that eligible approvers — and only they — can read them.

use serde_json::{json, Map, Value};

use super::auth::uuid_v4;
use super::Ctx;
use crate::crypto::Keys;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::kinds::{AuditAction, EventKind};
use crate::model::{Approval, ApprovalStatus, Org, Page};
use crate::rbac::Permission;
use crate::tools::{Risk, ToolSpec};

/// How long an approval (pending or granted) stays usable.
pub const TTL_MS: i64 = 5 * 60 * 1000;

/// How many pending approvals one requester may have at a time, so that
/// nobody can bury other people's requests in the approvers' list.
pub const MAX_PENDING_PER_REQUESTER: i64 = 20;

/// The largest page of the approvers' list.
pub const MAX_PAGE: i64 = 200;

/// RFC 8785 canonical JSON of validated arguments. serde_json orders object
/// keys and escapes strings as JCS does; tool arguments hold no floats, the one
/// place the two could differ.
pub fn canonical(args: &Map<String, Value>) -> String {
    serde_json::to_string(args).unwrap_or_default()
}

/// The MAC an approval binds to. Keyed, and never shown to anyone: the
/// arguments include secrets, and a bare hash of them could be brute-forced
/// from the other, visible, arguments and a wordlist.
pub fn args_hash(keys: &Keys, args: &Map<String, Value>) -> String {
    keys.approval_mac(canonical(args).as_bytes())
}

/// What the sealed arguments of an approval are bound to.
/// The context an approval's arguments are sealed for.
pub fn seal_context(approval_id: &str) -> String {
    format!("approval-args:{approval_id}")
}

/// What a call that needs an approval asks to be approved.
pub struct Binding<'a> {
    /// The tool.
    pub spec: &'a ToolSpec,
    /// The validated arguments it would run with.
    pub args: &'a Map<String, Value>,
    /// The same, secrets redacted.
    pub redacted: &'a Value,
    /// A second person must decide, whatever the organisation's setting.
    pub four_eyes: bool,
}

/// Where an approver decides on an approval: `PORTAL_PUBLIC_URL/approvals/{id}`.
pub fn approve_url(public_url: &str, approval_id: &str) -> String {
    format!("{public_url}/approvals/{approval_id}")
}

/// Grants the call (spending its approval) or explains what is missing.
/// Returns the id of the approval spent.
pub async fn authorize(
    ctx: &Ctx<'_>,
    p: &Principal,
    org: &Org,
    b: &Binding<'_>,
    tool_call_id: Option<&str>,
    approval_id: Option<&crate::ids::ApprovalId>,
) -> CoreResult<crate::ids::ApprovalId> {
    let spec = b.spec;
    let redacted = b.redacted;
    let hash = &args_hash(ctx.keys, b.args);
    let named = match (approval_id, tool_call_id) {
        (Some(id), _) => Some(
            ctx.store
                .get_approval(&org.id, id)
                .await?
                .ok_or_else(|| CoreError::NotFound("Approval not found".into()))?,
        ),
        (None, Some(tc)) => ctx.store.approval_by_tool_call(&org.id, &p.id, tc).await?,
        (None, None) => None,
    };
    let explicit = named.is_some();
    let candidate = match named {
        Some(a) => Some(a),
        None => {
            ctx.store
                .open_approval(&org.id, &p.id, spec.name, hash, ctx.now)
                .await?
        }
    };
    if let Some(a) = candidate {
        if a.requester != p.id {
            return Err(CoreError::Forbidden(
                "Only the principal who asked can use this approval".into(),
            ));
        }
        if a.tool_name != spec.name || a.args_hash != *hash {
            return Err(CoreError::Conflict(
                "The tool or arguments differ from the ones approved; request a new approval"
                    .into(),
            ));
        }
        let live = a.expires_at > ctx.now;
        match a.status {
            ApprovalStatus::Approved if live => {
                return if ctx
                    .store
                    .consume_approval(&org.id, &a.id, &p.id, ctx.now)
                    .await?
                {
                    Ok(a.id)
                } else {
                    Err(CoreError::Conflict("This approval was already used".into()))
                };
            }
            ApprovalStatus::Pending if live => {
                return Err(CoreError::ApprovalRequired(Box::new(a)))
            }
            ApprovalStatus::Consumed => {
                return Err(CoreError::Conflict(
                    "This approval was already used; request a new one".into(),
                ))
            }
            ApprovalStatus::Rejected => {
                let why = a
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                return Err(CoreError::Forbidden(format!(
                    "The request was rejected{why}"
                )));
            }
            _ if explicit => {
                return Err(CoreError::Forbidden(
                    "The approval expired; request a new one".into(),
                ))
            }
            _ => {}
        }
    }
    if ctx
        .store
        .count_pending_approvals_of(&org.id, &p.id, ctx.now)
        .await?
        >= MAX_PENDING_PER_REQUESTER
    {
        return Err(CoreError::Conflict(format!(
            "You already have {MAX_PENDING_PER_REQUESTER} pending approvals; wait until they \
             are decided or expire before asking for more"
        )));
    }
    let id = crate::ids::ApprovalId::new(uuid_v4());
    // Seal the full arguments only when redaction hid something.
    let args_sealed = (*redacted != Value::Object(b.args.clone())).then(|| {
        ctx.keys
            .seal(&seal_context(&id), canonical(b.args).as_bytes())
    });
    let fresh = Approval {
        id,
        org_id: org.id.clone(),
        requester: p.id.clone(),
        tool_name: spec.name.to_string(),
        risk: spec.risk,
        args_hash: hash.to_string(),
        args_redacted: redacted.to_string(),
        tool_call_id: tool_call_id.map(str::to_owned),
        status: ApprovalStatus::Pending,
        decided_by: None,
        reason: None,
        created_at: ctx.now,
        expires_at: ctx.now + TTL_MS,
        decided_at: None,
        consumed_at: None,
        four_eyes: b.four_eyes,
        args_sealed,
    };
    // Only a fresh request is news: a repeated call reuses the pending one
    // (and the store then writes none of this).
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        &p.actor(),
        AuditAction::ApprovalRequested,
        Some(spec.name),
        "success",
        json!({"approvalId": fresh.id, "risk": fresh.risk, "args": redacted, "fourEyes": fresh.four_eyes}),
    )
    .event(
        &org.id,
        EventKind::ApprovalRequested,
        &json!({
            "approvalId": fresh.id,
            "tool": fresh.tool_name,
            "requester": fresh.requester,
            "risk": fresh.risk,
            "args": redacted,
            "expiresAt": fresh.expires_at,
        }),
    );
    let stored = ctx.store.create_approval(&fresh, ctx.now, &j).await?;
    Err(CoreError::ApprovalRequired(Box::new(stored)))
}

/// One page of the organisation's pending approvals, newest first
/// (`tools:approve`); `total` counts them all.
pub async fn pending(
    ctx: &Ctx<'_>,
    p: &Principal,
    limit: i64,
    offset: i64,
) -> CoreResult<Page<Approval>> {
    p.require(Permission::ToolsApprove)?;
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(CoreError::Validation(format!(
            "limit: must be between 1 and {MAX_PAGE}"
        )));
    }
    if offset < 0 {
        return Err(CoreError::Validation("offset: must not be negative".into()));
    }
    Ok(ctx
        .store
        .list_pending_approvals(&p.org()?.id, ctx.now, limit, offset)
        .await?)
}

/// The people behind a principal, for four-eyes: the principal itself and, for
/// a service key, the user who created it (who holds its secret).
struct People {
    ids: Vec<String>,
    /// A service key with no recorded human creator: nobody can say who holds it.
    unattributed: bool,
}

async fn people(ctx: &Ctx<'_>, org_id: &crate::ids::OrgId, principal: &str) -> CoreResult<People> {
    let mut ids = vec![principal.to_string()];
    let mut unattributed = false;
    if let Some(key_id) = principal.strip_prefix("key:") {
        let creator = ctx
            .store
            .list_api_keys(org_id)
            .await?
            .into_iter()
            .find(|k| k.id == key_id)
            .map(|k| k.created_by);
        match creator {
            Some(c) if c.starts_with("user:") => ids.push(c),
            _ => unattributed = true,
        }
    }
    Ok(People { ids, unattributed })
}

/// Whether `p` may decide `a`: `tools:approve`; for `danger` also `tools:danger`;
/// and, where four-eyes applies, a different person from the requester.
async fn check_may_decide(
    ctx: &Ctx<'_>,
    p: &Principal,
    org_id: &crate::ids::OrgId,
    a: &Approval,
) -> CoreResult<()> {
    p.require(Permission::ToolsApprove)?;
    let danger = a.risk == Risk::Danger;
    if danger {
        p.require(Permission::ToolsDanger)?;
    }
    // Read the setting fresh: it may have changed on another replica. It
    // cannot lift four-eyes from approvals that demand it (`a.four_eyes`).
    let org_four_eyes = ctx
        .store
        .org_by_id(org_id)
        .await?
        .map(|o| o.four_eyes)
        .unwrap_or(true);
    if !(a.four_eyes || (danger && org_four_eyes)) {
        return Ok(());
    }
    let requester = people(ctx, org_id, &a.requester).await?;
    let approver = people(ctx, org_id, &p.id).await?;
    if requester.unattributed || approver.unattributed {
        return Err(CoreError::Forbidden(
            "Four-eyes: a service key with no recorded creator cannot take part in a \
             four-eyes decision (nobody can tell who holds it); create it with \
             `portal api-key create --created-by EMAIL`"
                .into(),
        ));
    }
    if requester.ids.iter().any(|r| approver.ids.contains(r)) {
        return Err(CoreError::Forbidden(
            "Four-eyes: this request must be approved by someone other than the requester \
             (or the creator of the requesting key)"
                .into(),
        ));
    }
    Ok(())
}

/// Names an approval to decide: by id, or by the caller's tool-call id together
/// with the requester (tool-call ids are chosen by callers, so they are unique
/// only per requester).
pub struct Target<'a> {
    /// The approval id.
    pub approval_id: Option<&'a crate::ids::ApprovalId>,
    /// The tool-call id the requester gave.
    pub tool_call_id: Option<&'a str>,
    /// The requesting principal (`user:…` or `key:…`), needed with `tool_call_id`.
    pub requester: Option<&'a str>,
}

/// Records a decision (see [`check_may_decide`] for who may).
pub async fn decide(
    ctx: &Ctx<'_>,
    p: &Principal,
    target: Target<'_>,
    approved: bool,
    reason: Option<&str>,
) -> CoreResult<Approval> {
    p.require(Permission::ToolsApprove)?;
    let org = p.org()?;
    let not_found = || CoreError::NotFound("Approval not found".into());
    let a = match (target.approval_id, target.tool_call_id, target.requester) {
        (Some(id), _, _) => ctx
            .store
            .get_approval(&org.id, id)
            .await?
            .ok_or_else(not_found)?,
        (None, Some(tc), Some(requester)) => ctx
            .store
            .approval_by_tool_call(&org.id, requester, tc)
            .await?
            .ok_or_else(not_found)?,
        (None, Some(_), None) => {
            return Err(CoreError::Validation(
                "body: requester is required with toolCallId (several requesters may use the \
                 same toolCallId); or name the approvalId"
                    .into(),
            ))
        }
        (None, None, _) => {
            return Err(CoreError::Validation(
                "body: approvalId or toolCallId is required".into(),
            ))
        }
    };
    check_may_decide(ctx, p, &org.id, &a).await?;
    let reason = reason
        .map(|r| crate::validate::text("reason", r, 500))
        .transpose()?;
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        &p.actor(),
        if approved {
            AuditAction::ApprovalApproved
        } else {
            AuditAction::ApprovalRejected
        },
        Some(&a.tool_name),
        "success",
        json!({"approvalId": a.id, "requester": a.requester, "risk": a.risk, "reason": reason}),
    )
    .event(
        &org.id,
        EventKind::ApprovalDecided,
        &json!({
            "approvalId": a.id,
            "tool": a.tool_name,
            "decision": if approved { "approved" } else { "rejected" },
            "decidedBy": p.id,
            "reason": reason,
        }),
    );
    if !ctx
        .store
        .decide_approval(
            &org.id,
            &a.id,
            approved,
            &p.id,
            reason.as_deref(),
            ctx.now,
            &j,
        )
        .await?
    {
        return Err(CoreError::Conflict(
            "This approval is no longer pending (decided or expired)".into(),
        ));
    }
    let decided = ctx
        .store
        .get_approval(&org.id, &a.id)
        .await?
        .ok_or_else(not_found)?;
    // A chat turn paused on this approval can now resume (on whichever replica claims it).
    if let Err(e) = ctx.store.wake_chat_turn(&org.id, &a.id, ctx.now).await {
        tracing::error!(error = %e, approval = %a.id, "could not wake the chat turn waiting for this approval");
    }
    // So can a workflow step whose tool asked for it.
    if let Err(e) = crate::workflows::executor::wake(ctx, &org.id, &a.id).await {
        tracing::error!(error = %e, approval = %a.id, "could not wake the workflow step waiting for this approval");
    }
    Ok(decided)
}

/// One approval for review (`tools:approve`), with the full arguments —
/// secrets included — only for those who may decide it and are not its
/// requester; everyone else gets `None` there. Another organisation's
/// approval is not found.
pub async fn review(
    ctx: &Ctx<'_>,
    p: &Principal,
    approval_id: &crate::ids::ApprovalId,
) -> CoreResult<(Approval, Option<Value>)> {
    p.require(Permission::ToolsApprove)?;
    let org = p.org()?;
    let a = ctx
        .store
        .get_approval(&org.id, approval_id)
        .await?
        .ok_or_else(|| CoreError::NotFound("Approval not found".into()))?;
    let Some(sealed) = a.args_sealed.as_deref() else {
        return Ok((a, None));
    };
    let requester = people(ctx, &org.id, &a.requester).await?;
    let viewer = people(ctx, &org.id, &p.id).await?;
    let own = requester.ids.iter().any(|r| viewer.ids.contains(r));
    if own
        || a.status != ApprovalStatus::Pending
        || check_may_decide(ctx, p, &org.id, &a).await.is_err()
    {
        return Ok((a, None));
    }
    let full = ctx
        .keys
        .open(&seal_context(&a.id), sealed)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    if full.is_none() {
        tracing::warn!(approval = %a.id, "sealed approval arguments could not be opened");
    }
    Ok((a, full))
}

/// Why `p` may not decide `a` (the four-eyes rule, a missing permission), or
/// `None` when it may: pages show decision controls only to those who may use
/// them, and explain the rule when it blocks.
pub async fn decision_blocker(
    ctx: &Ctx<'_>,
    p: &Principal,
    a: &Approval,
) -> CoreResult<Option<String>> {
    let org = p.org()?;
    match check_may_decide(ctx, p, &org.id, a).await {
        Ok(()) => Ok(None),
        Err(CoreError::Forbidden(why)) => Ok(Some(why)),
        Err(e) => Err(e),
    }
}

/// The organisation's most recent decisions (approved or rejected), newest
/// first (`tools:approve`), each in its current state.
pub async fn decided(ctx: &Ctx<'_>, p: &Principal, limit: i64) -> CoreResult<Vec<Approval>> {
    p.require(Permission::ToolsApprove)?;
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(CoreError::Validation(format!(
            "limit: must be between 1 and {MAX_PAGE}"
        )));
    }
    let org = p.org()?;
    Ok(ctx.store.list_decided_approvals(&org.id, limit).await?)
}
