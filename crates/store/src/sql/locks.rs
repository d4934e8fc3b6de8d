//! The locks PostgreSQL needs where SQLite's single writer already serialises:
//! taken inside a transaction, released at its end.

use super::Sql;

/// What to lock.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lock<'a> {
    /// Membership changes of one organisation (the last-admin guard reads,
    /// then writes). `FOR NO KEY UPDATE` does not block the key-share locks
    /// that foreign-key checks of other inserts take on the row.
    Org(&'a str),
    /// First-run setup: holds off every other write to users and memberships
    /// (and other bootstraps) so the "no admin yet" re-check stays true.
    Setup,
    /// Outbox appends, one at a time, so event ids become visible in order.
    Events,
    /// One audit chain's appends.
    AuditChain(&'a str),
}

/// Advisory lock serialising outbox appends; outside the `hashtext` range the
/// audit chains lock on, and distinct from the migration lock.
pub(crate) const EVENTS_LOCK: i64 = 0x706f_7274_616c_0006;

pub(crate) static ORG: Sql =
    Sql::new("SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE");
pub(crate) static SETUP: Sql =
    Sql::new("LOCK TABLE users, org_members IN SHARE ROW EXCLUSIVE MODE");
pub(crate) static EVENTS: Sql = Sql::new("SELECT pg_advisory_xact_lock($1)");
pub(crate) static AUDIT_CHAIN: Sql = Sql::new("SELECT pg_advisory_xact_lock(hashtext($1))");
