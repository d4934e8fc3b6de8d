//! Webhook subscriptions, deliveries and attempts: statements, row decoders
//! and repository.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::store::{AttemptWrite, DeliveryFilter, StoreResult, WebhookRepo};
use portal_core::webhooks::{
    Attempt, Delivery, DeliveryState, EventFilter, NewDelivery, Webhook, WebhookStatus,
};
use portal_core::StoreError;

use super::{decode, journal, Arg, Db, Exec, Row, Sql, SqlStore};
use crate::args;

macro_rules! webhook_cols {
    () => {
        "id, org_id, url, description, event_types, status, secret_sealed, \
         previous_secret_sealed, previous_expires_at, failing_since, disabled_reason, \
         created_by, created_at, updated_at"
    };
}
macro_rules! delivery_cols {
    () => {
        "d.id, d.org_id, d.webhook_id, d.event_id, d.msg_id, d.kind, d.body, d.state, \
         d.attempts, d.next_attempt_at, d.created_at, d.delivered_at"
    };
}
macro_rules! attempt_cols {
    () => {
        "id, delivery_id, attempt, at, status_code, outcome, latency_ms, response, next_attempt_at"
    };
}

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO webhooks (",
    webhook_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
));
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    webhook_cols!(),
    " FROM webhooks WHERE org_id = $1 ORDER BY created_at DESC, id{C}"
));
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    webhook_cols!(),
    " FROM webhooks WHERE org_id = $1 AND id = $2"
));
static OF_ORGS: Sql = Sql::new(concat!(
    "SELECT ",
    webhook_cols!(),
    " FROM webhooks WHERE org_id {ANY $1} ORDER BY created_at, id{C}"
));
static UPDATE: Sql = Sql::new(
    "UPDATE webhooks SET url = $3, description = $4, event_types = $5, status = $6, \
     secret_sealed = $7, previous_secret_sealed = $8, previous_expires_at = $9, \
     failing_since = $10, disabled_reason = $11, updated_at = $12 \
     WHERE org_id = $1 AND id = $2",
);
static DELETE: Sql = Sql::new("DELETE FROM webhooks WHERE org_id = $1 AND id = $2");

static QUEUE: Sql = Sql::new(
    "INSERT INTO webhook_deliveries (org_id, webhook_id, event_id, redelivery, msg_id, kind, \
     body, state, attempts, next_attempt_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8) ON CONFLICT DO NOTHING",
);
static QUEUE_ONE: Sql = Sql::new(
    "INSERT INTO webhook_deliveries (org_id, webhook_id, event_id, redelivery, msg_id, kind, \
     body, state, attempts, next_attempt_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8) RETURNING id",
);
static WEBHOOK_OF: Sql = Sql::new("SELECT webhook_id FROM webhook_deliveries WHERE id = $1");
/// The oldest pending delivery of each active subscription, when due.
static DUE_HEADS: Sql = Sql::new(concat!(
    "SELECT ",
    delivery_cols!(),
    " FROM webhooks w JOIN webhook_deliveries d ON d.id = \
     (SELECT MIN(q.id) FROM webhook_deliveries q WHERE q.webhook_id = w.id AND q.state = 'pending') \
     WHERE w.status = 'active' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.id LIMIT $2"
));
static HEAD: Sql = Sql::new(concat!(
    "SELECT ",
    delivery_cols!(),
    " FROM webhook_deliveries d WHERE d.webhook_id = $1 AND d.state = 'pending' \
     ORDER BY d.id LIMIT 1"
));
static BY_ID: Sql = Sql::new(concat!(
    "SELECT ",
    delivery_cols!(),
    " FROM webhook_deliveries d WHERE d.id = $1"
));
static GET_DELIVERY: Sql = Sql::new(concat!(
    "SELECT ",
    delivery_cols!(),
    " FROM webhook_deliveries d WHERE d.org_id = $1 AND d.webhook_id = $2 AND d.id = $3"
));
static LIST_DELIVERIES: Sql = Sql::new(concat!(
    "SELECT ",
    delivery_cols!(),
    " FROM webhook_deliveries d WHERE d.org_id = $1 AND d.webhook_id = $2 \
     AND ($3::TEXT IS NULL OR d.state = $3::TEXT) AND ($4::BIGINT IS NULL OR d.id < $4::BIGINT) \
     ORDER BY d.id DESC LIMIT $5"
));
static SINCE: Sql = Sql::new(concat!(
    "SELECT ",
    delivery_cols!(),
    " FROM webhook_deliveries d WHERE d.org_id = $1 AND d.webhook_id = $2 AND d.created_at >= $3 \
     AND d.redelivery = 0 ORDER BY d.id LIMIT $4"
));
static FENCE: Sql = Sql::new(
    "UPDATE webhook_deliveries SET state = $2, attempts = $3, next_attempt_at = $4, \
     delivered_at = COALESCE($5, delivered_at) \
     WHERE id = $1 AND attempts = $6 AND state = 'pending'",
);
static LOG: Sql = Sql::new(
    "INSERT INTO webhook_attempts (org_id, delivery_id, attempt, at, status_code, outcome, \
     latency_ms, response, next_attempt_at) \
     SELECT org_id, id, $2, $3, $4, $5, $6, $7, $8 FROM webhook_deliveries WHERE id = $1",
);
static SUCCEEDED: Sql = Sql::new("UPDATE webhooks SET failing_since = NULL WHERE id = $1");
static FAILED: Sql =
    Sql::new("UPDATE webhooks SET failing_since = COALESCE(failing_since, $2) WHERE id = $1");
static DISABLE: Sql = Sql::new(
    "UPDATE webhooks SET status = 'disabled', disabled_reason = $2, updated_at = $3 \
     WHERE id = $1 AND status = 'active'",
);
static ATTEMPTS: Sql = Sql::new(concat!(
    "SELECT ",
    attempt_cols!(),
    " FROM webhook_attempts WHERE org_id = $1 AND delivery_id = $2 ORDER BY id"
));
static PENDING: Sql =
    Sql::new("SELECT COUNT(*), MIN(created_at) FROM webhook_deliveries WHERE state = 'pending'");

fn bad(what: &str, v: &str) -> StoreError {
    StoreError::Other(format!("unknown webhook {what} {v:?}"))
}

fn webhook(r: &dyn Row) -> StoreResult<Webhook> {
    let status = r.text(5)?;
    let types: Vec<String> =
        serde_json::from_str(&r.text(4)?).map_err(|e| StoreError::Other(e.to_string()))?;
    Ok(Webhook {
        id: r.text(0)?,
        org_id: r.text(1)?.into(),
        url: r.text(2)?,
        description: r.text(3)?,
        filter: EventFilter::stored(types),
        status: WebhookStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
        secret_sealed: r.text(6)?,
        previous_secret_sealed: r.opt_text(7)?,
        previous_expires_at: r.opt_int(8)?,
        failing_since: r.opt_int(9)?,
        disabled_reason: r.opt_text(10)?,
        created_by: r.text(11)?,
        created_at: r.int(12)?,
        updated_at: r.int(13)?,
    })
}

fn delivery(r: &dyn Row) -> StoreResult<Delivery> {
    let state = r.text(7)?;
    Ok(Delivery {
        id: r.int(0)?,
        org_id: r.text(1)?.into(),
        webhook_id: r.text(2)?,
        event_id: r.opt_int(3)?,
        msg_id: r.text(4)?,
        kind: r.text(5)?,
        body: r.text(6)?,
        state: DeliveryState::parse(&state).ok_or_else(|| bad("delivery state", &state))?,
        attempts: r.int(8)?,
        next_attempt_at: r.int(9)?,
        created_at: r.int(10)?,
        delivered_at: r.opt_int(11)?,
    })
}

fn attempt(r: &dyn Row) -> StoreResult<Attempt> {
    Ok(Attempt {
        id: r.int(0)?,
        delivery_id: r.int(1)?,
        attempt: r.int(2)?,
        at: r.int(3)?,
        status_code: r.opt_int(4)?,
        outcome: r.text(5)?,
        latency_ms: r.int(6)?,
        response: r.text(7)?,
        next_attempt_at: r.opt_int(8)?,
    })
}

fn pending(r: &dyn Row) -> StoreResult<(i64, Option<i64>)> {
    Ok((r.int(0)?, r.opt_int(1)?))
}

fn types_json(w: &Webhook) -> String {
    serde_json::to_string(w.filter.patterns()).unwrap_or_else(|_| "[]".into())
}

async fn queue<E: Exec>(c: &mut E, d: &NewDelivery, sql: &Sql) -> StoreResult<u64> {
    c.execute(
        sql,
        &args![
            d.org_id,
            d.webhook_id,
            d.event_id,
            d.redelivery,
            d.msg_id,
            d.kind,
            d.body,
            d.created_at
        ],
    )
    .await
}

#[async_trait]
impl<B: Db> WebhookRepo for SqlStore<B> {
    async fn create_webhook(&self, w: &Webhook, j: &Journal<'_>) -> StoreResult<()> {
        let mut c = self.0.begin().await?;
        c.execute(
            &INSERT,
            &args![
                w.id,
                w.org_id,
                w.url,
                w.description,
                types_json(w),
                w.status.as_str(),
                w.secret_sealed,
                w.previous_secret_sealed,
                w.previous_expires_at,
                w.failing_since,
                w.disabled_reason,
                w.created_by,
                w.created_at,
                w.updated_at
            ],
        )
        .await?;
        journal::write(&mut c, j).await?;
        c.commit().await
    }

    async fn list_webhooks(&self, org_id: &portal_core::ids::OrgId) -> StoreResult<Vec<Webhook>> {
        let mut c = self.0.reader().await?;
        c.rows(&LIST, &args![org_id], webhook).await
    }

    async fn get_webhook(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<Webhook>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET, &args![org_id, id], webhook).await
    }

    async fn update_webhook(&self, w: &Webhook, j: &Journal<'_>) -> StoreResult<bool> {
        let mut c = self.0.begin().await?;
        let n = c
            .execute(
                &UPDATE,
                &args![
                    w.org_id,
                    w.id,
                    w.url,
                    w.description,
                    types_json(w),
                    w.status.as_str(),
                    w.secret_sealed,
                    w.previous_secret_sealed,
                    w.previous_expires_at,
                    w.failing_since,
                    w.disabled_reason,
                    w.updated_at
                ],
            )
            .await?;
        journal::commit_touched(c, n, j).await
    }

    async fn delete_webhook(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let mut c = self.0.begin().await?;
        let n = c.execute(&DELETE, &args![org_id, id]).await?;
        journal::commit_touched(c, n, j).await
    }

    async fn webhooks_of_orgs(&self, org_ids: &[&str]) -> StoreResult<Vec<Webhook>> {
        let mut c = self.0.reader().await?;
        c.rows(&OF_ORGS, &[Arg::Texts(org_ids.to_vec())], webhook)
            .await
    }

    async fn queue_deliveries(
        &self,
        deliveries: &[NewDelivery],
        event_ids: &[i64],
        now: i64,
    ) -> StoreResult<u64> {
        let mut tx = self.0.begin().await?;
        let mut n = 0;
        for d in deliveries {
            n += queue(&mut tx, d, &QUEUE).await?;
        }
        tx.execute(
            &super::events::DELIVERED,
            &[Arg::Ints(event_ids.to_vec()), Arg::Int(now)],
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn queue_extra_deliveries(
        &self,
        ds: &[NewDelivery],
        j: &Journal<'_>,
    ) -> StoreResult<Vec<i64>> {
        let mut c = self.0.begin().await?;
        let mut ids = Vec::with_capacity(ds.len());
        for d in ds {
            let id = c
                .one(
                    &QUEUE_ONE,
                    &args![
                        d.org_id,
                        d.webhook_id,
                        d.event_id,
                        d.redelivery,
                        d.msg_id,
                        d.kind,
                        d.body,
                        d.created_at
                    ],
                    decode::int,
                )
                .await?;
            ids.push(id);
        }
        journal::write(&mut c, j).await?;
        c.commit().await?;
        Ok(ids)
    }

    async fn due_delivery_heads(&self, now: i64, limit: i64) -> StoreResult<Vec<Delivery>> {
        let (limit, _) = B::DIALECT.page(limit, 0);
        let mut c = self.0.reader().await?;
        c.rows(&DUE_HEADS, &args![now, limit], delivery).await
    }

    async fn delivery_head(&self, webhook_id: &str) -> StoreResult<Option<Delivery>> {
        let mut c = self.0.reader().await?;
        c.opt(&HEAD, &args![webhook_id], delivery).await
    }

    async fn delivery_by_id(&self, id: i64) -> StoreResult<Option<Delivery>> {
        let mut c = self.0.reader().await?;
        c.opt(&BY_ID, &args![id], delivery).await
    }

    async fn get_delivery(
        &self,
        org_id: &portal_core::ids::OrgId,
        webhook_id: &str,
        id: i64,
    ) -> StoreResult<Option<Delivery>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET_DELIVERY, &args![org_id, webhook_id, id], delivery)
            .await
    }

    async fn record_attempt(&self, w: &AttemptWrite, j: &Journal<'_>) -> StoreResult<bool> {
        let a = &w.attempt;
        let delivered_at = (w.state == DeliveryState::Delivered).then_some(a.at);
        let mut tx = self.0.begin().await?;
        let n = tx
            .execute(
                &FENCE,
                &args![
                    a.delivery_id,
                    w.state.as_str(),
                    w.attempts,
                    w.next_attempt_at,
                    delivered_at,
                    w.expected_attempts
                ],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            &LOG,
            &args![
                a.delivery_id,
                a.attempt,
                a.at,
                a.status_code,
                a.outcome,
                a.latency_ms,
                a.response,
                a.next_attempt_at
            ],
        )
        .await?;
        let webhook_id = tx
            .one(&WEBHOOK_OF, &args![a.delivery_id], decode::text)
            .await?;
        if w.success {
            tx.execute(&SUCCEEDED, &args![webhook_id]).await?;
        } else {
            tx.execute(&FAILED, &args![webhook_id, a.at]).await?;
        }
        if let Some(reason) = &w.disable {
            tx.execute(&DISABLE, &args![webhook_id, reason, a.at])
                .await?;
        }
        journal::write(&mut tx, j).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_deliveries(
        &self,
        org_id: &portal_core::ids::OrgId,
        webhook_id: &str,
        f: &DeliveryFilter,
    ) -> StoreResult<Vec<Delivery>> {
        let (limit, _) = B::DIALECT.page(f.limit, 0);
        let state = f.state.map(DeliveryState::as_str);
        let mut c = self.0.reader().await?;
        c.rows(
            &LIST_DELIVERIES,
            &args![org_id, webhook_id, state, f.before_id, limit],
            delivery,
        )
        .await
    }

    async fn deliveries_since(
        &self,
        org_id: &portal_core::ids::OrgId,
        webhook_id: &str,
        since: i64,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        let (limit, _) = B::DIALECT.page(limit, 0);
        let mut c = self.0.reader().await?;
        c.rows(&SINCE, &args![org_id, webhook_id, since, limit], delivery)
            .await
    }

    async fn list_attempts(
        &self,
        org_id: &portal_core::ids::OrgId,
        delivery_id: i64,
    ) -> StoreResult<Vec<Attempt>> {
        let mut c = self.0.reader().await?;
        c.rows(&ATTEMPTS, &args![org_id, delivery_id], attempt)
            .await
    }

    async fn pending_deliveries(&self) -> StoreResult<(i64, Option<i64>)> {
        let mut c = self.0.reader().await?;
        c.one(&PENDING, &[], pending).await
    }
}
