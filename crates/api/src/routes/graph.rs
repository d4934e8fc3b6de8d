//! Graph analytics (`/api/graph`, `admin:audit`): one typed query kind per
//! request, answered as `{nodes, edges}` for the active organisation.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use portal_core::graph::model::{Edge, GraphAnswer, Node, QueryKind};
use portal_core::graph::service::Query;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GraphQuery {
    /// `blast-radius` (needs `resource`), `exposure`, `orphans`, `usage` or `tool-cooccurrence`.
    #[param(value_type = GraphKind, inline)]
    pub kind: String,
    /// The resource (OCID) whose blast radius to answer (only with `blast-radius`).
    #[param(min_length = 1, max_length = 255)]
    pub resource: Option<String>,
    /// Usage window in days back from now (1–365, default 30; only with
    /// `usage` and `tool-cooccurrence`).
    #[param(minimum = 1, maximum = 365)]
    pub days: Option<i64>,
}

/// The query kinds (documentation only: the handler parses the text to name
/// the valid kinds in its error).
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum GraphKind {
    /// Everything that depends on a resource.
    BlastRadius,
    /// Internet → open ingress rule → subnet → public VNIC → running instance.
    Exposure,
    /// Unattached volumes, empty subnets and VCNs, unused security lists.
    Orphans,
    /// User → tool → resource from the organisation's tool executions.
    Usage,
    /// Tools run by one user within one hour.
    ToolCooccurrence,
}

/// A node.
#[derive(Serialize, ToSchema)]
pub struct GraphNode {
    /// OCID, user, tool name or `internet`.
    pub id: String,
    /// `internet`, `compartment`, `vcn`, `subnet`, `security-list`, `nsg`,
    /// `vnic`, `instance`, `volume`, `load-balancer`, `user`, `tool` or `resource`.
    pub kind: String,
    /// Display name.
    pub label: String,
    /// Facts of the node (lifecycleState, publicIp, openPorts, executions, reason, ...).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub attrs: BTreeMap<String, Value>,
}

impl From<&Node> for GraphNode {
    fn from(n: &Node) -> Self {
        Self {
            id: n.id.clone(),
            kind: n.kind.as_str().into(),
            label: n.label.clone(),
            attrs: n.attrs.clone(),
        }
    }
}

/// An edge.
#[derive(Serialize, ToSchema)]
pub struct GraphEdge {
    /// Source node id.
    pub from: String,
    /// Target node id.
    pub to: String,
    /// `contains`, `guards`, `hosts`, `connects`, `attaches`, `backend`,
    /// `ingress`, `ran`, `touched` or `co-occurs`.
    pub kind: String,
    /// How often (usage edges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
}

impl From<&Edge> for GraphEdge {
    fn from(e: &Edge) -> Self {
        Self {
            from: e.from.clone(),
            to: e.to.clone(),
            kind: serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            count: e.count,
        }
    }
}

/// A query's answer.
#[derive(Serialize, ToSchema)]
pub struct GraphView {
    /// The query kind answered.
    pub kind: String,
    /// Nodes.
    pub nodes: Vec<GraphNode>,
    /// Edges.
    pub edges: Vec<GraphEdge>,
    /// Exposure paths: node ids from `internet` to an instance.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<Vec<String>>,
    /// Counts by node kind (blast radius, exposure, orphans) or the
    /// organisation's impact (usage: executions, users, tools, resources).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub summary: BTreeMap<String, i64>,
}

impl GraphView {
    fn new(kind: QueryKind, a: &GraphAnswer) -> Self {
        Self {
            kind: kind.as_str().into(),
            nodes: a.nodes.iter().map(GraphNode::from).collect(),
            edges: a.edges.iter().map(GraphEdge::from).collect(),
            paths: a.paths.clone(),
            summary: a.summary.clone(),
        }
    }
}

/// Graph analytics of the active organisation (`admin:audit`): resource
/// queries read the cloud through the gateway's read path as the caller (so
/// they also need `tools:execute`, and see only the organisation's
/// compartments), from a snapshot of a few seconds shared by the
/// organisation; the reads write no activity or audit entries.
#[utoipa::path(
    get, path = "/api/graph", operation_id = "queryGraph", tag = "audit", params(GraphQuery),
    responses(
        (status = 200, description = "Nodes and edges", body = GraphView),
        (status = 400, description = "VALIDATION_ERROR (an unknown kind lists the valid ones)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Resource not in the organisation's graph, or no cloud configured", body = ErrorBody),
        (status = 502, description = "CLOUD_ERROR: a read failed", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn query(
    State(state): State<AppState>,
    r: Require<perm::AdminAudit>,
    ApiQuery(q): ApiQuery<GraphQuery>,
) -> Result<Json<GraphView>, ApiError> {
    let kind: QueryKind = q
        .kind
        .parse()
        .map_err(|e: portal_core::graph::model::UnknownKind| {
            ApiError::Validation(format!("query/{e}"))
        })?;
    let query = Query {
        kind,
        resource: q.resource,
        days: q.days,
    };
    let ctx = state.ctx(&r.caller);
    let answer = state.app.graph_query(&ctx, &r.principal, &query).await?;
    Ok(Json(GraphView::new(kind, &answer)))
}
