//! [`ChatControl`] on PostgreSQL; statements from [`crate::chat_control_sql`].

use async_trait::async_trait;
use portal_core::chat_control::{ActiveTurn, ChatControl};
use portal_core::store::StoreResult;

use super::PgStore;
use crate::chat_control_sql as sql;

#[async_trait]
impl ChatControl for PgStore {
    async fn active_chat_turn(
        &self,
        org_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<ActiveTurn>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(sql::ACTIVE, &[&org_id, &session_id])
            .await
            .map_err(|e| self.map_err(e))?;
        let Some(r) = row else { return Ok(None) };
        let decoded: Result<sql::ActiveRow, _> = (|| {
            Ok((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
            ))
        })();
        decoded
            .map(|r| Some(sql::active(r)))
            .map_err(|e| self.map_err(e))
    }

    async fn request_chat_turn_stop(
        &self,
        org_id: &str,
        turn_id: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let conn = self.conn().await?;
        let n = conn
            .execute(sql::REQUEST_STOP, &[&org_id, &turn_id, &now])
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(n == 1)
    }

    async fn chat_turn_stop_requested(&self, org_id: &str, turn_id: &str) -> StoreResult<bool> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(sql::STOP_REQUESTED, &[&org_id, &turn_id])
            .await
            .map_err(|e| self.map_err(e))?;
        match row {
            Some(r) => r.try_get(0).map_err(|e| self.map_err(e)),
            None => Ok(false),
        }
    }
}
