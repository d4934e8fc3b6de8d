//! The statements that keep a chat turn's job row in step with the turn
//! (`portal_core::jobs::chat_turn`), written once for both backends and run
//! inside the turn's own transaction.

use std::sync::LazyLock;

use portal_core::jobs::chat_turn::{self, Payload};

/// A waiting job follows the turn's lease: due when the lease ends. A job a
/// runner holds (`running`) is left alone; its runner records the outcome.
const WATCH: &str = "INSERT INTO jobs (id, kind, payload, state, run_after, attempts, max_attempts, \
    created_at, updated_at) VALUES ($1, 'chat.turn', $2, 'queued', $3, 0, $4, $5, $5) \
    ON CONFLICT (id) DO UPDATE SET run_after = excluded.run_after, updated_at = excluded.updated_at \
    WHERE jobs.state = 'queued'";

/// The turn paused or ended: nothing to take over.
const SETTLE: &str = "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, \
    updated_at = $2 WHERE id = $1 AND state = 'queued'";

/// The turn's approval was decided: run it now, with fresh attempts. A runner
/// still finishing the pause (its job `running`) is fenced by the reset.
const WAKE: &str =
    "INSERT INTO jobs (id, kind, payload, state, run_after, attempts, max_attempts, \
    created_at, updated_at) VALUES ($1, 'chat.turn', $2, 'queued', $3, 0, $4, $3, $3) \
    ON CONFLICT (id) DO UPDATE SET state = 'queued', run_after = excluded.run_after, attempts = 0, \
    last_error = NULL, lease_owner = NULL, lease_until = NULL, updated_at = excluded.updated_at";

/// One backend's text of the statements.
pub(crate) struct Statements {
    /// `(job id, payload, lease until, max attempts, now)`.
    pub watch: String,
    /// `(job id, now)`.
    pub settle: String,
    /// `(job id, payload, now, max attempts)`.
    pub wake: String,
}

fn statements(placeholder: char) -> Statements {
    let r = |s: &str| s.replace('$', &placeholder.to_string());
    Statements {
        watch: r(WATCH),
        settle: r(SETTLE),
        wake: r(WAKE),
    }
}

/// SQLite's text (`?N` placeholders).
pub(crate) static SQLITE: LazyLock<Statements> = LazyLock::new(|| statements('?'));
/// PostgreSQL's text.
pub(crate) static POSTGRES: LazyLock<Statements> = LazyLock::new(|| statements('$'));

/// What the statements bind for one turn: its job id and payload.
pub(crate) fn job_of(org_id: &str, turn_id: &str) -> (String, String) {
    let payload = Payload {
        org_id: org_id.to_string(),
        turn_id: turn_id.to_string(),
    };
    (chat_turn::job_id(turn_id), payload.to_text())
}

/// What a write of a turn in some status does to its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Follow {
    /// `running`: the job waits for the lease to end ([`Statements::watch`]).
    Watch,
    /// `resumable`: the job is due now ([`Statements::wake`]).
    Wake,
    /// Paused or ended: the job is settled ([`Statements::settle`]).
    Settle,
}

impl Follow {
    /// The follow-up of a write that leaves a turn in `status`.
    pub(crate) fn of(status: &str) -> Self {
        match status {
            "running" => Follow::Watch,
            "resumable" => Follow::Wake,
            _ => Follow::Settle,
        }
    }
}

pub(crate) use chat_turn::MAX_ATTEMPTS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_bind_the_same_parameters() {
        for (s, p) in [(&*SQLITE, '?'), (&*POSTGRES, '$')] {
            assert!(s.watch.contains(&format!("{p}5")) && !s.watch.contains(&format!("{p}6")));
            assert!(s.wake.contains(&format!("{p}4")) && !s.wake.contains(&format!("{p}5")));
            assert!(s.settle.contains(&format!("{p}2")));
        }
        assert!(!SQLITE.wake.contains('$'));
        assert_eq!(Follow::of("running"), Follow::Watch);
        assert_eq!(Follow::of("resumable"), Follow::Wake);
        for paused_or_ended in ["awaiting_approval", "done", "failed"] {
            assert_eq!(Follow::of(paused_or_ended), Follow::Settle);
        }
    }
}
