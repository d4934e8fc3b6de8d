//! The tamper-evident audit ledger.

use super::StoreResult;
use crate::audit::{AuditHead, AuditRecord, NewAuditEntry};
use crate::crypto::Keys;
use crate::model::*;
use async_trait::async_trait;

/// The tamper-evident audit ledger.
#[async_trait]
pub trait AuditRepo: Send + Sync {
    /// Appends to the entry's chain atomically (never forking it under
    /// concurrency) and moves the chain's head checkpoint.
    async fn append_audit(&self, keys: &Keys, entry: &NewAuditEntry) -> StoreResult<AuditRecord>;
    /// The chain's records, newest first, filtered.
    async fn list_audit(&self, chain: &str, f: &AuditFilter) -> StoreResult<Page<AuditRecord>>;
    /// Up to `limit` records of the chain with `seq > after`, in sequence order (for verification).
    async fn audit_records_after(
        &self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// The chain's head checkpoint.
    async fn audit_head(&self, chain: &str) -> StoreResult<Option<AuditHead>>;
}
