//! Operation handlers, one module per OCI service, plus what they share: the
//! handler context, compartment checks, list plumbing, audit log entries and
//! availability domains.

pub(crate) mod agent;
pub(crate) mod artifacts;
pub(crate) mod assemble;
pub(crate) mod blockstorage;
pub(crate) mod compute;
pub(crate) mod database;
pub(crate) mod identity;
pub(crate) mod limits;
pub(crate) mod listings;
pub(crate) mod loadbalancer;
pub(crate) mod logsearch;
pub(crate) mod monitoring;
pub(crate) mod multipart;
pub(crate) mod network;
pub(crate) mod objectstorage;
pub(crate) mod search;
pub(crate) mod updates;
pub(crate) mod usage;
pub(crate) mod workrequests;

use std::path::Path;

use serde_json::{json, Value};

use crate::state::{LogRecord, Res, State};
use crate::wire::{self, ApiError, Millis, Reply, Req};

/// How long terminated/deleted/detached resources keep showing up in lists
/// (OCI keeps them visible for a while after they are gone).
pub const TERMINAL_RETENTION_MS: Millis = 24 * 3600 * 1000;

/// Lifecycle states after which a resource is gone.
pub const TERMINAL_STATES: &[&str] = &["TERMINATED", "DELETED", "DETACHED"];

/// What a handler works with: the locked state and the request clock.
pub(crate) struct Ctx<'a> {
    /// The emulated cloud (locked for the duration of the request).
    pub st: &'a mut State,
    /// Request time.
    pub now: Millis,
    /// Lifecycle transition delay.
    pub delay: Millis,
    /// Object Storage blob directory.
    pub blob_dir: &'a Path,
    /// Set by handlers that changed the state, so it is persisted.
    pub dirty: bool,
}

impl Ctx<'_> {
    /// The tenancy OCID.
    pub fn tenancy(&self) -> String {
        self.st.meta.tenancy_id.clone()
    }

    /// The region.
    pub fn region(&self) -> String {
        self.st.meta.region.clone()
    }

    /// 404 unless `id` is the tenancy or a live compartment.
    pub fn require_compartment(&self, id: &str) -> Result<(), ApiError> {
        if self.st.compartment_exists(id) {
            Ok(())
        } else {
            Err(ApiError::not_found(format!("compartment {id}")))
        }
    }

    /// The required `compartmentId` query parameter, checked to exist.
    pub fn compartment_param(&self, req: &Req<'_>) -> Result<String, ApiError> {
        let id = req.query_required("compartmentId")?;
        self.require_compartment(id)?;
        Ok(id.to_string())
    }

    /// A resource by id or 404.
    pub fn get(&self, kind: &str, id: &str) -> Result<&Res, ApiError> {
        self.st
            .get(kind, id)
            .ok_or_else(|| ApiError::not_found(format!("{kind} {id}")))
    }

    /// A resource by id, mutably, or 404.
    pub fn get_mut(&mut self, kind: &str, id: &str) -> Result<&mut Res, ApiError> {
        self.st
            .get_mut(kind, id)
            .ok_or_else(|| ApiError::not_found(format!("{kind} {id}")))
    }

    /// Rendered resources of `kind` for which `keep` is true, hiding gone
    /// resources past [`TERMINAL_RETENTION_MS`] unless `show_all_terminal`.
    pub fn rendered(
        &self,
        kind: &str,
        show_all_terminal: bool,
        keep: impl Fn(&Res) -> bool,
    ) -> Vec<Value> {
        self.st
            .all(kind)
            .filter(|r| keep(r))
            .filter(|r| show_all_terminal || !self.expired(r))
            .map(|r| r.render(self.now))
            .collect()
    }

    /// True when the resource is gone and past the retention window.
    pub fn expired(&self, r: &Res) -> bool {
        match (r.state(self.now), r.lc.since(self.now)) {
            (Some(s), Some(since)) if TERMINAL_STATES.contains(&s) => {
                self.now - since > TERMINAL_RETENTION_MS
            }
            _ => false,
        }
    }

    /// Append an audit-style log entry for a mutation (searchable with SearchLogs).
    pub fn audit(&mut self, compartment: &str, event: &str, resource: &Res, message: &str) {
        let id = format!(
            "{:032x}",
            u128::from(fastrand::u64(..)) << 64 | u128::from(fastrand::u64(..))
        );
        let service = event.split('.').next().unwrap_or("");
        let content = json!({
            "id": id,
            "source": resource.str("displayName").or_else(|| resource.str("name")).unwrap_or(""),
            "specversion": "1.0",
            "subject": resource.id(),
            "time": wire::fmt_time(self.now),
            "type": format!("com.oraclecloud.{event}"),
            "oracle": {
                "compartmentid": compartment,
                "ingestedtime": wire::fmt_time(self.now),
                "loggroupid": "_Audit",
                "tenantid": self.st.meta.tenancy_id,
            },
            "data": {
                "eventName": event.rsplit('.').next().unwrap_or(event),
                "service": service,
                "compartmentId": compartment,
                "compartmentName": self.st.compartment_name(compartment),
                "resourceId": resource.id(),
                "resourceName": resource.str("displayName").or_else(|| resource.str("name")).unwrap_or(""),
                "level": "INFO",
                "message": message,
                "identity": { "principalId": self.st.meta.demo_user_id },
            }
        });
        self.st.push_log(LogRecord {
            datetime: self.now,
            compartment_id: compartment.to_string(),
            content,
        });
        self.dirty = true;
    }
}

/// Availability domain names of a region (`Uocm:US-ASHBURN-1-AD-1`, ...).
///
/// Real AD names carry a tenancy-specific prefix and an abbreviated region; the
/// emulator uses a fixed `Uocm:` prefix and the full upper-cased region name.
pub fn availability_domains(region: &str) -> Vec<String> {
    (1..=3)
        .map(|n| format!("Uocm:{}-AD-{n}", region.to_ascii_uppercase()))
        .collect()
}

/// The common list pipeline: required, existing `compartmentId`; equality
/// filters (`query param`, `json field`); `lifecycleState` filter validated
/// against `states`; sort (`sortBy` allowed values, first is the default); page.
pub(crate) fn list_in_compartment(
    ctx: &Ctx<'_>,
    req: &Req<'_>,
    kind: &str,
    states: &[&str],
    sort_by: &[&str],
    filters: &[(&str, &str)],
) -> Result<Reply, ApiError> {
    let compartment = ctx.compartment_param(req)?;
    let show_terminal = req
        .query("lifecycleState")
        .is_some_and(|s| TERMINAL_STATES.contains(&s));
    let mut items = ctx.rendered(kind, show_terminal, |r| {
        r.str("compartmentId") == Some(compartment.as_str())
    });
    for (param, field) in filters {
        wire::filter_eq(req, &mut items, param, field);
    }
    if !states.is_empty() {
        wire::filter_lifecycle(req, &mut items, states)?;
    }
    wire::sort_items(req, &mut items, sort_by)?;
    wire::list_reply(req, items)
}

/// `sortBy` values of most core list operations.
pub const SORT_TIME_NAME: &[&str] = &["TIMECREATED", "DISPLAYNAME"];

/// Parse dotted-quad IPv4 into a u32.
pub fn ipv4(s: &str) -> Option<u32> {
    let mut out: u32 = 0;
    let mut n = 0;
    for part in s.split('.') {
        let v: u8 = part.parse().ok()?;
        out = (out << 8) | u32::from(v);
        n += 1;
    }
    (n == 4).then_some(out)
}

/// Format a u32 as dotted-quad IPv4.
pub fn ipv4_str(v: u32) -> String {
    format!(
        "{}.{}.{}.{}",
        v >> 24,
        (v >> 16) & 255,
        (v >> 8) & 255,
        v & 255
    )
}

/// Parse `a.b.c.d/n` into (network, prefix length), requiring host bits to be zero.
pub fn cidr(s: &str) -> Option<(u32, u32)> {
    let (addr, len) = s.split_once('/')?;
    let addr = ipv4(addr)?;
    let len: u32 = len.parse().ok()?;
    if len > 32 {
        return None;
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    (addr & mask == addr).then_some((addr, len))
}

/// True when CIDR `inner` lies inside CIDR `outer`.
pub fn cidr_within(inner: (u32, u32), outer: (u32, u32)) -> bool {
    let mask = if outer.1 == 0 {
        0
    } else {
        u32::MAX << (32 - outer.1)
    };
    inner.1 >= outer.1 && (inner.0 & mask) == outer.0
}

/// True when two CIDRs overlap.
pub fn cidr_overlaps(a: (u32, u32), b: (u32, u32)) -> bool {
    cidr_within(a, b) || cidr_within(b, a)
}
