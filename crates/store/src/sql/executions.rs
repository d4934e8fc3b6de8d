//! Finishing tool executions with their outbox event, and the sweep of stale
//! ones: statements and repository.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::model::*;
use portal_core::store::{ExecutionRepo, StoreResult};

use super::decode::{activity, activity_cols};
use super::{journal, Db, Exec, Sql, SqlStore};
use crate::args;

static FINISH: Sql = Sql::new(
    "UPDATE tool_executions SET status = $3, error = $4, duration_ms = $5 \
     WHERE org_id = $1 AND id = $2 AND status = 'running'",
);
static STALE: Sql = Sql::new(concat!(
    "SELECT ",
    activity_cols!(),
    " FROM tool_executions WHERE status = 'running' AND created_at < $1 \
     ORDER BY created_at, id{C} LIMIT $2"
));

#[async_trait]
impl<B: Db> ExecutionRepo for SqlStore<B> {
    async fn finish_execution(&self, a: &Activity, j: &Journal<'_>) -> StoreResult<bool> {
        let mut tx = self.0.begin().await?;
        let n = tx
            .execute(
                &FINISH,
                &args![a.org_id, a.id, a.status, a.error, a.duration_ms],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        journal::write(&mut tx, j).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn stale_executions(&self, before: i64, limit: i64) -> StoreResult<Vec<Activity>> {
        let mut c = self.0.reader().await?;
        c.rows(&STALE, &args![before, limit], activity).await
    }
}
