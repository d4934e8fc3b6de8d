//! Webhook delivery: the retry schedule and how often the pump runs.

use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fields;
use super::names::Name;

/// Webhook delivery settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// Delays before the 2nd, 3rd, … attempt (the spec's schedule unless set;
    /// tests shorten it). After the last one fails the endpoint is disabled.
    #[serde(rename = "retry_schedule_ms", with = "schedule")]
    pub retry_schedule: Vec<Duration>,
    /// How often the pump fans out the outbox and queues due deliveries.
    #[serde(rename = "poll_interval_ms", with = "fields::millis")]
    pub poll_interval: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            retry_schedule: crate::webhooks::schedule::default_schedule(),
            poll_interval: Duration::from_secs(1),
        }
    }
}

mod schedule {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[Duration], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|d| d.as_millis() as u64))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
        let v = fields::words(d)?
            .iter()
            .map(|s| {
                s.parse::<u64>()
                    .map(Duration::from_millis)
                    .map_err(|_| D::Error::custom(format!("{s:?} is not a number of milliseconds")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if v.is_empty() || v.len() > 20 {
            return Err(D::Error::custom("list 1 to 20 delays"));
        }
        Ok(v)
    }
}

/// The names of the webhook settings.
pub(super) const NAMES: &[Name] = &[
    Name::new("retry_schedule_ms", "PORTAL_WEBHOOKS_RETRY_SCHEDULE_MS"),
    Name::new("poll_interval_ms", "PORTAL_WEBHOOKS_POLL_INTERVAL_MS"),
];
