//! Log entries searchable through Logging Search.
//!
//! Two sources: the audit entries stored in the state for every mutating call
//! (including the seeding calls), and syslog-style service log entries that every
//! compute instance emits while RUNNING. The latter are derived on demand, a
//! deterministic function of the seed, the instance id and the hour, so they need
//! no storage, cover newly launched instances automatically and stop while an
//! instance is stopped or terminated.

use serde_json::json;

use crate::state::{hash_str, kind, mix, region_code, unit, LogRecord, State};
use crate::wire::{self, Millis};

const HOUR: Millis = 3_600_000;

/// Oldest derived entry served (OCI keeps service logs for 30 days by default).
pub const RETENTION_MS: Millis = 30 * 24 * HOUR;

const MESSAGES: &[(&str, &str)] = &[
    (
        "INFO",
        "sshd[{n}]: Accepted publickey for opc from 203.0.113.{b} port 5{n} ssh2",
    ),
    ("INFO", "systemd[1]: Started Session {n} of user opc."),
    (
        "INFO",
        "dnf-automatic[{n}]: No security updates needed, but {b} updates available",
    ),
    ("INFO", "chronyd[{n}]: Selected source 169.254.169.254"),
    ("INFO", "app[{n}]: GET /healthz 200 {b}ms"),
    ("WARN", "app[{n}]: slow request GET /api/orders took {n}ms"),
    (
        "WARN",
        "kernel: TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
    ),
    (
        "ERROR",
        "app[{n}]: database connection reset by peer (retrying)",
    ),
    (
        "ERROR",
        "kernel: Out of memory: Killed process {n} (java) total-vm:{b}000kB",
    ),
];

/// Log group and log OCIDs of a compartment's custom syslog log.
pub fn log_ids(st: &State, compartment: &str) -> (String, String) {
    let h = hash_str(st.meta.seed, compartment);
    let region = region_code(&st.meta.region);
    (
        format!(
            "ocid1.loggroup.oc1.{region}.amaaaaaa{h:016x}{:016x}",
            mix(h)
        ),
        format!(
            "ocid1.log.oc1.{region}.amaaaaaa{:016x}{:016x}",
            mix(h ^ 1),
            mix(h ^ 2)
        ),
    )
}

/// Derived syslog entries of all instances within `[start, end)` (clipped to
/// the retention window before `now`).
pub fn syslog(st: &State, start: Millis, end: Millis, now: Millis) -> Vec<LogRecord> {
    let start = start.max(now - RETENTION_MS);
    let end = end.min(now);
    let mut out = Vec::new();
    if start >= end {
        return out;
    }
    let seed = st.meta.seed;
    for inst in st.all(kind::INSTANCE) {
        let compartment = inst.str("compartmentId").unwrap_or("").to_string();
        let (group, log) = log_ids(st, &compartment);
        let host = inst.str("displayName").unwrap_or("host").to_string();
        for (from, to) in inst.lc.periods_in(&["RUNNING"], start - HOUR, end) {
            // One or two entries in every whole hour the instance was running.
            let mut t = from - from.rem_euclid(HOUR) + HOUR;
            while t < to {
                let h = hash_str(seed, &format!("{}/{t}", inst.id()));
                for k in 0..=(h % 2) {
                    let hk = mix(h ^ k);
                    let roll = unit(hk);
                    let pick = if roll < 0.03 {
                        7 + (hk >> 20) as usize % 2
                    } else if roll < 0.13 {
                        5 + (hk >> 20) as usize % 2
                    } else {
                        (hk >> 20) as usize % 5
                    };
                    let (level, template) = MESSAGES[pick % MESSAGES.len()];
                    let at = t + ((hk >> 30) % (HOUR as u64 / 2)) as i64 + k as i64 * 60_000;
                    if at >= to || at < start || at >= end {
                        continue;
                    }
                    let message = template
                        .replace("{n}", &(1000 + (hk >> 8) % 9000).to_string())
                        .replace("{b}", &(1 + (hk >> 40) % 250).to_string());
                    out.push(LogRecord {
                        datetime: at,
                        compartment_id: compartment.clone(),
                        content: json!({
                            "id": format!("{:016x}{:016x}", hk, mix(hk)),
                            "source": host,
                            "specversion": "1.0",
                            "subject": inst.id(),
                            "time": wire::fmt_time(at),
                            "type": "com.oraclecloud.logging.custom.syslog",
                            "oracle": {
                                "compartmentid": compartment,
                                "ingestedtime": wire::fmt_time(at + 1500),
                                "loggroupid": group,
                                "logid": log,
                                "tenantid": st.meta.tenancy_id,
                            },
                            "data": {"level": level, "message": message, "host": host},
                        }),
                    });
                }
                t += HOUR;
            }
        }
    }
    out
}

/// Stored (audit) and derived (syslog) entries within `[start, end)`.
pub fn entries(st: &State, start: Millis, end: Millis, now: Millis) -> Vec<LogRecord> {
    let mut out: Vec<LogRecord> = st
        .logs
        .iter()
        .filter(|r| r.datetime >= start && r.datetime < end)
        .cloned()
        .collect();
    out.extend(syslog(st, start, end, now));
    out
}
