//! The invited person's side of an invitation: list, accept, decline. Only the
//! person signed in with a browser session answers; an accepted membership is
//! not their default organisation until they first work in it.

use crate::kinds::AuditAction;
use serde_json::json;

use super::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::model::{Invitation, Org, User};
use crate::rbac::AuthMethod;
use crate::store::StoreError;

fn person(p: &Principal) -> CoreResult<&User> {
    match (&p.user, p.method) {
        (Some(u), AuthMethod::Session) => Ok(u),
        _ => Err(CoreError::Forbidden(
            "Invitations are answered by the invited person, signed in with a browser session"
                .into(),
        )),
    }
}

/// The caller's pending invitations, with the inviting organisations.
pub async fn mine(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Vec<(Invitation, Org)>> {
    let user = person(p)?;
    Ok(ctx.store.user_invitations(&user.id, ctx.now).await?)
}

/// Accepts or declines one of the caller's pending invitations; audited in the
/// inviting organisation's chain.
pub async fn decide(
    ctx: &Ctx<'_>,
    p: &Principal,
    id: &str,
    accept: bool,
) -> CoreResult<Invitation> {
    let user = person(p)?;
    let decided = decide_for(ctx, user, &p.actor(), id, accept).await?;
    ctx.credentials_changed();
    Ok(decided)
}

async fn decide_for(
    ctx: &Ctx<'_>,
    user: &User,
    actor: &str,
    id: &str,
    accept: bool,
) -> CoreResult<Invitation> {
    let not_found = || CoreError::NotFound("Invitation not found".into());
    // The record names the inviting organisation and role, so it is built from
    // the pending invitation; the decision re-checks it is still pending.
    let (pending, _) = ctx
        .store
        .user_invitations(&user.id, ctx.now)
        .await?
        .into_iter()
        .find(|(i, _)| i.id == id)
        .ok_or_else(not_found)?;
    let mut j = ctx.journal();
    j.audit(
        Some(&pending.org_id),
        actor,
        if accept {
            AuditAction::MemberJoined
        } else {
            AuditAction::MemberInvitationDeclined
        },
        Some(&format!("user:{}", user.id)),
        "success",
        json!({"invitationId": pending.id, "role": pending.role.as_str()}),
    );
    let inv = ctx
        .store
        .decide_invitation(id, &user.id, accept, ctx.now, &j)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => other.into(),
        })?;
    Ok(inv)
}

/// At sign-in: accepts the invitations whose account was created for them (the
/// person had no account, so there is no other organisation to protect).
pub async fn accept_created_account(ctx: &Ctx<'_>, user: &User) -> CoreResult<()> {
    for (inv, _) in ctx.store.user_invitations(&user.id, ctx.now).await? {
        if inv.created_account {
            match decide_for(ctx, user, &format!("user:{}", user.id), &inv.id, true).await {
                Ok(_) | Err(CoreError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}
