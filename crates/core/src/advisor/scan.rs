//! One scan: every read the checks need, each made once through the gateway
//! as the run's principal, then every predicate over what came back. A check
//! one of whose reads failed is not evaluated (its findings stay as they are).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use super::check::{fixed_args, Check, Env, Hit, Inputs, Prices, Read};
use super::checks::CHECKS;
use super::model::CheckError;
use crate::error::CoreError;
use crate::identity::Principal;
use crate::service::tools::{self as gateway, GatewayHooks, ToolRunner};
use crate::service::Ctx;

/// What a scan found.
pub struct Scan {
    /// Per evaluated check: its hits.
    pub hits: Vec<(&'static Check, Vec<Hit>)>,
    /// Checks not evaluated, and why.
    pub errors: Vec<CheckError>,
    /// Gateway calls made.
    pub reads: i64,
}

/// The cloud a scan reads.
pub struct Cloud<'a> {
    /// The tool catalogue.
    pub tools: &'a dyn ToolRunner,
    /// Metrics of executions.
    pub hooks: &'a dyn GatewayHooks,
    /// The price list.
    pub prices: &'a dyn Prices,
    /// Each read's deadline.
    pub timeout: Duration,
}

async fn read(
    ctx: &Ctx<'_>,
    cloud: &Cloud<'_>,
    p: &Principal,
    tool: &str,
    args: &Value,
) -> Result<Value, String> {
    let req = gateway::Request {
        name: tool,
        args,
        tool_call_id: None,
        approval_id: None,
    };
    match gateway::execute(ctx, cloud.tools, cloud.hooks, p, req, cloud.timeout).await {
        Ok(done) => Ok(done.result),
        Err(e @ (CoreError::Unavailable | CoreError::Internal(_))) => Err(format!("{tool}: {e}")),
        Err(e) => Err(format!("{tool}: {e}")),
    }
}

/// Runs `checks` (all when `None`) as `p`.
pub async fn scan(
    ctx: &Ctx<'_>,
    cloud: &Cloud<'_>,
    p: &Principal,
    checks: Option<&[&'static Check]>,
) -> Scan {
    let checks: Vec<&'static Check> = checks.map(<[_]>::to_vec).unwrap_or_else(|| CHECKS.clone());
    let mut inputs = Inputs::default();
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    let mut reads = 0;
    // Plain calls first (per-item reads list their items from them).
    let mut calls: Vec<(&str, Value)> = Vec::new();
    for c in &checks {
        for r in c.reads {
            let call = match r {
                Read::Call { tool, args } => (*tool, Value::Object(fixed_args(args))),
                Read::Each { list, .. } => (*list, Value::Object(Map::new())),
            };
            if !calls.contains(&call) {
                calls.push(call);
            }
        }
    }
    for (tool, args) in &calls {
        reads += 1;
        match read(ctx, cloud, p, tool, args).await {
            Ok(v) => inputs.put(tool, args, v),
            Err(e) => {
                failed.insert(format!("{tool}{args}"), e);
            }
        }
    }
    let mut each: Vec<(&str, Value)> = Vec::new();
    for c in &checks {
        for r in c.reads {
            let Read::Each {
                list,
                tool,
                arg,
                field,
                extra,
            } = r
            else {
                continue;
            };
            let items = inputs
                .get(list, &Value::Object(Map::new()))
                .and_then(|v| v.get("items"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for item in items {
                let Some(key) = item.get(*field).and_then(Value::as_str) else {
                    continue;
                };
                let mut a = fixed_args(extra);
                a.insert((*arg).to_string(), Value::from(key));
                let call = (*tool, Value::Object(a));
                if !each.contains(&call) {
                    each.push(call);
                }
            }
        }
    }
    for (tool, args) in &each {
        reads += 1;
        match read(ctx, cloud, p, tool, args).await {
            Ok(v) => inputs.put(tool, args, v),
            Err(e) => {
                failed.insert(format!("{tool}{args}"), e);
            }
        }
    }
    let env = Env {
        inputs: &inputs,
        prices: cloud.prices,
        now: ctx.now,
    };
    let mut out = Scan {
        hits: Vec::new(),
        errors: Vec::new(),
        reads,
    };
    for c in checks {
        if let Some(e) = missing(c, &inputs, &each, &failed) {
            out.errors.push(CheckError {
                check_id: c.id.into(),
                error: e,
            });
            continue;
        }
        out.hits.push((c, (c.predicate)(&env)));
    }
    out
}

/// The first failed read of `c`, if any.
fn missing(
    c: &Check,
    inputs: &Inputs,
    each: &[(&str, Value)],
    failed: &BTreeMap<String, String>,
) -> Option<String> {
    for r in c.reads {
        match r {
            Read::Call { tool, args } => {
                let a = Value::Object(fixed_args(args));
                if !inputs.has(tool, &a) {
                    return failed
                        .get(&format!("{tool}{a}"))
                        .cloned()
                        .or_else(|| Some(format!("{tool}: not read")));
                }
            }
            Read::Each { list, tool, .. } => {
                let l = Value::Object(Map::new());
                if !inputs.has(list, &l) {
                    return failed
                        .get(&format!("{list}{l}"))
                        .cloned()
                        .or_else(|| Some(format!("{list}: not read")));
                }
                for (t, a) in each.iter().filter(|(t, _)| t == tool) {
                    if !inputs.has(t, a) {
                        return failed.get(&format!("{t}{a}")).cloned();
                    }
                }
            }
        }
    }
    None
}
