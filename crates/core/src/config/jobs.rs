//! The durable job runner.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::fields;
use super::names::Name;

/// Job runner settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobSettings {
    /// How often an idle job runner looks for due jobs (at least 10 ms).
    #[serde(rename = "poll_interval_ms", with = "fields::millis")]
    pub poll_interval: Duration,
    /// Whether this replica runs the job queue at all. Off, it still serves
    /// and enqueues; the replicas that have it on run what it queues (a
    /// replica kept for serving only, or a test process beside another).
    pub enabled: bool,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            enabled: true,
        }
    }
}

/// The names of the job runner settings.
pub(super) const NAMES: &[Name] = &[
    Name::new("poll_interval_ms", "PORTAL_JOBS_POLL_INTERVAL_MS"),
    Name::new("enabled", "PORTAL_JOBS_ENABLED"),
];
