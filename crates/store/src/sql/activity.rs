//! The activity feed of tool executions: statements and repository.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::model::*;
use portal_core::store::{ActivityRepo, StoreResult};

use super::decode::{self, activity, activity_cols, usage_row};
use super::{journal, Db, Exec, Sql, SqlStore};
use crate::args;

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO tool_executions (",
    activity_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
));
macro_rules! filter {
    () => {
        " FROM tool_executions WHERE org_id = $1 AND ($2::TEXT IS NULL OR tool_name = $2) \
         AND ($3::TEXT IS NULL OR principal_id = $3) AND ($4::TEXT IS NULL OR status = $4) \
         AND ($5::BIGINT IS NULL OR created_at >= $5) AND ($6::BIGINT IS NULL OR created_at < $6)"
    };
}
static COUNT: Sql = Sql::new(concat!("SELECT COUNT(*)", filter!()));
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    activity_cols!(),
    filter!(),
    " ORDER BY created_at DESC, id{C} LIMIT $7 OFFSET $8"
));

/// Counted in the database: the answer grows with distinct calls, not executions.
static USAGE: Sql = Sql::new(
    "SELECT principal_id, created_at / 3600000, tool_name, args, COUNT(*) FROM tool_executions \
     WHERE org_id = $1 AND created_at >= $2 \
     GROUP BY principal_id, created_at / 3600000, tool_name, args",
);

#[async_trait]
impl<B: Db> ActivityRepo for SqlStore<B> {
    async fn record_activity(&self, a: &Activity, j: &Journal<'_>) -> StoreResult<()> {
        let mut w = self.0.begin().await?;
        w.execute(
            &INSERT,
            &args![
                a.id,
                a.org_id,
                a.principal_id,
                a.tool_name,
                a.category,
                a.risk,
                a.status,
                a.args,
                a.error,
                a.duration_ms,
                a.approval_id,
                a.created_at
            ],
        )
        .await?;
        journal::write(&mut w, j).await?;
        w.commit().await
    }

    async fn list_activity(
        &self,
        org_id: &portal_core::ids::OrgId,
        f: &ActivityFilter,
    ) -> StoreResult<Page<Activity>> {
        let (limit, offset) = B::DIALECT.page(f.limit, f.offset);
        let mut c = self.0.reader().await?;
        let total = c
            .one(
                &COUNT,
                &args![org_id, f.tool, f.principal, f.status, f.from, f.to],
                decode::int,
            )
            .await?;
        let items = c
            .rows(
                &LIST,
                &args![
                    org_id,
                    f.tool,
                    f.principal,
                    f.status,
                    f.from,
                    f.to,
                    limit,
                    offset
                ],
                activity,
            )
            .await?;
        Ok(Page { items, total })
    }

    async fn usage_rows(
        &self,
        org_id: &portal_core::ids::OrgId,
        since: i64,
    ) -> StoreResult<Vec<UsageRow>> {
        let mut c = self.0.reader().await?;
        c.rows(&USAGE, &args![org_id, since], usage_row).await
    }
}
