//! A check as data: what it maps to, what it reads, the predicate over what
//! it read, the remediation and the fix plan it derives from each hit.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::model::{Category, Evidence, FixStep, Severity};

/// Hours in the price list's month (its `hoursPerMonth` default).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Storage classes the price list prices per GB-month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageClass {
    /// Block and boot volumes.
    Block,
    /// Object Storage, standard tier.
    Object,
}

/// The shipped price list (implemented over `portal-tools`' pricing tables).
pub trait Prices: Send + Sync {
    /// USD per hour of a compute shape with this configuration; `None` when unlisted.
    fn compute_hourly(&self, shape: &str, ocpus: f64, memory_gb: f64) -> Option<f64>;
    /// USD per GB-month of a storage class.
    fn storage_gb_month(&self, class: StorageClass) -> Option<f64>;
}

/// Whole US cents of a monthly USD amount.
pub fn cents(usd_per_month: f64) -> i64 {
    (usd_per_month * 100.0).round() as i64
}

/// A read a check makes, through the gateway.
#[derive(Debug, Clone, Copy)]
pub enum Read {
    /// One call with fixed arguments (JSON object text).
    Call {
        /// The tool.
        tool: &'static str,
        /// Its arguments.
        args: &'static str,
    },
    /// One call per item of a list read: `tool` with `arg` set to the item's `field`.
    Each {
        /// The list read (a tenancy-wide `Call` with no arguments).
        list: &'static str,
        /// The tool called per item.
        tool: &'static str,
        /// The argument it gets.
        arg: &'static str,
        /// The item field that fills it.
        field: &'static str,
        /// Further fixed arguments (JSON object text).
        extra: &'static str,
    },
}

impl Read {
    /// The tool this read calls.
    pub fn tool(&self) -> &'static str {
        match self {
            Read::Call { tool, .. } | Read::Each { tool, .. } => tool,
        }
    }
}

/// Parses the JSON object text of a read's fixed arguments.
pub fn fixed_args(text: &str) -> serde_json::Map<String, Value> {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

/// SHA-256 of arguments in canonical form (keys sorted).
pub fn args_hash(args: &Value) -> String {
    crate::crypto::sha256_hex(canonical(args).as_bytes())
}

fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<_, _> = m.iter().collect();
            let parts: Vec<String> = sorted
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), canonical(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// What the reads of a run returned, by tool and arguments.
#[derive(Default)]
pub struct Inputs {
    results: BTreeMap<(String, String), Value>,
}

impl Inputs {
    /// Records the result of `tool` with `args`.
    pub fn put(&mut self, tool: &str, args: &Value, result: Value) {
        self.results
            .insert((tool.to_string(), canonical(args)), result);
    }

    /// The result of `tool` with `args`.
    pub fn get(&self, tool: &str, args: &Value) -> Option<&Value> {
        self.results.get(&(tool.to_string(), canonical(args)))
    }

    /// Whether `tool` with `args` was read.
    pub fn has(&self, tool: &str, args: &Value) -> bool {
        self.get(tool, args).is_some()
    }
}

/// What a predicate sees: the reads, the price list and the time.
pub struct Env<'a> {
    /// The reads.
    pub inputs: &'a Inputs,
    /// The price list.
    pub prices: &'a dyn Prices,
    /// Now (ms).
    pub now: i64,
}

/// A list read's items with the pointer of each, for evidence.
pub struct Listed<'a> {
    /// The tool.
    pub tool: &'static str,
    /// Its arguments.
    pub args: Value,
    /// The items, with their index.
    pub items: Vec<(usize, &'a Value)>,
}

impl<'a> Env<'a> {
    /// The items of the tenancy-wide list `tool` (no arguments).
    pub fn list(&self, tool: &'static str) -> Listed<'a> {
        self.list_with(tool, json!({}))
    }

    /// The items of list `tool` read with `args`.
    pub fn list_with(&self, tool: &'static str, args: Value) -> Listed<'a> {
        let items = self
            .inputs
            .get(tool, &args)
            .and_then(|r| r.get("items"))
            .and_then(Value::as_array)
            .map(|a| a.iter().enumerate().collect())
            .unwrap_or_default();
        Listed { tool, args, items }
    }

    /// The result of a per-item read.
    pub fn each(&self, read: &Read, key: &str) -> Option<(Value, &'a Value)> {
        let Read::Each {
            tool, arg, extra, ..
        } = read
        else {
            return None;
        };
        let mut args = fixed_args(extra);
        args.insert((*arg).to_string(), Value::from(key));
        let args = Value::Object(args);
        self.inputs.get(tool, &args).map(|r| (args, r))
    }
}

/// Evidence of a field of item `i` of a list read.
pub fn item_evidence(l: &Listed<'_>, i: usize, field: &str, value: &Value) -> Evidence {
    Evidence {
        tool: l.tool.to_string(),
        args_hash: args_hash(&l.args),
        args: l.args.clone(),
        path: format!("/items/{i}{field}"),
        value: value.clone(),
    }
}

/// One resource failing a check.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The resource (OCID, or a name where the resource has none).
    pub resource_id: String,
    /// Its display name.
    pub resource_name: String,
    /// What is wrong with it, one line.
    pub title: String,
    /// The proof.
    pub evidence: Evidence,
    /// Estimated monthly savings (cents), where the price list knows.
    pub savings_cents: Option<i64>,
    /// The fix plan for this resource.
    pub fix: Vec<FixStep>,
}

/// A check: the data and the predicate.
pub struct Check {
    /// Stable id (`area.what`), the first half of a finding's fingerprint.
    pub id: &'static str,
    /// Short name.
    pub title: &'static str,
    /// The CIS OCI Foundations Benchmark v3.0 recommendation, where one exists.
    pub cis: Option<&'static str>,
    /// Category.
    pub category: Category,
    /// Severity of its findings.
    pub severity: Severity,
    /// What it reads (through the gateway).
    pub reads: &'static [Read],
    /// The tools its fix plans call.
    pub fix_tools: &'static [&'static str],
    /// What to do about a finding.
    pub remediation: &'static str,
    /// The resources failing the check, from what was read.
    pub predicate: fn(&Env<'_>) -> Vec<Hit>,
}

/// A string field of a JSON value ("" when absent).
pub fn s<'v>(v: &'v Value, field: &str) -> &'v str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

/// A time field (RFC 3339) in ms since the epoch.
pub fn time_ms(v: &Value, field: &str) -> Option<i64> {
    let t = v.get(field)?.as_str()?;
    let odt =
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()?;
    Some((odt.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Ms in a day.
pub const DAY_MS: i64 = 86_400_000;

/// What a per-item read showed wrong with one item: the offending field's
/// JSON pointer in the detail, its value and the finding's title.
pub struct Fault {
    /// Pointer of the offending field in the detail read.
    pub path: String,
    /// Its value.
    pub value: Value,
    /// What is wrong, one line.
    pub title: String,
}

/// Hits over a per-item read (`Read::Each`): every item of its list that
/// `keep` selects, read in detail, judged by `fault`; evidence points into
/// the detail read.
pub fn detail_hits(
    env: &Env<'_>,
    read: &Read,
    keep: impl Fn(&Value) -> bool,
    fault: impl Fn(&Value, &Value) -> Option<Fault>,
) -> Vec<Hit> {
    let Read::Each {
        list, tool, field, ..
    } = read
    else {
        return Vec::new();
    };
    let l = env.list(list);
    l.items
        .iter()
        .filter(|(_, item)| keep(item))
        .filter_map(|(_, item)| {
            let key = s(item, field);
            let (args, got) = env.each(read, key)?;
            let f = fault(item, got)?;
            let name = if s(item, "displayName").is_empty() {
                s(item, "name")
            } else {
                s(item, "displayName")
            };
            Some(Hit {
                resource_id: if s(got, "id").is_empty() {
                    key.into()
                } else {
                    s(got, "id").into()
                },
                resource_name: name.into(),
                title: f.title,
                evidence: Evidence {
                    tool: (*tool).to_string(),
                    args_hash: args_hash(&args),
                    args,
                    path: f.path,
                    value: f.value,
                },
                savings_cents: None,
                fix: Vec::new(),
            })
        })
        .collect()
}
