//! API keys: created by org admins over HTTP (acting as their creator) or by
//! the CLI (service principals, or acting as a named user).

use crate::kinds::AuditAction;
use serde_json::json;

use super::auth::uuid_v4;
use super::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::identity::{new_api_key, Principal};
use crate::journal::Journal;
use crate::kinds::EventKind;
use crate::model::{ApiKey, NewApiKey, Org};
use crate::rbac::{AuthMethod, Permission, PermissionSet};
use crate::validate;

/// A created key; `key` is shown once and never stored.
pub struct Created {
    /// The secret.
    pub key: String,
    /// What is stored.
    pub record: ApiKey,
}

fn parse_permissions(perms: &[String]) -> CoreResult<PermissionSet> {
    if perms.is_empty() {
        return Err(CoreError::Validation(
            "permissions: list at least one permission".into(),
        ));
    }
    PermissionSet::parse(perms.iter().map(String::as_str))
        .map_err(|e| CoreError::Validation(format!("permissions: {e}")))
}

fn expiry(ctx: &Ctx<'_>, days: Option<i64>) -> CoreResult<Option<i64>> {
    match days {
        None => Ok(None),
        Some(d) if (1..=3650).contains(&d) => Ok(Some(ctx.now + d * 24 * 3600 * 1000)),
        Some(_) => Err(CoreError::Validation(
            "expiresInDays: must be between 1 and 3650".into(),
        )),
    }
}

async fn store_key(
    ctx: &Ctx<'_>,
    org: &Org,
    name: &str,
    perms: PermissionSet,
    owner: Option<String>,
    created_by: &str,
    expires_at: Option<i64>,
) -> CoreResult<Created> {
    let name = validate::text("name", name, 100)?;
    let (key, key_hash, prefix) = new_api_key();
    let new = NewApiKey {
        id: uuid_v4(),
        org_id: org.id.clone(),
        name: name.clone(),
        key_hash,
        prefix,
        permissions: perms.names().into_iter().map(str::to_owned).collect(),
        owner_user_id: owner,
        created_by: created_by.to_string(),
        created_at: ctx.now,
        expires_at,
    };
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        created_by,
        AuditAction::ApiKeyCreated,
        Some(&format!("key:{}", new.id)),
        "success",
        json!({"name": new.name, "permissions": new.permissions, "owner": new.owner_user_id, "expiresAt": new.expires_at}),
    )
    .event(
        &org.id,
        EventKind::ApiKeyCreated,
        &json!({"keyId": new.id, "name": new.name, "permissions": new.permissions, "owner": new.owner_user_id, "expiresAt": new.expires_at, "actor": created_by}),
    );
    let record =
        ctx.store.create_api_key(new, &j).await.map_err(
            |e| match crate::store::Constraint::of(&e) {
                Some(crate::store::Constraint::ApiKeyName) => {
                    CoreError::Conflict(format!("name: an API key named `{name}` already exists"))
                }
                _ => e.into(),
            },
        )?;
    Ok(Created { key, record })
}

/// The journal of a revocation: its audit entry and `api_key.revoked` event.
fn revocation<'a>(ctx: &Ctx<'a>, org: &Org, actor: &str, target: &str) -> Journal<'a> {
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        actor,
        AuditAction::ApiKeyRevoked,
        Some(target),
        "success",
        json!({}),
    )
    .event(
        &org.id,
        EventKind::ApiKeyRevoked,
        &json!({"target": target, "actor": actor}),
    );
    j
}

/// Creates a key owned by the calling admin. Keys cannot create keys, and a
/// key cannot list permissions its owner does not hold.
pub async fn create(
    ctx: &Ctx<'_>,
    p: &Principal,
    name: &str,
    perms: &[String],
    expires_days: Option<i64>,
) -> CoreResult<Created> {
    if p.method == AuthMethod::ApiKey {
        return Err(CoreError::Forbidden(
            "API keys cannot create API keys".into(),
        ));
    }
    p.require(Permission::AdminAll)?;
    let org = p.org()?;
    let user = p.user.as_ref().ok_or(CoreError::Unauthenticated)?;
    let set = parse_permissions(perms)?;
    if let Some(extra) = set.iter().find(|x| !p.permissions.contains(*x)) {
        return Err(CoreError::Forbidden(format!(
            "You cannot grant {extra}, which you do not hold"
        )));
    }
    store_key(
        ctx,
        org,
        name,
        set,
        Some(user.id.clone()),
        &p.actor(),
        expiry(ctx, expires_days)?,
    )
    .await
}

/// The organisation's keys (`admin:all`; keys cannot list keys).
pub async fn list(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Vec<ApiKey>> {
    if p.method == AuthMethod::ApiKey {
        return Err(CoreError::Forbidden(
            "API keys cannot manage API keys".into(),
        ));
    }
    p.require(Permission::AdminAll)?;
    Ok(ctx.store.list_api_keys(&p.org()?.id).await?)
}

/// Revokes one of the organisation's keys; another org's key is "not found".
pub async fn revoke(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<()> {
    if p.method == AuthMethod::ApiKey {
        return Err(CoreError::Forbidden(
            "API keys cannot revoke API keys".into(),
        ));
    }
    p.require(Permission::AdminAll)?;
    let org = p.org()?;
    let j = revocation(ctx, org, &p.actor(), &format!("key:{id}"));
    if !ctx.store.revoke_api_key(&org.id, id, ctx.now, &j).await? {
        return Err(CoreError::NotFound("API key not found".into()));
    }
    ctx.credentials_changed();
    Ok(())
}

/// The user id of the member of `org` with this email (`field` names the input).
async fn member_id(ctx: &Ctx<'_>, org: &Org, field: &str, email: &str) -> CoreResult<String> {
    let email = validate::email(field, email)?;
    let (u, _) = ctx
        .store
        .user_by_email(&email)
        .await?
        .ok_or_else(|| CoreError::NotFound(format!("user {email:?} not found")))?;
    if ctx.store.member_role(&org.id, &u.id).await?.is_none() {
        return Err(CoreError::Validation(format!(
            "{field}: {email} is not a member of {}",
            org.slug
        )));
    }
    Ok(u.id)
}

/// CLI: creates a key in the organisation `slug`, acting as `user_email` when
/// given, else as a service principal with exactly the listed permissions.
/// `creator_email` names the member accountable for it (recorded as its
/// creator, so four-eyes treats the key and that person as one); otherwise the
/// creator is `system:cli`, and the key cannot take part in four-eyes decisions.
pub async fn create_cli(
    ctx: &Ctx<'_>,
    slug: &str,
    name: &str,
    perms: &[String],
    user_email: Option<&str>,
    creator_email: Option<&str>,
    expires_days: Option<i64>,
) -> CoreResult<Created> {
    let org = ctx
        .store
        .org_by_slug(slug)
        .await?
        .ok_or_else(|| CoreError::NotFound(format!("organization {slug:?} not found")))?;
    let set = parse_permissions(perms)?;
    let owner = match user_email {
        Some(e) => Some(member_id(ctx, &org, "user", e).await?),
        None => None,
    };
    let creator = match creator_email {
        Some(e) => format!("user:{}", member_id(ctx, &org, "createdBy", e).await?),
        None => "system:cli".to_string(),
    };
    store_key(
        ctx,
        &org,
        name,
        set,
        owner,
        &creator,
        expiry(ctx, expires_days)?,
    )
    .await
}

/// CLI: revokes the key named `name` in the organisation `slug`.
pub async fn revoke_cli(ctx: &Ctx<'_>, slug: &str, name: &str) -> CoreResult<()> {
    let org = ctx
        .store
        .org_by_slug(slug)
        .await?
        .ok_or_else(|| CoreError::NotFound(format!("organization {slug:?} not found")))?;
    let j = revocation(ctx, &org, "system:cli", name);
    if !ctx
        .store
        .revoke_api_key_by_name(&org.id, name, ctx.now, &j)
        .await?
    {
        return Err(CoreError::NotFound(format!(
            "no live key named {name:?} in {slug}"
        )));
    }
    Ok(())
}
