//! Monitoring: alarms (status evaluated live from metric data), MQL
//! SummarizeMetricsData and ListMetrics over the streams of [`crate::metrics`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::Ctx;
use crate::metrics::{self, Stream};
use crate::mql;
use crate::state::{kind, Res};
use crate::wire::{self, parse_time, time_value, ApiError, BodyExt, Millis, Reply, Req};

const ALARM_SUMMARY_FIELDS: &[&str] = &[
    "id",
    "displayName",
    "compartmentId",
    "metricCompartmentId",
    "namespace",
    "query",
    "severity",
    "destinations",
    "suppression",
    "isEnabled",
    "isNotificationsPerMetricDimensionEnabled",
    "freeformTags",
    "definedTags",
    "lifecycleState",
    "overrides",
    "ruleName",
    "notificationVersion",
    "notificationTitle",
    "evaluationSlackDuration",
    "alarmSummary",
    "resourceGroup",
];
const SORT_ALARMS: &[&str] = &["displayName", "severity"];

/// Compartments in scope for a list: the one given, or its subtree.
fn scope(ctx: &Ctx<'_>, req: &Req<'_>) -> Result<Vec<String>, ApiError> {
    let compartment = ctx.compartment_param(req)?;
    Ok(
        if req.query_bool("compartmentIdInSubtree")?.unwrap_or(false) {
            ctx.st.compartment_subtree(&compartment)
        } else {
            vec![compartment]
        },
    )
}

fn alarms_in(ctx: &Ctx<'_>, req: &Req<'_>) -> Result<Vec<Res>, ApiError> {
    let compartments = scope(ctx, req)?;
    Ok(ctx
        .st
        .all(kind::ALARM)
        .filter(|a| {
            a.str("compartmentId")
                .is_some_and(|c| compartments.iter().any(|x| x == c))
        })
        .filter(|a| !ctx.expired(a))
        .cloned()
        .collect())
}

/// GET /alarms
pub(crate) fn list_alarms(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let mut items: Vec<Value> = alarms_in(ctx, req)?
        .iter()
        .map(|a| {
            let full = a.render(ctx.now);
            let summary: Map<String, Value> = full
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| ALARM_SUMMARY_FIELDS.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            Value::Object(summary)
        })
        .collect();
    wire::filter_eq(req, &mut items, "displayName", "displayName");
    wire::filter_lifecycle(req, &mut items, &["ACTIVE", "DELETING", "DELETED"])?;
    wire::sort_items(req, &mut items, SORT_ALARMS)?;
    wire::list_reply(req, items)
}

/// GET /alarms/{alarmId}
pub(crate) fn get_alarm(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx.get(kind::ALARM, req.path("alarmId"))?.reply(ctx.now))
}

/// Streams of `namespace` whose resource lives in one of `compartments`.
fn streams_for(
    ctx: &Ctx<'_>,
    namespace: &str,
    compartments: &[String],
    start: Millis,
    end: Millis,
) -> Vec<Stream> {
    metrics::streams(ctx.st, start, end)
        .into_iter()
        .filter(|s| s.def.namespace == namespace && compartments.contains(&s.compartment_id))
        .collect()
}

/// Evaluate one alarm now: (status, triggered-at, firing resource ids).
fn evaluate_alarm(ctx: &Ctx<'_>, alarm: &Res) -> (String, Millis, Vec<String>) {
    let now = ctx.now;
    if let Some(s) = alarm.body.get("suppression") {
        let from = s
            .get("timeSuppressFrom")
            .and_then(Value::as_str)
            .and_then(|t| parse_time(t, "").ok());
        let until = s
            .get("timeSuppressUntil")
            .and_then(Value::as_str)
            .and_then(|t| parse_time(t, "").ok());
        if let (Some(f), Some(u)) = (from, until) {
            if f <= now && now < u {
                return ("SUSPENDED".into(), f, Vec::new());
            }
        }
    }
    let enabled = alarm
        .body
        .get("isEnabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let Ok(q) = mql::parse(alarm.str("query").unwrap_or("")) else {
        return ("OK".into(), now, Vec::new());
    };
    let Some((op, threshold)) = q.condition else {
        return ("OK".into(), now, Vec::new());
    };
    if !enabled {
        return ("OK".into(), now, Vec::new());
    }
    let metric_compartment = alarm.str("metricCompartmentId").unwrap_or("").to_string();
    let compartments = if alarm
        .body
        .get("metricCompartmentIdInSubtree")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        ctx.st.compartment_subtree(&metric_compartment)
    } else {
        vec![metric_compartment]
    };
    let end = now.div_euclid(metrics::MINUTE_MS) * metrics::MINUTE_MS;
    let start = end - 3 * q.interval_ms;
    let streams = streams_for(
        ctx,
        alarm.str("namespace").unwrap_or(""),
        &compartments,
        start,
        end,
    );
    let unconditioned = mql::Query {
        condition: None,
        ..q
    };
    let Ok(series) = mql::evaluate(&unconditioned, &streams, start, end, None) else {
        return ("OK".into(), now, Vec::new());
    };
    let mut firing = Vec::new();
    let mut triggered = now;
    for s in &series {
        if let Some((t, v)) = s.points.last() {
            if op.holds(*v, threshold) {
                firing.push(s.dimensions.get("resourceId").cloned().unwrap_or_default());
                triggered = triggered.min(*t);
            }
        }
    }
    if firing.is_empty() {
        ("OK".into(), now, firing)
    } else {
        ("FIRING".into(), triggered, firing)
    }
}

/// GET /alarms/status
pub(crate) fn list_alarms_status(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let wanted_status = req
        .query_enum("status", &["FIRING", "OK"])?
        .map(str::to_string);
    let mut items = Vec::new();
    for alarm in alarms_in(ctx, req)? {
        if alarm.state(ctx.now) != Some("ACTIVE") {
            continue;
        }
        let (status, triggered, resources) = evaluate_alarm(ctx, &alarm);
        if req
            .query("resourceId")
            .is_some_and(|r| !resources.iter().any(|x| x == r))
        {
            continue;
        }
        if req
            .query("serviceName")
            .is_some_and(|s| !alarm.str("namespace").is_some_and(|n| n.contains(s)))
        {
            continue;
        }
        if wanted_status.as_deref().is_some_and(|w| w != status) {
            continue;
        }
        let mut v = json!({
            "id": alarm.id(),
            "displayName": alarm.str("displayName"),
            "severity": alarm.str("severity"),
            "ruleName": alarm.str("ruleName").unwrap_or("BASE"),
            "timestampTriggered": time_value(triggered),
            "alarmSummary": alarm.str("alarmSummary").map(str::to_string).unwrap_or_else(|| {
                format!("{} is {} ({} resources)", alarm.str("displayName").unwrap_or(""), status, resources.len())
            }),
            "status": status,
        });
        if let (Some(s), Some(o)) = (alarm.body.get("suppression"), v.as_object_mut()) {
            o.insert("suppression".into(), s.clone());
        }
        items.push(v);
    }
    wire::filter_eq(req, &mut items, "displayName", "displayName");
    wire::sort_items(req, &mut items, SORT_ALARMS)?;
    wire::list_reply(req, items)
}

/// Longest time range one SummarizeMetricsData request may cover.
pub const MAX_RANGE_MS: Millis = 90 * 86_400_000;

/// POST /metrics/actions/summarizeMetricsData
pub(crate) fn summarize_metrics_data(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let compartments = scope(ctx, req)?;
    let body = req.json()?;
    let namespace = body.req_str("namespace")?;
    let query_text = body.req_str("query")?;
    let query = mql::parse(&query_text).map_err(ApiError::invalid)?;
    let end = match body.opt_str("endTime")? {
        Some(t) => parse_time(&t, "endTime")?,
        None => ctx.now,
    };
    let start = match body.opt_str("startTime")? {
        Some(t) => parse_time(&t, "startTime")?,
        None => end - 3 * 3_600_000,
    };
    if start >= end {
        return Err(ApiError::invalid("startTime must be before endTime"));
    }
    if end - start > MAX_RANGE_MS {
        return Err(ApiError::invalid("The time range must not exceed 90 days"));
    }
    let resolution = match body.opt_str("resolution")? {
        Some(r) => Some(mql::parse_interval(&r).map_err(ApiError::invalid)?),
        None => None,
    };
    let end = end.min(ctx.now);
    let streams = streams_for(ctx, &namespace, &compartments, start, end.max(start + 1));
    let series = mql::evaluate(&query, &streams, start, end.max(start + 1), resolution)
        .map_err(ApiError::invalid)?;
    let resolution_text = body.opt_str("resolution")?.unwrap_or_else(|| {
        let m = query.interval_ms / metrics::MINUTE_MS;
        if m % 1440 == 0 {
            format!("{}d", m / 1440)
        } else if m % 60 == 0 {
            format!("{}h", m / 60)
        } else {
            format!("{m}m")
        }
    });
    let items: Vec<Value> = series
        .into_iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| {
            json!({
                "namespace": namespace,
                "compartmentId": s.compartment_id,
                "name": query.metric,
                "dimensions": s.dimensions,
                "metadata": {"unit": s.unit, "displayName": query.metric},
                "resolution": resolution_text,
                "aggregatedDatapoints": s.points.iter().map(|(t, v)| json!({"timestamp": wire::fmt_time(*t), "value": v})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Reply::json(Value::Array(items)))
}

/// POST /metrics/actions/listMetrics
pub(crate) fn list_metrics(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let compartments = scope(ctx, req)?;
    let body = req.json_or_empty()?;
    let name = body.opt_str("name")?;
    let namespace = body.opt_str("namespace")?;
    let filters: BTreeMap<String, String> = body
        .opt_obj("dimensionFilters")?
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|s| (k.clone(), s.to_string()))
                        .ok_or_else(|| {
                            ApiError::invalid(format!("dimensionFilters.{k} must be a string"))
                        })
                })
                .collect::<Result<_, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let group_by: Option<Vec<String>> = body
        .opt_arr("groupBy")?
        .map(|a| {
            a.iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| ApiError::invalid("groupBy must be strings"))
                })
                .collect::<Result<_, _>>()
        })
        .transpose()?;
    let sort_by = body.opt_enum("sortBy", &["NAMESPACE", "NAME", "RESOURCEGROUP"])?;
    let desc = body.opt_enum("sortOrder", &["ASC", "DESC"])?.as_deref() == Some("DESC");
    let start = ctx.now - 14 * 86_400_000;
    let streams: Vec<Stream> = metrics::streams(ctx.st, start, ctx.now)
        .into_iter()
        .filter(|s| compartments.contains(&s.compartment_id))
        .filter(|s| name.as_deref().is_none_or(|n| n == s.def.name))
        .filter(|s| namespace.as_deref().is_none_or(|n| n == s.def.namespace))
        .filter(|s| {
            filters
                .iter()
                .all(|(k, v)| s.dimension(k) == Some(v.as_str()))
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut items = Vec::new();
    for s in &streams {
        let mut m = Map::new();
        let include = |f: &str| group_by.as_ref().is_none_or(|g| g.iter().any(|x| x == f));
        if include("namespace") {
            m.insert("namespace".into(), json!(s.def.namespace));
        }
        if include("name") {
            m.insert("name".into(), json!(s.def.name));
        }
        if group_by.is_none() {
            m.insert("compartmentId".into(), json!(s.compartment_id));
        }
        if group_by.is_none() {
            m.insert("dimensions".into(), json!(s.dimensions));
        } else if let Some(g) = &group_by {
            let d: BTreeMap<&str, &str> = g
                .iter()
                .filter_map(|k| s.dimension(k).map(|v| (k.as_str(), v)))
                .collect();
            if !d.is_empty() {
                m.insert("dimensions".into(), json!(d));
            }
        }
        let key = Value::Object(m.clone()).to_string();
        if seen.insert(key) {
            items.push(Value::Object(m));
        }
    }
    let field = match sort_by.as_deref() {
        Some("NAME") => "name",
        Some("RESOURCEGROUP") => "resourceGroup",
        _ => "namespace",
    };
    items.sort_by(|a, b| {
        let k = |v: &Value| {
            (
                v.get(field)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                v.to_string(),
            )
        };
        let o = k(a).cmp(&k(b));
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    wire::list_reply(req, items)
}
