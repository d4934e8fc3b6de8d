//! Approvals for tools that change the cloud. An approval is bound to the
//! organisation, the requesting principal, the tool and the SHA-256 of the
//! canonical (RFC 8785) form of the validated arguments; it is single-use,
//! expires, and for `danger` tools needs a second person (four-eyes).

use serde_json::{json, Map, Value};

use super::auth::uuid_v4;
use super::{audit, events, Ctx};
use crate::crypto::sha256_hex;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::model::{Approval, Org};
use crate::rbac::Permission;
use crate::tools::{Risk, ToolSpec};

/// How long an approval (pending or granted) stays usable.
pub const TTL_MS: i64 = 5 * 60 * 1000;

/// RFC 8785 canonical JSON of validated arguments. serde_json orders object
/// keys and escapes strings as JCS does; tool arguments hold no floats, the one
/// place the two could differ.
pub fn canonical(args: &Map<String, Value>) -> String {
    serde_json::to_string(args).unwrap_or_default()
}

/// The hash an approval binds to.
pub fn args_hash(args: &Map<String, Value>) -> String {
    sha256_hex(canonical(args).as_bytes())
}

/// Where an approver decides on an approval: `PORTAL_PUBLIC_URL/approvals/{id}`.
pub fn approve_url(public_url: &str, approval_id: &str) -> String {
    format!("{public_url}/approvals/{approval_id}")
}

/// Grants the call (spending its approval) or explains what is missing.
/// Returns the id of the approval spent.
#[allow(clippy::too_many_arguments)]
pub async fn authorize(
    ctx: &Ctx<'_>,
    p: &Principal,
    org: &Org,
    spec: &ToolSpec,
    hash: &str,
    redacted: &Value,
    tool_call_id: Option<&str>,
    approval_id: Option<&str>,
) -> CoreResult<String> {
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
        if a.tool_name != spec.name || a.args_hash != hash {
            return Err(CoreError::Conflict(
                "The tool or arguments differ from the ones approved; request a new approval"
                    .into(),
            ));
        }
        let live = a.expires_at > ctx.now;
        match a.status.as_str() {
            "approved" if live => {
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
            "pending" if live => return Err(CoreError::ApprovalRequired(Box::new(a))),
            "consumed" => {
                return Err(CoreError::Conflict(
                    "This approval was already used; request a new one".into(),
                ))
            }
            "rejected" => {
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
    let fresh = Approval {
        id: uuid_v4(),
        org_id: org.id.clone(),
        requester: p.id.clone(),
        tool_name: spec.name.to_string(),
        risk: spec.risk.as_str().to_string(),
        args_hash: hash.to_string(),
        args_redacted: redacted.to_string(),
        tool_call_id: tool_call_id.map(str::to_owned),
        status: "pending".into(),
        decided_by: None,
        reason: None,
        created_at: ctx.now,
        expires_at: ctx.now + TTL_MS,
        decided_at: None,
        consumed_at: None,
    };
    let stored = ctx.store.create_approval(&fresh, ctx.now).await?;
    if stored.id == fresh.id {
        audit::append(
            ctx,
            Some(&org.id),
            &p.actor(),
            "approval.requested",
            Some(spec.name),
            "success",
            json!({"approvalId": stored.id, "risk": stored.risk, "args": redacted, "argsHash": hash}),
        )
        .await?;
        // Only a fresh request is news: a repeated call reuses the pending one.
        events::emit(
            ctx,
            &org.id,
            events::APPROVAL_REQUESTED,
            json!({
                "approvalId": stored.id,
                "tool": stored.tool_name,
                "requester": stored.requester,
                "risk": stored.risk,
                "args": redacted,
                "expiresAt": stored.expires_at,
            }),
        )
        .await;
    }
    Err(CoreError::ApprovalRequired(Box::new(stored)))
}

/// The organisation's pending approvals (`tools:approve`).
pub async fn pending(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Vec<Approval>> {
    p.require(Permission::ToolsApprove)?;
    Ok(ctx
        .store
        .list_pending_approvals(&p.org()?.id, ctx.now)
        .await?)
}

/// Records a decision. Needs `tools:approve`, and for `danger` also
/// `tools:danger` and (with four-eyes on) someone other than the requester.
pub async fn decide(
    ctx: &Ctx<'_>,
    p: &Principal,
    approval_id: Option<&str>,
    tool_call_id: Option<&str>,
    approved: bool,
    reason: Option<&str>,
) -> CoreResult<Approval> {
    p.require(Permission::ToolsApprove)?;
    let org = p.org()?;
    let not_found = || CoreError::NotFound("Approval not found".into());
    let a = match (approval_id, tool_call_id) {
        (Some(id), _) => ctx
            .store
            .get_approval(&org.id, id)
            .await?
            .ok_or_else(not_found)?,
        (None, Some(tc)) => ctx
            .store
            .list_pending_approvals(&org.id, ctx.now)
            .await?
            .into_iter()
            .find(|a| a.tool_call_id.as_deref() == Some(tc))
            .ok_or_else(not_found)?,
        (None, None) => {
            return Err(CoreError::Validation(
                "body: approvalId or toolCallId is required".into(),
            ))
        }
    };
    if a.risk == Risk::Danger.as_str() {
        p.require(Permission::ToolsDanger)?;
        // Read the setting fresh: it may have changed on another replica.
        let four_eyes = ctx
            .store
            .org_by_id(&org.id)
            .await?
            .map(|o| o.four_eyes)
            .unwrap_or(true);
        if four_eyes && a.requester == p.id {
            return Err(CoreError::Forbidden(
                "Four-eyes: a danger-level request must be approved by someone else".into(),
            ));
        }
    }
    let reason = reason
        .map(|r| crate::validate::text("reason", r, 500))
        .transpose()?;
    if !ctx
        .store
        .decide_approval(&org.id, &a.id, approved, &p.id, reason.as_deref(), ctx.now)
        .await?
    {
        return Err(CoreError::Conflict(
            "This approval is no longer pending (decided or expired)".into(),
        ));
    }
    audit::append(
        ctx,
        Some(&org.id),
        &p.actor(),
        if approved {
            "approval.approved"
        } else {
            "approval.rejected"
        },
        Some(&a.tool_name),
        "success",
        json!({"approvalId": a.id, "requester": a.requester, "risk": a.risk, "reason": reason}),
    )
    .await?;
    events::emit(
        ctx,
        &org.id,
        events::APPROVAL_DECIDED,
        json!({
            "approvalId": a.id,
            "tool": a.tool_name,
            "decision": if approved { "approved" } else { "rejected" },
            "decidedBy": p.id,
            "reason": reason,
        }),
    )
    .await;
    let decided = ctx
        .store
        .get_approval(&org.id, &a.id)
        .await?
        .ok_or_else(not_found)?;
    // A chat turn paused on this approval can now resume (on whichever replica claims it).
    if let Err(e) = ctx.store.wake_chat_turn(&org.id, &a.id, ctx.now).await {
        tracing::error!(error = %e, approval = %a.id, "could not wake the chat turn waiting for this approval");
    }
    Ok(decided)
}
