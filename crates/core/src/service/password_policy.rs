//! Password sign-in per organisation: an organisation admin may turn it off
//! once single sign-on works for the organisation, so its members sign in
//! through their IdP only. "Works" is proven, not assumed: an enabled
//! provider that reaches the organisation, has already signed a member into
//! it, and passes the connection test (run by the app) when the change is
//! made. Platform admins keep password sign-in as the break-glass path
//! (`service::auth`), and can turn passwords back on.

use crate::kinds::AuditAction;
use serde_json::json;

use super::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::rbac::Permission;
use crate::sso::{rules, IdentityProvider};

/// The providers that could prove single sign-on works for the caller's
/// organisation (`admin:orgs`): enabled, reaching it, and already used to
/// sign a member into it. The app runs the connection test on them.
pub async fn candidates(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Vec<IdentityProvider>> {
    p.require(Permission::AdminOrgs)?;
    let org = p.org()?;
    let used = ctx.store.idps_signed_into(&org.id).await?;
    Ok(ctx
        .store
        .list_idps()
        .await?
        .into_iter()
        .filter(|i| i.enabled && rules::reaches(i, &org.id) && used.contains(&i.id))
        .collect())
}

/// Allows or refuses password sign-in for the caller's organisation
/// (`admin:orgs`; audited). Turning it off needs `working`: the provider
/// that just passed the connection test among [`candidates`].
pub async fn set(
    ctx: &Ctx<'_>,
    p: &Principal,
    on: bool,
    working: Option<&IdentityProvider>,
) -> CoreResult<()> {
    p.require(Permission::AdminOrgs)?;
    let org = p.org()?;
    if !on && working.is_none() {
        return Err(CoreError::Validation(
            "passwordSignIn: password sign-in can be turned off only once single sign-on works \
             for this organisation: an enabled identity provider that reaches it, has signed a \
             member in, and passes \"Test connection\""
                .into(),
        ));
    }
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        &p.actor(),
        AuditAction::OrgSettingsChanged,
        None,
        "success",
        json!({"passwordSignIn": on, "provenBy": working.map(|w| w.id.as_str())}),
    );
    ctx.store.set_org_password_sign_in(&org.id, on, &j).await?;
    ctx.credentials_changed();
    Ok(())
}
