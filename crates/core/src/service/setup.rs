//! First run: the first admin, through the one-time setup token or the CLI.

use crate::kinds::AuditAction;
use serde_json::json;

use super::auth::{hash_password_blocking, uuid_v4};
use super::{compartments, members, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::model::{NewUser, Org, User};
use crate::rbac::Role;
use crate::store::StoreError;
use crate::validate;
use crate::CloudMode;

/// Creates the first admin (a platform admin) and organisation in one
/// transaction that re-checks that no admin exists. `cloud` (its mode and
/// tenancy) decides whether the organisation gets the demo tenancy
/// ([`compartments::grant_first_org_demo_tenancy`]).
pub async fn bootstrap(
    ctx: &Ctx<'_>,
    email: &str,
    password: &str,
    name: &str,
    org_name: &str,
    cloud: Option<(CloudMode, &str)>,
) -> CoreResult<(User, Org)> {
    let email = validate::email("email", email)?;
    let password = validate::new_password("password", password)?;
    let name = validate::text("name", name, 100)?;
    let org_name = validate::text("orgName", org_name, 100)?;
    let slug = validate::slug_from(&org_name);
    let hash = hash_password_blocking(password).await?;
    let (user_id, org_id) = (uuid_v4(), uuid_v4());
    let actor = format!("user:{user_id}");
    let mut j = ctx.journal();
    j.audit(
        None,
        &actor,
        AuditAction::SetupCompleted,
        Some(&format!("org:{org_id}")),
        "success",
        json!({"email": email}),
    );
    members::org_created(&mut j, &actor, &org_id, &slug);
    let (user, org) = ctx
        .store
        .bootstrap_admin(
            &user_id,
            NewUser {
                email,
                name,
                password_hash: Some(hash),
                platform_admin: true,
                must_change_password: false,
            },
            &org_id,
            &slug,
            &org_name,
            ctx.now,
            &j,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                CoreError::Conflict("Setup is already complete: an admin exists".into())
            }
            other => other.into(),
        })?;
    let org = compartments::grant_first_org_demo_tenancy(ctx, org, cloud, &actor).await?;
    Ok((user, org))
}

/// What the CLI did.
pub struct CliUser {
    /// The user (created or existing).
    pub user: User,
    /// The organisation (created or existing).
    pub org: Org,
    /// Whether the organisation was created now.
    pub org_created: bool,
}

/// CLI: creates (or updates) a user with a password and makes them a member of
/// `slug` with `role`, creating the organisation if missing (the first one gets
/// the demo tenancy under the emulator, as at setup).
#[allow(clippy::too_many_arguments)]
pub async fn create_user_cli(
    ctx: &Ctx<'_>,
    email: &str,
    name: &str,
    slug: &str,
    role: Role,
    platform_admin: bool,
    password: &str,
    cloud: Option<(CloudMode, &str)>,
) -> CoreResult<CliUser> {
    let email = validate::email("email", email)?;
    let name = validate::text("name", name, 100)?;
    let slug = validate::slug("org", slug)?;
    let password = validate::new_password("password", password)?;
    let hash = hash_password_blocking(password).await?;
    let (org, org_created) = match ctx.store.org_by_slug(&slug).await? {
        Some(o) => (o, false),
        None => {
            let id = uuid_v4();
            let mut j = ctx.journal();
            members::org_created(&mut j, "system:cli", &id, &slug);
            let org = ctx
                .store
                .create_org_with(&id, &slug, &slug, None, ctx.now, &j)
                .await?;
            (org, true)
        }
    };
    let user = match ctx.store.user_by_email(&email).await? {
        Some((u, _)) => {
            ctx.store.set_password(&u.id, &hash, ctx.now).await?;
            u
        }
        None => {
            ctx.store
                .create_user(
                    NewUser {
                        email: email.clone(),
                        name,
                        password_hash: Some(hash),
                        platform_admin,
                        must_change_password: false,
                    },
                    ctx.now,
                )
                .await?
        }
    };
    if platform_admin && !user.platform_admin {
        ctx.store
            .set_platform_admin(&user.id, true, ctx.now)
            .await?;
    }
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        "system:cli",
        AuditAction::MemberAdded,
        Some(&format!("user:{}", user.id)),
        "success",
        json!({"email": user.email, "role": role.as_str(), "platformAdmin": platform_admin}),
    );
    match ctx.store.member_role(&org.id, &user.id).await? {
        // Nothing changes: the run is still recorded.
        Some(r) if r == role => {
            for e in j.audit_entries() {
                ctx.store.append_audit(ctx.keys, e).await?;
            }
        }
        Some(_) => {
            ctx.store
                .set_member_role(&org.id, &user.id, role, &j)
                .await?
        }
        None => {
            ctx.store
                .add_member(&org.id, &user.id, role, ctx.now, &j)
                .await?
        }
    }
    let org = if org_created {
        compartments::grant_first_org_demo_tenancy(ctx, org, cloud, "system:cli").await?
    } else {
        org
    };
    let user = ctx.store.user_by_id(&user.id).await?.unwrap_or(user);
    Ok(CliUser {
        user,
        org,
        org_created,
    })
}
