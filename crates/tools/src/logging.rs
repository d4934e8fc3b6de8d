//! Logging Search over the tenancy's logs.

use http::Method;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{json, Value};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::rest::{hours_back, int, items_of, limit, listed};
use crate::OciTools;

/// The logging tools.
pub(crate) const TOOLS: &[Tool] = &[
    tool!(search_logs, ToolSpec {
        name: "searchLogs",
        category: "logging",
        description: "Search logs with the Logging Search query language over the last hours, e.g. `search \"<compartment OCID>\" | where level = 'ERROR' | sort by datetime desc`.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            Param { name: "query", kind: Kind::Text { max: 2000 }, required: true, description: "Logging Search query", default: None, secret: false },
            Param { name: "hours", kind: Kind::Int { min: 1, max: 336 }, required: false, description: "Window, in hours back from now", default: Some("24"), secret: false },
            Param { name: "limit", kind: Kind::Int { min: 1, max: 500 }, required: false, description: "Most entries", default: Some("50"), secret: false },
        ],
    }),
];

impl OciTools {
    pub(crate) async fn search_logs(&self, args: &Args) -> Outcome {
        let (start, end) = hours_back(int(args, "hours", 24));
        let body = json!({
            "timeStart": start,
            "timeEnd": end,
            "searchQuery": args.get("query").cloned().unwrap_or(Value::Null),
            "isReturnFieldInfo": false,
        });
        let limit_text = limit(args).min(500).to_string();
        let res = self
            .send(
                Method::POST,
                &Service::LOG_SEARCH,
                "/search",
                &[("limit", limit_text.as_str())],
                Some(body),
            )
            .await?;
        Ok(listed(
            items_of(&res.body, "results")
                .into_iter()
                .map(|r| r.get("data").cloned().unwrap_or(r))
                .collect(),
        ))
    }
}
