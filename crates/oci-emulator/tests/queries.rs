//! Query languages: MQL (SummarizeMetricsData, alarms), Logging Search,
//! Resource Search, and the Usage API, including their 400s.

mod common;

use common::{service_error, start};
use portal_oci::Service;
use serde_json::{json, Value};

const MON: &Service = &Service::MONITORING;

fn iso(ms: i64) -> String {
    portal_oci_emulator::wire::fmt_time(ms)
}

fn now_ms() -> i64 {
    portal_oci_emulator::wire::now_ms()
}

#[tokio::test]
async fn summarize_metrics_data_with_mql() {
    let t = start(0).await;
    let prod = t.compartment("Production").await;
    let end = now_ms() / 60_000 * 60_000;
    let body = |q: &str, start: i64| json!({"namespace": "oci_computeagent", "query": q, "startTime": iso(start), "endTime": iso(end)});
    // One series per running instance in Production (web-01, web-02), 1-minute points.
    let r = t
        .post(
            MON,
            "/metrics/actions/summarizeMetricsData",
            &[("compartmentId", &prod)],
            Some(body("CpuUtilization[1m].mean()", end - 3_600_000)),
        )
        .await
        .unwrap();
    let series = r.body.as_array().unwrap();
    assert_eq!(series.len(), 2);
    let pts = series[0]["aggregatedDatapoints"].as_array().unwrap();
    assert_eq!(pts.len(), 60);
    assert!(pts
        .iter()
        .all(|p| (0.0..=100.0).contains(&p["value"].as_f64().unwrap())));
    assert_eq!(series[0]["name"], "CpuUtilization");
    assert!(series[0]["dimensions"]["resourceId"]
        .as_str()
        .unwrap()
        .starts_with("ocid1.instance."));
    // Deterministic: the same query gives the same numbers.
    let again = t
        .post(
            MON,
            "/metrics/actions/summarizeMetricsData",
            &[("compartmentId", &prod)],
            Some(body("CpuUtilization[1m].mean()", end - 3_600_000)),
        )
        .await
        .unwrap();
    assert_eq!(again.body, r.body);
    // Dimension filter + max over 1h windows, subtree includes prod-apps.
    let web01 = series
        .iter()
        .find(|s| s["dimensions"]["resourceDisplayName"] == "web-01")
        .unwrap()["dimensions"]["resourceId"]
        .as_str()
        .unwrap()
        .to_string();
    let q = format!("CpuUtilization[1h]{{resourceId = \"{web01}\"}}.max()");
    let one = t
        .post(
            MON,
            "/metrics/actions/summarizeMetricsData",
            &[("compartmentId", &prod)],
            Some(body(&q, end - 24 * 3_600_000)),
        )
        .await
        .unwrap();
    assert_eq!(one.body.as_array().unwrap().len(), 1);
    assert!(
        one.body[0]["aggregatedDatapoints"]
            .as_array()
            .unwrap()
            .len()
            >= 24
    );
    let grouped = t
        .post(
            MON,
            "/metrics/actions/summarizeMetricsData",
            &[("compartmentId", &prod), ("compartmentIdInSubtree", "true")],
            Some(body(
                "MemoryUtilization[5m].grouping().count()",
                end - 3_600_000,
            )),
        )
        .await
        .unwrap();
    let g = grouped.body.as_array().unwrap();
    assert_eq!(g.len(), 1);
    // Three running instances in the subtree, five 1-minute samples each per window.
    let counts: Vec<f64> = g[0]["aggregatedDatapoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert!(counts.contains(&15.0), "{counts:?}");
    assert!(counts.iter().all(|c| *c <= 15.0));
    // The stopped dev-box has data before it was stopped 3 days ago, none since.
    let dev = t.compartment("Development").await;
    let recent = t
        .post(
            MON,
            "/metrics/actions/summarizeMetricsData",
            &[("compartmentId", &dev)],
            Some(body(
                "CpuUtilization[1h].groupBy(resourceDisplayName).mean()",
                end - 24 * 3_600_000,
            )),
        )
        .await
        .unwrap();
    let names: Vec<&str> = recent
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["dimensions"]["resourceDisplayName"].as_str())
        .collect();
    assert_eq!(names, vec!["build-runner"]);
    let week = t
        .post(
            MON,
            "/metrics/actions/summarizeMetricsData",
            &[("compartmentId", &dev)],
            Some(body(
                "CpuUtilization[1d].groupBy(resourceDisplayName).mean()",
                end - 7 * 86_400_000,
            )),
        )
        .await
        .unwrap();
    assert_eq!(week.body.as_array().unwrap().len(), 2);

    // Invalid MQL and parameters are 400s naming the problem.
    for (q, needle) in [
        ("CpuUtilization.mean()", "position"),
        ("CpuUtilization[1m].median()", "median"),
        ("CpuUtilization[2d].mean()", "interval"),
        ("CpuUtilization[1m]{resourceId = x}.mean()", "quoted"),
    ] {
        let (s, code, msg) = service_error(
            t.post(
                MON,
                "/metrics/actions/summarizeMetricsData",
                &[("compartmentId", &prod)],
                Some(body(q, end - 3_600_000)),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!((s, code.as_str()), (400, "InvalidParameter"), "{q}");
        assert!(msg.contains(needle), "{q}: {msg}");
    }
    let (s, _, msg) = service_error(
        t.post(
            MON,
            "/metrics/actions/summarizeMetricsData",
            &[("compartmentId", &prod)],
            Some(json!({"namespace": "oci_computeagent"})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("query"));
    let (s, _, _) = service_error(
        t.post(MON, "/metrics/actions/summarizeMetricsData", &[("compartmentId", &prod)], Some(json!({"namespace": "oci_computeagent", "query": "CpuUtilization[1m].mean()", "startTime": "yesterday"}))).await.unwrap_err(),
    );
    assert_eq!(s, 400);
}

#[tokio::test]
async fn alarms_and_metric_listing() {
    let t = start(0).await;
    let prod = t.compartment("Production").await;
    let alarms = t
        .list_all(MON, "/alarms", &[("compartmentId", &prod)])
        .await;
    assert_eq!(alarms.len(), 3);
    assert!(
        alarms[0].get("body").is_none(),
        "summaries omit full-alarm fields"
    );
    let full = t
        .get(
            MON,
            &format!("/alarms/{}", alarms[0]["id"].as_str().unwrap()),
            &[],
        )
        .await
        .unwrap();
    assert!(full.body["pendingDuration"].is_string());
    let status = t
        .list_all(MON, "/alarms/status", &[("compartmentId", &prod)])
        .await;
    assert_eq!(status.len(), 3);
    for s in &status {
        assert!(matches!(s["status"].as_str(), Some("FIRING" | "OK")), "{s}");
    }
    // The status filter partitions the set.
    let firing = t
        .list_all(
            MON,
            "/alarms/status",
            &[("compartmentId", &prod), ("status", "FIRING")],
        )
        .await;
    let ok = t
        .list_all(
            MON,
            "/alarms/status",
            &[("compartmentId", &prod), ("status", "OK")],
        )
        .await;
    assert_eq!(firing.len() + ok.len(), 3);

    let metrics = t
        .post(
            MON,
            "/metrics/actions/listMetrics",
            &[("compartmentId", &prod), ("compartmentIdInSubtree", "true")],
            Some(json!({"groupBy": ["namespace"]})),
        )
        .await
        .unwrap();
    let namespaces: Vec<&str> = metrics
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["namespace"].as_str())
        .collect();
    assert!(namespaces.contains(&"oci_computeagent"));
    assert!(namespaces.contains(&"oci_autonomous_database"));
    assert!(namespaces.contains(&"oci_lbaas"));
    let cpu = t
        .post(
            MON,
            "/metrics/actions/listMetrics",
            &[("compartmentId", &prod)],
            Some(json!({"name": "CpuUtilization", "namespace": "oci_computeagent"})),
        )
        .await
        .unwrap();
    assert_eq!(cpu.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn log_search() {
    let t = start(0).await;
    let tenancy = t.tenancy();
    let prod = t.compartment("Production").await;
    let end = now_ms() + 60_000;
    let search = |q: String, hours: i64| json!({"timeStart": iso(end - hours * 3_600_000), "timeEnd": iso(end), "searchQuery": q, "isReturnFieldInfo": true});
    let all = t
        .post(
            &Service::LOG_SEARCH,
            "/search",
            &[("limit", "1000")],
            Some(search(
                format!("search \"{prod}\" | sort by datetime desc"),
                24,
            )),
        )
        .await
        .unwrap();
    let results = all.body["results"].as_array().unwrap();
    assert!(results.len() > 20, "{}", results.len());
    assert_eq!(all.body["summary"]["resultCount"], results.len());
    assert!(all.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["fieldName"] == "data.level"));
    let times: Vec<i64> = results
        .iter()
        .map(|r| r["data"]["datetime"].as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "sorted newest first"
    );
    // where clause on a field.
    let errors = t
        .post(
            &Service::LOG_SEARCH,
            "/search",
            &[("limit", "1000")],
            Some(search(
                format!(
                    "search \"{tenancy}\" | where data.level = 'ERROR' | sort by datetime desc"
                ),
                7 * 24,
            )),
        )
        .await
        .unwrap();
    let errs = errors.body["results"].as_array().unwrap();
    assert!(!errs.is_empty());
    assert!(errs
        .iter()
        .all(|r| r["data"]["logContent"]["data"]["level"] == "ERROR"));
    // Mutations are audited and searchable.
    let web = t
        .list_all(
            &Service::COMPUTE,
            "/instances",
            &[("compartmentId", &prod), ("displayName", "web-02")],
        )
        .await;
    let id = web[0]["id"].as_str().unwrap();
    t.post(
        &Service::COMPUTE,
        &format!("/instances/{id}"),
        &[("action", "SOFTRESET")],
        None,
    )
    .await
    .unwrap();
    let audit = t
        .post(&Service::LOG_SEARCH, "/search", &[], Some(search(format!("search \"{prod}\" | type = 'com.oraclecloud.ComputeApi.InstanceAction' and subject = '{id}'"), 1)))
        .await
        .unwrap();
    assert_eq!(audit.body["results"].as_array().unwrap().len(), 1);
    // Pagination with limit.
    let page = t
        .post(
            &Service::LOG_SEARCH,
            "/search",
            &[("limit", "5")],
            Some(search(format!("search \"{prod}\""), 24)),
        )
        .await
        .unwrap();
    assert_eq!(page.body["results"].as_array().unwrap().len(), 5);
    assert!(page.opc_next_page.is_some());
    // 400s.
    for q in [
        "find everything".to_string(),
        format!("search \"{prod}\" | where data.level ="),
        format!("search \"{prod}\" | sort datetime"),
    ] {
        let (s, code, _) = service_error(
            t.post(
                &Service::LOG_SEARCH,
                "/search",
                &[],
                Some(search(q.clone(), 1)),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!((s, code.as_str()), (400, "InvalidParameter"), "{q}");
    }
    let (s, _, _) = service_error(
        t.post(
            &Service::LOG_SEARCH,
            "/search",
            &[],
            Some(search("search \"ocid1.compartment.oc1..nope\"".into(), 1)),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s, 404);
}

#[tokio::test]
async fn resource_search() {
    let t = start(0).await;
    let rs = &Service::RESOURCE_SEARCH;
    let running = t
        .post(rs, "/resources", &[("limit", "100")], Some(json!({"type": "Structured", "query": "query instance resources where lifecycleState = 'RUNNING'", "matchingContextType": "NONE"})))
        .await
        .unwrap();
    let items = running.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(items
        .iter()
        .all(|i| i["resourceType"] == "Instance" && i["lifecycleState"] == "RUNNING"));
    let web = t
        .post(rs, "/resources", &[], Some(json!({"type": "Structured", "query": "query all resources where displayName =~ 'web' && freeformTags.tier = 'web'"})))
        .await
        .unwrap();
    let names: Vec<&str> = web.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["displayName"].as_str())
        .collect();
    assert!(
        names.contains(&"web-01") && names.contains(&"web-02"),
        "{names:?}"
    );
    let quoted = t
        .post(rs, "/resources", &[], Some(json!({"type": "Structured", "query": "query bucket resources where displayName = 'prod-assets'"})))
        .await
        .unwrap();
    assert_eq!(quoted.body["items"].as_array().unwrap().len(), 1);
    let by_attr = t
        .post(rs, "/resources", &[], Some(json!({"type": "Structured", "query": "query instance, autonomousdatabase resources where shape = 'VM.Standard.A1.Flex' || dbWorkload = 'DW'"})))
        .await
        .unwrap();
    assert_eq!(by_attr.body["items"].as_array().unwrap().len(), 2);
    let free = t
        .post(
            rs,
            "/resources",
            &[],
            Some(json!({"type": "FreeText", "text": "salesdb"})),
        )
        .await
        .unwrap();
    let hits = free.body["items"].as_array().unwrap();
    assert!(hits
        .iter()
        .any(|i| i["resourceType"] == "AutonomousDatabase"));
    assert!(hits
        .iter()
        .all(|i| i["displayName"].as_str().unwrap().contains("salesdb")));
    let paged = t
        .post(
            rs,
            "/resources",
            &[("limit", "2")],
            Some(json!({"type": "Structured", "query": "query all resources"})),
        )
        .await
        .unwrap();
    assert_eq!(paged.body["items"].as_array().unwrap().len(), 2);
    assert!(paged.opc_next_page.is_some());
    for q in [
        "select * from instances",
        "query instance resources where",
        "query spaceship resources",
        "query instance resources where displayName = web",
    ] {
        let (s, code, _) = service_error(
            t.post(
                rs,
                "/resources",
                &[],
                Some(json!({"type": "Structured", "query": q})),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!((s, code.as_str()), (400, "InvalidParameter"), "{q}");
    }
    let (s, _, msg) = service_error(
        t.post(rs, "/resources", &[], Some(json!({"type": "FreeText"})))
            .await
            .unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("text"));
}

#[tokio::test]
async fn summarized_usage() {
    let t = start(0).await;
    let tenancy = t.tenancy();
    let day = 86_400_000;
    let end = (now_ms() / day + 1) * day;
    let start = end - 30 * day;
    let req = |granularity: &str, group: Value| json!({"tenantId": tenancy, "timeUsageStarted": iso(start), "timeUsageEnded": iso(end), "granularity": granularity, "groupBy": group, "queryType": "COST"});
    let by_service = t
        .post(
            &Service::USAGE_API,
            "/usage",
            &[],
            Some(req("TOTAL", json!(["service"]))),
        )
        .await
        .unwrap();
    let items = by_service.body["items"].as_array().unwrap();
    let services: Vec<&str> = items.iter().filter_map(|i| i["service"].as_str()).collect();
    for s in [
        "Compute",
        "Block Storage",
        "Autonomous Database",
        "Load Balancer",
    ] {
        assert!(services.contains(&s), "{services:?}");
    }
    let compute = items.iter().find(|i| i["service"] == "Compute").unwrap();
    assert!(
        compute["computedAmount"].as_f64().unwrap() > 10.0,
        "{compute}"
    );
    assert_eq!(compute["currency"], "USD");
    // Daily by compartment: ~30 days of rows whose sum matches the total.
    let daily = t
        .post(
            &Service::USAGE_API,
            "/usage",
            &[],
            Some(req("DAILY", json!(["compartmentName"]))),
        )
        .await
        .unwrap();
    let rows = daily.body["items"].as_array().unwrap();
    let days: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter_map(|r| r["timeUsageStarted"].as_str())
        .collect();
    assert!(days.len() >= 29, "{}", days.len());
    let total_daily: f64 = rows
        .iter()
        .map(|r| r["computedAmount"].as_f64().unwrap())
        .sum();
    let total: f64 = items
        .iter()
        .map(|r| r["computedAmount"].as_f64().unwrap())
        .sum();
    assert!(
        (total_daily - total).abs() < 0.05,
        "{total_daily} vs {total}"
    );
    assert!(rows.iter().any(|r| r["compartmentName"] == "Production"));
    // Filter by service.
    let filtered = t
        .post(&Service::USAGE_API, "/usage", &[], Some(json!({"tenantId": tenancy, "timeUsageStarted": iso(start), "timeUsageEnded": iso(end), "granularity": "MONTHLY", "filter": {"operator": "AND", "dimensions": [{"key": "service", "value": "Compute"}]}})))
        .await
        .unwrap();
    let sum: f64 = filtered.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["computedAmount"].as_f64().unwrap())
        .sum();
    assert!((sum - compute["computedAmount"].as_f64().unwrap()).abs() < 0.05);
    // 400s: precision, unknown groupBy, missing granularity; 404 for another tenancy.
    let mut bad = req("DAILY", json!([]));
    bad["timeUsageStarted"] = json!(iso(start + 3_600_000));
    let (s, _, msg) = service_error(
        t.post(&Service::USAGE_API, "/usage", &[], Some(bad))
            .await
            .unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("precision"));
    let (s, _, _) = service_error(
        t.post(
            &Service::USAGE_API,
            "/usage",
            &[],
            Some(req("DAILY", json!(["color"]))),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s, 400);
    let mut missing = req("DAILY", json!([]));
    missing.as_object_mut().unwrap().remove("granularity");
    let (s, code, _) = service_error(
        t.post(&Service::USAGE_API, "/usage", &[], Some(missing))
            .await
            .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (400, "MissingParameter"));
    let mut other = req("DAILY", json!([]));
    other["tenantId"] = json!("ocid1.tenancy.oc1..other");
    assert_eq!(
        service_error(
            t.post(&Service::USAGE_API, "/usage", &[], Some(other))
                .await
                .unwrap_err()
        )
        .0,
        404
    );
}
