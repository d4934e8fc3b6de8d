//! Webhooks: an organisation's subscriptions (where to send which events),
//! the Standard Webhooks signing of what is sent ([`signing`]), the retry
//! schedule and how responses are judged ([`schedule`]), and delivery from the
//! outbox on the job runner ([`delivery`]). HTTP itself sits behind the
//! [`Sender`] port (the guarded client of the `portal-webhooks` crate).

pub mod delivery;
pub mod filter;
pub mod schedule;
pub mod signing;

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

pub use filter::EventFilter;

/// A subscription's state: only `Active` ones are sent to; deliveries of the
/// others wait (as rows) and go out, in order, once it is active again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookStatus {
    /// Delivering.
    Active,
    /// Held by an admin.
    Paused,
    /// Stopped by the portal (410 Gone, or failing for the whole schedule) or an admin.
    Disabled,
}

impl WebhookStatus {
    /// Every status.
    pub const ALL: [WebhookStatus; 3] = [Self::Active, Self::Paused, Self::Disabled];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Disabled => "disabled",
        }
    }

    /// The status of a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its turn or its next attempt.
    Pending,
    /// A 2xx answered it.
    Delivered,
    /// Given up (a 4xx that retrying cannot fix).
    Failed,
}

impl DeliveryState {
    /// Every state.
    pub const ALL: [DeliveryState; 3] = [Self::Pending, Self::Delivered, Self::Failed];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// The state of a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A stored subscription (its secrets sealed; see [`delivery::signing_keys`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Id.
    pub id: String,
    /// Organisation.
    pub org_id: String,
    /// Receiver URL.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// Which event kinds it gets.
    pub filter: EventFilter,
    /// Whether it is sent to.
    pub status: WebhookStatus,
    /// Current signing secret, sealed under the data key.
    pub secret_sealed: String,
    /// The secret before the last rotation, sealed, while it still signs.
    pub previous_secret_sealed: Option<String>,
    /// When the previous secret stops signing (ms).
    pub previous_expires_at: Option<i64>,
    /// Since when every attempt has failed (ms); `None` after a success.
    pub failing_since: Option<i64>,
    /// Why the portal disabled it, when it did.
    pub disabled_reason: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// Created (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// One message to one subscription: its body is fixed when it is queued, so
/// every retry sends the same bytes under the same `webhook-id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Id; also the order of a subscription's deliveries.
    pub id: i64,
    /// Organisation.
    pub org_id: String,
    /// Subscription.
    pub webhook_id: String,
    /// The outbox event it carries (`None` for a test message).
    pub event_id: Option<i64>,
    /// `webhook-id` (`msg_…`), the same on every attempt and redelivery.
    pub msg_id: String,
    /// Event kind (`tool.executed`).
    pub kind: String,
    /// The JSON body, `{type, timestamp, data}`.
    pub body: String,
    /// Where it is.
    pub state: DeliveryState,
    /// Attempts made so far (in the current round: an auto-disable resets it).
    pub attempts: i64,
    /// When the next attempt is due (ms).
    pub next_attempt_at: i64,
    /// Queued (ms).
    pub created_at: i64,
    /// Answered with a 2xx (ms).
    pub delivered_at: Option<i64>,
}

/// A delivery to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// Organisation.
    pub org_id: String,
    /// Subscription.
    pub webhook_id: String,
    /// Outbox event (`None` for a test message).
    pub event_id: Option<i64>,
    /// 0 for the fan-out of an event; a redelivery's distinct number otherwise.
    pub redelivery: i64,
    /// `webhook-id`.
    pub msg_id: String,
    /// Event kind.
    pub kind: String,
    /// JSON body.
    pub body: String,
    /// Queued (ms).
    pub created_at: i64,
}

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// Id.
    pub id: i64,
    /// The delivery.
    pub delivery_id: i64,
    /// 1-based attempt number (within its round).
    pub attempt: i64,
    /// When it started (ms).
    pub at: i64,
    /// HTTP status, when there was a response.
    pub status_code: Option<i64>,
    /// `delivered`, `retry`, `failed`, `disabled`.
    pub outcome: String,
    /// Time to the response (or the failure), ms.
    pub latency_ms: i64,
    /// The first bytes of the response body (or the error).
    pub response: String,
    /// When the next attempt is due, if there is one (ms).
    pub next_attempt_at: Option<i64>,
}

/// The result of one HTTP attempt, as the guarded client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// A response (any status; redirects are not followed).
    Response {
        /// Status code.
        status: u16,
        /// `Retry-After`, when the receiver sent one.
        retry_after: Option<Duration>,
        /// At most the first 4 KiB of the body, lossy UTF-8.
        body: String,
    },
    /// No response: refused by the guard, DNS, connect, TLS or timeout.
    Failed {
        /// What happened (no secrets in it).
        error: String,
    },
}

/// Sends one signed POST; the guarded client implements it.
#[async_trait]
pub trait Sender: Send + Sync + 'static {
    /// POSTs `body` with these headers to `url` (JSON content type).
    async fn post(&self, url: &str, headers: &[(&'static str, String)], body: &[u8]) -> SendResult;
}
