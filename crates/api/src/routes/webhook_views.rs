//! What the webhook routes answer and accept (no secret ever, except the
//! one-time `secret` of a creation or rotation).

use portal_core::webhooks::{Attempt, Delivery, Webhook};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::views::ts;

/// A subscription.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    /// Id.
    pub id: String,
    /// Receiver URL.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// Event kinds (`tool.executed`) and prefixes (`approval.*`, `*`).
    pub event_types: Vec<String>,
    /// `active`, `paused` or `disabled`.
    #[schema(value_type = String, example = "active")]
    pub status: String,
    /// Why the portal disabled it (410 Gone, or failing for the whole schedule).
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed.
    pub failing_since: Option<String>,
    /// Until when the secret before the last rotation still signs.
    pub previous_secret_expires_at: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// Created.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<&Webhook> for WebhookView {
    fn from(w: &Webhook) -> Self {
        Self {
            id: w.id.clone(),
            url: w.url.clone(),
            description: w.description.clone(),
            event_types: w.filter.patterns().to_vec(),
            status: w.status.as_str().into(),
            disabled_reason: w.disabled_reason.clone(),
            failing_since: w.failing_since.map(ts),
            previous_secret_expires_at: w.previous_expires_at.map(ts),
            created_by: w.created_by.clone(),
            created_at: ts(w.created_at),
            updated_at: ts(w.updated_at),
        }
    }
}

/// The organisation's subscriptions.
#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    /// Newest first.
    pub webhooks: Vec<WebhookView>,
}

/// A subscription with its signing secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct WebhookWithSecret {
    /// `whsec_…` (Standard Webhooks). Store it now: it is never shown again.
    pub secret: String,
    /// The subscription.
    pub webhook: WebhookView,
}

/// A new subscription.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhook {
    /// Receiver URL (`https://`, a public address unless allowlisted).
    #[schema(max_length = 2000)]
    pub url: String,
    /// Event kinds and prefixes, e.g. `["tool.executed", "approval.*"]`.
    pub event_types: Vec<String>,
    /// What it is for.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// `active` (default) or `paused`.
    pub status: Option<String>,
}

/// Changes to a subscription; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWebhook {
    /// Receiver URL.
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    /// Event kinds and prefixes.
    pub event_types: Option<Vec<String>>,
    /// What it is for.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// `active` (resumes a paused or disabled queue where it stopped), `paused` or `disabled`.
    pub status: Option<String>,
}

/// A secret rotation.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rotate {
    /// How long the old secret keeps signing beside the new one (default 86400, at most 604800).
    #[schema(minimum = 0, maximum = 604800)]
    pub grace_seconds: Option<i64>,
}

/// A redelivery of everything since a time.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedeliverSince {
    /// RFC 3339 time; deliveries queued at or after it are sent again.
    #[schema(example = "2026-01-01T00:00:00Z")]
    pub since: String,
}

/// Queued deliveries.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    /// The new delivery's id (one redelivery or test).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<i64>,
    /// How many were queued.
    pub queued: usize,
}

/// Filters of the delivery log. Taken as text so a malformed number names its parameter.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// `pending`, `delivered` or `failed`.
    pub state: Option<String>,
    /// Only deliveries with a smaller id (the last id of the previous page).
    #[param(value_type = Option<i64>)]
    pub before: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
}

/// One delivery.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// Id.
    pub id: i64,
    /// The outbox event it carries (none for a test message).
    pub event_id: Option<i64>,
    /// `webhook-id`, the same on every attempt and redelivery.
    pub msg_id: String,
    /// Event kind.
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    #[schema(value_type = String)]
    pub state: String,
    /// Attempts in the current round.
    pub attempts: i64,
    /// When the next attempt is due (pending ones).
    pub next_attempt_at: Option<String>,
    /// Queued.
    pub created_at: String,
    /// Accepted by the receiver.
    pub delivered_at: Option<String>,
    /// The body sent (`{type, timestamp, data}`).
    #[schema(value_type = Object)]
    pub payload: Value,
}

impl From<&Delivery> for DeliveryView {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            msg_id: d.msg_id.clone(),
            kind: d.kind.clone(),
            state: d.state.as_str().into(),
            attempts: d.attempts,
            next_attempt_at: (d.state == portal_core::webhooks::DeliveryState::Pending)
                .then(|| ts(d.next_attempt_at)),
            created_at: ts(d.created_at),
            delivered_at: d.delivered_at.map(ts),
            payload: serde_json::from_str(&d.body).unwrap_or(Value::String(d.body.clone())),
        }
    }
}

/// A page of the delivery log.
#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    pub deliveries: Vec<DeliveryView>,
}

/// One attempt.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    /// 1-based, within its round.
    pub attempt: i64,
    /// When it was sent.
    pub at: String,
    /// HTTP status, when there was a response.
    pub status_code: Option<i64>,
    /// `delivered`, `retry`, `failed` or `disabled`.
    pub outcome: String,
    /// Time to the response or failure.
    pub latency_ms: i64,
    /// The first 4 KiB of the response body, or the error.
    pub response: String,
    /// When the next attempt is due.
    pub next_attempt_at: Option<String>,
}

impl From<&Attempt> for AttemptView {
    fn from(a: &Attempt) -> Self {
        Self {
            attempt: a.attempt,
            at: ts(a.at),
            status_code: a.status_code,
            outcome: a.outcome.clone(),
            latency_ms: a.latency_ms,
            response: a.response.clone(),
            next_attempt_at: a.next_attempt_at.map(ts),
        }
    }
}

/// A delivery with every attempt.
#[derive(Serialize, ToSchema)]
pub struct DeliveryDetail {
    /// The delivery.
    pub delivery: DeliveryView,
    /// Oldest first.
    pub attempts: Vec<AttemptView>,
}
