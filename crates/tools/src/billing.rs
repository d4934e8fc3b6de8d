//! Cost from the Usage API: per compartment, and per service and day.

use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{json, Value};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::DAYS;
use crate::rest::{int, items_of, pick};
use crate::OciTools;

/// The billing tools.
pub(crate) const TOOLS: &[Tool] = &[
    tool!(get_cost_by_compartment, ToolSpec {
        name: "getCostByCompartment",
        category: "billing",
        description: "Total cost per compartment over the last N days (Usage API). Present as a table sorted by cost, with the currency.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[DAYS],
    }),
    tool!(get_usage_cost, ToolSpec {
        name: "getUsageCost",
        category: "billing",
        description: "Daily cost per service over the last N days (Usage API). Summarize the trend and the top services.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[DAYS],
    }),
];

impl OciTools {
    pub(crate) async fn get_cost_by_compartment(&self, args: &Args) -> Outcome {
        let (mut l, from, to) = self
            .usage(int(args, "days", 30), "TOTAL", "compartmentName")
            .await?;
        l.sort_by(|a, b| {
            let f = |v: &Value| {
                v.get("computedAmount")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
            };
            f(b).total_cmp(&f(a))
        });
        Ok(cost(
            l,
            &["compartmentName", "computedAmount", "currency"],
            from,
            to,
        ))
    }

    pub(crate) async fn get_usage_cost(&self, args: &Args) -> Outcome {
        let (l, from, to) = self
            .usage(int(args, "days", 30), "DAILY", "service")
            .await?;
        Ok(cost(
            l,
            &["timeUsageStarted", "service", "computedAmount", "currency"],
            from,
            to,
        ))
    }

    /// Cost over the last `days` from the Usage API: `(items, from, to)`.
    async fn usage(
        &self,
        days: i64,
        granularity: &str,
        group_by: &str,
    ) -> Result<(Vec<Value>, String, String), ToolError> {
        let today = time::OffsetDateTime::now_utc().date();
        let fmt = |d: time::Date| format!("{d}T00:00:00Z");
        let start = today - time::Duration::days(days);
        let body = json!({
            "tenantId": self.tenancy,
            "timeUsageStarted": fmt(start),
            "timeUsageEnded": fmt(today),
            "granularity": granularity,
            "queryType": "COST",
            "groupBy": [group_by],
        });
        let res = self.post(&Service::USAGE_API, "/usage", Some(body)).await?;
        Ok((items_of(&res, "items"), fmt(start), fmt(today)))
    }
}

/// A cost tool's result: the items cut to `fields`, their count and the window.
fn cost(l: Vec<Value>, fields: &[&str], from: String, to: String) -> Value {
    let n = l.len();
    let items: Vec<Value> = l.iter().map(|i| pick(i, fields)).collect();
    json!({"items": items, "count": n, "from": from, "to": to})
}
