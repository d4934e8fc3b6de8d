//! Signing in and out, passwords, and switching organisations.

use crate::kinds::AuditAction;
use serde_json::json;

use super::{audit, Ctx};
use crate::crypto::{dummy_password_hash, hash_password, verify_password};
use crate::error::{CoreError, CoreResult};
use crate::identity::{
    active_membership, new_token, Principal, SESSION_REFRESH_MS, SESSION_TTL_MS,
};
use crate::model::{NewAuthSession, Org, SessionInfo};
use crate::rbac::{AuthMethod, Role};
use crate::throttle::SignInThrottle;
use crate::validate;

/// A new browser session: the token goes into the cookie, never into storage.
pub struct SignedIn {
    /// Cookie value.
    pub token: String,
    /// Expiry (epoch ms).
    pub expires_at: i64,
    /// The signed-in user's id.
    pub user_id: String,
    /// The session's id (not its token).
    pub session_id: String,
    /// The organisation chosen for the session.
    pub org: Option<(Org, Role)>,
}

/// Runs argon2 off the async worker threads, under the process-wide hashing bound.
pub async fn hash_password_blocking(password: String) -> CoreResult<String> {
    crate::hashing::run(move || hash_password(&password))
        .await
        .map_err(|_| CoreError::RateLimited(1))?
        .map_err(|e| CoreError::Internal(e.to_string()))?
        .map_err(CoreError::Internal)
}

async fn verify_blocking(password: String, hash: Option<String>) -> CoreResult<bool> {
    crate::hashing::run(move || {
        let h = hash.as_deref().unwrap_or_else(|| dummy_password_hash());
        verify_password(&password, h) && hash.is_some()
    })
    .await
    .map_err(|_| CoreError::RateLimited(1))?
    .map_err(|e| CoreError::Internal(e.to_string()))
}

/// Email + password sign-in, throttled per account and address; audited either way.
pub async fn sign_in(
    ctx: &Ctx<'_>,
    throttle: &SignInThrottle,
    email: &str,
    password: &str,
) -> CoreResult<SignedIn> {
    let email = validate::email("email", email)?;
    let ip = ctx.ip.map(|i| i.to_string()).unwrap_or_else(|| "-".into());
    let ip = ip.as_str();
    // The attempt is reserved before the password is looked at, so attempts in
    // flight count against the limits.
    let attempt = match throttle.begin(&email, ip) {
        Ok(a) => a,
        Err(t) => {
            // Only the first refusal per window is audited: the ledger is
            // append-only and anonymous callers must not be able to grow it.
            if t.first_in_window {
                audit::append_best_effort(
                    ctx,
                    None,
                    "anonymous",
                    AuditAction::AuthSignInThrottled,
                    Some(&email),
                    "failure",
                    json!({}),
                )
                .await;
            }
            return Err(CoreError::RateLimited(t.retry_after));
        }
    };
    let found = ctx.store.user_by_email(&email).await?;
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, None),
    };
    let ok = verify_blocking(password.to_string(), hash).await?;
    let Some(user) = user.filter(|_| ok) else {
        attempt.failed();
        audit::append_best_effort(
            ctx,
            None,
            "anonymous",
            AuditAction::AuthSignInFailed,
            Some(&email),
            "failure",
            json!({}),
        )
        .await;
        return Err(CoreError::InvalidCredentials);
    };
    attempt.succeeded();
    // After the invitations an admin's "add member" made are accepted: the
    // organisations they join count too.
    super::invitations::accept_created_account(ctx, &user).await?;
    password_allowed(ctx, &user).await?;
    let signed = start_session(ctx, &user, None).await?;
    audit::append_best_effort(
        ctx,
        signed.org.as_ref().map(|(o, _)| o.id.as_str()),
        &format!("user:{}", user.id),
        AuditAction::AuthSignIn,
        Some(&user.email),
        "success",
        json!({}),
    )
    .await;
    Ok(signed)
}

/// Refuses a password sign-in (after the password was checked, so the refusal
/// tells nothing to someone who does not know it) when one of the user's
/// organisations signs in with SSO only. Platform admins are the break-glass
/// path: they always may, and such a sign-in is audited as break-glass.
async fn password_allowed(ctx: &Ctx<'_>, user: &crate::model::User) -> CoreResult<()> {
    let Some(org) = ctx.store.password_sign_in_refused_by(&user.id).await? else {
        return Ok(());
    };
    let (action, outcome) = if user.platform_admin {
        (AuditAction::AuthBreakGlassSignIn, "success")
    } else {
        (AuditAction::AuthSignInRefused, "failure")
    };
    audit::append_best_effort(
        ctx,
        None,
        &format!("user:{}", user.id),
        action,
        Some(&user.email),
        outcome,
        json!({"reason": "password sign-in is off", "organization": org}),
    )
    .await;
    if user.platform_admin {
        return Ok(());
    }
    Err(CoreError::Forbidden(format!(
        "{org} signs in with single sign-on only: use \"Sign in with …\" on the sign-in page instead of a password"
    )))
}

/// Opens a browser session for `user` in `preferred` (when a member) or
/// their most recent organisation; the caller audits how they signed in.
pub(crate) async fn start_session(
    ctx: &Ctx<'_>,
    user: &crate::model::User,
    preferred: Option<&str>,
) -> CoreResult<SignedIn> {
    let (org, role) = active_membership(ctx.store, &user.id, preferred).await?;
    let (token, token_hash) = new_token();
    // The portal settings' lifetime (read when signing in, not cached: a
    // change applies to the next sign-in on every replica).
    let ttl = match ctx.store.portal_settings().await {
        Ok(Some(s)) => s.session_ttl_ms(),
        Ok(None) => SESSION_TTL_MS,
        Err(e) => return Err(e.into()),
    };
    let expires_at = ctx.now + ttl;
    let session_id = uuid_v4();
    ctx.store
        .create_auth_session(NewAuthSession {
            id: session_id.clone(),
            token_hash,
            user_id: user.id.clone(),
            active_org_id: org.as_ref().map(|o| o.id.clone()),
            created_at: ctx.now,
            expires_at,
            ip: ctx.ip.map(|i| i.to_string()),
            user_agent: ctx.user_agent.map(|s| s.chars().take(512).collect()),
        })
        .await?;
    if let Some(o) = &org {
        ctx.store.touch_membership(&o.id, &user.id, ctx.now).await?;
    }
    Ok(SignedIn {
        token,
        expires_at,
        user_id: user.id.clone(),
        session_id,
        org: org.zip(role),
    })
}

/// Ends the caller's browser session.
pub async fn sign_out(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<()> {
    let Some(sid) = &p.session_id else {
        return Err(CoreError::Forbidden(
            "Only browser sessions can sign out".into(),
        ));
    };
    ctx.store.revoke_auth_session(sid, ctx.now).await?;
    ctx.session_changed(p);
    audit::append_best_effort(
        ctx,
        p.org.as_ref().map(|o| o.id.as_str()),
        &p.actor(),
        AuditAction::AuthSignOut,
        None,
        "success",
        json!({}),
    )
    .await;
    Ok(())
}

/// Changes the caller's password and revokes their other sessions and every API
/// key acting as them (in every organisation): whoever learnt the old password
/// may have minted keys with it. Service keys they created act as no one and stay.
pub async fn change_password(
    ctx: &Ctx<'_>,
    p: &Principal,
    current: &str,
    new: &str,
) -> CoreResult<()> {
    if p.method != AuthMethod::Session {
        return Err(CoreError::Forbidden(
            "Passwords are changed from a browser session".into(),
        ));
    }
    let user = p.user.as_ref().ok_or(CoreError::Unauthenticated)?;
    let new = validate::new_password("newPassword", new)?;
    let hash = ctx.store.password_hash(&user.id).await?;
    if !verify_blocking(current.to_string(), hash).await? {
        return Err(CoreError::Validation(
            "currentPassword: does not match".into(),
        ));
    }
    let new_hash = hash_password_blocking(new).await?;
    let org = p.org.as_ref().map(|o| o.id.as_str());
    let actor = p.actor();
    let record = |keys_revoked: u64| {
        let mut j = ctx.journal();
        j.audit(
            org,
            &actor,
            AuditAction::AuthPasswordChanged,
            None,
            "success",
            json!({"apiKeysRevoked": keys_revoked}),
        );
        j
    };
    ctx.store
        .change_password(
            &user.id,
            &new_hash,
            p.session_id.as_deref(),
            ctx.now,
            &record,
        )
        .await?;
    ctx.credentials_changed();
    Ok(())
}

/// Switches the session to another organisation the user belongs to
/// (addressed by id or slug). Another org is "not found", never "forbidden".
pub async fn set_active_org(
    ctx: &Ctx<'_>,
    p: &Principal,
    org_ref: &str,
) -> CoreResult<(Org, Role)> {
    let (Some(user), Some(sid)) = (&p.user, &p.session_id) else {
        return Err(CoreError::Forbidden(
            "Only browser sessions switch organizations".into(),
        ));
    };
    let org = match ctx.store.org_by_id(org_ref).await? {
        Some(o) => Some(o),
        None => ctx.store.org_by_slug(org_ref).await?,
    };
    let not_found = || CoreError::NotFound("Organization not found".into());
    let org = org.ok_or_else(not_found)?;
    let role = ctx
        .store
        .member_role(&org.id, &user.id)
        .await?
        .ok_or_else(not_found)?;
    ctx.store.set_session_org(sid, &org.id).await?;
    ctx.session_changed(p);
    ctx.store
        .touch_membership(&org.id, &user.id, ctx.now)
        .await?;
    Ok((org, role))
}

/// The principal a browser session token stands for now (after a sign-in or an
/// organisation switch); unauthenticated when it is unknown, over or revoked.
pub async fn session_principal(ctx: &Ctx<'_>, token: &str) -> CoreResult<Principal> {
    crate::identity::resolve_session(ctx.store, token, ctx.now)
        .await?
        .ok_or(CoreError::Unauthenticated)
}

/// The organisations a signed-in person belongs to, with their role in each
/// (empty for API keys and service callers, which act in one organisation).
pub async fn session_orgs(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Vec<(Org, Role)>> {
    match &p.user {
        Some(u) if p.session_id.is_some() => Ok(ctx.store.user_orgs(&u.id).await?),
        _ => Ok(Vec::new()),
    }
}

/// The caller's live browser sessions (any signed-in person, for themselves).
pub async fn my_sessions(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Vec<SessionInfo>> {
    let user = p.user.as_ref().ok_or(CoreError::Unauthenticated)?;
    Ok(ctx.store.list_user_sessions(&user.id, ctx.now).await?)
}

/// Signs out one of the caller's own sessions (another device); audited. Someone
/// else's session, or one already over, is "not found".
pub async fn revoke_my_session(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<()> {
    let user = p.user.as_ref().ok_or(CoreError::Unauthenticated)?;
    if p.method != AuthMethod::Session {
        return Err(CoreError::Forbidden(
            "Sessions are managed from a browser session".into(),
        ));
    }
    let mut j = ctx.journal();
    j.audit(
        p.org.as_ref().map(|o| o.id.as_str()),
        &p.actor(),
        AuditAction::AuthSessionRevoked,
        Some(&format!("session:{id}")),
        "success",
        json!({}),
    );
    if !ctx
        .store
        .revoke_user_session(&user.id, id, ctx.now, &j)
        .await?
    {
        return Err(CoreError::NotFound("Session not found".into()));
    }
    ctx.credentials_changed();
    Ok(())
}

/// Extends a session that is used to `ttl_ms` from now (the portal settings'
/// lifetime), at most once a day (or per half lifetime, when shorter), and cuts
/// one that outlives a lifetime shortened since; returns the new expiry.
pub async fn refresh_session(ctx: &Ctx<'_>, p: &Principal, ttl_ms: i64) -> CoreResult<Option<i64>> {
    let every = SESSION_REFRESH_MS.min(ttl_ms / 2);
    match (&p.session_id, p.session_expires_at) {
        (Some(sid), Some(exp)) if exp - ctx.now < ttl_ms - every || exp - ctx.now > ttl_ms => {
            let new = ctx.now + ttl_ms;
            ctx.store.extend_auth_session(sid, new, ctx.now).await?;
            Ok(Some(new))
        }
        _ => Ok(None),
    }
}

pub(crate) fn uuid_v4() -> String {
    let mut b = crate::crypto::random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
