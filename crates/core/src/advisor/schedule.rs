//! Schedules: advisor runs on a cron pattern (croner syntax, UTC), stored in
//! the database. Each tick is one `advisor.tick` job whose id names the
//! schedule and the tick, so however many replicas enqueue it there is one,
//! and the job runner's lease gives it to exactly one of them. A tick enqueues
//! the next one with its run, in one transaction fenced on the tick it
//! handles. Ticks missed by more than the catch-up window are skipped (one
//! `skipped` run records it); a tick while the schedule's previous run is
//! still going is skipped under the default overlap policy; each tick is
//! delayed by a jitter derived from the schedule and the tick; after
//! `maxFailures` failed runs in a row the schedule pauses itself.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{CoreError, CoreResult};
use crate::identity::PrincipalSnapshot;
use crate::jobs::{JobKind, NewJob};

/// What a tick does while the schedule's previous run is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Overlap {
    /// Skip the tick (recorded as a `skipped` run).
    Skip,
    /// Start another run anyway.
    Allow,
}

impl Overlap {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Skip => "skip",
            Overlap::Allow => "allow",
        }
    }
    /// The value of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "skip" => Some(Overlap::Skip),
            "allow" => Some(Overlap::Allow),
            _ => None,
        }
    }
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Id.
    pub id: String,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// Cron pattern (5 fields, or 6 with seconds), UTC.
    pub cron: String,
    /// Overlap policy.
    pub overlap: Overlap,
    /// Ticks later than this (ms) are skipped rather than run.
    pub catch_up_ms: i64,
    /// Most delay (ms) added to a tick.
    pub jitter_ms: i64,
    /// Failed runs in a row that pause the schedule.
    pub max_failures: i64,
    /// Failed runs in a row so far.
    pub failures: i64,
    /// Paused (by a person or by failures).
    pub paused: bool,
    /// Why it paused itself.
    pub paused_reason: Option<String>,
    /// Who its runs read the cloud as.
    pub principal: PrincipalSnapshot,
    /// Who created it.
    pub created_by: String,
    /// The next tick (ms), when active.
    pub next_at: Option<i64>,
    /// The last tick handled.
    pub last_tick_at: Option<i64>,
    /// Created.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// A parsed cron pattern.
pub struct Pattern(croner::Cron);

impl Pattern {
    /// Parses `text` (croner syntax), naming the field on error.
    pub fn parse(text: &str) -> CoreResult<Self> {
        if text.len() > 200 {
            return Err(CoreError::Validation("cron: at most 200 characters".into()));
        }
        croner::Cron::from_str(text)
            .map(Pattern)
            .map_err(|e| CoreError::Validation(format!("cron: {e}")))
    }

    /// The first tick strictly after `ms`.
    pub fn next_after(&self, ms: i64) -> Option<i64> {
        let t = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)?;
        self.0
            .find_next_occurrence(&t, false)
            .ok()
            .map(|n| n.timestamp_millis())
    }
}

/// The delay added to `tick` of schedule `id`: the same on every replica.
pub fn jitter(id: &str, tick: i64, max_ms: i64) -> i64 {
    if max_ms <= 0 {
        return 0;
    }
    let h = crate::crypto::sha256_hex(format!("{id}/{tick}").as_bytes());
    let n = u64::from_str_radix(&h[..12], 16).unwrap_or(0);
    (n % (max_ms as u64 + 1)) as i64
}

/// What a tick job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tick {
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// Schedule.
    pub schedule_id: String,
    /// The tick (ms).
    pub tick: i64,
}

/// Attempts of one tick job.
pub const TICK_ATTEMPTS: i64 = 5;

/// The job of schedule `s`'s tick at `tick`: one id per schedule and tick.
pub fn tick_job(s: &Schedule, tick: i64) -> NewJob {
    let t = Tick {
        org_id: s.org_id.clone(),
        schedule_id: s.id.clone(),
        tick,
    };
    NewJob {
        id: format!("advtick-{}-{tick}", s.id),
        kind: JobKind::AdvisorTick,
        payload: json!(t).to_string(),
        run_after: tick + jitter(&s.id, tick, s.jitter_ms),
        max_attempts: TICK_ATTEMPTS,
    }
}
