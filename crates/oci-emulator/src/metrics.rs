//! Metric streams derived from the emulated resources.
//!
//! Nothing is canned: every stream belongs to a resource that exists (compute
//! instances in `oci_computeagent`, Autonomous Databases in
//! `oci_autonomous_database`, load balancers in `oci_lbaas`), has data only while
//! that resource was running (taken from its lifecycle history), and its
//! 1-minute values are a deterministic function of the tenancy seed, the resource
//! id, the metric and the minute (a per-resource baseline, a daily cycle and
//! hashed noise). The same query therefore always returns the same numbers.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::state::{hash_str, kind, mix, unit, Res, State};
use crate::wire::Millis;

/// One minute in milliseconds.
pub const MINUTE_MS: Millis = 60_000;

/// A metric definition: namespace, name, unit.
#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    /// Metric namespace.
    pub namespace: &'static str,
    /// Metric name.
    pub name: &'static str,
    /// Unit (`metadata.unit`).
    pub unit: &'static str,
}

/// Metrics published for compute instances.
pub const COMPUTE_METRICS: &[MetricDef] = &[
    MetricDef {
        namespace: "oci_computeagent",
        name: "CpuUtilization",
        unit: "percent",
    },
    MetricDef {
        namespace: "oci_computeagent",
        name: "MemoryUtilization",
        unit: "percent",
    },
    MetricDef {
        namespace: "oci_computeagent",
        name: "DiskBytesRead",
        unit: "bytes",
    },
    MetricDef {
        namespace: "oci_computeagent",
        name: "DiskBytesWritten",
        unit: "bytes",
    },
    MetricDef {
        namespace: "oci_computeagent",
        name: "NetworksBytesIn",
        unit: "bytes",
    },
    MetricDef {
        namespace: "oci_computeagent",
        name: "NetworksBytesOut",
        unit: "bytes",
    },
    MetricDef {
        namespace: "oci_computeagent",
        name: "LoadAverage",
        unit: "count",
    },
];

/// Metrics published for Autonomous Databases.
pub const ADB_METRICS: &[MetricDef] = &[
    MetricDef {
        namespace: "oci_autonomous_database",
        name: "CpuUtilization",
        unit: "percent",
    },
    MetricDef {
        namespace: "oci_autonomous_database",
        name: "StorageUtilization",
        unit: "percent",
    },
    MetricDef {
        namespace: "oci_autonomous_database",
        name: "Sessions",
        unit: "count",
    },
];

/// Metrics published for load balancers.
pub const LB_METRICS: &[MetricDef] = &[
    MetricDef {
        namespace: "oci_lbaas",
        name: "HttpRequests",
        unit: "count",
    },
    MetricDef {
        namespace: "oci_lbaas",
        name: "ActiveConnections",
        unit: "count",
    },
];

/// One metric stream: a metric of one resource.
#[derive(Debug, Clone)]
pub struct Stream {
    /// Definition.
    pub def: MetricDef,
    /// Compartment of the resource.
    pub compartment_id: String,
    /// Dimensions (`resourceId`, `resourceDisplayName`, ...).
    pub dimensions: BTreeMap<String, String>,
    /// Periods `[from, to)` with data (the resource was running).
    pub active: Vec<(Millis, Millis)>,
    /// Per-stream hash driving the values.
    pub key: u64,
    /// Scale factor (e.g. OCPUs for load average).
    pub scale: f64,
    /// The resource is tagged `workload: idle` (its CPU stays under 3.5 %).
    pub idle: bool,
}

fn dims(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| ((*k).to_string(), v.to_string())))
        .collect()
}

/// Every metric stream with data overlapping `[start, end)`.
pub fn streams(st: &State, start: Millis, end: Millis) -> Vec<Stream> {
    let seed = st.meta.seed;
    let mut out = Vec::new();
    let mut push = |res: &Res,
                    defs: &[MetricDef],
                    running: &[&str],
                    d: BTreeMap<String, String>,
                    scale: f64| {
        let active = res.lc.periods_in(running, start, end);
        if active.is_empty() {
            return;
        }
        for def in defs {
            out.push(Stream {
                def: *def,
                compartment_id: res.str("compartmentId").unwrap_or("").to_string(),
                dimensions: d.clone(),
                active: active.clone(),
                key: hash_str(
                    seed,
                    &format!("{}/{}/{}", res.id(), def.namespace, def.name),
                ),
                scale,
                idle: res
                    .body
                    .get("freeformTags")
                    .and_then(|t| t.get("workload"))
                    .and_then(Value::as_str)
                    == Some("idle"),
            });
        }
    };
    for inst in st.all(kind::INSTANCE) {
        let ocpus = inst
            .body
            .get("shapeConfig")
            .and_then(|c| c.get("ocpus"))
            .and_then(Value::as_f64)
            .unwrap_or(1.0);
        let d = dims(&[
            ("resourceId", Some(inst.id())),
            ("resourceDisplayName", inst.str("displayName")),
            ("availabilityDomain", inst.str("availabilityDomain")),
            ("faultDomain", inst.str("faultDomain")),
            ("shape", inst.str("shape")),
            ("imageId", inst.str("imageId")),
        ]);
        push(inst, COMPUTE_METRICS, &["RUNNING"], d, ocpus);
    }
    for adb in st.all(kind::AUTONOMOUS_DATABASE) {
        let d = dims(&[
            ("resourceId", Some(adb.id())),
            ("resourceName", adb.str("displayName")),
            ("deploymentType", Some("Shared")),
            ("region", Some(st.meta.region.as_str())),
        ]);
        let ecpus = adb
            .body
            .get("computeCount")
            .and_then(Value::as_f64)
            .unwrap_or(2.0);
        push(adb, ADB_METRICS, &["AVAILABLE"], d, ecpus);
    }
    for lb in st.all(kind::LOAD_BALANCER) {
        let d = dims(&[
            ("resourceId", Some(lb.id())),
            ("lbName", lb.str("displayName")),
            ("availabilityDomain", None),
        ]);
        push(lb, LB_METRICS, &["ACTIVE"], d, 1.0);
    }
    out
}

impl Stream {
    /// True when the stream has a datapoint at `minute_start`.
    pub fn active_at(&self, t: Millis) -> bool {
        self.active.iter().any(|(a, b)| t >= *a && t < *b)
    }

    /// The 1-minute value at minute index `minute` (ms / 60 000).
    pub fn value(&self, minute: i64) -> f64 {
        let base_h = mix(self.key);
        let base = unit(base_h);
        let noise = unit(mix(
            self.key ^ (minute as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        )) - 0.5;
        let minute_of_day = minute.rem_euclid(1440) as f64;
        // Daily cycle peaking at 14:00 UTC.
        let daily = ((minute_of_day / 1440.0 - 14.0 / 24.0) * std::f64::consts::TAU).cos();
        let pct = |lo: f64, span: f64, amp: f64, jitter: f64| {
            (lo + span * base + amp * daily + jitter * noise).clamp(0.0, 100.0)
        };
        let round2 = |v: f64| (v * 100.0).round() / 100.0;
        round2(match (self.def.namespace, self.def.name) {
            // A resource tagged `workload: idle` barely uses its CPU.
            (_, "CpuUtilization") if self.idle => pct(0.5, 2.0, 0.5, 0.5),
            (_, "CpuUtilization") => pct(8.0, 70.0, 12.0, 8.0),
            (_, "MemoryUtilization") => pct(25.0, 55.0, 5.0, 3.0),
            (_, "StorageUtilization") => pct(5.0, 60.0, 0.0, 0.5),
            (_, "LoadAverage") => (pct(8.0, 70.0, 12.0, 8.0) / 100.0 * self.scale * 2.0).max(0.0),
            (_, "Sessions") => (3.0 + 40.0 * base + 10.0 * daily + 4.0 * noise)
                .max(0.0)
                .round(),
            (_, "HttpRequests") => (200.0 + 1800.0 * base + 600.0 * daily + 100.0 * noise)
                .max(0.0)
                .round(),
            (_, "ActiveConnections") => (10.0 + 90.0 * base + 30.0 * daily + 5.0 * noise)
                .max(0.0)
                .round(),
            // Byte counters per minute.
            _ => ((1.0e5 + 5.0e6 * base) * (1.0 + 0.4 * daily) * (1.0 + 0.3 * noise))
                .max(0.0)
                .round(),
        })
    }

    /// Text for a dimension.
    pub fn dimension(&self, key: &str) -> Option<&str> {
        self.dimensions.get(key).map(String::as_str)
    }
}
