//! Delivery from the outbox, on the job runner. The pump ([`Deliverer::tick`],
//! on every replica) turns undelivered outbox events into delivery rows, one
//! per matching subscription, and queues a `webhook.deliver` job for the head
//! of each active subscription's queue when it is due. Pending deliveries are
//! rows; only heads get jobs, so a subscription has one attempt in flight at a
//! time (its order holds, and a slow receiver holds one worker, not all).
//!
//! A job names its delivery and attempt (its id is `webhook-<delivery>-<n>-<due>`,
//! so replicas racing to queue it make one job); a stale job (the attempt
//! already recorded) does nothing. A replica dying mid-attempt lets the job's
//! lease lapse; another runs it, with the same `webhook-id`.

use crate::kinds::{AuditAction, EventKind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::schedule::{self, Verdict};
use super::signing::{sign_all, SigningKey};
use super::{Attempt, Delivery, DeliveryState, NewDelivery, SendResult, Sender, Webhook};
use crate::crypto::Keys;
use crate::jobs::{Job, JobError, JobHandler, JobKind, NewJob};
use crate::journal::Journal;
use crate::model::Event;
use crate::store::{AttemptWrite, Store, StoreError, StoreResult};

/// Outbox events one pump pass fans out.
const DISPATCH_BATCH: i64 = 500;
/// Due heads one pump pass queues jobs for.
const HEADS_BATCH: i64 = 1000;
/// Response text kept per attempt.
pub const RESPONSE_KEEP: usize = 4096;

/// The sealing context of a subscription's secret (binds it to its row).
pub fn seal_context(webhook_id: &str) -> String {
    format!("webhook-secret:{webhook_id}")
}

/// A fresh `webhook-id`.
pub fn new_msg_id() -> String {
    format!("msg_{}", hex::encode(crate::crypto::random_bytes::<16>()))
}

/// The keys that sign for `w` at `now`: the current secret, and the previous
/// one while its grace period runs. Empty when the sealed text does not open
/// (another master secret): the attempt then fails loudly instead of sending
/// unsigned.
pub fn signing_keys(keys: &Keys, w: &Webhook, now: i64) -> Vec<SigningKey> {
    let ctx = seal_context(&w.id);
    let open = |sealed: &str| {
        keys.open(&ctx, sealed)
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|text| SigningKey::parse(&text).ok())
    };
    let mut out: Vec<SigningKey> = open(&w.secret_sealed).into_iter().collect();
    if w.previous_expires_at.is_some_and(|until| until > now) {
        out.extend(w.previous_secret_sealed.as_deref().and_then(open));
    }
    out
}

/// The Standard Webhooks body of an event: `{type, timestamp, data}`.
pub fn body_of(kind: &str, at_ms: i64, data: serde_json::Value) -> String {
    serde_json::json!({"type": kind, "timestamp": rfc3339(at_ms), "data": data}).to_string()
}

/// Epoch ms as RFC 3339 UTC.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The job's payload.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    delivery_id: i64,
    attempt: i64,
    /// When the attempt came due: an auto-disable restarts the count, so the
    /// attempt number alone would name a job of the earlier round.
    due: i64,
}

/// Observers of deliveries (metrics).
pub trait DeliveryHooks: Send + Sync {
    /// One attempt ended with `outcome` after `latency`.
    fn attempted(&self, outcome: &str, latency: Duration);
    /// The queue: pending deliveries and the oldest one's age.
    fn queue(&self, pending: i64, oldest: Duration);
}

/// What the deliverer needs.
pub struct Deliverer {
    store: Arc<dyn Store>,
    keys: Keys,
    sender: Arc<dyn Sender>,
    schedule: Vec<Duration>,
    hooks: Option<Arc<dyn DeliveryHooks>>,
}

/// What one attempt led to (for the caller and the tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Nothing was sent: the job was stale or the subscription not active.
    Skipped,
    /// Sent; the log row's outcome.
    Sent(String),
}

impl Deliverer {
    /// A deliverer over the store, sending through `sender`, retrying on `schedule`.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Keys,
        sender: Arc<dyn Sender>,
        schedule: Vec<Duration>,
    ) -> Self {
        Self {
            store,
            keys,
            sender,
            schedule,
            hooks: None,
        }
    }

    /// Reports attempts and the queue to `hooks`.
    pub fn hooks(mut self, hooks: Arc<dyn DeliveryHooks>) -> Self {
        self.hooks = Some(hooks);
        self
    }

    /// One pump pass at `now`: fan out the outbox, then queue jobs for due heads.
    pub async fn tick(&self, now: i64) -> StoreResult<()> {
        while self.dispatch(now).await? == DISPATCH_BATCH as usize {}
        self.queue_due(now).await?;
        if let Some(h) = &self.hooks {
            let (pending, oldest) = self.store.pending_deliveries().await?;
            let age = oldest.map_or(0, |t| (now - t).max(0));
            h.queue(pending, Duration::from_millis(age as u64));
        }
        Ok(())
    }

    /// Turns up to a batch of undelivered outbox events into deliveries; the
    /// number of events taken.
    pub async fn dispatch(&self, now: i64) -> StoreResult<usize> {
        let events = self.store.undelivered_events(DISPATCH_BATCH).await?;
        if events.is_empty() {
            return Ok(0);
        }
        let mut orgs: Vec<&str> = events.iter().map(|e| e.org_id.as_str()).collect();
        orgs.sort_unstable();
        orgs.dedup();
        let hooks = self.store.webhooks_of_orgs(&orgs).await?;
        let deliveries: Vec<NewDelivery> = events
            .iter()
            .flat_map(|e| {
                hooks
                    .iter()
                    .filter(move |w| w.org_id == e.org_id && w.filter.matches(&e.kind))
                    .map(move |w| fan_out(e, w, now))
            })
            .collect();
        let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
        self.store.queue_deliveries(&deliveries, &ids, now).await?;
        Ok(events.len())
    }

    /// Queues a job for every due head; how many were new.
    pub async fn queue_due(&self, now: i64) -> StoreResult<usize> {
        let mut queued = 0;
        for d in self.store.due_delivery_heads(now, HEADS_BATCH).await? {
            queued += usize::from(self.queue_job(&d, now).await?);
        }
        Ok(queued)
    }

    /// Queues the attempt job of `d` (one per delivery and attempt).
    async fn queue_job(&self, d: &Delivery, now: i64) -> StoreResult<bool> {
        let payload = Payload {
            delivery_id: d.id,
            attempt: d.attempts,
            due: d.next_attempt_at,
        };
        let mut job = NewJob::new(
            JobKind::WebhookDeliver,
            serde_json::to_string(&payload).unwrap_or_default(),
            now,
        );
        job.id = format!("webhook-{}-{}-{}", d.id, d.attempts, d.next_attempt_at);
        match self.store.enqueue(&job, now).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Makes the attempt a job names.
    pub async fn attempt(
        &self,
        delivery_id: i64,
        attempt: i64,
        due: i64,
        now: impl Fn() -> i64,
    ) -> StoreResult<AttemptOutcome> {
        let Some(d) = self.store.delivery_by_id(delivery_id).await? else {
            return Ok(AttemptOutcome::Skipped);
        };
        if d.state != DeliveryState::Pending || d.attempts != attempt || d.next_attempt_at != due {
            return Ok(AttemptOutcome::Skipped);
        }
        let Some(w) = self.store.get_webhook(&d.org_id, &d.webhook_id).await? else {
            return Ok(AttemptOutcome::Skipped);
        };
        let head = self.store.delivery_head(&w.id).await?;
        if w.status != super::WebhookStatus::Active || head.map(|h| h.id) != Some(d.id) {
            return Ok(AttemptOutcome::Skipped);
        }
        let started = now();
        let keys = signing_keys(&self.keys, &w, started);
        let clock = Instant::now();
        let result = if keys.is_empty() {
            SendResult::Failed {
                error: "the signing secret cannot be opened (master secret changed?)".into(),
            }
        } else {
            let headers = sign_all(&keys, &d.msg_id, started / 1000, d.body.as_bytes());
            let pairs = headers.pairs();
            self.sender.post(&w.url, &pairs, d.body.as_bytes()).await
        };
        let latency = clock.elapsed();
        let write = self.judge(&d, &w, result, started, latency, now());
        let outcome = write.attempt.outcome.clone();
        let mut journal = Journal::new(&self.keys, None, now());
        if let Some(reason) = &write.disable {
            disabled(&mut journal, &w, reason);
        }
        if !self.store.record_attempt(&write, &journal).await? {
            return Ok(AttemptOutcome::Skipped);
        }
        if let Some(h) = &self.hooks {
            h.attempted(&outcome, latency);
        }
        // The next in line goes out now rather than at the next pump pass.
        if write.state != DeliveryState::Pending {
            if let Some(next) = self.store.delivery_head(&w.id).await? {
                if next.next_attempt_at <= now() {
                    self.queue_job(&next, now()).await?;
                }
            }
        }
        Ok(AttemptOutcome::Sent(outcome))
    }

    /// What an attempt's result does to its delivery and subscription.
    fn judge(
        &self,
        d: &Delivery,
        w: &Webhook,
        result: SendResult,
        started: i64,
        latency: Duration,
        now: i64,
    ) -> AttemptWrite {
        let n = d.attempts + 1;
        let (status_code, response) = match &result {
            SendResult::Response { status, body, .. } => (Some(i64::from(*status)), body.clone()),
            SendResult::Failed { error } => (None, error.clone()),
        };
        let mut response = response;
        truncate(&mut response, RESPONSE_KEEP);
        let attempt = |outcome: &str, next: Option<i64>| Attempt {
            id: 0,
            delivery_id: d.id,
            attempt: n,
            at: started,
            status_code,
            outcome: outcome.to_string(),
            latency_ms: latency.as_millis() as i64,
            response: response.clone(),
            next_attempt_at: next,
        };
        let base = |a: Attempt, state, attempts, next, success, disable| AttemptWrite {
            attempt: a,
            expected_attempts: d.attempts,
            state,
            attempts,
            next_attempt_at: next,
            success,
            disable,
        };
        // A new round's due time differs from every earlier one (the job id has it).
        let restart = now.max(d.next_attempt_at + 1);
        match schedule::judge(&result) {
            Verdict::Delivered => base(
                attempt("delivered", None),
                DeliveryState::Delivered,
                n,
                d.next_attempt_at,
                true,
                None,
            ),
            Verdict::Final => base(
                attempt("failed", None),
                DeliveryState::Failed,
                n,
                d.next_attempt_at,
                false,
                None,
            ),
            // The head stays pending with a fresh schedule, so re-enabling
            // resumes exactly here.
            Verdict::Gone => base(
                attempt("disabled", None),
                DeliveryState::Pending,
                0,
                restart,
                false,
                Some("the receiver answered 410 Gone".into()),
            ),
            Verdict::Retry { at_least } => {
                match schedule::next_delay_jittered(&self.schedule, n, at_least) {
                    Some(delay) => {
                        let next = now + delay.as_millis() as i64;
                        base(
                            attempt("retry", Some(next)),
                            DeliveryState::Pending,
                            n,
                            next,
                            false,
                            None,
                        )
                    }
                    None => base(
                        attempt("disabled", None),
                        DeliveryState::Pending,
                        0,
                        restart,
                        false,
                        Some(format!(
                            "every attempt failed since {} ({n} attempts)",
                            rfc3339(w.failing_since.unwrap_or(started))
                        )),
                    ),
                }
            }
        }
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
}

/// The delivery of event `e` to `w`.
fn fan_out(e: &Event, w: &Webhook, now: i64) -> NewDelivery {
    let data = serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null);
    NewDelivery {
        org_id: e.org_id.clone(),
        webhook_id: w.id.clone(),
        event_id: Some(e.id),
        redelivery: 0,
        msg_id: new_msg_id(),
        kind: e.kind.clone(),
        body: body_of(&e.kind, e.created_at, data),
        created_at: now,
    }
}

/// The portal disabled `w`: its audit entry and `webhook.disabled` event,
/// written with the attempt that disabled it.
fn disabled(j: &mut Journal<'_>, w: &Webhook, reason: &str) {
    let detail = serde_json::json!({"webhookId": w.id, "url": w.url, "reason": reason});
    j.audit(
        Some(&w.org_id),
        "system:webhooks",
        AuditAction::WebhookDisabled,
        Some(&format!("webhook:{}", w.id)),
        "success",
        detail.clone(),
    )
    .event(&w.org_id, EventKind::WebhookDisabled, &detail);
}

/// The handler of [`JobKind::WebhookDeliver`].
pub struct DeliverHandler(pub Arc<Deliverer>);

#[async_trait]
impl JobHandler for DeliverHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let p: Payload = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad webhook job payload: {e}")))?;
        self.0
            .attempt(p.delivery_id, p.attempt, p.due, crate::identity::now_ms)
            .await
            .map(|_| ())
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_follow_the_standard_shape() {
        let b: serde_json::Value = serde_json::from_str(&body_of(
            "tool.executed",
            1_614_265_330_123,
            serde_json::json!({"a": 1}),
        ))
        .unwrap();
        assert_eq!(b["type"], "tool.executed");
        assert_eq!(b["timestamp"], "2021-02-25T15:02:10.123Z");
        assert_eq!(b["data"]["a"], 1);
        let mut s = "héllo".to_string();
        truncate(&mut s, 2);
        assert_eq!(s, "h");
        assert!(new_msg_id().starts_with("msg_"));
    }
}
