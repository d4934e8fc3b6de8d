//! What the store keeps of workflows: definitions, their frozen versions,
//! runs, steps and run events, with their states as enums (text only at the
//! store boundary).

use serde_json::Value;

use super::definition::Definition;
use crate::identity::PrincipalSnapshot;
use crate::jobs::NewJob;
use crate::status::text_enum;

text_enum! {
    /// Where a definition is in its life.
    pub enum WorkflowStatus {
        /// Being edited; not runnable until published.
        Draft = "draft",
        /// Has a frozen version that runs.
        Published = "published",
        /// Kept for its history; runs no more.
        Archived = "archived",
    }
}

text_enum! {
    /// Where a run is.
    pub enum RunStatus {
        /// Steps are queued or running.
        Running = "running",
        /// Waiting for a person (an approval step or a tool's approval); holds no worker.
        Suspended = "suspended",
        /// Finished.
        Completed = "completed",
        /// Stopped by a failed step, a rejection, a budget or a revoked starter.
        Failed = "failed",
        /// Stopped by someone.
        Cancelled = "cancelled",
    }
}

impl RunStatus {
    /// True once the run will do nothing more (unless retried).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

text_enum! {
    /// Where a step is.
    pub enum StepStatus {
        /// Its job is queued.
        Pending = "pending",
        /// A worker is executing it.
        Running = "running",
        /// Parked for an approval.
        Waiting = "waiting",
        /// Done, with an output.
        Completed = "completed",
        /// Done, with an error.
        Failed = "failed",
        /// Not on the path the run took.
        Skipped = "skipped",
    }
}

impl StepStatus {
    /// True when the step will not change any more (in this attempt).
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            StepStatus::Completed | StepStatus::Failed | StepStatus::Skipped
        )
    }
}

/// A definition as stored: the editable draft and the latest published version.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    /// Id (UUID).
    pub id: String,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// Who created it (`user:…` or `key:…`).
    pub owner_id: String,
    /// Where it is.
    pub status: WorkflowStatus,
    /// The latest published version (0: never published).
    pub version: i64,
    /// The draft (name, description and tags are also columns, for lists).
    pub definition: Definition,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A frozen version: what runs of it execute.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowVersion {
    /// The workflow.
    pub workflow_id: String,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// 1, 2, …
    pub version: i64,
    /// The definition as published.
    pub definition: Definition,
    /// Who published it.
    pub published_by: String,
    /// When (ms).
    pub created_at: i64,
}

/// Filters of the definitions list.
#[derive(Debug, Clone, Default)]
pub struct WorkflowFilter {
    /// Only this status.
    pub status: Option<WorkflowStatus>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    /// Having this tag.
    pub tag: Option<String>,
    /// Page size.
    pub limit: i64,
    /// Page start.
    pub offset: i64,
}

/// A run.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRun {
    /// Id (UUID).
    pub id: String,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// The workflow.
    pub workflow_id: String,
    /// The version it runs.
    pub version: i64,
    /// Where it is.
    pub status: RunStatus,
    /// The validated input.
    pub input: Value,
    /// The output step's result, once completed.
    pub output: Option<Value>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// The principal who started it (`user:…` or `key:…`).
    pub started_by: String,
    /// What the run remembers of its starter; every step acts as them, narrowed to what they hold then.
    pub principal: PrincipalSnapshot,
    /// Steps executed so far (the budget counts these).
    pub steps_used: i64,
    /// The step budget.
    pub max_steps: i64,
    /// Sequence number of the last run event.
    pub event_seq: i64,
    /// Revision: every change is made against the revision it read (optimistic lock).
    pub rev: i64,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// When it reached a terminal status (ms).
    pub finished_at: Option<i64>,
}

/// One node's step within a run (one row per node that became due).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowStep {
    /// The run.
    pub run_id: String,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// The node.
    pub node_id: String,
    /// The node's kind (`tool`, `approval`, …).
    pub node_type: String,
    /// Where it is.
    pub status: StepStatus,
    /// 1 for the first attempt; a retry of the run from this step adds one.
    pub attempt: i64,
    /// What it ran with (tool arguments redacted).
    pub input: Option<Value>,
    /// What it gave.
    pub output: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// The approval it waits for (a tool's), if any.
    pub approval_id: Option<crate::ids::ApprovalId>,
    /// When an approval step lapses (ms).
    pub deadline: Option<i64>,
    /// When it started running (ms).
    pub started_at: Option<i64>,
    /// When it settled (ms).
    pub finished_at: Option<i64>,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A stored run event (the stream's replay).
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    /// The run.
    pub run_id: String,
    /// 1, 2, … within the run.
    pub seq: i64,
    /// `run.started`, `step.completed`, …
    pub kind: String,
    /// Details (JSON).
    pub body: Value,
    /// When (ms).
    pub created_at: i64,
}

/// One atomic change of a run: its new row (written only if its `rev` is
/// still the stored one, then bumped), steps to upsert, run events to append,
/// jobs to enqueue and outbox events to emit — all in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Advance {
    /// The run's new state; `rev` is the revision it was computed from.
    pub run: WorkflowRun,
    /// Steps created or changed.
    pub steps: Vec<WorkflowStep>,
    /// Run events (their `seq` continue the run's `event_seq`).
    pub events: Vec<RunEvent>,
    /// Step jobs to queue (ids are deterministic; one already there is kept).
    pub jobs: Vec<NewJob>,
    /// Outbox events: (kind, payload).
    pub outbox: Vec<(crate::kinds::EventKind, Value)>,
}
