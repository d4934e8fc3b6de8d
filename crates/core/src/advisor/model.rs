//! What the advisor keeps: findings (one per check and resource, the
//! fingerprint), their lifecycle, and runs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::identity::PrincipalSnapshot;

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// The stored and wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
            /// The value of a stored or wire name.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

wire_enum!(
    /// What a check is about.
    Category {
        /// Money spent on nothing.
        Cost => "cost",
        /// Exposure or missing controls.
        Security => "security",
        /// Single points of failure.
        Availability => "availability",
        /// Old or ill-fitting resources.
        Performance => "performance",
    }
);

wire_enum!(
    /// How urgent a finding is (most urgent first).
    Severity {
        /// Act now.
        Critical => "critical",
        /// Act soon.
        High => "high",
        /// Plan it.
        Medium => "medium",
        /// When convenient.
        Low => "low",
    }
);

wire_enum!(
    /// Where a finding is in its life: open → acknowledged or dismissed →
    /// resolved when its check passes again.
    FindingStatus {
        /// Found and not yet looked at.
        Open => "open",
        /// Someone owns it.
        Acknowledged => "acknowledged",
        /// Accepted until an expiry (then open again if still found).
        Dismissed => "dismissed",
        /// The check passes for the resource now.
        Resolved => "resolved",
    }
);

wire_enum!(
    /// Where a run is.
    RunStatus {
        /// Waiting for a worker.
        Queued => "queued",
        /// Reading the cloud.
        Running => "running",
        /// Every check was evaluated (some may have failed to read; see `errors`).
        Completed => "completed",
        /// The run could not act (its starter lost access, no cloud).
        Failed => "failed",
        /// A schedule tick skipped because another run was still going.
        Skipped => "skipped",
    }
);

/// Where a finding's proof is: the tool call and the JSON path of the offending field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// The read tool.
    pub tool: String,
    /// SHA-256 of its canonical arguments.
    pub args_hash: String,
    /// Its arguments.
    pub args: Value,
    /// JSON pointer into the tool's result.
    pub path: String,
    /// The offending value.
    pub value: Value,
}

/// One tool call of a fix plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FixStep {
    /// The tool (it runs through the gateway, with approvals, like any call).
    pub tool: String,
    /// Its arguments, derived from the finding.
    pub args: Value,
}

/// A finding: check × resource, the fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Id.
    pub id: String,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// The check.
    pub check_id: String,
    /// The resource (OCID or name).
    pub resource_id: String,
    /// Its display name.
    pub resource_name: String,
    /// Category (the check's).
    pub category: Category,
    /// Severity (the check's).
    pub severity: Severity,
    /// Lifecycle.
    pub status: FindingStatus,
    /// One line on what is wrong.
    pub title: String,
    /// Proof.
    pub evidence: Evidence,
    /// Estimated monthly savings in US cents, where the price list knows.
    pub savings_cents: Option<i64>,
    /// The fix plan.
    pub fix: Vec<FixStep>,
    /// Note of the last acknowledge or dismiss.
    pub note: Option<String>,
    /// When a dismissal lapses.
    pub dismissed_until: Option<i64>,
    /// Who acknowledged or dismissed it.
    pub decided_by: Option<String>,
    /// The run that last saw it.
    pub last_run_id: String,
    /// First seen.
    pub first_seen_at: i64,
    /// Last seen.
    pub last_seen_at: i64,
    /// When it was resolved.
    pub resolved_at: Option<i64>,
    /// Last change.
    pub updated_at: i64,
}

/// Which findings to list.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// Only these statuses (empty: all).
    pub status: Vec<FindingStatus>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only this category.
    pub category: Option<Category>,
    /// Only this check.
    pub check_id: Option<String>,
    /// Page size.
    pub limit: i64,
    /// Page start.
    pub offset: i64,
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// Someone asked.
    Manual,
    /// A schedule's tick.
    Schedule,
}

impl Trigger {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
        }
    }
    /// The value of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manual" => Some(Trigger::Manual),
            "schedule" => Some(Trigger::Schedule),
            _ => None,
        }
    }
}

/// What a finished run counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// Checks evaluated.
    pub checks: i64,
    /// Checks that could not be evaluated (a read failed).
    pub failed_checks: i64,
    /// Resources failing a check in this run.
    pub hits: i64,
    /// Findings created (or reopened).
    pub created: i64,
    /// Findings resolved.
    pub resolved: i64,
    /// Reads made through the gateway.
    pub reads: i64,
    /// Per failed check: why.
    #[serde(default)]
    pub errors: Vec<CheckError>,
}

/// Why a check could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckError {
    /// The check.
    pub check_id: String,
    /// The read that failed and what it said.
    pub error: String,
}

/// One advisor run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvisorRun {
    /// Id.
    pub id: String,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// Where it is.
    pub status: RunStatus,
    /// What started it.
    pub trigger: Trigger,
    /// The schedule, for a scheduled run.
    pub schedule_id: Option<String>,
    /// The schedule's tick it is for.
    pub tick_at: Option<i64>,
    /// Who it reads the cloud as (actor id).
    pub started_by: String,
    /// Their permissions when it started (re-checked when it runs).
    pub principal: PrincipalSnapshot,
    /// Counts, once finished.
    pub summary: RunSummary,
    /// Why it failed.
    pub error: Option<String>,
    /// Created.
    pub created_at: i64,
    /// Started running.
    pub started_at: Option<i64>,
    /// Finished.
    pub finished_at: Option<i64>,
}
