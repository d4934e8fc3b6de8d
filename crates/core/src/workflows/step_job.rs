//! How a run's steps ride on the job queue: one `workflow.step` job per step
//! attempt (and one per approval lapse check), with deterministic ids so
//! enqueueing twice is harmless.

use serde::{Deserialize, Serialize};

use crate::jobs::{JobKind, NewJob};

/// Attempts of one step job before it is dead (each crash or store hiccup is one).
pub const JOB_ATTEMPTS: i64 = 5;

/// What a step job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepJob {
    /// Organisation.
    pub org_id: String,
    /// The run.
    pub run_id: String,
    /// The node.
    pub node_id: String,
    /// The step attempt it is for (stale jobs are ignored).
    pub attempt: i64,
    /// A lapse check of an approval step, rather than its execution.
    #[serde(default)]
    pub timeout: bool,
}

impl StepJob {
    /// The job's id: one per step attempt (and purpose), so enqueueing twice is harmless.
    pub fn job_id(&self, suffix: &str) -> String {
        format!(
            "wf-{}-{}-{}{}{suffix}",
            self.run_id,
            self.node_id,
            self.attempt,
            if self.timeout { "-timeout" } else { "" }
        )
    }

    /// The job, due at `at`.
    pub fn job(&self, suffix: &str, at: i64) -> NewJob {
        let payload = serde_json::to_string(self).unwrap_or_default();
        NewJob {
            id: self.job_id(suffix),
            kind: JobKind::WorkflowStep,
            payload,
            run_after: at,
            max_attempts: JOB_ATTEMPTS,
        }
    }
}
