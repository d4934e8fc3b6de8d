//! Monitoring: metrics (MQL) and alarms.

use http::Method;
use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{json, Value};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::{get_tool, list_tool, ANY_COMPARTMENT, COMPARTMENT, LIMIT};
use crate::rest::{array_of, counted, hours_back, int, limit, listed, text};
use crate::OciTools;

/// The arguments of an MQL query (getMetrics and its reference name, summarizeMetrics).
const METRIC_QUERY: &[Param] = &[
    COMPARTMENT,
    Param {
        name: "namespace",
        kind: Kind::Enum(&["oci_computeagent", "oci_autonomous_database", "oci_lbaas"]),
        required: true,
        description: "Metric namespace",
        default: None,
        secret: false,
    },
    Param {
        name: "query",
        kind: Kind::Text { max: 1000 },
        required: true,
        description: "MQL query",
        default: None,
        secret: false,
    },
    Param {
        name: "hours",
        kind: Kind::Int { min: 1, max: 336 },
        required: false,
        description: "Window, in hours back from now (up to 14 days)",
        default: Some("1"),
        secret: false,
    },
];

/// The observability tools.
pub(crate) const TOOLS: &[Tool] = &[
    tool!(get_alarm, get_tool!("getAlarm", "observability", "Get one alarm: its MQL query, severity, destinations.", "alarmId", "alarm")),
    tool!(get_metrics, ToolSpec {
        name: "getMetrics",
        category: "observability",
        description: "Summarize monitoring metrics with an MQL query over the last hours, e.g. namespace oci_computeagent, query `CpuUtilization[5m].mean()`.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: METRIC_QUERY,
    }),
    tool!(summarize_metrics, ToolSpec {
        name: "summarizeMetrics",
        category: "observability",
        description: "Summarize any monitoring metric with an MQL query over the last hours (the reference portal's name for getMetrics), e.g. namespace oci_autonomous_database, query `CpuUtilization[1h].max()`.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: METRIC_QUERY,
    }),
    tool!(get_compute_metrics, ToolSpec {
        name: "getComputeMetrics",
        category: "observability",
        description: "CPU and memory utilization of the compute instances in a compartment over the last hours (5-minute means). Point out instances above 80 %.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            COMPARTMENT,
            Param { name: "metric", kind: Kind::Enum(&["CpuUtilization", "MemoryUtilization"]), required: false, description: "Which metric", default: Some("\"CpuUtilization\""), secret: false },
            Param { name: "hours", kind: Kind::Int { min: 1, max: 168 }, required: false, description: "Window, in hours", default: Some("1"), secret: false },
        ],
    }),
    tool!(list_metric_namespaces, list_tool!("listMetricNamespaces", "observability", "List the metric names and namespaces emitted in a compartment (to write MQL queries).", [COMPARTMENT])),
    tool!(list_alarms, list_tool!("listAlarms", "observability", "List monitoring alarms in a compartment with severity and whether they are enabled.", [ANY_COMPARTMENT, LIMIT])),
    tool!(get_alarm_status, list_tool!("getAlarmStatus", "observability", "Show the current status (FIRING or OK) of the alarms in a compartment. Lead with anything FIRING.", [ANY_COMPARTMENT, LIMIT])),
];

impl OciTools {
    pub(crate) async fn get_metrics(&self, args: &Args) -> Outcome {
        self.metrics_query(args).await
    }

    pub(crate) async fn summarize_metrics(&self, args: &Args) -> Outcome {
        self.metrics_query(args).await
    }

    /// The metrics of the `namespace` and `query` arguments.
    async fn metrics_query(&self, args: &Args) -> Outcome {
        let c = self.compartment(args);
        let hours = int(args, "hours", 1);
        let given = |f: &str| args.get(f).cloned().unwrap_or(Value::Null);
        self.metrics(c, given("namespace"), given("query"), hours)
            .await
    }

    pub(crate) async fn get_compute_metrics(&self, args: &Args) -> Outcome {
        let c = self.compartment(args);
        let hours = int(args, "hours", 1);
        let metric = args
            .get("metric")
            .and_then(Value::as_str)
            .unwrap_or("CpuUtilization");
        let query = format!("{metric}[5m].mean()");
        self.metrics(c, json!("oci_computeagent"), json!(query), hours)
            .await
    }

    pub(crate) async fn list_metric_namespaces(&self, args: &Args) -> Outcome {
        let c = self.compartment(args);
        let res = self
            .send(
                Method::POST,
                &Service::MONITORING,
                "/metrics/actions/listMetrics",
                &[("compartmentId", c)],
                Some(json!({"groupBy": ["namespace", "name"]})),
            )
            .await?;
        Ok(counted(array_of(res.body), &["namespace", "name"]))
    }

    pub(crate) async fn get_alarm(&self, args: &Args) -> Outcome {
        self.get(
            &Service::MONITORING,
            &format!("/alarms/{}", text(args, "alarmId")),
        )
        .await
    }

    pub(crate) async fn list_alarms(&self, args: &Args) -> Outcome {
        self.alarms(
            args,
            "/alarms",
            &[
                "id",
                "displayName",
                "severity",
                "isEnabled",
                "namespace",
                "query",
                "lifecycleState",
            ],
        )
        .await
    }

    pub(crate) async fn get_alarm_status(&self, args: &Args) -> Outcome {
        self.alarms(
            args,
            "/alarms/status",
            &[
                "id",
                "displayName",
                "severity",
                "status",
                "timestampTriggered",
            ],
        )
        .await
    }

    /// A compartment's alarms (or their status), cut to `fields`.
    async fn alarms(&self, args: &Args, path: &str, fields: &[&str]) -> Outcome {
        let c = self.compartment(args);
        self.list_projected(
            &Service::MONITORING,
            path,
            &[("compartmentId", c)],
            limit(args),
            fields,
        )
        .await
    }

    /// SummarizeMetricsData over the last `hours`: each series with its last
    /// 20 aggregated datapoints.
    async fn metrics(
        &self,
        compartment: &str,
        namespace: Value,
        query: Value,
        hours: i64,
    ) -> Result<Value, ToolError> {
        let (start, end) = hours_back(hours);
        let body = json!({
            "namespace": namespace,
            "query": query,
            "startTime": start,
            "endTime": end,
        });
        let res = self
            .send(
                Method::POST,
                &Service::MONITORING,
                "/metrics/actions/summarizeMetricsData",
                &[("compartmentId", compartment)],
                Some(body),
            )
            .await?;
        let series: Vec<Value> = array_of(res.body)
            .into_iter()
            .map(|m| {
                let points = m.get("aggregatedDatapoints").and_then(Value::as_array).cloned().unwrap_or_default();
                let tail: Vec<Value> = points.iter().rev().take(20).rev().cloned().collect();
                json!({"name": m.get("name"), "dimensions": m.get("dimensions"), "datapoints": tail})
            })
            .collect();
        Ok(listed(series))
    }
}
