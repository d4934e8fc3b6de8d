//! The job queue's statements, written once for both backends.
//!
//! Each is PostgreSQL text with `$N` placeholders and two markers for the
//! real differences: `{KINDS}` (the claimable kinds: an array parameter on
//! PostgreSQL, a JSON array read with `json_each` on SQLite) and `{LOCK}`
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single writer needs none).
//! `::TYPE` casts are dropped for SQLite.

use std::sync::LazyLock;

use portal_core::jobs::{JobKind, JobState};
use portal_core::StoreError;

/// The columns every statement returns, in [`crate::jobs_sql`] order.
pub(crate) const JOB_COLS: &str = "id, kind, payload, state, run_after, attempts, max_attempts, \
    last_error, lease_owner, lease_until, created_at, updated_at";

/// What a job whose runner died on its last attempt is left with.
pub(crate) const LAPSED_ON_LAST: &str =
    "the lease lapsed on the last attempt (the runner died or stalled)";

const ENQUEUE: &str = "INSERT INTO jobs (id, kind, payload, state, run_after, attempts, \
    max_attempts, created_at, updated_at) VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6, $6) \
    RETURNING {COLS}";

const GET: &str = "SELECT {COLS} FROM jobs WHERE id = $1";

/// Lapsed jobs without attempts left die instead of running again.
const REAP: &str = "UPDATE jobs SET state = 'dead', last_error = $2, lease_owner = NULL, \
    lease_until = NULL, updated_at = $1 \
    WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts AND kind {KINDS3}";

const CLAIM: &str = "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, \
    attempts = attempts + 1, updated_at = $3 \
    WHERE id = (SELECT id FROM jobs WHERE kind {KINDS4} \
    AND ((state = 'queued' AND run_after <= $3) \
    OR (state = 'running' AND lease_until < $3 AND attempts < max_attempts)) \
    ORDER BY run_after, id LIMIT 1 {LOCK}) RETURNING {COLS}";

/// The fence every runner write carries: this job, this owner, this attempt.
const FENCE: &str = "id = $1 AND state = 'running' AND lease_owner = $2 AND attempts = $3";

const RENEW: &str = "UPDATE jobs SET lease_until = $4, updated_at = $5 WHERE {FENCE}";

const COMPLETE: &str = "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, \
    updated_at = $4 WHERE {FENCE}";

/// `$5` is the retry time, NULL for a permanent failure.
const FAIL: &str = "UPDATE jobs SET \
    state = CASE WHEN $5::BIGINT IS NULL OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
    run_after = COALESCE($5::BIGINT, run_after), last_error = $4, lease_owner = NULL, \
    lease_until = NULL, updated_at = $6 WHERE {FENCE} RETURNING state";

const COUNTS: &str = "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state";

const OLDEST: &str = "SELECT MIN(t) FROM (\
    SELECT MIN(run_after) AS t FROM jobs WHERE state = 'queued' AND run_after <= $1 \
    UNION ALL SELECT MIN(lease_until) AS t FROM jobs WHERE state = 'running' AND lease_until < $1\
    ) AS due";

/// The statements of one backend.
pub(crate) struct Statements {
    pub enqueue: String,
    pub get: String,
    pub reap: String,
    pub claim: String,
    pub renew: String,
    pub complete: String,
    pub fail: String,
    pub counts: String,
    pub oldest: String,
}

#[derive(Clone, Copy)]
enum Dialect {
    Sqlite,
    Postgres,
}

fn render(sql: &str, d: Dialect) -> String {
    let mut s = sql.replace("{FENCE}", FENCE).replace("{COLS}", JOB_COLS);
    for n in 1..=9 {
        let kinds = match d {
            Dialect::Postgres => format!("= ANY(${n}::TEXT[])"),
            Dialect::Sqlite => format!("IN (SELECT value FROM json_each(${n}))"),
        };
        s = s.replace(&format!("{{KINDS{n}}}"), &kinds);
    }
    match d {
        Dialect::Postgres => s.replace("{LOCK}", "FOR UPDATE SKIP LOCKED"),
        Dialect::Sqlite => s
            .replace("{LOCK}", "")
            .replace("::BIGINT", "")
            .replace('$', "?"),
    }
}

fn statements(d: Dialect) -> Statements {
    Statements {
        enqueue: render(ENQUEUE, d),
        get: render(GET, d),
        reap: render(REAP, d),
        claim: render(CLAIM, d),
        renew: render(RENEW, d),
        complete: render(COMPLETE, d),
        fail: render(FAIL, d),
        counts: render(COUNTS, d),
        oldest: render(OLDEST, d),
    }
}

/// SQLite's statements.
pub(crate) static SQLITE: LazyLock<Statements> = LazyLock::new(|| statements(Dialect::Sqlite));
/// PostgreSQL's statements.
pub(crate) static POSTGRES: LazyLock<Statements> = LazyLock::new(|| statements(Dialect::Postgres));

/// A stored kind; unknown names (a newer replica's) are an error here, since
/// only known kinds are ever claimed or returned.
pub(crate) fn kind(s: &str) -> Result<JobKind, StoreError> {
    JobKind::parse(s).ok_or_else(|| StoreError::Other(format!("unknown job kind {s:?}")))
}

/// A stored state.
pub(crate) fn state(s: &str) -> Result<JobState, StoreError> {
    JobState::parse(s).ok_or_else(|| StoreError::Other(format!("unknown job state {s:?}")))
}

/// The kinds' stored names.
pub(crate) fn kind_names(kinds: &[JobKind]) -> Vec<&'static str> {
    kinds.iter().map(|k| k.as_str()).collect()
}

/// Longest `last_error` kept; handler errors can quote whole responses.
const MAX_ERROR: usize = 2000;

/// `error` cut to [`MAX_ERROR`] bytes at a character boundary.
pub(crate) fn clip(error: &str) -> &str {
    if error.len() <= MAX_ERROR {
        return error;
    }
    let mut end = MAX_ERROR;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    &error[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_differ_only_where_they_must() {
        assert!(SQLITE.claim.contains("json_each(?4)"));
        assert!(!SQLITE.claim.contains('$'));
        assert!(!SQLITE.fail.contains("::"));
        assert!(POSTGRES.claim.contains("= ANY($4::TEXT[])"));
        assert!(POSTGRES.claim.contains("FOR UPDATE SKIP LOCKED"));
        assert!(!POSTGRES.reap.contains('{'));
        assert_eq!(clip(&"é".repeat(1500)).len(), 2000);
        assert_eq!(clip("short"), "short");
    }
}
