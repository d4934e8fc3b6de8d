//! Health assessment: which checks run and how they add up to one status.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::store::Store;

/// Status of one check or of the whole service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Working.
    Ok,
    /// Working with reduced function.
    Degraded,
    /// Not working; a critical check failing makes the service unhealthy.
    Error,
}

/// Outcome of one check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Outcome.
    pub status: Status,
    /// Time the check took, in milliseconds.
    #[serde(rename = "latencyMs", skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Extra facts (backend, pool occupancy, error text safe to show).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
    /// Whether a failure of this check makes the whole service fail.
    #[serde(skip)]
    pub critical: bool,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Overall status: `error` if a critical check failed, `degraded` if any check is not ok.
    pub status: Status,
    /// Each check by name.
    pub checks: BTreeMap<&'static str, Check>,
}

impl Report {
    /// Adds the checks up.
    pub fn from_checks(checks: BTreeMap<&'static str, Check>) -> Self {
        let status = if checks
            .values()
            .any(|c| c.critical && c.status == Status::Error)
        {
            Status::Error
        } else if checks.values().any(|c| c.status != Status::Ok) {
            Status::Degraded
        } else {
            Status::Ok
        };
        Self { status, checks }
    }
}

/// Checks the database: trusts the availability monitor while it says "down"
/// (so the check answers at once during an outage), else round-trips a query.
pub async fn check_database(store: &dyn Store, timeout: Duration) -> Check {
    let mut details = serde_json::Map::new();
    details.insert("backend".into(), store.backend().as_str().into());
    let pool = store.pool_stats();
    details.insert(
        "pool".into(),
        serde_json::json!({"idle": pool.idle, "inUse": pool.in_use, "max": pool.max}),
    );
    if !store.availability().is_up() {
        details.insert("error".into(), "database unreachable".into());
        return Check {
            status: Status::Error,
            latency_ms: None,
            details,
            critical: true,
        };
    }
    let start = std::time::Instant::now();
    let outcome = tokio_timeout(timeout, store.ping()).await;
    let latency_ms = Some(start.elapsed().as_secs_f64() * 1000.0);
    match outcome {
        Some(Ok(_)) => Check {
            status: Status::Ok,
            latency_ms,
            details,
            critical: true,
        },
        Some(Err(e)) => {
            details.insert("error".into(), e.to_string().into());
            Check {
                status: Status::Error,
                latency_ms,
                details,
                critical: true,
            }
        }
        None => {
            details.insert("error".into(), "timed out".into());
            Check {
                status: Status::Error,
                latency_ms,
                details,
                critical: true,
            }
        }
    }
}

async fn tokio_timeout<F: std::future::Future>(d: Duration, f: F) -> Option<F::Output> {
    tokio::time::timeout(d, f).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: Status, critical: bool) -> Check {
        Check {
            status,
            latency_ms: None,
            details: Default::default(),
            critical,
        }
    }

    #[test]
    fn aggregation() {
        let r = Report::from_checks(BTreeMap::from([
            ("a", check(Status::Ok, true)),
            ("b", check(Status::Ok, false)),
        ]));
        assert_eq!(r.status, Status::Ok);
        let r = Report::from_checks(BTreeMap::from([
            ("a", check(Status::Ok, true)),
            ("b", check(Status::Error, false)),
        ]));
        assert_eq!(r.status, Status::Degraded);
        let r = Report::from_checks(BTreeMap::from([("a", check(Status::Error, true))]));
        assert_eq!(r.status, Status::Error);
    }
}
