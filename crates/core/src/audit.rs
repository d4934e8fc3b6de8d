//! The tamper-evident audit ledger: one hash chain per organisation plus a
//! system chain. Each record carries the previous record's MAC and its own
//! HMAC-SHA256 (key derived from the master secret) over a canonical encoding of
//! its fields; a head checkpoint (sequence + MAC, itself MACed) exposes tail
//! deletions. Storage keeps the rows append-only with triggers; this module
//! holds the rules for computing and checking them.

use serde::Serialize;

use crate::crypto::Keys;

/// The chain of instance-wide events (failed sign-ins, setup, org creation).
pub const SYSTEM_CHAIN: &str = "system";

/// The chain name of an organisation.
pub fn org_chain(org_id: &str) -> String {
    format!("org:{org_id}")
}

/// An event to append.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    /// Organisation, or `None` for the system chain.
    pub org_id: Option<String>,
    /// Who did it (`user:…`, `key:…`, `system`, `anonymous`).
    pub actor: String,
    /// What: an [`AuditAction`](crate::kinds::AuditAction)'s text; the
    /// journal and the audit service take the enum, rows stay text.
    pub action: String,
    /// What it was done to, if anything.
    pub target: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Extra facts as a JSON object (secrets already redacted).
    pub detail: serde_json::Value,
    /// Client address.
    pub ip: Option<String>,
    /// Event time (epoch ms).
    pub created_at: i64,
}

impl NewAuditEntry {
    /// The chain this entry belongs to.
    pub fn chain(&self) -> String {
        match &self.org_id {
            Some(o) => org_chain(o),
            None => SYSTEM_CHAIN.to_string(),
        }
    }
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Row id (global, increasing).
    pub id: i64,
    /// Chain name.
    pub chain: String,
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Organisation.
    pub org_id: Option<String>,
    /// Actor.
    pub actor: String,
    /// Action.
    pub action: String,
    /// Target.
    pub target: Option<String>,
    /// Outcome.
    pub outcome: String,
    /// Detail as stored (canonical JSON text).
    pub detail: String,
    /// Client address.
    pub ip: Option<String>,
    /// Event time (epoch ms).
    pub created_at: i64,
    /// MAC of the previous record (or the chain's genesis value).
    pub prev_mac: String,
    /// This record's MAC.
    pub mac: String,
}

/// The checkpoint of a chain's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// Chain name.
    pub chain: String,
    /// Sequence of the last record.
    pub seq: i64,
    /// MAC of the last record.
    pub mac: String,
    /// MAC over (chain, seq, mac), so the checkpoint cannot be rewritten without the key.
    pub head_mac: String,
}

/// The value the first record of a chain points back to.
pub fn genesis(keys: &Keys, chain: &str) -> String {
    keys.audit_mac(format!("genesis\u{0}{chain}").as_bytes())
}

/// Canonical bytes a record's MAC covers: a JSON array of its fields in a fixed order.
#[allow(clippy::too_many_arguments)]
pub fn canonical(
    chain: &str,
    seq: i64,
    org_id: Option<&str>,
    actor: &str,
    action: &str,
    target: Option<&str>,
    outcome: &str,
    detail: &str,
    ip: Option<&str>,
    created_at: i64,
    prev_mac: &str,
) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!([
        1, chain, seq, org_id, actor, action, target, outcome, detail, ip, created_at, prev_mac
    ]))
    .unwrap_or_default()
}

/// Builds the record that follows `prev` (the chain's previous record, if any).
pub fn seal(
    keys: &Keys,
    entry: &NewAuditEntry,
    chain: &str,
    prev: Option<(i64, &str)>,
) -> (i64, String, String, String) {
    let (seq, prev_mac) = match prev {
        Some((s, m)) => (s + 1, m.to_string()),
        None => (1, genesis(keys, chain)),
    };
    let detail = canonical_detail(&entry.detail);
    let mac = keys.audit_mac(&canonical(
        chain,
        seq,
        entry.org_id.as_deref(),
        &entry.actor,
        &entry.action,
        entry.target.as_deref(),
        &entry.outcome,
        &detail,
        entry.ip.as_deref(),
        entry.created_at,
        &prev_mac,
    ));
    (seq, prev_mac, mac, detail)
}

/// The head checkpoint's MAC.
pub fn head_mac(keys: &Keys, chain: &str, seq: i64, mac: &str) -> String {
    keys.audit_mac(format!("head\u{0}{chain}\u{0}{seq}\u{0}{mac}").as_bytes())
}

/// Detail as canonical JSON text (object keys sorted, which serde_json's map does).
pub fn canonical_detail(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

/// Outcome of checking a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// True when every record and the head check out.
    pub valid: bool,
    /// Records checked.
    pub row_count: i64,
    /// Id of the first record that does not check out (or of the last good one when the tail is missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken_id: Option<i64>,
    /// What is wrong, when not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Walks a chain's records in sequence order, recomputing every MAC and link,
/// then compares the end with the head checkpoint.
pub struct Verifier<'k> {
    keys: &'k Keys,
    chain: String,
    expected_seq: i64,
    prev_mac: String,
    last_id: Option<i64>,
    count: i64,
    broken: Option<(Option<i64>, String)>,
}

impl<'k> Verifier<'k> {
    /// Starts checking `chain`.
    pub fn new(keys: &'k Keys, chain: &str) -> Self {
        Self {
            keys,
            chain: chain.to_string(),
            expected_seq: 1,
            prev_mac: genesis(keys, chain),
            last_id: None,
            count: 0,
            broken: None,
        }
    }

    /// Feeds the next record (in sequence order). Returns false once broken.
    pub fn push(&mut self, r: &AuditRecord) -> bool {
        if self.broken.is_some() {
            return false;
        }
        self.count += 1;
        let fail = |why: &str| Some((Some(r.id), why.to_string()));
        if r.chain != self.chain {
            self.broken = fail("record belongs to another chain");
        } else if r.seq != self.expected_seq {
            self.broken = fail(&format!(
                "sequence gap: expected {}, found {}",
                self.expected_seq, r.seq
            ));
        } else if r.prev_mac != self.prev_mac {
            self.broken = fail("link to the previous record does not match");
        } else {
            let mac = self.keys.audit_mac(&canonical(
                &r.chain,
                r.seq,
                r.org_id.as_deref(),
                &r.actor,
                &r.action,
                r.target.as_deref(),
                &r.outcome,
                &r.detail,
                r.ip.as_deref(),
                r.created_at,
                &r.prev_mac,
            ));
            if !crate::crypto::constant_time_eq(mac.as_bytes(), r.mac.as_bytes()) {
                self.broken = fail("record MAC does not match its contents");
            }
        }
        if self.broken.is_some() {
            return false;
        }
        self.expected_seq += 1;
        self.prev_mac = r.mac.clone();
        self.last_id = Some(r.id);
        true
    }

    /// Compares the end of the chain with its head checkpoint and concludes.
    pub fn finish(mut self, head: Option<&AuditHead>) -> Verification {
        if self.broken.is_none() {
            let last_seq = self.expected_seq - 1;
            match head {
                None if last_seq == 0 => {}
                None => self.broken = Some((self.last_id, "head checkpoint is missing".into())),
                Some(h) => {
                    let expected = head_mac(self.keys, &self.chain, h.seq, &h.mac);
                    if !crate::crypto::constant_time_eq(expected.as_bytes(), h.head_mac.as_bytes())
                    {
                        self.broken =
                            Some((self.last_id, "head checkpoint MAC does not match".into()));
                    } else if h.seq != last_seq || h.mac != self.prev_mac {
                        self.broken = Some((
                            self.last_id,
                            format!(
                                "records after sequence {last_seq} are missing (head is at {})",
                                h.seq
                            ),
                        ));
                    }
                }
            }
        }
        let (first_broken_id, reason) = match self.broken {
            Some((id, why)) => (id, Some(why)),
            None => (None, None),
        };
        Verification {
            valid: reason.is_none(),
            row_count: self.count,
            first_broken_id,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn build(keys: &Keys, n: i64) -> (Vec<AuditRecord>, AuditHead) {
        let mut rows: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let e = NewAuditEntry {
                org_id: Some("o1".into()),
                actor: "user:u".into(),
                action: format!("test.{i}"),
                outcome: "success".into(),
                detail: serde_json::json!({"i": i}),
                created_at: 1000 + i,
                ..Default::default()
            };
            let prev = rows.last().map(|r| (r.seq, r.mac.as_str()));
            let (seq, prev_mac, mac, detail) = seal(keys, &e, "org:o1", prev);
            rows.push(AuditRecord {
                id: 10 + i,
                chain: "org:o1".into(),
                seq,
                org_id: e.org_id.clone(),
                actor: e.actor.clone(),
                action: e.action.clone(),
                target: None,
                outcome: e.outcome.clone(),
                detail,
                ip: None,
                created_at: e.created_at,
                prev_mac,
                mac,
            });
        }
        let last = rows.last().unwrap();
        let head = AuditHead {
            chain: "org:o1".into(),
            seq: last.seq,
            mac: last.mac.clone(),
            head_mac: head_mac(keys, "org:o1", last.seq, &last.mac),
        };
        (rows, head)
    }

    fn verify(keys: &Keys, rows: &[AuditRecord], head: &AuditHead) -> Verification {
        let mut v = Verifier::new(keys, "org:o1");
        for r in rows {
            v.push(r);
        }
        v.finish(Some(head))
    }

    #[test]
    fn detects_every_kind_of_tampering() {
        let keys = Keys::derive(&Secret::new(b"k".repeat(32)));
        let (rows, head) = build(&keys, 5);
        assert!(verify(&keys, &rows, &head).valid);

        let mut edited = rows.clone();
        edited[2].detail = r#"{"i":99}"#.into();
        let v = verify(&keys, &edited, &head);
        assert_eq!((v.valid, v.first_broken_id), (false, Some(12)));

        let mut gap = rows.clone();
        gap.remove(2);
        assert_eq!(verify(&keys, &gap, &head).first_broken_id, Some(13));

        let tail = &rows[..3];
        let v = verify(&keys, tail, &head);
        assert!(!v.valid && v.reason.unwrap().contains("missing"));

        // Recomputed with another key: the first record already fails.
        let other = Keys::derive(&Secret::new(b"x".repeat(32)));
        let (forged, forged_head) = build(&other, 5);
        assert_eq!(
            verify(&keys, &forged, &forged_head).first_broken_id,
            Some(10)
        );
    }
}
