//! The unit of work's one writer: a change's [`Journal`] (audit entries,
//! outbox events, jobs) written inside the change's own transaction, so both
//! commit or neither does. Every repository method that takes a journal ends
//! with [`write`] before its commit.

use portal_core::journal::Journal;
use portal_core::store::StoreResult;
use portal_core::StoreError;

use super::{audit, events, jobs, Exec, Lock};
use crate::args;

/// Writes `j` inside `tx` (which has made the change and will commit it).
///
/// Locks in one order everywhere: the change's own rows first (taken by the
/// caller), then the audit chains sorted by name, then the outbox's append
/// lock last, held the shortest (it serialises every event append).
pub(crate) async fn write<E: Exec>(tx: &mut E, j: &Journal<'_>) -> StoreResult<()> {
    if !j.audit_entries().is_empty() {
        // Only the shared empty journal lacks keys, and it holds no entries.
        let keys = j
            .keys()
            .ok_or_else(|| StoreError::Other("journal with audit entries but no keys".into()))?;
        for chain in j.chains() {
            tx.lock(Lock::AuditChain(&chain)).await?;
        }
        for e in j.audit_entries() {
            audit::append_locked(tx, keys, e).await?;
        }
    }
    if !j.events().is_empty() {
        tx.lock(Lock::Events).await?;
        for e in j.events() {
            tx.execute(
                &events::INSERT,
                &args![e.org_id, e.kind, e.payload, e.created_at],
            )
            .await?;
        }
    }
    for job in j.jobs() {
        jobs::insert(tx, job, j.now()).await?;
    }
    Ok(())
}
