//! Single sign-on: identity providers as data, and the rules that turn an
//! identity an OP vouched for into a portal account, an organisation and a
//! role. The protocol itself (discovery, PKCE, token checks) is the
//! `portal-oidc` crate's; nothing here speaks HTTP.

pub mod rules;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Where the groups claim is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupsSource {
    /// The ID token's claims.
    IdToken,
    /// The userinfo endpoint's answer (fetched at sign-in).
    Userinfo,
}

impl GroupsSource {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupsSource::IdToken => "id_token",
            GroupsSource::Userinfo => "userinfo",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "id_token" => Some(GroupsSource::IdToken),
            "userinfo" => Some(GroupsSource::Userinfo),
            _ => None,
        }
    }
}

/// A configured OpenID Provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    /// Stable id (UUID).
    pub id: String,
    /// The organisation it signs into (`None`: global, organisations mapped
    /// from a claim or the default organisation).
    pub org_id: Option<crate::ids::OrgId>,
    /// Shown on the sign-in button ("Sign in with …").
    pub name: String,
    /// The issuer, exactly as the OP names itself.
    pub issuer: String,
    /// OAuth client id.
    pub client_id: String,
    /// The client secret sealed under the data key (`None`: a public client).
    pub client_secret_sealed: Option<String>,
    /// Scopes besides `openid` (IDCS: `urn:opc:idm:__myscopes__` for groups).
    pub scopes: Vec<String>,
    /// The claim holding the groups (default `groups`).
    pub groups_claim: String,
    /// Where that claim is read.
    pub groups_source: GroupsSource,
    /// Groups whose members are organisation admins.
    pub admin_groups: Vec<String>,
    /// Groups whose members are operators (everyone else: viewer).
    pub operator_groups: Vec<String>,
    /// The claim naming the person's tenant (global providers).
    pub org_claim: Option<String>,
    /// That claim's values → organisation ids.
    pub org_map: BTreeMap<String, String>,
    /// The organisation when no mapping applies (global providers).
    pub default_org_id: Option<String>,
    /// Roles follow the groups at every sign-in, and manual role changes of
    /// the members it signed in are refused. Off: the groups give the role
    /// once, when the membership is created, and a manual change stays.
    pub roles_managed: bool,
    /// Unknown people get an account (and membership) at first sign-in.
    pub jit: bool,
    /// Email domains allowed to sign in (empty: any).
    pub allowed_domains: Vec<String>,
    /// Shown on the sign-in page and usable.
    pub enabled: bool,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

impl IdentityProvider {
    /// The seal context of its client secret (bound to the row).
    pub fn seal_context(id: &str) -> String {
        format!("idp-client-secret:{id}")
    }
}

/// The seal context of the ID token kept with a browser session (bound to
/// the session's id), for RP-initiated logout's `id_token_hint`.
pub fn id_token_seal_context(session_id: &str) -> String {
    format!("sso-id-token:{session_id}")
}

/// An identity an OP vouched for (the ID token and, when asked, userinfo).
#[derive(Debug, Clone, Default)]
pub struct ExternalIdentity {
    /// The issuer.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `email`.
    pub email: Option<String>,
    /// `email_verified`.
    pub email_verified: bool,
    /// `name`.
    pub name: Option<String>,
    /// The claims the groups and tenant are read from.
    pub claims: Map<String, Value>,
}

/// A link of an OP's subject to a portal account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityLink {
    /// The provider.
    pub idp_id: String,
    /// The OP's `sub`.
    pub subject: String,
    /// The account.
    pub user_id: crate::ids::UserId,
}
