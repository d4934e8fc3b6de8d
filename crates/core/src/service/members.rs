//! Organisations and their members.

use serde_json::json;

use super::auth::{hash_password_blocking, uuid_v4};
use super::Ctx;
use crate::crypto::random_bytes;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::journal::Journal;
use crate::kinds::{AuditAction, EventKind};
use crate::model::{Invitation, InvitationStatus, Member, NewUser, Org};
use crate::rbac::{AuthMethod, Permission, Role};
use crate::validate;

/// The caller's organisation's members (`admin:users`).
pub async fn list(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Vec<Member>> {
    p.require(Permission::AdminUsers)?;
    Ok(ctx.store.list_members(&p.org()?.id).await?)
}

/// How long an invitation waits for its answer.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// An invitation, and the one-time password to hand to the person.
pub struct Invited {
    /// The pending invitation.
    pub invitation: Invitation,
    /// The invited address.
    pub email: String,
    /// When the portal created the account for this invitation, its one-time
    /// password (to be changed at first sign-in). Otherwise a random value of
    /// the same form that opens nothing: the answer is the same either way, so
    /// it does not tell the admin whether the address already had an account.
    pub one_time_password: String,
}

/// Invites a person by email (`admin:users`, and only to a role within the
/// caller's own permissions). Nobody is enrolled without consent: an existing
/// account gets a pending invitation it accepts or declines; an unknown address
/// gets a new account with a one-time password, whose invitation is accepted
/// at its first sign-in. Both cases do the same work and answer alike.
pub async fn add(
    ctx: &Ctx<'_>,
    p: &Principal,
    email: &str,
    name: Option<&str>,
    role: Role,
) -> CoreResult<Invited> {
    p.require(Permission::AdminUsers)?;
    require_can_grant(p, role)?;
    let org = p.org()?;
    let email = validate::email("email", email)?;
    let name = validate::text(
        "name",
        name.unwrap_or(email.split('@').next().unwrap_or("user")),
        100,
    )?;
    // One hash in both cases, so the timing does not tell either.
    let otp = hex::encode(random_bytes::<12>());
    let hash = hash_password_blocking(otp.clone()).await?;
    let account = NewUser {
        email: email.clone(),
        name,
        password_hash: Some(hash),
        platform_admin: false,
        must_change_password: true,
    };
    // Twice at most: an account created meanwhile for the address is an
    // existing one on the second pass.
    for _ in 0..2 {
        let existing = ctx.store.user_by_email(&email).await?.map(|(u, _)| u);
        let created = existing.is_none();
        let user_id = match &existing {
            Some(u) => {
                if ctx.store.member_role(&org.id, &u.id).await?.is_some() {
                    return Err(CoreError::Conflict(
                        "Already a member of this organization".into(),
                    ));
                }
                u.id.clone()
            }
            None => uuid_v4(),
        };
        let invitation = Invitation {
            id: uuid_v4(),
            org_id: org.id.clone(),
            user_id: user_id.clone(),
            role,
            invited_by: p.actor(),
            created_account: created,
            status: InvitationStatus::Pending,
            created_at: ctx.now,
            expires_at: ctx.now + INVITATION_TTL_MS,
        };
        // The organisation's chain says who was invited, not whether the
        // account existed; a new account is recorded in the platform's.
        let mut j = ctx.journal();
        j.audit(
            Some(&org.id),
            &p.actor(),
            AuditAction::MemberInvited,
            Some(&format!("user:{user_id}")),
            "success",
            json!({"email": email, "role": role.as_str(), "invitationId": invitation.id}),
        );
        let stored = if created {
            j.audit(
                None,
                &p.actor(),
                AuditAction::UserCreated,
                Some(&format!("user:{user_id}")),
                "success",
                json!({"email": email, "org": org.id, "invitationId": invitation.id}),
            );
            ctx.store
                .create_account_invitation(&account, &invitation, &j)
                .await
                .map(drop)
        } else {
            ctx.store.create_invitation(&invitation, &j).await
        };
        match stored {
            Ok(()) => {
                return Ok(Invited {
                    invitation,
                    email,
                    one_time_password: otp,
                })
            }
            Err(crate::store::StoreError::Conflict(_)) if created => continue,
            Err(crate::store::StoreError::Conflict(_)) => {
                return Err(CoreError::Conflict(
                    "An invitation for this address is already pending".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(CoreError::Conflict("Try again".into()))
}

/// Refuses to grant (or take away) a role unless the caller holds every
/// permission in it: nobody hands out more than they have. The `admin` role
/// also needs a person signed in with a browser session: an API key, whatever
/// it lists, never mints admins (a leaked automation key must not become a
/// way to full control).
fn require_can_grant(p: &Principal, role: Role) -> CoreResult<()> {
    if role == Role::Admin && p.method != AuthMethod::Session {
        return Err(CoreError::Forbidden(
            "Granting or changing the admin role needs an admin signed in with a browser session"
                .into(),
        ));
    }
    if let Some(missing) = role.permissions().iter().find(|perm| !p.can(*perm)) {
        return Err(CoreError::Forbidden(format!(
            "The {} role holds {missing}, which you do not have",
            role.as_str()
        )));
    }
    Ok(())
}

fn member_not_found() -> CoreError {
    CoreError::NotFound("Member not found".into())
}

/// Changes a member's role; the last admin cannot be demoted.
pub async fn set_role(ctx: &Ctx<'_>, p: &Principal, user_id: &str, role: Role) -> CoreResult<()> {
    p.require(Permission::AdminUsers)?;
    let org = p.org()?;
    let before = ctx
        .store
        .member_role(&org.id, user_id)
        .await?
        .ok_or_else(member_not_found)?;
    // Both the role taken away and the role given must be within the caller's own.
    require_can_grant(p, before)?;
    require_can_grant(p, role)?;
    // A role an identity provider manages would be put back at the next
    // sign-in: refuse it rather than let it be overwritten silently.
    if let Some(idp) = ctx.store.role_managed_by(&org.id, user_id).await? {
        return Err(CoreError::Conflict(format!(
            "role: managed by the identity provider {idp:?}; change the member's groups there"
        )));
    }
    let target = format!("user:{user_id}");
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        &p.actor(),
        AuditAction::MemberRoleChanged,
        Some(&target),
        "success",
        json!({"from": before.as_str(), "to": role.as_str()}),
    )
    .event(
        &org.id,
        EventKind::MemberRoleChanged,
        &json!({"userId": user_id, "from": before.as_str(), "to": role.as_str(), "actor": p.actor()}),
    );
    ctx.store
        .set_member_role(&org.id, user_id, role, &j)
        .await
        .map_err(map_member_err)?;
    ctx.credentials_changed();
    Ok(())
}

/// Removes a member; the last admin cannot be removed.
pub async fn remove(ctx: &Ctx<'_>, p: &Principal, user_id: &str) -> CoreResult<()> {
    p.require(Permission::AdminUsers)?;
    let org = p.org()?;
    if let Some(role) = ctx.store.member_role(&org.id, user_id).await? {
        require_can_grant(p, role)?;
    }
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        &p.actor(),
        AuditAction::MemberRemoved,
        Some(&format!("user:{user_id}")),
        "success",
        json!({}),
    )
    .event(
        &org.id,
        EventKind::MemberRemoved,
        &json!({"userId": user_id, "actor": p.actor()}),
    );
    ctx.store
        .remove_member(&org.id, user_id, &j)
        .await
        .map_err(map_member_err)?;
    ctx.credentials_changed();
    Ok(())
}

fn map_member_err(e: crate::store::StoreError) -> CoreError {
    match e {
        crate::store::StoreError::NotFound => member_not_found(),
        other => other.into(),
    }
}

/// Starts a new organisation's chain: its creation, by `actor`.
pub(super) fn org_created(j: &mut Journal<'_>, actor: &str, org_id: &str, slug: &str) {
    j.audit(
        Some(org_id),
        actor,
        AuditAction::OrgCreated,
        None,
        "success",
        json!({"slug": slug}),
    );
}

/// Creates an organisation (platform admins only); the creator becomes its admin.
pub async fn create_org(
    ctx: &Ctx<'_>,
    p: &Principal,
    slug: Option<&str>,
    name: &str,
) -> CoreResult<Org> {
    if !p.is_platform_admin() {
        return Err(CoreError::Forbidden(
            "Only platform admins create organizations".into(),
        ));
    }
    let user = p.user.as_ref().ok_or(CoreError::Unauthenticated)?;
    let name = validate::text("name", name, 100)?;
    let slug = match slug {
        Some(s) => validate::slug("slug", s)?,
        None => validate::slug_from(&name),
    };
    // The platform's chain records the creation, the new organisation's chain
    // starts with it; both with the creator's membership, in one transaction.
    let id = uuid_v4();
    let mut j = ctx.journal();
    j.audit(
        None,
        &p.actor(),
        AuditAction::OrgCreated,
        Some(&format!("org:{id}")),
        "success",
        json!({"slug": slug}),
    );
    org_created(&mut j, &p.actor(), &id, &slug);
    let org = ctx
        .store
        .create_org_with(&id, &slug, &name, Some(&user.id), ctx.now, &j)
        .await
        .map_err(|e| match crate::store::Constraint::of(&e) {
            Some(crate::store::Constraint::OrgSlug) => CoreError::Conflict(format!(
                "slug: an organization with slug `{slug}` already exists"
            )),
            _ => e.into(),
        })?;
    ctx.session_changed(p);
    Ok(org)
}

/// Turns four-eyes approval of `danger` tools on or off for the caller's
/// organisation (`admin:orgs`); audited.
pub async fn set_four_eyes(ctx: &Ctx<'_>, p: &Principal, on: bool) -> CoreResult<()> {
    p.require(Permission::AdminOrgs)?;
    let org = p.org()?;
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        &p.actor(),
        AuditAction::OrgSettingsChanged,
        None,
        "success",
        json!({"fourEyes": on}),
    );
    ctx.store.set_org_four_eyes(&org.id, on, &j).await?;
    ctx.credentials_changed();
    Ok(())
}

/// The caller's organisation as stored now (not as cached with the credential),
/// for reading its settings (`admin:orgs`).
pub async fn current_org(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Org> {
    p.require(Permission::AdminOrgs)?;
    let org = p.org()?;
    ctx.store
        .org_by_id(&org.id)
        .await?
        .ok_or_else(|| CoreError::NotFound("Organisation not found".into()))
}

/// The organisations the caller belongs to, with their role in each (browser
/// sessions: what the organisation switcher offers).
pub async fn my_orgs(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Vec<(Org, Role)>> {
    match (&p.user, &p.session_id) {
        (Some(u), Some(_)) => Ok(ctx.store.user_orgs(&u.id).await?),
        _ => Ok(Vec::new()),
    }
}

/// Every organisation (platform admins only).
pub async fn list_orgs(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Vec<Org>> {
    if !p.is_platform_admin() {
        return Err(CoreError::Forbidden(
            "Only platform admins list every organization".into(),
        ));
    }
    Ok(ctx.store.list_orgs().await?)
}

/// Display names of the principals of the caller's organisation — members
/// (`user:<id>` → their name) and API keys (`key:<id>` → `key <name>`) — so
/// pages can say who asked and who decided. Any member may read them: it is
/// what the organisation's own approvals and activity already name.
pub async fn display_names(
    ctx: &Ctx<'_>,
    p: &Principal,
) -> CoreResult<std::collections::HashMap<String, String>> {
    let org = p.org()?;
    let mut names = std::collections::HashMap::new();
    for m in ctx.store.list_members(&org.id).await? {
        names.insert(format!("user:{}", m.user.id), m.user.name);
    }
    for k in ctx.store.list_api_keys(&org.id).await? {
        names.insert(format!("key:{}", k.id), format!("key {}", k.name));
    }
    Ok(names)
}
