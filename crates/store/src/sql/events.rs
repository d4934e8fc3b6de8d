//! The webhook outbox: statements and repository.

use async_trait::async_trait;
use portal_core::model::*;
use portal_core::store::{EventRepo, StoreResult};

use super::decode::{self, outbox_cols, outbox_event};
use super::{Arg, Db, Exec, Lock, Sql, SqlStore};
use crate::args;

pub(crate) static INSERT: Sql =
    Sql::new("INSERT INTO events (org_id, kind, payload, created_at) VALUES ($1, $2, $3, $4)");
static APPEND: Sql = Sql::new(
    "INSERT INTO events (org_id, kind, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
);
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    outbox_cols!(),
    " FROM events WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
));
static UNDELIVERED: Sql = Sql::new(concat!(
    "SELECT ",
    outbox_cols!(),
    " FROM events WHERE delivered_at IS NULL ORDER BY id LIMIT $1"
));
pub(crate) static DELIVERED: Sql =
    Sql::new("UPDATE events SET delivered_at = $2 WHERE id {ANY $1} AND delivered_at IS NULL");

#[async_trait]
impl<B: Db> EventRepo for SqlStore<B> {
    async fn append_event(
        &self,
        org_id: &portal_core::ids::OrgId,
        kind: &str,
        payload_json: &str,
        now: i64,
    ) -> StoreResult<i64> {
        // A sequence hands out ids at insert, but concurrent transactions may
        // commit out of id order: a poller that read id 11 would then never see
        // 10 committing after it. One appender at a time (PostgreSQL's lock is
        // released after commit, when the row is already visible; SQLite's
        // single writer commits in id order) makes visibility follow id order.
        let mut tx = self.0.begin().await?;
        tx.lock(Lock::Events).await?;
        let id = tx
            .one(
                &APPEND,
                &args![org_id, kind, payload_json, now],
                decode::int,
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn list_events(
        &self,
        org_id: &portal_core::ids::OrgId,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<Event>> {
        let (limit, _) = B::DIALECT.page(limit, 0);
        let mut c = self.0.reader().await?;
        c.rows(&LIST, &args![org_id, after_id, limit], outbox_event)
            .await
    }

    async fn undelivered_events(&self, limit: i64) -> StoreResult<Vec<Event>> {
        let (limit, _) = B::DIALECT.page(limit, 0);
        let mut c = self.0.reader().await?;
        c.rows(&UNDELIVERED, &args![limit], outbox_event).await
    }

    async fn mark_events_delivered(&self, ids: &[i64], now: i64) -> StoreResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut w = self.0.writer().await?;
        let n = w
            .execute(&DELIVERED, &[Arg::Ints(ids.to_vec()), Arg::Int(now)])
            .await?;
        w.commit().await?;
        Ok(n)
    }
}
