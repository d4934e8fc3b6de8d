//! Logging Search: SearchLogs over the stored log entries (seeded syslog-style
//! entries of the demo resources plus an audit entry for every mutation).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::Ctx;
use crate::logquery;
use crate::wire::{self, parse_time, ApiError, BodyExt, Reply, Req};

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, &'static str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        Value::Array(_) => {
            out.insert(prefix.to_string(), "ARRAY");
        }
        Value::Number(_) => {
            out.insert(prefix.to_string(), "NUMBER");
        }
        Value::Bool(_) => {
            out.insert(prefix.to_string(), "BOOLEAN");
        }
        _ => {
            out.insert(prefix.to_string(), "STRING");
        }
    }
}

/// POST /search
pub(crate) fn search_logs(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let start = parse_time(&body.req_str("timeStart")?, "timeStart")?;
    let end = parse_time(&body.req_str("timeEnd")?, "timeEnd")?;
    let query_text = body.req_str("searchQuery")?;
    let field_info = body.opt_bool("isReturnFieldInfo")?.unwrap_or(false);
    if start >= end {
        return Err(ApiError::invalid("timeStart must be before timeEnd"));
    }
    let query = logquery::parse(&query_text).map_err(ApiError::invalid)?;
    let mut compartments = Vec::new();
    for s in &query.sources {
        ctx.require_compartment(&s.compartment)?;
        compartments.extend(ctx.st.compartment_subtree(&s.compartment));
    }
    let records = crate::logs::entries(ctx.st, start, end, ctx.now);
    let mut hits: Vec<(i64, &Value)> = records
        .iter()
        .filter(|r| compartments.contains(&r.compartment_id))
        .filter(|r| {
            query.sources.iter().any(|s| {
                s.log_group.as_deref().is_none_or(|g| {
                    logquery::field_text(&r.content, r.datetime, "oracle.loggroupid").as_deref()
                        == Some(g)
                }) && s.log.as_deref().is_none_or(|l| {
                    logquery::field_text(&r.content, r.datetime, "oracle.logid").as_deref()
                        == Some(l)
                })
            })
        })
        .filter(|r| {
            query
                .filters
                .iter()
                .all(|f| f.matches(&r.content, r.datetime))
        })
        .map(|r| (r.datetime, &r.content))
        .collect();
    let (field, desc) = &query.sort;
    hits.sort_by(|a, b| {
        let o = if field.eq_ignore_ascii_case("datetime") {
            a.0.cmp(&b.0)
        } else {
            logquery::field_text(a.1, a.0, field).cmp(&logquery::field_text(b.1, b.0, field))
        };
        if *desc {
            o.reverse()
        } else {
            o
        }
    });
    let results: Vec<Value> = hits
        .iter()
        .map(|(t, c)| json!({"data": {"datetime": t, "logContent": c}}))
        .collect();
    let (page, next) = wire::paginate(req, results, 100)?;
    let mut resp = json!({
        "results": page,
        "summary": {"resultCount": page.len(), "fieldCount": 0},
    });
    if field_info {
        let mut fields = BTreeMap::new();
        for r in &page {
            if let Some(c) = r.pointer("/data/logContent") {
                flatten("", c, &mut fields);
            }
        }
        resp["summary"]["fieldCount"] = json!(fields.len());
        resp["fields"] = json!(fields
            .iter()
            .map(|(k, t)| json!({"fieldName": k, "fieldType": t}))
            .collect::<Vec<_>>());
    }
    let mut reply = Reply::json(resp);
    if let Some(n) = next {
        reply = reply.header("opc-next-page", n);
    }
    Ok(reply)
}
