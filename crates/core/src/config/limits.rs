//! Load limits: rate limits, body size, and how many requests, streams and
//! connections the server holds at once.

use serde::{Deserialize, Serialize};

use super::fields;
use super::names::Name;

/// Load limits (all per replica).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    /// Requests per minute per caller for the API class (0 = unlimited).
    pub rate_limit_api: u32,
    /// Requests per minute per caller for the chat class (0 = unlimited).
    pub rate_limit_chat: u32,
    /// Largest accepted request body.
    #[serde(deserialize_with = "fields::positive")]
    pub body_limit_bytes: usize,
    /// Requests in flight before new ones are shed with 503.
    #[serde(deserialize_with = "fields::positive")]
    pub max_in_flight: usize,
    /// Concurrent streaming responses (SSE) allowed.
    #[serde(deserialize_with = "fields::positive")]
    pub max_streams: usize,
    /// Concurrent anonymous `/api/health/stream` streams (a pool apart from chat's).
    #[serde(deserialize_with = "fields::positive")]
    pub max_health_streams: usize,
    /// Open streams one principal may hold at once (429 above).
    #[serde(deserialize_with = "fields::positive")]
    pub streams_per_principal: usize,
    /// Open streams one client address may hold at once (429 above).
    #[serde(deserialize_with = "fields::positive")]
    pub streams_per_ip: usize,
    /// Open TCP connections before new ones are closed at once.
    #[serde(deserialize_with = "fields::positive")]
    pub max_connections: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            rate_limit_api: 300,
            rate_limit_chat: 20,
            body_limit_bytes: 1024 * 1024,
            max_in_flight: 1024,
            max_streams: 256,
            max_health_streams: 16,
            streams_per_principal: 8,
            streams_per_ip: 16,
            max_connections: 2048,
        }
    }
}

/// The names of the limits.
pub(super) const NAMES: &[Name] = &[
    Name::new("rate_limit_api", "PORTAL_RATE_LIMIT_API"),
    Name::new("rate_limit_chat", "PORTAL_RATE_LIMIT_CHAT"),
    Name::new("body_limit_bytes", "PORTAL_BODY_LIMIT_BYTES"),
    Name::new("max_in_flight", "PORTAL_MAX_IN_FLIGHT"),
    Name::new("max_streams", "PORTAL_MAX_STREAMS"),
    Name::new("max_health_streams", "PORTAL_MAX_HEALTH_STREAMS"),
    Name::new("streams_per_principal", "PORTAL_STREAMS_PER_PRINCIPAL"),
    Name::new("streams_per_ip", "PORTAL_STREAMS_PER_IP"),
    Name::new("max_connections", "PORTAL_MAX_CONNECTIONS"),
];
