//! The linking and mapping rules, as pure functions over a provider and the
//! identity it vouched for.

use crate::ids::OrgId;
use serde_json::Value;

use super::{ExternalIdentity, IdentityProvider};
use crate::model::User;
use crate::rbac::Role;

/// The groups in a claim: an array of strings, or one string.
pub fn groups_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The role the groups give, and the group that gave it (`None`: no listed
/// group matched, so viewer). Admin wins over operator.
pub fn role_for(idp: &IdentityProvider, groups: &[String]) -> (Role, Option<String>) {
    let hit = |list: &[String]| groups.iter().find(|g| list.contains(g)).cloned();
    if let Some(g) = hit(&idp.admin_groups) {
        return (Role::Admin, Some(g));
    }
    if let Some(g) = hit(&idp.operator_groups) {
        return (Role::Operator, Some(g));
    }
    (Role::Viewer, None)
}

/// The organisation a sign-in lands in: the provider's own, else the
/// tenant claim's mapping, else the default (`None`: nowhere).
pub fn target_org(idp: &IdentityProvider, id: &ExternalIdentity) -> Option<OrgId> {
    if let Some(o) = &idp.org_id {
        return Some(o.clone());
    }
    let mapped = idp.org_claim.as_ref().and_then(|c| {
        let v = id.claims.get(c)?;
        let key = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        idp.org_map.get(&key).map(OrgId::from)
    });
    mapped.or_else(|| idp.default_org_id.as_deref().map(OrgId::from))
}

/// Whether the email's domain may sign in with this provider.
pub fn domain_allowed(idp: &IdentityProvider, email: Option<&str>) -> bool {
    if idp.allowed_domains.is_empty() {
        return true;
    }
    let Some(domain) = email.and_then(|e| e.rsplit_once('@')).map(|(_, d)| d) else {
        return false;
    };
    idp.allowed_domains
        .iter()
        .any(|d| d.eq_ignore_ascii_case(domain))
}

/// What to do with a sign-in, given what the portal already knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The subject is linked to this account already.
    Known(String),
    /// An account with the same, OP-verified email exists: link to it.
    ByEmail(String),
    /// Nobody known: create an account (JIT).
    Create,
    /// Refused, and why (shown to the person).
    Refuse(&'static str),
}

/// Whether sign-in creates accounts and memberships just in time: only when
/// both the portal setting (`jitProvisioning`) and the provider's own flag
/// say so; the stricter wins.
pub fn jit(idp: &IdentityProvider, portal_jit: bool) -> bool {
    idp.jit && portal_jit
}

/// The linking rule: a known subject is that account; otherwise an account
/// is joined only through an email the OP says it verified; otherwise a new
/// one only when just-in-time provisioning is on ([`jit`]).
pub fn link(
    idp: &IdentityProvider,
    portal_jit: bool,
    known: Option<String>,
    id: &ExternalIdentity,
    by_email: Option<&User>,
) -> Link {
    if let Some(user) = known {
        return Link::Known(user);
    }
    if id.email.as_deref().is_none_or(str::is_empty) {
        return Link::Refuse("the identity provider sent no email address");
    }
    if let Some(u) = by_email {
        if !id.email_verified {
            return Link::Refuse(
                "an account with this email exists, and the identity provider has not verified the email",
            );
        }
        return Link::ByEmail(u.id.to_string());
    }
    if jit(idp, portal_jit) {
        Link::Create
    } else if !portal_jit {
        Link::Refuse(
            "there is no portal account for this person, and this portal does not create accounts at sign-in: ask an admin to invite you",
        )
    } else {
        Link::Refuse(
            "there is no portal account for this person and this provider does not create accounts",
        )
    }
}

/// Whether a sign-in through this provider can land in `org_id`: its own
/// organisation, or for a global one the default or a mapped organisation.
pub fn reaches(idp: &IdentityProvider, org_id: &crate::ids::OrgId) -> bool {
    match &idp.org_id {
        Some(o) => o == org_id,
        None => {
            idp.default_org_id.as_deref() == Some(org_id)
                || idp.org_map.values().any(|o| o == org_id)
        }
    }
}
