//! The unit of work's records: what a change leaves behind — audit entries,
//! outbox events, follow-up jobs — gathered before the write and handed to the
//! repository method that makes the change, which writes them **in the same
//! transaction** (one shared helper per backend). Either the change and all
//! its records are stored, or none of them: a crash or a refused audit insert
//! can no longer leave an unaudited change or a lost webhook event.

use serde_json::Value;

use crate::audit::NewAuditEntry;
use crate::crypto::Keys;
use crate::jobs::NewJob;
use crate::kinds::{AuditAction, EventKind};

/// An outbox event to append with a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The organisation whose subscribers see it.
    pub org_id: String,
    /// Its kind: an [`EventKind`]'s text (rows stay text at the store boundary).
    pub kind: String,
    /// Its redacted payload, JSON text.
    pub payload: String,
    /// When it happened (epoch ms).
    pub created_at: i64,
}

/// Records to write with one change; see the module documentation.
pub struct Journal<'a> {
    /// Seals the audit entries (`None` only for [`Journal::NONE`], which holds none).
    keys: Option<&'a Keys>,
    ip: Option<String>,
    now: i64,
    audit: Vec<NewAuditEntry>,
    events: Vec<NewEvent>,
    jobs: Vec<NewJob>,
}

impl<'a> Journal<'a> {
    /// A change that leaves no records (writes made by the portal's own
    /// bookkeeping, store tests). Shared and immutable: nothing can be added.
    pub const NONE: &'static Journal<'static> = &Journal {
        keys: None,
        ip: None,
        now: 0,
        audit: Vec::new(),
        events: Vec::new(),
        jobs: Vec::new(),
    };

    /// An empty journal whose entries are sealed with `keys`, from `ip`, at `now`.
    pub fn new(keys: &'a Keys, ip: Option<std::net::IpAddr>, now: i64) -> Self {
        Self {
            keys: Some(keys),
            ip: ip.map(|i| i.to_string()),
            now,
            audit: Vec::new(),
            events: Vec::new(),
            jobs: Vec::new(),
        }
    }

    /// Adds an audit entry to `org_id`'s chain (`None`: the system chain).
    pub fn audit(
        &mut self,
        org_id: Option<&str>,
        actor: &str,
        action: AuditAction,
        target: Option<&str>,
        outcome: &str,
        detail: Value,
    ) -> &mut Self {
        self.push_audit(org_id, actor, action.as_str(), target, outcome, detail)
    }

    fn push_audit(
        &mut self,
        org_id: Option<&str>,
        actor: &str,
        action: &str,
        target: Option<&str>,
        outcome: &str,
        detail: Value,
    ) -> &mut Self {
        self.audit.push(NewAuditEntry {
            org_id: org_id.map(str::to_owned),
            actor: actor.to_string(),
            action: action.to_string(),
            target: target.map(str::to_owned),
            outcome: outcome.to_string(),
            detail,
            ip: self.ip.clone(),
            created_at: self.now,
        });
        self
    }

    fn push_event(&mut self, org_id: &str, kind: &str, payload: &Value, at: i64) -> &mut Self {
        self.events.push(NewEvent {
            org_id: org_id.to_string(),
            kind: kind.to_string(),
            payload: payload.to_string(),
            created_at: at,
        });
        self
    }

    /// [`Journal::audit`] with any action text: the store's contract tests
    /// check that a row is written exactly as given, whatever its name.
    #[cfg(feature = "test-rows")]
    pub fn audit_text(
        &mut self,
        org_id: Option<&str>,
        actor: &str,
        action: &str,
        target: Option<&str>,
        outcome: &str,
        detail: Value,
    ) -> &mut Self {
        self.push_audit(org_id, actor, action, target, outcome, detail)
    }

    /// [`Journal::event`] with any kind text (the store's contract tests).
    #[cfg(feature = "test-rows")]
    pub fn event_text(&mut self, org_id: &str, kind: &str, payload: &Value) -> &mut Self {
        let at = self.now;
        self.push_event(org_id, kind, payload, at)
    }

    /// Adds an outbox event for `org_id` at the journal's time.
    pub fn event(&mut self, org_id: &str, kind: EventKind, payload: &Value) -> &mut Self {
        let at = self.now;
        self.event_at(org_id, kind, payload, at)
    }

    /// Adds an outbox event stamped `at` (an outcome known after the start).
    pub fn event_at(
        &mut self,
        org_id: &str,
        kind: EventKind,
        payload: &Value,
        at: i64,
    ) -> &mut Self {
        self.push_event(org_id, kind.as_str(), payload, at)
    }

    /// Adds a job to enqueue when the change commits.
    pub fn job(&mut self, job: NewJob) -> &mut Self {
        self.jobs.push(job);
        self
    }

    /// The keys that seal the audit entries; `None` exactly when there are none.
    pub fn keys(&self) -> Option<&Keys> {
        self.keys
    }

    /// The time of the change (epoch ms).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The audit entries, in the order they were added.
    pub fn audit_entries(&self) -> &[NewAuditEntry] {
        &self.audit
    }

    /// The outbox events, in the order they were added.
    pub fn events(&self) -> &[NewEvent] {
        &self.events
    }

    /// The jobs to enqueue.
    pub fn jobs(&self) -> &[NewJob] {
        &self.jobs
    }

    /// Whether it holds nothing to write.
    pub fn is_empty(&self) -> bool {
        self.audit.is_empty() && self.events.is_empty() && self.jobs.is_empty()
    }

    /// The distinct audit chains it appends to, sorted: the order their locks
    /// are taken in, so two journals never wait on each other's chains.
    pub fn chains(&self) -> Vec<String> {
        let mut chains: Vec<String> = self.audit.iter().map(NewAuditEntry::chain).collect();
        chains.sort();
        chains.dedup();
        chains
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_keep_their_order_and_stamp_the_journal_time_and_address() {
        let keys = Keys::derive(&crate::secret::Secret::new(vec![7u8; 32]));
        let ip = Some(std::net::IpAddr::from([10, 0, 0, 7]));
        let mut j = Journal::new(&keys, ip, 42);
        assert!(j.is_empty());
        let [b, a, c] = [
            AuditAction::MemberAdded,
            AuditAction::AuthSignIn,
            AuditAction::OrgCreated,
        ];
        j.audit(Some("o2"), "user:u", b, None, "success", json!({}))
            .audit(None, "user:u", a, Some("x"), "success", json!({"k": 1}))
            .audit(Some("o1"), "user:u", c, None, "success", json!({}))
            .event("o1", EventKind::MemberRemoved, &json!({"userId": "u"}));
        let actions: Vec<&str> = j
            .audit_entries()
            .iter()
            .map(|e| e.action.as_str())
            .collect();
        assert_eq!(actions, [b.as_str(), a.as_str(), c.as_str()]);
        assert!(j
            .audit_entries()
            .iter()
            .all(|e| e.created_at == 42 && e.ip.as_deref() == Some("10.0.0.7")));
        assert_eq!(j.events()[0].payload, r#"{"userId":"u"}"#);
        assert_eq!(j.events()[0].created_at, 42);
        let mut want = vec![
            crate::audit::org_chain("o1"),
            crate::audit::org_chain("o2"),
            crate::audit::SYSTEM_CHAIN.to_string(),
        ];
        want.sort();
        assert_eq!(j.chains(), want);
        assert!(!j.is_empty());
    }

    #[test]
    fn the_shared_empty_journal_has_nothing_and_seals_nothing() {
        assert!(Journal::NONE.is_empty());
        assert!(Journal::NONE.keys().is_none());
        assert!(Journal::NONE.chains().is_empty());
    }
}
