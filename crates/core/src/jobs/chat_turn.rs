//! How a chat turn rides on the job queue.
//!
//! Every unfinished turn has one job row, id [`job_id`], kept by the store in
//! the same transaction as the turn itself:
//! - while a replica runs the turn outside the runner (a fresh turn streaming
//!   to its client), the job waits queued with `run_after` = the turn's lease
//!   end, moved on each renewal; it comes due only when the lease lapses
//!   without renewal, i.e. the replica died, and then another replica takes
//!   the turn over;
//! - a turn that pauses for an approval, or ends, settles its job (done);
//! - a decided approval re-queues the job due now, attempts reset;
//! - a claimed job's handler takes the turn (any lease on it is stale: the job
//!   is held by one runner at a time) and runs it to its next pause or end.

use serde::{Deserialize, Serialize};

use super::DEFAULT_MAX_ATTEMPTS;

/// The job id of a turn's job.
pub fn job_id(turn_id: &str) -> String {
    format!("chat-turn-{turn_id}")
}

/// Claims of a turn's job before it is dead (each takeover or retry is one).
pub const MAX_ATTEMPTS: i64 = DEFAULT_MAX_ATTEMPTS;

/// The job's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// The turn's organisation.
    pub org_id: crate::ids::OrgId,
    /// The turn.
    pub turn_id: String,
}

impl Payload {
    /// The payload's stored text.
    pub fn to_text(&self) -> String {
        // Two strings: serialising them cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_and_ids_are_per_turn() {
        let p = Payload {
            org_id: "o1".into(),
            turn_id: "t1".into(),
        };
        let back: Payload = serde_json::from_str(&p.to_text()).unwrap();
        assert_eq!(back, p);
        assert_eq!(job_id("t1"), "chat-turn-t1");
        assert_ne!(job_id("t1"), job_id("t2"));
    }
}
