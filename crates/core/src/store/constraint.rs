//! The named uniqueness constraints (migration 0011), so a violation can be
//! answered field by field ("name: an API key named `ci` already exists")
//! instead of with a generic conflict.

use super::StoreError;

/// A uniqueness rule of the schema that a write can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// One account per email address.
    UserEmail,
    /// One organisation per slug.
    OrgSlug,
    /// API key names are unique within their organisation.
    ApiKeyName,
    /// A user is a member of an organisation once.
    Member,
    /// Chat session ids (chosen by the client) are unique.
    ChatSessionId,
}

impl Constraint {
    /// Every named constraint.
    pub const ALL: [Constraint; 5] = [
        Constraint::UserEmail,
        Constraint::OrgSlug,
        Constraint::ApiKeyName,
        Constraint::Member,
        Constraint::ChatSessionId,
    ];

    /// The constraint's name in the schema (PostgreSQL reports it).
    pub fn name(self) -> &'static str {
        match self {
            Constraint::UserEmail => "users_email_unique",
            Constraint::OrgSlug => "organizations_slug_unique",
            Constraint::ApiKeyName => "api_keys_name_unique",
            Constraint::Member => "org_members_member_unique",
            Constraint::ChatSessionId => "chat_sessions_id_unique",
        }
    }

    /// The columns SQLite names when the rule is broken (it reports columns,
    /// not constraint names).
    pub fn columns(self) -> &'static str {
        match self {
            Constraint::UserEmail => "users.email",
            Constraint::OrgSlug => "organizations.slug",
            Constraint::ApiKeyName => "api_keys.org_id, api_keys.name",
            Constraint::Member => "org_members.org_id, org_members.user_id",
            Constraint::ChatSessionId => "chat_sessions.id",
        }
    }

    /// The constraint with this schema name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The named constraint a store error reports breaking, if any (the
    /// backends put its name in [`StoreError::Conflict`]).
    pub fn of(e: &StoreError) -> Option<Self> {
        match e {
            StoreError::Conflict(detail) => Self::from_name(detail),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Constraint::ALL {
            assert_eq!(Constraint::from_name(c.name()), Some(c));
            assert_eq!(
                Constraint::of(&StoreError::Conflict(c.name().into())),
                Some(c)
            );
        }
        assert_eq!(Constraint::of(&StoreError::Conflict("other".into())), None);
        assert_eq!(Constraint::of(&StoreError::NotFound), None);
    }
}
