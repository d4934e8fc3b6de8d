//! Versioned migrations, one SQL file per backend and version, embedded in the binary.

/// One schema change, written once per backend.
pub struct Migration {
    /// Strictly increasing version number.
    pub version: i64,
    /// Short name, recorded with the version.
    pub name: &'static str,
    /// SQLite dialect.
    pub sqlite: &'static str,
    /// PostgreSQL dialect.
    pub postgres: &'static str,
}

/// Every migration, in order. Append only: an applied migration never changes.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "instance",
        sqlite: include_str!("../migrations/sqlite/0001_instance.sql"),
        postgres: include_str!("../migrations/postgres/0001_instance.sql"),
    },
    Migration {
        version: 2,
        name: "identity",
        sqlite: include_str!("../migrations/sqlite/0002_identity.sql"),
        postgres: include_str!("../migrations/postgres/0002_identity.sql"),
    },
    Migration {
        version: 3,
        name: "approvals",
        sqlite: include_str!("../migrations/sqlite/0003_approvals.sql"),
        postgres: include_str!("../migrations/postgres/0003_approvals.sql"),
    },
    Migration {
        version: 4,
        name: "compartment_policy",
        sqlite: include_str!("../migrations/sqlite/0004_compartment_policy.sql"),
        postgres: include_str!("../migrations/postgres/0004_compartment_policy.sql"),
    },
    Migration {
        version: 5,
        name: "chat",
        sqlite: include_str!("../migrations/sqlite/0005_chat.sql"),
        postgres: include_str!("../migrations/postgres/0005_chat.sql"),
    },
    Migration {
        version: 6,
        name: "events",
        sqlite: include_str!("../migrations/sqlite/0006_events.sql"),
        postgres: include_str!("../migrations/postgres/0006_events.sql"),
    },
    Migration {
        version: 7,
        name: "invitations",
        sqlite: include_str!("../migrations/sqlite/0007_invitations.sql"),
        postgres: include_str!("../migrations/postgres/0007_invitations.sql"),
    },
    Migration {
        version: 8,
        name: "approval_review",
        sqlite: include_str!("../migrations/sqlite/0008_approval_review.sql"),
        postgres: include_str!("../migrations/postgres/0008_approval_review.sql"),
    },
    Migration {
        version: 9,
        name: "jobs",
        sqlite: include_str!("../migrations/sqlite/0009_jobs.sql"),
        postgres: include_str!("../migrations/postgres/0009_jobs.sql"),
    },
    Migration {
        version: 10,
        name: "chat_stop",
        sqlite: include_str!("../migrations/sqlite/0010_chat_stop.sql"),
        postgres: include_str!("../migrations/postgres/0010_chat_stop.sql"),
    },
    Migration {
        version: 11,
        name: "named_constraints",
        sqlite: include_str!("../migrations/sqlite/0011_named_constraints.sql"),
        postgres: include_str!("../migrations/postgres/0011_named_constraints.sql"),
    },
    Migration {
        version: 12,
        name: "chat_turn_jobs",
        sqlite: include_str!("../migrations/sqlite/0012_chat_turn_jobs.sql"),
        postgres: include_str!("../migrations/postgres/0012_chat_turn_jobs.sql"),
    },
    Migration {
        version: 14,
        name: "webhooks",
        sqlite: include_str!("../migrations/sqlite/0014_webhooks.sql"),
        postgres: include_str!("../migrations/postgres/0014_webhooks.sql"),
    },
    Migration {
        version: 15,
        name: "workflows",
        sqlite: include_str!("../migrations/sqlite/0015_workflows.sql"),
        postgres: include_str!("../migrations/postgres/0015_workflows.sql"),
    },
    Migration {
        version: 16,
        name: "search",
        sqlite: include_str!("../migrations/sqlite/0016_search.sql"),
        postgres: include_str!("../migrations/postgres/0016_search.sql"),
    },
    Migration {
        version: 17,
        name: "sso",
        sqlite: include_str!("../migrations/sqlite/0017_sso.sql"),
        postgres: include_str!("../migrations/postgres/0017_sso.sql"),
    },
    Migration {
        version: 18,
        name: "admin",
        sqlite: include_str!("../migrations/sqlite/0018_admin.sql"),
        postgres: include_str!("../migrations/postgres/0018_admin.sql"),
    },
    Migration {
        version: 19,
        name: "advisor",
        sqlite: include_str!("../migrations/sqlite/0019_advisor.sql"),
        postgres: include_str!("../migrations/postgres/0019_advisor.sql"),
    },
    Migration {
        version: 20,
        name: "embeddings",
        sqlite: include_str!("../migrations/sqlite/0020_embeddings.sql"),
        postgres: include_str!("../migrations/postgres/0020_embeddings.sql"),
    },
    Migration {
        version: 21,
        name: "ai_providers",
        sqlite: include_str!("../migrations/sqlite/0021_ai_providers.sql"),
        postgres: include_str!("../migrations/postgres/0021_ai_providers.sql"),
    },
    Migration {
        version: 22,
        name: "sso_logout",
        sqlite: include_str!("../migrations/sqlite/0022_sso_logout.sql"),
        postgres: include_str!("../migrations/postgres/0022_sso_logout.sql"),
    },
    Migration {
        version: 23,
        name: "mcp_servers",
        sqlite: include_str!("../migrations/sqlite/0023_mcp_servers.sql"),
        postgres: include_str!("../migrations/postgres/0023_mcp_servers.sql"),
    },
];
