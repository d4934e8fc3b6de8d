//! Usage API: RequestSummarizedUsages.
//!
//! Cost and usage are computed, not stored: every billable resource has meters
//! (SKU, unit, hourly quantity and list price) and is charged for the time its
//! lifecycle history shows it in a billable state (instances while RUNNING,
//! volumes while AVAILABLE, Autonomous Databases' ECPUs while AVAILABLE and their
//! storage until terminated, ...). Seeded resources were created weeks before the
//! seed time, so a few weeks of daily cost per service and compartment exist.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::Ctx;
use crate::catalog;
use crate::state::{kind, Res};
use crate::wire::{self, parse_time, time_value, ApiError, BodyExt, Millis, Reply, Req};

const HOUR_MS: Millis = 3_600_000;
const DAY_MS: Millis = 24 * HOUR_MS;

/// One billable meter of a resource.
struct Meter {
    service: &'static str,
    sku_name: String,
    sku_part: &'static str,
    unit: &'static str,
    /// Quantity accrued per hour.
    qty_per_hour: f64,
    /// Cost per hour (USD).
    cost_per_hour: f64,
    /// Lifecycle states in which the meter runs.
    states: &'static [&'static str],
}

fn num(res: &Res, path: &[&str]) -> f64 {
    let mut v = Value::Object(res.body.clone());
    for p in path {
        v = v.get(*p).cloned().unwrap_or(Value::Null);
    }
    v.as_f64().unwrap_or(0.0)
}

fn meters(ctx: &Ctx<'_>, k: &str, res: &Res) -> Vec<Meter> {
    const STORAGE_GB_MONTH: f64 = 0.0255;
    let gb_month_hourly = |gb: f64| gb / 730.0;
    match k {
        kind::INSTANCE => {
            let shape_name = res.str("shape").unwrap_or("");
            let Some(shape) = catalog::shape(shape_name) else {
                return Vec::new();
            };
            let ocpus = num(res, &["shapeConfig", "ocpus"]);
            let mem = num(res, &["shapeConfig", "memoryInGBs"]);
            let mut m = vec![Meter {
                service: "Compute",
                sku_name: format!("{} - OCPU", shape.name),
                sku_part: "B93113",
                unit: "OCPU Hours",
                qty_per_hour: ocpus,
                cost_per_hour: if shape.gpus > 0 {
                    shape.hourly_price(ocpus, mem)
                } else {
                    shape.price_ocpu_hour * ocpus
                },
                states: &["RUNNING"],
            }];
            if shape.price_gb_hour > 0.0 {
                m.push(Meter {
                    service: "Compute",
                    sku_name: format!("{} - Memory", shape.name),
                    sku_part: "B93114",
                    unit: "Gigabyte Hours",
                    qty_per_hour: mem,
                    cost_per_hour: shape.price_gb_hour * mem,
                    states: &["RUNNING"],
                });
            }
            m
        }
        kind::BOOT_VOLUME | kind::VOLUME => {
            let gb = num(res, &["sizeInGBs"]);
            let vpus = num(res, &["vpusPerGB"]);
            let mut m = vec![Meter {
                service: "Block Storage",
                sku_name: "Block Volume - Storage".into(),
                sku_part: "B91961",
                unit: "Gigabyte Storage Capacity Per Month",
                qty_per_hour: gb_month_hourly(gb),
                cost_per_hour: gb_month_hourly(gb) * STORAGE_GB_MONTH,
                states: &["AVAILABLE"],
            }];
            if vpus > 0.0 {
                m.push(Meter {
                    service: "Block Storage",
                    sku_name: "Block Volume - Performance Units".into(),
                    sku_part: "B91962",
                    unit: "Performance Units Per Gigabyte Per Month",
                    qty_per_hour: gb_month_hourly(gb * vpus),
                    cost_per_hour: gb_month_hourly(gb * vpus) * 0.0017,
                    states: &["AVAILABLE"],
                });
            }
            m
        }
        kind::VOLUME_BACKUP => {
            let gb = num(res, &["uniqueSizeInGBs"]);
            vec![Meter {
                service: "Object Storage",
                sku_name: "Object Storage - Storage".into(),
                sku_part: "B91628",
                unit: "Gigabyte Storage Capacity Per Month",
                qty_per_hour: gb_month_hourly(gb),
                cost_per_hour: gb_month_hourly(gb) * STORAGE_GB_MONTH,
                states: &["AVAILABLE"],
            }]
        }
        kind::AUTONOMOUS_DATABASE => {
            if res
                .body
                .get("isFreeTier")
                .and_then(Value::as_bool)
                .unwrap_or(false)
            {
                return Vec::new();
            }
            let ecpus = num(res, &["computeCount"]);
            let tb = num(res, &["dataStorageSizeInTBs"]);
            let dw = res.str("dbWorkload") == Some("DW");
            vec![
                Meter {
                    service: "Autonomous Database",
                    sku_name: if dw {
                        "Oracle Autonomous Data Warehouse - ECPU".into()
                    } else {
                        "Oracle Autonomous Transaction Processing - ECPU".into()
                    },
                    sku_part: if dw { "B95701" } else { "B95702" },
                    unit: "ECPU Per Hour",
                    qty_per_hour: ecpus,
                    cost_per_hour: ecpus * 0.336,
                    states: &["AVAILABLE", "STARTING", "STOPPING"],
                },
                Meter {
                    service: "Autonomous Database",
                    sku_name: "Autonomous Database Storage".into(),
                    sku_part: "B95754",
                    unit: "Gigabyte Storage Capacity Per Month",
                    qty_per_hour: gb_month_hourly(tb * 1024.0),
                    cost_per_hour: gb_month_hourly(tb * 1024.0) * 0.1156,
                    states: &[
                        "PROVISIONING",
                        "AVAILABLE",
                        "STARTING",
                        "STOPPING",
                        "STOPPED",
                    ],
                },
            ]
        }
        kind::LOAD_BALANCER => {
            let mbps = num(res, &["shapeDetails", "minimumBandwidthInMbps"]).max(10.0);
            vec![
                Meter {
                    service: "Load Balancer",
                    sku_name: "Load Balancer Base".into(),
                    sku_part: "B93030",
                    unit: "Load Balancer Hour",
                    qty_per_hour: 1.0,
                    cost_per_hour: 0.0113,
                    states: &["ACTIVE"],
                },
                Meter {
                    service: "Load Balancer",
                    sku_name: "Load Balancer Bandwidth".into(),
                    sku_part: "B93031",
                    unit: "Mbps Per Hour",
                    qty_per_hour: mbps,
                    cost_per_hour: mbps * 0.0001,
                    states: &["ACTIVE"],
                },
            ]
        }
        kind::BUCKET => {
            let bytes: u64 = ctx
                .st
                .objects
                .get(res.id())
                .map_or(0, |o| o.values().map(|x| x.size).sum());
            let gb = bytes as f64 / 1e9;
            vec![Meter {
                service: "Object Storage",
                sku_name: "Object Storage - Storage".into(),
                sku_part: "B91628",
                unit: "Gigabyte Storage Capacity Per Month",
                qty_per_hour: gb_month_hourly(gb),
                cost_per_hour: gb_month_hourly(gb) * STORAGE_GB_MONTH,
                states: &[],
            }]
        }
        _ => Vec::new(),
    }
}

const GROUP_BY: &[&str] = &[
    "service",
    "skuName",
    "skuPartNumber",
    "unit",
    "compartmentName",
    "compartmentPath",
    "compartmentId",
    "platform",
    "region",
    "logicalAd",
    "resourceId",
    "tenantId",
    "tenantName",
];

fn month_start(ms: Millis) -> Millis {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) else {
        return ms;
    };
    let Ok(d) = Date::from_calendar_date(t.year(), t.month(), 1) else {
        return ms;
    };
    PrimitiveDateTime::new(d, Time::MIDNIGHT)
        .assume_utc()
        .unix_timestamp()
        * 1000
}

fn next_month(ms: Millis) -> Millis {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) else {
        return ms + 31 * DAY_MS;
    };
    let (y, m) = if t.month() == Month::December {
        (t.year() + 1, Month::January)
    } else {
        (t.year(), t.month().next())
    };
    Date::from_calendar_date(y, m, 1)
        .map(|d| {
            PrimitiveDateTime::new(d, Time::MIDNIGHT)
                .assume_utc()
                .unix_timestamp()
                * 1000
        })
        .unwrap_or(ms + 31 * DAY_MS)
}

fn buckets(
    granularity: &str,
    start: Millis,
    end: Millis,
    aggregate: bool,
) -> Vec<(Millis, Millis)> {
    if aggregate || granularity == "TOTAL" {
        return vec![(start, end)];
    }
    let mut out = Vec::new();
    let mut t = start;
    while t < end {
        let next = match granularity {
            "HOURLY" => t + HOUR_MS,
            "DAILY" => t + DAY_MS,
            _ => next_month(month_start(t)),
        };
        out.push((t, next.min(end)));
        t = next;
    }
    out
}

/// Evaluate a usage `Filter` against a row's dimensions.
fn filter_matches(
    filter: &Map<String, Value>,
    dims: &BTreeMap<&str, String>,
) -> Result<bool, ApiError> {
    let op = filter
        .opt_enum("operator", &["AND", "NOT", "OR"])?
        .unwrap_or_else(|| "AND".into());
    let mut results = Vec::new();
    for d in filter.opt_arr("dimensions")?.into_iter().flatten() {
        let d = d
            .as_object()
            .ok_or_else(|| ApiError::invalid("filter.dimensions entries must be objects"))?;
        let key = d.req_str("key")?;
        let value = d.req_str("value")?;
        results.push(dims.get(key.as_str()).is_some_and(|v| *v == value));
    }
    if filter.opt_arr("tags")?.is_some_and(|t| !t.is_empty()) {
        return Err(ApiError::invalid(
            "filter.tags is not supported by the emulator",
        ));
    }
    for f in filter.opt_arr("filters")?.into_iter().flatten() {
        let f = f
            .as_object()
            .ok_or_else(|| ApiError::invalid("filter.filters entries must be objects"))?;
        results.push(filter_matches(f, dims)?);
    }
    Ok(match op.as_str() {
        "OR" => results.iter().any(|x| *x),
        "NOT" => !results.iter().any(|x| *x),
        _ => results.iter().all(|x| *x),
    })
}

/// Ancestor of a compartment at `depth` (1 = child of the tenancy).
fn at_depth(ctx: &Ctx<'_>, compartment: &str, depth: usize) -> String {
    let mut chain = vec![compartment.to_string()];
    let mut cur = compartment.to_string();
    for _ in 0..10 {
        if cur == ctx.st.meta.tenancy_id {
            break;
        }
        match ctx
            .st
            .get(kind::COMPARTMENT, &cur)
            .and_then(|c| c.str("compartmentId"))
        {
            Some(p) => {
                cur = p.to_string();
                chain.push(cur.clone());
            }
            None => break,
        }
    }
    chain.reverse(); // tenancy first
    chain
        .get(depth)
        .cloned()
        .unwrap_or_else(|| compartment.to_string())
}

/// Accumulated (quantity, cost, dimensions) of one output row.
type Row<'a> = (f64, f64, BTreeMap<&'a str, String>);

/// POST /usage
pub(crate) fn request_summarized_usages(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let tenant = body.req_str("tenantId")?;
    if tenant != ctx.st.meta.tenancy_id {
        return Err(ApiError::not_found(format!("tenancy {tenant}")));
    }
    let start = parse_time(&body.req_str("timeUsageStarted")?, "timeUsageStarted")?;
    let end = parse_time(&body.req_str("timeUsageEnded")?, "timeUsageEnded")?;
    let granularity = body
        .opt_enum("granularity", &["HOURLY", "DAILY", "MONTHLY", "TOTAL"])?
        .ok_or_else(|| ApiError::missing("granularity"))?;
    let query_type = body
        .opt_enum(
            "queryType",
            &[
                "USAGE",
                "COST",
                "CREDIT",
                "EXPIREDCREDIT",
                "ALLCREDIT",
                "USAGE_ONLY",
            ],
        )?
        .unwrap_or_else(|| "COST".into());
    if !matches!(query_type.as_str(), "USAGE" | "COST" | "USAGE_ONLY") {
        return Err(ApiError::invalid(format!(
            "queryType {query_type} is not supported by the emulator (no credits exist)"
        )));
    }
    if body.opt_obj("forecast")?.is_some() {
        return Err(ApiError::invalid(
            "forecast is not supported by the emulator",
        ));
    }
    if body.opt_arr("groupByTag")?.is_some_and(|t| !t.is_empty()) {
        return Err(ApiError::invalid(
            "groupByTag is not supported by the emulator",
        ));
    }
    let precision = if granularity == "HOURLY" {
        HOUR_MS
    } else {
        DAY_MS
    };
    if start % precision != 0 || end % precision != 0 {
        return Err(ApiError::invalid(format!(
            "timeUsageStarted and timeUsageEnded must be at {} precision for {granularity} granularity (e.g. 2024-05-01T00:00:00.000Z)",
            if granularity == "HOURLY" { "hour" } else { "midnight (day)" }
        )));
    }
    if start >= end {
        return Err(ApiError::invalid(
            "timeUsageStarted must be before timeUsageEnded",
        ));
    }
    let max_range = if granularity == "HOURLY" {
        31 * DAY_MS
    } else {
        366 * DAY_MS
    };
    if end - start > max_range {
        return Err(ApiError::invalid(format!(
            "The time range is too long for {granularity} granularity"
        )));
    }
    let group_by: Vec<String> = body
        .opt_arr("groupBy")?
        .map(|a| {
            a.iter()
                .map(|v| match v.as_str() {
                    Some(s) if GROUP_BY.contains(&s) => Ok(s.to_string()),
                    _ => Err(ApiError::invalid(format!(
                        "groupBy values must be among {}, got {v}",
                        GROUP_BY.join(", ")
                    ))),
                })
                .collect::<Result<_, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let depth = body
        .opt_f64("compartmentDepth")?
        .map(|d| d.max(1.0) as usize);
    let aggregate = body.opt_bool("isAggregateByTime")?.unwrap_or(false);
    let filter = body.opt_obj("filter")?.cloned();
    let windows = buckets(&granularity, start, end, aggregate);

    let tenancy = ctx.tenancy();
    let tenant_name = ctx.st.meta.tenancy_name.clone();
    let region = ctx.region();
    // (window, group key) -> (qty, cost, unit, dims)
    let mut rows: BTreeMap<(Millis, Vec<String>), Row<'_>> = BTreeMap::new();
    let kinds = [
        kind::INSTANCE,
        kind::BOOT_VOLUME,
        kind::VOLUME,
        kind::VOLUME_BACKUP,
        kind::AUTONOMOUS_DATABASE,
        kind::LOAD_BALANCER,
        kind::BUCKET,
    ];
    for k in kinds {
        for res in ctx.st.all(k) {
            let compartment = res.str("compartmentId").unwrap_or("").to_string();
            let compartment = depth.map_or(compartment.clone(), |d| at_depth(ctx, &compartment, d));
            for meter in meters(ctx, k, res) {
                let mut dims: BTreeMap<&str, String> = BTreeMap::new();
                dims.insert("service", meter.service.to_string());
                dims.insert("skuName", meter.sku_name.clone());
                dims.insert("skuPartNumber", meter.sku_part.to_string());
                dims.insert("unit", meter.unit.to_string());
                dims.insert("compartmentId", compartment.clone());
                dims.insert("compartmentName", ctx.st.compartment_name(&compartment));
                dims.insert("compartmentPath", ctx.st.compartment_path(&compartment));
                dims.insert("region", region.clone());
                dims.insert(
                    "logicalAd",
                    res.str("availabilityDomain").unwrap_or("").to_string(),
                );
                dims.insert("resourceId", res.id().to_string());
                dims.insert("tenantId", tenancy.clone());
                dims.insert("tenantName", tenant_name.clone());
                dims.insert("platform", String::new());
                if let Some(f) = &filter {
                    if !filter_matches(f, &dims)? {
                        continue;
                    }
                }
                let key: Vec<String> = group_by
                    .iter()
                    .map(|g| dims.get(g.as_str()).cloned().unwrap_or_default())
                    .collect();
                for (ws, we) in &windows {
                    let hours: f64 = if meter.states.is_empty() {
                        // Always-on meters (bucket storage) run from creation.
                        let created = res
                            .str("timeCreated")
                            .and_then(|t| parse_time(t, "").ok())
                            .unwrap_or(*ws);
                        ((*we).min(ctx.now) - (*ws).max(created)).max(0) as f64 / HOUR_MS as f64
                    } else {
                        res.lc
                            .periods_in(meter.states, *ws, (*we).min(ctx.now))
                            .iter()
                            .map(|(a, b)| (b - a) as f64 / HOUR_MS as f64)
                            .sum()
                    };
                    if hours <= 0.0 {
                        continue;
                    }
                    let entry = rows
                        .entry((*ws, key.clone()))
                        .or_insert_with(|| (0.0, 0.0, dims.clone()));
                    entry.0 += hours * meter.qty_per_hour;
                    entry.1 += hours * meter.cost_per_hour;
                }
            }
        }
    }
    let mut items = Vec::new();
    for ((ws, _), (qty, cost, dims)) in rows {
        let we = windows.iter().find(|w| w.0 == ws).map_or(end, |w| w.1);
        let mut m = Map::new();
        m.insert("timeUsageStarted".into(), time_value(ws));
        m.insert("timeUsageEnded".into(), time_value(we));
        m.insert(
            "computedAmount".into(),
            json!((cost * 10_000.0).round() / 10_000.0),
        );
        m.insert(
            "computedQuantity".into(),
            json!((qty * 10_000.0).round() / 10_000.0),
        );
        m.insert("currency".into(), json!("USD"));
        m.insert("isForecast".into(), json!(false));
        for g in &group_by {
            let field = if g == "logicalAd" { "ad" } else { g.as_str() };
            m.insert(
                field.into(),
                json!(dims.get(g.as_str()).cloned().unwrap_or_default()),
            );
        }
        if !group_by.iter().any(|g| g == "unit")
            && group_by
                .iter()
                .any(|g| g == "skuName" || g == "skuPartNumber")
        {
            m.insert("unit".into(), json!(dims.get("unit")));
        }
        items.push(Value::Object(m));
    }
    wire::collection_reply(
        req,
        items,
        1000,
        |page, _| json!({ "groupBy": group_by, "items": page }),
    )
}
