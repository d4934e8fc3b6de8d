//! Approvals: statements and repository.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::model::*;
use portal_core::store::{ApprovalRepo, StoreResult};

use super::decode::{self, approval, approval_cols};
use super::{journal, Db, Exec, Sql, SqlStore};
use crate::args;

static OPEN: Sql = Sql::new(concat!(
    "SELECT ",
    approval_cols!(),
    " FROM approvals WHERE org_id = $1 AND requester = $2 AND tool_name = $3 AND args_hash = $4 \
     AND status IN ('pending', 'approved') AND expires_at > $5 ORDER BY created_at DESC LIMIT 1"
));
static EXPIRE_LAPSED: Sql = Sql::new(
    "UPDATE approvals SET status = 'expired' WHERE org_id = $1 AND requester = $2 \
     AND tool_name = $3 AND args_hash = $4 AND status = 'pending' AND expires_at <= $5",
);
static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO approvals (",
    approval_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
     ON CONFLICT DO NOTHING"
));
static PENDING_OF_BINDING: Sql = Sql::new(concat!(
    "SELECT ",
    approval_cols!(),
    " FROM approvals WHERE org_id = $1 AND requester = $2 AND tool_name = $3 AND args_hash = $4 \
     AND status = 'pending'"
));
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    approval_cols!(),
    " FROM approvals WHERE org_id = $1 AND id = $2"
));
static BY_TOOL_CALL: Sql = Sql::new(concat!(
    "SELECT ",
    approval_cols!(),
    " FROM approvals WHERE org_id = $1 AND requester = $2 AND tool_call_id = $3 \
     ORDER BY created_at DESC LIMIT 1"
));
static DECIDE: Sql = Sql::new(
    "UPDATE approvals SET status = $3, decided_by = $4, reason = $5, decided_at = $6 \
     WHERE org_id = $1 AND id = $2 AND status = 'pending' AND expires_at > $6",
);
static CONSUME: Sql = Sql::new(
    "UPDATE approvals SET status = 'consumed', consumed_at = $4 \
     WHERE org_id = $1 AND id = $2 AND requester = $3 AND status = 'approved' AND expires_at > $4",
);
static COUNT_PENDING_ORG: Sql = Sql::new(
    "SELECT COUNT(*) FROM approvals WHERE org_id = $1 AND status = 'pending' AND expires_at > $2",
);
static LIST_PENDING: Sql = Sql::new(concat!(
    "SELECT ",
    approval_cols!(),
    " FROM approvals WHERE org_id = $1 AND status = 'pending' AND expires_at > $2 \
     ORDER BY created_at DESC, id{C} LIMIT $3 OFFSET $4"
));
static LIST_DECIDED: Sql = Sql::new(concat!(
    "SELECT ",
    approval_cols!(),
    " FROM approvals WHERE org_id = $1 AND decided_at IS NOT NULL \
     ORDER BY decided_at DESC, id{C} DESC LIMIT $2"
));
static COUNT_PENDING_OF: Sql = Sql::new(
    "SELECT COUNT(*) FROM approvals WHERE org_id = $1 AND requester = $2 \
     AND status = 'pending' AND expires_at > $3",
);
static COUNT_PENDING: Sql =
    Sql::new("SELECT COUNT(*) FROM approvals WHERE status = 'pending' AND expires_at > $1");
static OLDEST_PENDING: Sql =
    Sql::new("SELECT MIN(created_at) FROM approvals WHERE status = 'pending' AND expires_at > $1");

#[async_trait]
impl<B: Db> ApprovalRepo for SqlStore<B> {
    async fn open_approval(
        &self,
        org_id: &portal_core::ids::OrgId,
        requester: &str,
        tool: &str,
        args_hash: &str,
        now: i64,
    ) -> StoreResult<Option<Approval>> {
        let mut c = self.0.reader().await?;
        c.opt(
            &OPEN,
            &args![org_id, requester, tool, args_hash, now],
            approval,
        )
        .await
    }

    async fn create_approval(
        &self,
        a: &Approval,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<Approval> {
        let mut tx = self.0.begin().await?;
        tx.execute(
            &EXPIRE_LAPSED,
            &args![a.org_id, a.requester, a.tool_name, a.args_hash, now],
        )
        .await?;
        let inserted = tx
            .execute(
                &INSERT,
                &args![
                    a.id,
                    a.org_id,
                    a.requester,
                    a.tool_name,
                    a.risk,
                    a.args_hash,
                    a.args_redacted,
                    a.tool_call_id,
                    a.status,
                    a.decided_by,
                    a.reason,
                    a.created_at,
                    a.expires_at,
                    a.decided_at,
                    a.consumed_at,
                    a.four_eyes,
                    a.args_sealed
                ],
            )
            .await?;
        let result = if inserted == 1 {
            journal::write(&mut tx, j).await?;
            a.clone()
        } else {
            tx.one(
                &PENDING_OF_BINDING,
                &args![a.org_id, a.requester, a.tool_name, a.args_hash],
                approval,
            )
            .await?
        };
        tx.commit().await?;
        Ok(result)
    }

    async fn get_approval(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &portal_core::ids::ApprovalId,
    ) -> StoreResult<Option<Approval>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET, &args![org_id, id], approval).await
    }

    async fn approval_by_tool_call(
        &self,
        org_id: &portal_core::ids::OrgId,
        requester: &str,
        tool_call_id: &str,
    ) -> StoreResult<Option<Approval>> {
        let mut c = self.0.reader().await?;
        c.opt(
            &BY_TOOL_CALL,
            &args![org_id, requester, tool_call_id],
            approval,
        )
        .await
    }

    async fn decide_approval(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &portal_core::ids::ApprovalId,
        approved: bool,
        by: &str,
        reason: Option<&str>,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let status = if approved { "approved" } else { "rejected" };
        let mut tx = self.0.begin().await?;
        let n = tx
            .execute(&DECIDE, &args![org_id, id, status, by, reason, now])
            .await?;
        if n != 1 {
            return Ok(false);
        }
        journal::write(&mut tx, j).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn consume_approval(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &portal_core::ids::ApprovalId,
        requester: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let mut w = self.0.writer().await?;
        let n = w
            .execute(&CONSUME, &args![org_id, id, requester, now])
            .await?;
        w.commit().await?;
        Ok(n == 1)
    }

    async fn list_pending_approvals(
        &self,
        org_id: &portal_core::ids::OrgId,
        now: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<Approval>> {
        let (limit, offset) = B::DIALECT.page(limit, offset);
        let mut c = self.0.reader().await?;
        let total = c
            .one(&COUNT_PENDING_ORG, &args![org_id, now], decode::int)
            .await?;
        let items = c
            .rows(&LIST_PENDING, &args![org_id, now, limit, offset], approval)
            .await?;
        Ok(Page { items, total })
    }

    async fn list_decided_approvals(
        &self,
        org_id: &portal_core::ids::OrgId,
        limit: i64,
    ) -> StoreResult<Vec<Approval>> {
        let (limit, _) = B::DIALECT.page(limit, 0);
        let mut c = self.0.reader().await?;
        c.rows(&LIST_DECIDED, &args![org_id, limit], approval).await
    }

    async fn count_pending_approvals_of(
        &self,
        org_id: &portal_core::ids::OrgId,
        requester: &str,
        now: i64,
    ) -> StoreResult<i64> {
        let mut c = self.0.reader().await?;
        c.one(
            &COUNT_PENDING_OF,
            &args![org_id, requester, now],
            decode::int,
        )
        .await
    }

    async fn count_pending_approvals(&self, now: i64) -> StoreResult<i64> {
        let mut c = self.0.reader().await?;
        c.one(&COUNT_PENDING, &args![now], decode::int).await
    }

    async fn oldest_pending_approval(&self, now: i64) -> StoreResult<Option<i64>> {
        let mut c = self.0.reader().await?;
        c.one(&OLDEST_PENDING, &args![now], decode::opt_int).await
    }
}
