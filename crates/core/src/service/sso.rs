//! Single sign-on: identity providers as data (platform admins; audited;
//! the client secret sealed, never returned) and the end of an OIDC sign-in,
//! where an identity the OP vouched for becomes an account, a membership and
//! a role by the rules in [`crate::sso::rules`].

use std::collections::BTreeMap;

use serde_json::json;

use super::auth::{start_session, uuid_v4, SignedIn};
use super::{audit, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::kinds::{AuditAction, EventKind};
use crate::model::NewUser;
use crate::outbound::OutboundPolicy;
use crate::rbac::Role;
use crate::sso::rules::{self, Link};
use crate::sso::{ExternalIdentity, GroupsSource, IdentityLink, IdentityProvider};
use crate::{Secret, StoreError};

/// A provider's editable fields (absent: unchanged, or the default on create).
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// Organisation id (`Some(None)`: global).
    pub org_id: Option<Option<String>>,
    /// Button label.
    pub name: Option<String>,
    /// Issuer URL.
    pub issuer: Option<String>,
    /// Client id.
    pub client_id: Option<String>,
    /// Client secret (`Some(None)`: remove it; a public client).
    pub client_secret: Option<Option<Secret<String>>>,
    /// Scopes besides `openid`.
    pub scopes: Option<Vec<String>>,
    /// Claim holding the groups.
    pub groups_claim: Option<String>,
    /// `id_token` or `userinfo`.
    pub groups_source: Option<String>,
    /// Admin groups.
    pub admin_groups: Option<Vec<String>>,
    /// Operator groups.
    pub operator_groups: Option<Vec<String>>,
    /// Tenant claim (`Some(None)`: none).
    pub org_claim: Option<Option<String>>,
    /// Tenant value → organisation id.
    pub org_map: Option<BTreeMap<String, String>>,
    /// Default organisation (`Some(None)`: none).
    pub default_org_id: Option<Option<String>>,
    /// Roles managed by the IdP.
    pub roles_managed: Option<bool>,
    /// Just-in-time provisioning.
    pub jit: Option<bool>,
    /// Allowed email domains.
    pub allowed_domains: Option<Vec<String>>,
    /// Enabled.
    pub enabled: Option<bool>,
}

fn admin(p: &Principal) -> CoreResult<()> {
    if p.is_platform_admin() {
        Ok(())
    } else {
        Err(CoreError::Forbidden(
            "Identity providers are managed by platform admins".into(),
        ))
    }
}

fn gone() -> CoreError {
    CoreError::NotFound("identity provider not found".into())
}

fn bad(m: impl Into<String>) -> CoreError {
    CoreError::Validation(m.into())
}

fn text(field: &str, v: &str, max: usize) -> CoreResult<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(bad(format!(
            "{field}: 1 to {max} characters, no control characters"
        )));
    }
    Ok(v.to_string())
}

fn list(field: &str, v: &[String], max: usize) -> CoreResult<Vec<String>> {
    if v.len() > 100 {
        return Err(bad(format!("{field}: at most 100 entries")));
    }
    v.iter().map(|s| text(field, s, max)).collect()
}

fn domains(v: &[String]) -> CoreResult<Vec<String>> {
    let v = list("allowedDomains", v, 253)?;
    for d in &v {
        let ok = d.contains('.')
            && d.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !ok {
            return Err(bad(format!("allowedDomains: {d:?} is not a domain")));
        }
    }
    Ok(v.into_iter().map(|d| d.to_ascii_lowercase()).collect())
}

fn issuer(policy: &OutboundPolicy, v: &str) -> CoreResult<String> {
    let v = text("issuer", v, 2000)?;
    policy
        .check_url(&v)
        .map_err(|e| bad(format!("issuer: {e}")))?;
    Ok(v)
}

async fn org_exists(ctx: &Ctx<'_>, field: &str, id: &str) -> CoreResult<()> {
    match ctx.store.org_by_id(id).await? {
        Some(_) => Ok(()),
        None => Err(bad(format!("{field}: no organisation {id:?}"))),
    }
}

/// Applies `f` to `p`, validating each field given.
async fn apply(
    ctx: &Ctx<'_>,
    policy: &OutboundPolicy,
    p: &mut IdentityProvider,
    f: Fields,
) -> CoreResult<()> {
    if let Some(o) = f.org_id {
        if let Some(id) = &o {
            org_exists(ctx, "orgId", id).await?;
        }
        p.org_id = o;
    }
    if let Some(v) = f.name {
        p.name = text("name", &v, 100)?;
    }
    if let Some(v) = f.issuer {
        p.issuer = issuer(policy, &v)?;
    }
    if let Some(v) = f.client_id {
        p.client_id = text("clientId", &v, 500)?;
    }
    if let Some(s) = f.client_secret {
        p.client_secret_sealed = match s {
            Some(s) => {
                let v = text("clientSecret", s.expose(), 2000)?;
                Some(
                    ctx.keys
                        .seal(&IdentityProvider::seal_context(&p.id), v.as_bytes()),
                )
            }
            None => None,
        };
    }
    if let Some(v) = f.scopes {
        p.scopes = list("scopes", &v, 200)?;
        if p.scopes.iter().any(|s| s.contains(' ')) {
            return Err(bad("scopes: one scope per entry, no spaces"));
        }
    }
    if let Some(v) = f.groups_claim {
        p.groups_claim = text("groupsClaim", &v, 200)?;
    }
    if let Some(v) = f.groups_source {
        p.groups_source = GroupsSource::parse(&v)
            .ok_or_else(|| bad("groupsSource: must be id_token or userinfo"))?;
    }
    if let Some(v) = f.admin_groups {
        p.admin_groups = list("adminGroups", &v, 500)?;
    }
    if let Some(v) = f.operator_groups {
        p.operator_groups = list("operatorGroups", &v, 500)?;
    }
    if let Some(v) = f.org_claim {
        p.org_claim = v.map(|c| text("orgClaim", &c, 200)).transpose()?;
    }
    if let Some(m) = f.org_map {
        if m.len() > 1000 {
            return Err(bad("orgMap: at most 1000 entries"));
        }
        for (k, org) in &m {
            text("orgMap", k, 500)?;
            org_exists(ctx, "orgMap", org).await?;
        }
        p.org_map = m;
    }
    if let Some(o) = f.default_org_id {
        if let Some(id) = &o {
            org_exists(ctx, "defaultOrgId", id).await?;
        }
        p.default_org_id = o;
    }
    if let Some(v) = f.roles_managed {
        p.roles_managed = v;
    }
    if let Some(v) = f.jit {
        p.jit = v;
    }
    if let Some(v) = f.allowed_domains {
        p.allowed_domains = domains(&v)?;
    }
    if let Some(v) = f.enabled {
        p.enabled = v;
    }
    Ok(())
}

fn journal<'a>(
    ctx: &Ctx<'a>,
    actor: &Principal,
    p: &IdentityProvider,
    action: AuditAction,
) -> crate::journal::Journal<'a> {
    let mut j = ctx.journal();
    j.audit(
        p.org_id.as_deref(),
        &actor.actor(),
        action,
        Some(&format!("idp:{}", p.id)),
        "success",
        json!({"name": p.name, "issuer": p.issuer, "clientId": p.client_id,
               "rolesManaged": p.roles_managed, "jit": p.jit, "enabled": p.enabled}),
    );
    j
}

/// Adds a provider (issuer, client id and name required).
pub async fn create(
    ctx: &Ctx<'_>,
    actor: &Principal,
    policy: &OutboundPolicy,
    f: Fields,
) -> CoreResult<IdentityProvider> {
    admin(actor)?;
    for (given, field) in [
        (f.name.is_some(), "name"),
        (f.issuer.is_some(), "issuer"),
        (f.client_id.is_some(), "clientId"),
    ] {
        if !given {
            return Err(bad(format!("{field}: is required")));
        }
    }
    let mut p = IdentityProvider {
        id: uuid_v4(),
        org_id: None,
        name: String::new(),
        issuer: String::new(),
        client_id: String::new(),
        client_secret_sealed: None,
        scopes: vec!["email".into(), "profile".into()],
        groups_claim: "groups".into(),
        groups_source: GroupsSource::IdToken,
        admin_groups: vec![],
        operator_groups: vec![],
        org_claim: None,
        org_map: BTreeMap::new(),
        default_org_id: None,
        roles_managed: false,
        jit: false,
        allowed_domains: vec![],
        enabled: true,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    apply(ctx, policy, &mut p, f).await?;
    let j = journal(ctx, actor, &p, AuditAction::IdpCreated);
    ctx.store.create_idp(&p, &j).await?;
    Ok(p)
}

/// Every provider.
pub async fn list_all(ctx: &Ctx<'_>, actor: &Principal) -> CoreResult<Vec<IdentityProvider>> {
    admin(actor)?;
    Ok(ctx.store.list_idps().await?)
}

/// One provider.
pub async fn get(ctx: &Ctx<'_>, actor: &Principal, id: &str) -> CoreResult<IdentityProvider> {
    admin(actor)?;
    ctx.store.get_idp(id).await?.ok_or_else(gone)
}

/// Changes a provider.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Principal,
    policy: &OutboundPolicy,
    id: &str,
    f: Fields,
) -> CoreResult<IdentityProvider> {
    let mut p = get(ctx, actor, id).await?;
    apply(ctx, policy, &mut p, f).await?;
    p.updated_at = ctx.now;
    let j = journal(ctx, actor, &p, AuditAction::IdpUpdated);
    if !ctx.store.update_idp(&p, &j).await? {
        return Err(gone());
    }
    Ok(p)
}

/// Deletes a provider (its account links go with it; the accounts stay).
pub async fn delete(ctx: &Ctx<'_>, actor: &Principal, id: &str) -> CoreResult<IdentityProvider> {
    let p = get(ctx, actor, id).await?;
    let j = journal(ctx, actor, &p, AuditAction::IdpDeleted);
    if !ctx.store.delete_idp(id, &j).await? {
        return Err(gone());
    }
    Ok(p)
}

/// The enabled providers, for the sign-in page (anyone).
pub async fn sign_in_choices(ctx: &Ctx<'_>) -> CoreResult<Vec<IdentityProvider>> {
    Ok(ctx
        .store
        .list_idps()
        .await?
        .into_iter()
        .filter(|p| p.enabled)
        .collect())
}

/// An enabled provider and its opened client secret, to sign in with.
pub async fn for_sign_in(
    ctx: &Ctx<'_>,
    id: &str,
) -> CoreResult<(IdentityProvider, Option<Secret<String>>)> {
    let p = ctx
        .store
        .get_idp(id)
        .await?
        .filter(|p| p.enabled)
        .ok_or_else(gone)?;
    let secret = match &p.client_secret_sealed {
        Some(s) => {
            let raw = ctx
                .keys
                .open(&IdentityProvider::seal_context(&p.id), s)
                .ok_or_else(|| CoreError::Internal("the client secret does not open".into()))?;
            Some(Secret::new(String::from_utf8(raw).map_err(|_| {
                CoreError::Internal("the client secret is not text".into())
            })?))
        }
        None => None,
    };
    Ok((p, secret))
}

/// Spends a sign-in state: a second callback with the same state is refused.
pub async fn spend_state(ctx: &Ctx<'_>, state: &str, expires_at: i64) -> CoreResult<()> {
    let hash = crate::crypto::sha256_hex(state.as_bytes());
    if ctx
        .store
        .spend_sso_state(&hash, expires_at, ctx.now)
        .await?
    {
        Ok(())
    } else {
        Err(CoreError::Forbidden(
            "This sign-in link was used already; start again".into(),
        ))
    }
}

async fn refuse(
    ctx: &Ctx<'_>,
    p: &IdentityProvider,
    id: &ExternalIdentity,
    why: &str,
) -> CoreError {
    audit::append_best_effort(
        ctx,
        p.org_id.as_deref(),
        "anonymous",
        AuditAction::AuthSsoRefused,
        id.email.as_deref(),
        "failure",
        json!({"idp": p.id, "subject": id.subject, "reason": why}),
    )
    .await;
    CoreError::Forbidden(why.to_string())
}

/// Ends an OIDC sign-in: finds or creates the account by the linking rules,
/// gives it its membership and role, opens a session (remembering the ID
/// token, sealed, for RP-initiated logout), and audits the mapped role and
/// the group that gave it. Just-in-time provisioning needs both the portal's
/// `jitProvisioning` and the provider's flag ([`rules::jit`]).
pub async fn complete(
    ctx: &Ctx<'_>,
    p: &IdentityProvider,
    id: &ExternalIdentity,
    id_token: &str,
) -> CoreResult<SignedIn> {
    let portal_jit = crate::portal_settings::get(ctx).await?.jit_provisioning;
    let email = match id.email.as_deref() {
        Some(e) => Some(crate::validate::email("email", e).map_err(|_| {
            CoreError::Forbidden("the identity provider sent an invalid email address".into())
        })?),
        None => None,
    };
    if !rules::domain_allowed(p, email.as_deref()) {
        return Err(refuse(
            ctx,
            p,
            id,
            "this email domain may not sign in with this provider",
        )
        .await);
    }
    let known = ctx.store.identity_link(&p.id, &id.subject).await?;
    let by_email = match (&known, &email) {
        (None, Some(e)) => ctx.store.user_by_email(e).await?.map(|(u, _)| u),
        _ => None,
    };
    let user = match rules::link(p, portal_jit, known, id, by_email.as_ref()) {
        Link::Known(uid) => ctx
            .store
            .user_by_id(&uid)
            .await?
            .ok_or(CoreError::Unauthenticated)?,
        Link::ByEmail(_) => {
            let u = by_email.ok_or(CoreError::Unauthenticated)?;
            link(ctx, p, id, &u.id).await?;
            u
        }
        Link::Create => {
            let e = email.clone().unwrap_or_default();
            let name = id.name.clone().unwrap_or_else(|| e.clone());
            let u = match ctx
                .store
                .create_user(
                    NewUser {
                        email: e,
                        name: name.chars().take(200).collect(),
                        password_hash: None,
                        platform_admin: false,
                        must_change_password: false,
                    },
                    ctx.now,
                )
                .await
            {
                Ok(u) => u,
                // Someone else created the account first (a race): refuse
                // rather than link an unverified email.
                Err(StoreError::Conflict(_)) => {
                    return Err(refuse(ctx, p, id, "an account with this email exists").await)
                }
                Err(e) => return Err(e.into()),
            };
            link(ctx, p, id, &u.id).await?;
            u
        }
        Link::Refuse(why) => return Err(refuse(ctx, p, id, why).await),
    };
    // The adapter filled `claims` from the provider's groups source.
    let groups = rules::groups_of(id.claims.get(&p.groups_claim));
    let (role, group) = rules::role_for(p, &groups);
    let org = rules::target_org(p, id);
    let mut applied = None;
    if let Some(org_id) = &org {
        applied = membership(ctx, p, rules::jit(p, portal_jit), &user.id, org_id, role).await?;
    }
    let signed = start_session(ctx, &user, org.as_deref()).await?;
    super::sso_sessions::record(ctx, p, &signed.session_id, id_token).await?;
    audit::append_best_effort(
        ctx,
        signed.org.as_ref().map(|(o, _)| o.id.as_str()),
        &format!("user:{}", user.id),
        AuditAction::AuthSsoSignIn,
        Some(&user.email),
        "success",
        json!({"idp": p.id, "subject": id.subject, "mappedRole": role.as_str(),
               "group": group, "roleApplied": applied.map(Role::as_str),
               "rolesManaged": p.roles_managed}),
    )
    .await;
    Ok(signed)
}

async fn link(
    ctx: &Ctx<'_>,
    p: &IdentityProvider,
    id: &ExternalIdentity,
    user_id: &str,
) -> CoreResult<()> {
    let l = IdentityLink {
        idp_id: p.id.clone(),
        subject: id.subject.clone(),
        user_id: user_id.to_string(),
    };
    match ctx.store.link_identity(&l, ctx.now).await {
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Gives the member their role in `org_id`: a new membership (`jit` only)
/// gets the mapped role; an existing one follows it only when the provider
/// manages roles. The role now in force, when this sign-in set it.
async fn membership(
    ctx: &Ctx<'_>,
    p: &IdentityProvider,
    jit: bool,
    user_id: &str,
    org_id: &str,
    role: Role,
) -> CoreResult<Option<Role>> {
    let actor = format!("idp:{}", p.id);
    let current = ctx.store.member_role(org_id, user_id).await?;
    let set = match current {
        None if jit => {
            let mut j = ctx.journal();
            j.audit(
                Some(org_id),
                &actor,
                AuditAction::MemberAdded,
                Some(&format!("user:{user_id}")),
                "success",
                json!({"role": role.as_str(), "via": "sso"}),
            );
            match ctx
                .store
                .add_member(org_id, user_id, role, ctx.now, &j)
                .await
            {
                Ok(()) | Err(StoreError::Conflict(_)) => Some(role),
                Err(e) => return Err(e.into()),
            }
        }
        None => None,
        Some(before) if p.roles_managed && before != role => {
            let mut j = ctx.journal();
            j.audit(Some(org_id), &actor, AuditAction::MemberRoleChanged, Some(&format!("user:{user_id}")),
                "success", json!({"from": before.as_str(), "to": role.as_str(), "via": "sso"}))
            .event(org_id, EventKind::MemberRoleChanged,
                &json!({"userId": user_id, "from": before.as_str(), "to": role.as_str(), "actor": actor}));
            match ctx.store.set_member_role(org_id, user_id, role, &j).await {
                Ok(()) => Some(role),
                // The last admin keeps the role; the sign-in goes on.
                Err(StoreError::Conflict(_)) => None,
                Err(e) => return Err(e.into()),
            }
        }
        Some(_) => None,
    };
    if current.is_some() || set.is_some() {
        ctx.store
            .mark_sso_member(org_id, user_id, &p.id, ctx.now)
            .await?;
    }
    if set.is_some() {
        ctx.credentials_changed();
    }
    Ok(set)
}
