//! The audit ledger: statements and repository.

use async_trait::async_trait;
use portal_core::audit::{self, AuditHead, AuditRecord, NewAuditEntry};
use portal_core::crypto::Keys;
use portal_core::model::*;
use portal_core::store::{AuditRepo, StoreResult};

use super::decode::{self, audit_cols, audit_head, audit_record};
use super::{Db, Exec, Lock, Sql, SqlStore};
use crate::args;

static HEAD_LINK: Sql = Sql::new("SELECT seq, mac FROM audit_heads WHERE chain = $1");
static INSERT: Sql = Sql::new(
    "INSERT INTO audit_log (chain, seq, org_id, actor, action, target, outcome, detail, ip, \
     created_at, prev_mac, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
);
static MOVE_HEAD: Sql = Sql::new(
    "INSERT INTO audit_heads (chain, seq, mac, head_mac) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, head_mac = excluded.head_mac",
);
macro_rules! filter {
    ($action:literal) => {
        concat!(
            " FROM audit_log WHERE chain = $1 AND ($2::TEXT IS NULL OR ",
            $action,
            ") AND ($3::TEXT IS NULL OR actor = $3) \
             AND ($4::BIGINT IS NULL OR created_at >= $4) AND ($5::BIGINT IS NULL OR created_at < $5)"
        )
    };
}
static COUNT: Sql = Sql::new(concat!("SELECT COUNT(*)", filter!("action = $2")));
static COUNT_PREFIX: Sql = Sql::new(concat!("SELECT COUNT(*)", filter!("action {PREFIX $2}")));
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    audit_cols!(),
    filter!("action = $2"),
    " ORDER BY seq DESC LIMIT $6 OFFSET $7"
));
static LIST_PREFIX: Sql = Sql::new(concat!(
    "SELECT ",
    audit_cols!(),
    filter!("action {PREFIX $2}"),
    " ORDER BY seq DESC LIMIT $6 OFFSET $7"
));
static AFTER: Sql = Sql::new(concat!(
    "SELECT ",
    audit_cols!(),
    " FROM audit_log WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3"
));
static HEAD: Sql = Sql::new("SELECT chain, seq, mac, head_mac FROM audit_heads WHERE chain = $1");

/// Appends `e` to its chain inside `tx`, which holds the chain's lock (one
/// appender per chain at a time, released at commit or rollback). Under READ
/// COMMITTED the head read takes a fresh snapshot, so it sees the previous
/// appender's committed head; UNIQUE (chain, seq) backs this up.
pub(crate) async fn append_locked<E: Exec>(
    tx: &mut E,
    keys: &Keys,
    e: &NewAuditEntry,
) -> StoreResult<AuditRecord> {
    let chain = e.chain();
    let prev = tx
        .opt(&HEAD_LINK, &args![chain], |r| Ok((r.int(0)?, r.text(1)?)))
        .await?;
    let (seq, prev_mac, mac, detail) = audit::seal(
        keys,
        e,
        &chain,
        prev.as_ref().map(|(s, m)| (*s, m.as_str())),
    );
    let id = tx
        .one(
            &INSERT,
            &args![
                chain,
                seq,
                e.org_id,
                e.actor,
                e.action,
                e.target,
                e.outcome,
                detail,
                e.ip,
                e.created_at,
                prev_mac,
                mac
            ],
            decode::int,
        )
        .await?;
    let head = audit::head_mac(keys, &chain, seq, &mac);
    tx.execute(&MOVE_HEAD, &args![chain, seq, mac, head])
        .await?;
    Ok(AuditRecord {
        id,
        chain,
        seq,
        org_id: e.org_id.clone(),
        actor: e.actor.clone(),
        action: e.action.clone(),
        target: e.target.clone(),
        outcome: e.outcome.clone(),
        detail,
        ip: e.ip.clone(),
        created_at: e.created_at,
        prev_mac,
        mac,
    })
}

#[async_trait]
impl<B: Db> AuditRepo for SqlStore<B> {
    async fn append_audit(&self, keys: &Keys, e: &NewAuditEntry) -> StoreResult<AuditRecord> {
        let mut tx = self.0.begin().await?;
        tx.lock(Lock::AuditChain(&e.chain())).await?;
        let record = append_locked(&mut tx, keys, e).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn list_audit(&self, chain: &str, f: &AuditFilter) -> StoreResult<Page<AuditRecord>> {
        let (action, count, list) = match f.action.as_deref() {
            Some(a) => match a.strip_suffix('*') {
                Some(prefix) => (
                    Some(B::DIALECT.prefix_pattern(prefix)),
                    &COUNT_PREFIX,
                    &LIST_PREFIX,
                ),
                None => (Some(a.to_string()), &COUNT, &LIST),
            },
            None => (None, &COUNT, &LIST),
        };
        let (limit, offset) = B::DIALECT.page(f.limit, f.offset);
        let mut c = self.0.reader().await?;
        let total = c
            .one(
                count,
                &args![chain, action, f.actor, f.from, f.to],
                decode::int,
            )
            .await?;
        let items = c
            .rows(
                list,
                &args![chain, action, f.actor, f.from, f.to, limit, offset],
                audit_record,
            )
            .await?;
        Ok(Page { items, total })
    }

    async fn audit_records_after(
        &self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>> {
        let (limit, _) = B::DIALECT.page(limit, 0);
        let mut c = self.0.reader().await?;
        c.rows(&AFTER, &args![chain, after, limit], audit_record)
            .await
    }

    async fn audit_head(&self, chain: &str) -> StoreResult<Option<AuditHead>> {
        let mut c = self.0.reader().await?;
        c.opt(&HEAD, &args![chain], audit_head).await
    }
}
