//! Roles, permissions and the one function that decides.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A permission, as named on the wire (`tools:execute`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Permission {
    /// View tool definitions and results, and the activity feed.
    ToolsRead,
    /// Execute tools.
    ToolsExecute,
    /// Approve or reject tool executions.
    ToolsApprove,
    /// Request and approve `danger`-level tools.
    ToolsDanger,
    /// View chat sessions.
    SessionsRead,
    /// Create, rename and delete chat sessions; chat.
    SessionsWrite,
    /// View workflows and runs.
    WorkflowsRead,
    /// Create or change workflow definitions.
    WorkflowsWrite,
    /// Run workflows.
    WorkflowsExecute,
    /// Manage the organisation's members.
    AdminUsers,
    /// Manage organisation settings.
    AdminOrgs,
    /// Read and verify the audit ledger.
    AdminAudit,
    /// Manage the organisation's webhook subscriptions and read their delivery log.
    AdminWebhooks,
    /// Everything in the organisation (for sessions it satisfies every org-level check).
    AdminAll,
}

/// Every permission, in wire order.
pub const ALL_PERMISSIONS: [Permission; 14] = [
    Permission::ToolsRead,
    Permission::ToolsExecute,
    Permission::ToolsApprove,
    Permission::ToolsDanger,
    Permission::SessionsRead,
    Permission::SessionsWrite,
    Permission::WorkflowsRead,
    Permission::WorkflowsWrite,
    Permission::WorkflowsExecute,
    Permission::AdminUsers,
    Permission::AdminOrgs,
    Permission::AdminAudit,
    Permission::AdminWebhooks,
    Permission::AdminAll,
];

impl Permission {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ToolsRead => "tools:read",
            Permission::ToolsExecute => "tools:execute",
            Permission::ToolsApprove => "tools:approve",
            Permission::ToolsDanger => "tools:danger",
            Permission::SessionsRead => "sessions:read",
            Permission::SessionsWrite => "sessions:write",
            Permission::WorkflowsRead => "workflows:read",
            Permission::WorkflowsWrite => "workflows:write",
            Permission::WorkflowsExecute => "workflows:execute",
            Permission::AdminUsers => "admin:users",
            Permission::AdminOrgs => "admin:orgs",
            Permission::AdminAudit => "admin:audit",
            Permission::AdminWebhooks => "admin:webhooks",
            Permission::AdminAll => "admin:all",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u8)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL_PERMISSIONS
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown permission {s:?}"))
    }
}

/// A set of permissions (a bit set: checks cost nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PermissionSet(u16);

impl PermissionSet {
    /// The empty set.
    pub const EMPTY: PermissionSet = PermissionSet(0);

    /// Builds a set from permissions.
    pub fn of(perms: &[Permission]) -> Self {
        PermissionSet(perms.iter().fold(0, |acc, p| acc | p.bit()))
    }

    /// Parses wire names, refusing unknown ones.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut set = PermissionSet::EMPTY;
        for n in names {
            set = set.with(n.trim().parse()?);
        }
        Ok(set)
    }

    /// This set plus `p`.
    pub fn with(self, p: Permission) -> Self {
        PermissionSet(self.0 | p.bit())
    }

    /// True when `p` is in the set (exactly; see [`decide`] for `admin:all`).
    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// Permissions in both sets.
    pub fn intersect(self, other: Self) -> Self {
        PermissionSet(self.0 & other.0)
    }

    /// True when empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in wire order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        ALL_PERMISSIONS
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    /// Wire names, in wire order.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }
}

/// A member's role in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads tools, sessions and workflows.
    Viewer,
    /// Also runs tools, approves, chats and runs workflows.
    Operator,
    /// Everything in the organisation.
    Admin,
}

impl Role {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// The role's permissions (reference §2.7, plus `tools:danger` for admins).
    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        match self {
            Role::Viewer => PermissionSet::of(&[ToolsRead, SessionsRead, WorkflowsRead]),
            Role::Operator => PermissionSet::of(&[
                ToolsRead,
                ToolsExecute,
                ToolsApprove,
                SessionsRead,
                SessionsWrite,
                WorkflowsRead,
                WorkflowsExecute,
            ]),
            Role::Admin => PermissionSet::of(&ALL_PERMISSIONS),
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?} (expected viewer, operator or admin)"
            )),
        }
    }
}

/// How the caller authenticated; decides whether `admin:all` is a wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Browser session cookie.
    Session,
    /// API key.
    ApiKey,
}

/// The one decision: may a caller with `held` permissions, authenticated by
/// `method`, do something needing `needed`? `admin:all` satisfies any check for
/// sessions; API keys get exactly what they list.
pub fn decide(held: PermissionSet, method: AuthMethod, needed: Permission) -> bool {
    held.contains(needed) || (method == AuthMethod::Session && held.contains(Permission::AdminAll))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_mapping() {
        assert_eq!(
            Role::Viewer.permissions().names(),
            vec!["tools:read", "sessions:read", "workflows:read"]
        );
        assert!(Role::Operator
            .permissions()
            .contains(Permission::ToolsApprove));
        assert!(!Role::Operator
            .permissions()
            .contains(Permission::ToolsDanger));
        assert!(Role::Admin.permissions().contains(Permission::ToolsDanger));
        assert_eq!(Role::Admin.permissions().iter().count(), 14);
        assert!(Role::Admin
            .permissions()
            .contains(Permission::AdminWebhooks));
        assert!(!Role::Operator
            .permissions()
            .contains(Permission::AdminWebhooks));
    }

    #[test]
    fn admin_all_is_a_wildcard_for_sessions_only() {
        let held = PermissionSet::of(&[Permission::AdminAll]);
        assert!(decide(held, AuthMethod::Session, Permission::ToolsDanger));
        assert!(!decide(held, AuthMethod::ApiKey, Permission::ToolsDanger));
        assert!(decide(held, AuthMethod::ApiKey, Permission::AdminAll));
    }

    #[test]
    fn parse_and_intersect() {
        let a = PermissionSet::parse(["tools:read", "tools:execute"]).unwrap();
        assert!(PermissionSet::parse(["tools:fly"]).is_err());
        let b = Role::Viewer.permissions();
        assert_eq!(a.intersect(b).names(), vec!["tools:read"]);
    }
}
