//! How a scan changes the findings: a hit with no finding creates one; a hit
//! on a resolved finding (or one whose dismissal lapsed) reopens it; a hit on
//! an open, acknowledged or still-dismissed finding only refreshes it; a
//! finding of an evaluated check with no hit is resolved. Nothing else moves,
//! so a second scan of an unchanged tenancy creates nothing.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::check::{Check, Hit};
use super::model::{Finding, FindingStatus};
use crate::kinds::EventKind;

/// A finding's id: its fingerprint (organisation, check, resource), hashed.
pub fn fingerprint(org_id: &str, check_id: &str, resource_id: &str) -> String {
    let h = crate::crypto::sha256_hex(format!("{org_id}\n{check_id}\n{resource_id}").as_bytes());
    format!("fnd_{}", &h[..32])
}

/// What to write and which events to emit.
#[derive(Default)]
pub struct Changes {
    /// Findings to store (whole rows), each with whether its lifecycle
    /// (status, note, dismissal) moves: a refresh leaves the stored
    /// lifecycle alone, so a decision made during the scan is kept.
    pub writes: Vec<(Finding, bool)>,
    /// (event kind, payload).
    pub events: Vec<(EventKind, Value)>,
    /// Created or reopened.
    pub created: i64,
    /// Resolved.
    pub resolved: i64,
}

/// The event payload of a finding.
pub fn payload(f: &Finding, reopened: bool) -> Value {
    json!({
        "findingId": f.id, "checkId": f.check_id, "resourceId": f.resource_id,
        "resourceName": f.resource_name, "severity": f.severity.as_str(),
        "category": f.category.as_str(), "title": f.title, "status": f.status.as_str(),
        "savingsCents": f.savings_cents, "runId": f.last_run_id, "reopened": reopened,
    })
}

fn fresh(org_id: &str, run_id: &str, c: &Check, h: &Hit, now: i64) -> Finding {
    Finding {
        id: fingerprint(org_id, c.id, &h.resource_id),
        org_id: org_id.into(),
        check_id: c.id.into(),
        resource_id: h.resource_id.clone(),
        resource_name: h.resource_name.clone(),
        category: c.category,
        severity: c.severity,
        status: FindingStatus::Open,
        title: h.title.clone(),
        evidence: h.evidence.clone(),
        savings_cents: h.savings_cents,
        fix: h.fix.clone(),
        note: None,
        dismissed_until: None,
        decided_by: None,
        last_run_id: run_id.into(),
        first_seen_at: now,
        last_seen_at: now,
        resolved_at: None,
        updated_at: now,
    }
}

/// The changes `hits` (per evaluated check) make to `existing`.
pub fn reconcile(
    org_id: &str,
    run_id: &str,
    existing: &[Finding],
    hits: &[(&'static Check, Vec<Hit>)],
    now: i64,
) -> Changes {
    let by_key: BTreeMap<(&str, &str), &Finding> = existing
        .iter()
        .map(|f| ((f.check_id.as_str(), f.resource_id.as_str()), f))
        .collect();
    let mut out = Changes::default();
    for (c, hs) in hits {
        let mut seen = std::collections::BTreeSet::new();
        for h in hs {
            if !seen.insert(h.resource_id.as_str()) {
                continue; // one finding per resource and check
            }
            let mut f = fresh(org_id, run_id, c, h, now);
            let mut moves = true;
            match by_key.get(&(c.id, h.resource_id.as_str())) {
                None => {
                    out.events
                        .push((EventKind::FindingCreated, payload(&f, false)));
                    out.created += 1;
                }
                Some(old) => {
                    f.first_seen_at = old.first_seen_at;
                    let lapsed = old.status == FindingStatus::Dismissed
                        && old.dismissed_until.is_some_and(|u| u <= now);
                    if old.status == FindingStatus::Resolved || lapsed {
                        out.events
                            .push((EventKind::FindingCreated, payload(&f, true)));
                        out.created += 1;
                    } else {
                        moves = false;
                        f.status = old.status;
                        f.note = old.note.clone();
                        f.dismissed_until = old.dismissed_until;
                        f.decided_by = old.decided_by.clone();
                        if old.title == f.title
                            && old.evidence == f.evidence
                            && old.savings_cents == f.savings_cents
                            && old.fix == f.fix
                        {
                            // Unchanged but seen: refresh when it was last seen.
                            f.updated_at = old.updated_at;
                        }
                    }
                }
            }
            out.writes.push((f, moves));
        }
        for old in existing.iter().filter(|f| {
            f.check_id == c.id
                && f.status != FindingStatus::Resolved
                && !seen.contains(f.resource_id.as_str())
        }) {
            let mut f = old.clone();
            f.status = FindingStatus::Resolved;
            f.resolved_at = Some(now);
            f.last_run_id = run_id.into();
            f.updated_at = now;
            out.events
                .push((EventKind::FindingResolved, payload(&f, false)));
            out.resolved += 1;
            out.writes.push((f, true));
        }
    }
    out
}
