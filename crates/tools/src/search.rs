//! Resource Search: structured queries and free text across the tenancy.

use http::Method;
use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{json, Map, Value};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::LIMIT;
use crate::rest::{counted, items_of, limit, text};
use crate::OciTools;

/// The search tools.
pub(crate) const TOOLS: &[Tool] = &[
    tool!(search_resources, ToolSpec {
        name: "searchResources",
        category: "search",
        description: "Search resources across the tenancy with OCI's structured query language, e.g. `query instance resources where lifecycleState = 'STOPPED'`.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            Param { name: "query", kind: Kind::Text { max: 1000 }, required: true, description: "Structured search query", default: None, secret: false },
            LIMIT,
        ],
    }),
    tool!(search_resources_by_name, ToolSpec {
        name: "searchResourcesByName",
        category: "search",
        description: "Find resources anywhere in the tenancy whose name or fields contain some text (free-text search).",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            Param { name: "text", kind: Kind::Text { max: 200 }, required: true, description: "Text to look for", default: None, secret: false },
            LIMIT,
        ],
    }),
];

impl OciTools {
    pub(crate) async fn search_resources(&self, args: &Args) -> Outcome {
        self.search(
            args,
            json!({"type": "Structured", "query": text(args, "query")}),
        )
        .await
    }

    pub(crate) async fn search_resources_by_name(&self, args: &Args) -> Outcome {
        self.search(
            args,
            json!({"type": "FreeText", "text": text(args, "text")}),
        )
        .await
    }

    /// Runs one Resource Search query.
    async fn search(&self, args: &Map<String, Value>, body: Value) -> Result<Value, ToolError> {
        let limit_text = limit(args).min(1000).to_string();
        let res = self
            .send(
                Method::POST,
                &Service::RESOURCE_SEARCH,
                "/resources",
                &[("limit", limit_text.as_str())],
                Some(body),
            )
            .await?;
        Ok(counted(
            items_of(&res.body, "items"),
            &[
                "resourceType",
                "identifier",
                "displayName",
                "lifecycleState",
                "compartmentId",
            ],
        ))
    }
}
