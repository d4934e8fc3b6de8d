//! [`ChatControl`] on SQLite; statements from [`crate::chat_control_sql`].

use async_trait::async_trait;
use portal_core::chat_control::{ActiveTurn, ChatControl};
use portal_core::store::StoreResult;
use rusqlite::{params, OptionalExtension};

use super::{Db, SqliteStore};
use crate::chat_control_sql as sql;

#[async_trait]
impl ChatControl for SqliteStore {
    async fn active_chat_turn(
        &self,
        org_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<ActiveTurn>> {
        let row = self
            .read(|c| {
                c.prepare_cached(&sql::sqlite(sql::ACTIVE))
                    .db()?
                    .query_row(params![org_id, session_id], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .optional()
                    .db()
            })
            .await?;
        Ok(row.map(sql::active))
    }

    async fn request_chat_turn_stop(
        &self,
        org_id: &str,
        turn_id: &str,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(&sql::sqlite(sql::REQUEST_STOP))
                .db()?
                .execute(params![org_id, turn_id, now])
                .db()?;
            Ok(n == 1)
        })
        .await
    }

    async fn chat_turn_stop_requested(&self, org_id: &str, turn_id: &str) -> StoreResult<bool> {
        let asked: Option<bool> = self
            .read(|c| {
                c.prepare_cached(&sql::sqlite(sql::STOP_REQUESTED))
                    .db()?
                    .query_row(params![org_id, turn_id], |r| r.get(0))
                    .optional()
                    .db()
            })
            .await?;
        Ok(asked.unwrap_or(false))
    }
}
