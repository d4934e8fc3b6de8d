//! Outbound calls to destinations an admin or user chose (webhooks now):
//! what the SSRF guard lets through, and how long a call may take.

use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fields;
use super::names::Name;
use crate::outbound::{AllowEntry, OutboundPolicy};

/// Outbound (guarded client) settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundSettings {
    /// Hosts or CIDRs reachable although private (on-premises receivers, tests).
    #[serde(with = "allow_list")]
    pub allow: Vec<AllowEntry>,
    /// Plain `http://` destinations (development only).
    pub allow_http: bool,
    /// How long one call may take, connect to last byte read.
    #[serde(rename = "timeout_ms", with = "fields::millis")]
    pub timeout: Duration,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            allow_http: false,
            timeout: Duration::from_secs(15),
        }
    }
}

impl OutboundSettings {
    /// The guard's policy.
    pub fn policy(&self) -> OutboundPolicy {
        OutboundPolicy {
            allow: self.allow.clone(),
            allow_http: self.allow_http,
        }
    }
}

mod allow_list {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[AllowEntry], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(ToString::to_string))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<AllowEntry>, D::Error> {
        fields::words(d)?
            .iter()
            .map(|s| AllowEntry::parse(s).map_err(D::Error::custom))
            .collect()
    }
}

/// The names of the outbound settings.
pub(super) const NAMES: &[Name] = &[
    Name::new("allow", "PORTAL_OUTBOUND_ALLOW"),
    Name::new("allow_http", "PORTAL_OUTBOUND_ALLOW_HTTP"),
    Name::new("timeout_ms", "PORTAL_OUTBOUND_TIMEOUT_MS"),
];
