//! Read tools through the gateway against the in-process emulator: the
//! catalogue, every tool's effect, validation, permissions, activity, audit
//! and metrics.

use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

async fn app() -> (TestApp, Client) {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    (app, admin)
}

async fn run(c: &Client, tool: &str, args: Value) -> (u16, Value) {
    let res = c
        .post(
            &format!("/api/v1/tools/{tool}/execute"),
            json!({"args": args}),
        )
        .await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn catalogue_marks_what_the_caller_may_run() {
    let (app, admin) = app().await;
    assert_eq!(app.get("/api/v1/tools").await.status(), 401);
    let viewer = app.member(&admin, "v@acme.test", "viewer").await;
    let cat: Value = viewer.get("/api/v1/tools").await.json().await.unwrap();
    assert_eq!(cat["cloud"], "emulator");
    let tools = cat["tools"].as_array().unwrap();
    assert!(tools.len() >= 10);
    for t in tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(t["canRun"], false, "viewers lack tools:execute");
    }
    let one: Value = admin
        .get("/api/v1/tools/listInstances")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["canRun"], true);
    assert_eq!(one["category"], "compute");
    assert_eq!(admin.get("/api/v1/tools/noSuchTool").await.status(), 404);
    let (status, body) = run(&viewer, "listCompartments", json!({})).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")));
}

#[tokio::test]
async fn every_read_tool_reads_the_emulated_tenancy() {
    let (_app, admin) = app().await;
    let (status, comps) = run(&admin, "listCompartments", json!({})).await;
    assert_eq!(status, 200, "{comps}");
    assert_eq!(comps["cloud"], "emulator");
    let compartments: Vec<String> = comps["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert!(compartments.len() >= 4, "{comps}");

    // Walk every compartment with every list tool; the seeded tenancy has all of these somewhere.
    let mut found = std::collections::HashMap::<&str, usize>::new();
    let mut instance = None;
    let mut vcn = None;
    for c in &compartments {
        for tool in [
            "listInstances",
            "listVcns",
            "listSubnets",
            "listBlockVolumes",
            "listBuckets",
            "listAutonomousDatabases",
        ] {
            let (status, body) = run(&admin, tool, json!({"compartmentId": c})).await;
            assert_eq!(status, 200, "{tool} in {c}: {body}");
            let items = body["result"]["items"].as_array().unwrap();
            assert_eq!(body["result"]["count"], items.len());
            *found.entry(tool).or_default() += items.len();
            if tool == "listInstances" && instance.is_none() {
                instance = items
                    .iter()
                    .find(|i| i["lifecycleState"] == "RUNNING")
                    .map(|i| i["id"].as_str().unwrap().to_string());
            }
            if tool == "listVcns" && vcn.is_none() {
                vcn = items
                    .first()
                    .map(|v| (c.clone(), v["id"].as_str().unwrap().to_string()));
            }
        }
    }
    assert!(found["listInstances"] >= 5, "{found:?}");
    assert!(found["listVcns"] >= 2, "{found:?}");
    assert!(found["listSubnets"] >= 3, "{found:?}");
    assert!(found["listBlockVolumes"] >= 3, "{found:?}");
    assert!(found["listBuckets"] >= 3, "{found:?}");
    assert!(found["listAutonomousDatabases"] >= 2, "{found:?}");

    let id = instance.expect("a running instance");
    let (status, body) = run(&admin, "getInstance", json!({"instanceId": id})).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["id"], id.as_str());
    assert_eq!(body["result"]["lifecycleState"], "RUNNING");

    let (c, vcn_id) = vcn.expect("a VCN");
    let (_, subnets) = run(
        &admin,
        "listSubnets",
        json!({"compartmentId": c, "vcnId": vcn_id}),
    )
    .await;
    assert!(subnets["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["vcnId"] == vcn_id.as_str()));
    let (status, running) = run(
        &admin,
        "listInstances",
        json!({"compartmentId": compartments[0], "lifecycleState": "RUNNING", "limit": 1}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(running["result"]["count"].as_u64().unwrap() <= 1);

    let (_, shapes) = run(&admin, "listShapes", json!({})).await;
    assert!(
        !shapes["result"]["items"].as_array().unwrap().is_empty(),
        "{shapes}"
    );
    let (_, images) = run(&admin, "listImages", json!({})).await;
    assert!(
        !images["result"]["items"].as_array().unwrap().is_empty(),
        "{images}"
    );
}

#[tokio::test]
async fn bad_arguments_are_refused_before_the_cloud_is_called() {
    let (app, admin) = app().await;
    let cases = [
        (
            "listInstances",
            json!({"compartmentId": "not-an-ocid"}),
            "args/compartmentId",
        ),
        (
            "listInstances",
            json!({"compartmentId": "ocid1.instance.oc1..abc"}),
            "args/compartmentId",
        ),
        (
            "listInstances",
            json!({"lifecycleState": "NAPPING"}),
            "args/lifecycleState",
        ),
        ("listInstances", json!({"limit": 0}), "args/limit"),
        ("listInstances", json!({"sneaky": true}), "args/sneaky"),
        ("getInstance", json!({}), "args/instanceId"),
    ];
    for (tool, args, field) in cases {
        let (status, body) = run(&admin, tool, args.clone()).await;
        assert_eq!(status, 400, "{tool} {args}");
        assert!(body["error"].as_str().unwrap().starts_with(field), "{body}");
    }
    let (status, _) = run(&admin, "noSuchTool", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(
        app.client
            .post(app.at("/api/v1/tools/listInstances/execute"))
            .json(&json!({"args": {}}))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let activity: Value = admin.get("/api/activity").await.json().await.unwrap();
    assert_eq!(activity["total"], 0, "nothing ran");
}

#[tokio::test]
async fn executions_are_recorded_audited_and_counted() {
    let (app, admin) = app().await;
    let (status, ok) = run(&admin, "listCompartments", json!({})).await;
    assert_eq!(status, 200);
    // A well-formed OCID the cloud does not know: the cloud's refusal, as 502.
    let (status, err) = run(
        &admin,
        "getInstance",
        json!({"instanceId": "ocid1.instance.oc1.iad.doesnotexist"}),
    )
    .await;
    assert_eq!(status, 502, "{err}");
    assert_eq!(err["code"], "CLOUD_ERROR");
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("NotAuthorizedOrNotFound"),
        "{err}"
    );

    let activity: Value = admin.get("/api/activity").await.json().await.unwrap();
    assert_eq!(activity["total"], 2);
    let items = activity["items"].as_array().unwrap();
    assert_eq!(items[0]["toolName"], "getInstance");
    assert_eq!(items[0]["status"], "error");
    assert_eq!(items[1]["id"], ok["executionId"]);
    assert_eq!(items[1]["status"], "success");
    assert_eq!(items[1]["principalId"], format!("user:{}", admin.user_id()));

    let audit: Value = admin
        .get("/api/audit?action=tool.execute")
        .await
        .json()
        .await
        .unwrap();
    // Each run: `started` before it runs (fail closed), then its real outcome.
    assert_eq!(audit["total"], 4);
    let outcomes: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["target"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("getInstance", "error"),
            ("getInstance", "started"),
            ("listCompartments", "success"),
            ("listCompartments", "started")
        ]
    );
    assert_eq!(audit["items"][1]["detail"]["cloud"], "emulator");
    let metrics = app.get("/api/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"tool_executions_total{status="success",tool="listCompartments"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"tool_executions_total{status="error",tool="getInstance"} 1"#));
}

#[tokio::test]
async fn without_a_cloud_tools_are_unavailable() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let res = admin.get("/api/v1/tools").await;
    assert_eq!(res.status(), 404);
    assert!(res.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("PORTAL_CLOUD"));
}

#[tokio::test]
async fn networking_storage_identity_and_monitoring_tools() {
    let (_app, admin) = app().await;
    let (_, comps) = run(&admin, "listCompartments", json!({})).await;
    let compartments: Vec<String> = comps["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let mut found = std::collections::HashMap::<&str, usize>::new();
    let mut vcn = None;
    let mut bucket = None;
    for c in &compartments {
        for tool in [
            "listSecurityLists",
            "listRouteTables",
            "listInternetGateways",
            "listNatGateways",
            "listVolumeBackups",
            "listPolicies",
            "listLoadBalancers",
            "listAlarms",
            "getAlarmStatus",
            "listVcns",
            "listBuckets",
        ] {
            let (status, body) = run(&admin, tool, json!({"compartmentId": c})).await;
            assert_eq!(status, 200, "{tool} in {c}: {body}");
            let items = body["result"]["items"].as_array().unwrap();
            *found.entry(tool).or_default() += items.len();
            if tool == "listVcns" && vcn.is_none() {
                vcn = items.first().map(|v| v["id"].as_str().unwrap().to_string());
            }
            if tool == "listBuckets" && bucket.is_none() {
                bucket = items
                    .first()
                    .map(|b| b["name"].as_str().unwrap().to_string());
            }
        }
    }
    for (tool, at_least) in [
        ("listSecurityLists", 2),
        ("listRouteTables", 2),
        ("listInternetGateways", 1),
        ("listVolumeBackups", 3),
        ("listPolicies", 1),
        ("listLoadBalancers", 1),
        ("listAlarms", 4),
        ("getAlarmStatus", 1),
    ] {
        assert!(found[tool] >= at_least, "{tool}: {found:?}");
    }
    let (_, status_body) = run(
        &admin,
        "getAlarmStatus",
        json!({"compartmentId": compartments[0]}),
    )
    .await;
    for a in status_body["result"]["items"].as_array().unwrap() {
        assert!(matches!(a["status"].as_str(), Some("OK" | "FIRING")), "{a}");
    }
    let vcn = vcn.expect("a VCN");
    let (status, one) = run(&admin, "getVcn", json!({"vcnId": vcn})).await;
    assert_eq!(
        (status, one["result"]["id"].as_str()),
        (200, Some(vcn.as_str()))
    );
    let bucket = bucket.expect("a bucket");
    let (status, objects) = run(&admin, "listObjects", json!({"bucketName": bucket})).await;
    assert_eq!(status, 200, "{objects}");
    let (status, missing) = run(
        &admin,
        "listObjects",
        json!({"bucketName": "no-such-bucket-here"}),
    )
    .await;
    assert_eq!(status, 502, "{missing}");
    for (tool, at_least) in [
        ("listUsers", 3),
        ("listGroups", 3),
        ("listRegions", 1),
        ("listAvailabilityDomains", 1),
    ] {
        let (status, body) = run(&admin, tool, json!({})).await;
        assert_eq!(status, 200, "{tool}: {body}");
        assert!(
            body["result"]["count"].as_u64().unwrap() >= at_least,
            "{tool}: {body}"
        );
    }
    let (_, users) = run(&admin, "listUsers", json!({"limit": 1})).await;
    assert_eq!(users["result"]["count"], 1);
}

#[tokio::test]
async fn the_cli_lists_and_runs_tools_through_the_gateway() {
    let (app, admin) = app().await;
    let out = app
        .command(env!("CARGO_BIN_EXE_portal"))
        .args(["tools", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() >= 29, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("terminateInstance") && l.contains("danger")),
        "{text}"
    );

    let (key, _) = admin
        .create_key("cli", &["tools:read", "tools:execute"])
        .await;
    let out = app
        .command(env!("CARGO_BIN_EXE_portal"))
        .args(["tools", "run", "listCompartments"])
        .env("PORTAL_API_KEY", &key)
        .env("PORTAL_CLOUD", "emulator")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tool"], "listCompartments");
    assert!(v["result"]["count"].as_u64().unwrap() >= 4);
    // The CLI execution is in the same activity feed and audit ledger.
    let activity: Value = admin.get("/api/activity").await.json().await.unwrap();
    assert_eq!(activity["items"][0]["id"], v["executionId"]);

    let instance = v["result"]["items"][0]["id"]
        .as_str()
        .unwrap()
        .replace("compartment", "instance");
    let out = app
        .command(env!("CARGO_BIN_EXE_portal"))
        .args([
            "tools",
            "run",
            "stopInstance",
            "--args",
            &json!({"instanceId": instance}).to_string(),
        ])
        .env("PORTAL_API_KEY", &key)
        .env("PORTAL_CLOUD", "emulator")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs an approval"));
    let pending: Value = admin.get("/api/tools/approve").await.json().await.unwrap();
    assert_eq!(
        pending["approvals"].as_array().unwrap().len(),
        1,
        "the CLI's request is pending"
    );

    let out = app
        .command(env!("CARGO_BIN_EXE_portal"))
        .args(["tools", "run", "listCompartments"])
        .env("PORTAL_API_KEY", "portal_nope")
        .env("PORTAL_CLOUD", "emulator")
        .output()
        .unwrap();
    assert!(!out.status.success());
}

fn first_id(body: &Value, field: &str) -> Option<String> {
    body["result"]["items"]
        .as_array()?
        .iter()
        .find_map(|i| i[field].as_str().map(str::to_owned))
}

#[tokio::test]
async fn get_limits_search_cost_and_metrics_tools() {
    let (_app, admin) = app().await;
    let (_, comps) = run(&admin, "listCompartments", json!({})).await;
    let compartments: Vec<String> = comps["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    // Collect one of each resource from the seeded tenancy.
    let mut ids = std::collections::HashMap::<&str, String>::new();
    for c in &compartments {
        for (tool, key, field) in [
            ("listBlockVolumes", "volume", "id"),
            ("listBootVolumes", "boot", "id"),
            ("listVolumeBackups", "backup", "id"),
            ("listAutonomousDatabases", "adb", "id"),
            ("listLoadBalancers", "lb", "id"),
            ("listAlarms", "alarm", "id"),
            ("listVnicAttachments", "vnic", "vnicId"),
            ("listVolumeAttachments", "attachment", "id"),
        ] {
            let (status, body) = run(&admin, tool, json!({"compartmentId": c})).await;
            assert_eq!(status, 200, "{tool}: {body}");
            if let Some(id) = first_id(&body, field) {
                ids.entry(key).or_insert(id);
            }
        }
    }
    for (tool, param, key, expect) in [
        ("getBlockVolume", "volumeId", "volume", "sizeInGBs"),
        ("getBootVolume", "bootVolumeId", "boot", "sizeInGBs"),
        ("getVolumeBackup", "volumeBackupId", "backup", "volumeId"),
        (
            "getAutonomousDatabase",
            "autonomousDatabaseId",
            "adb",
            "dbWorkload",
        ),
        ("getLoadBalancer", "loadBalancerId", "lb", "shapeName"),
        ("getLoadBalancerHealth", "loadBalancerId", "lb", "status"),
        ("getAlarm", "alarmId", "alarm", "query"),
        ("getVnic", "vnicId", "vnic", "privateIp"),
    ] {
        let id = ids
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in the demo tenancy: {ids:?}"));
        let (status, body) = run(&admin, tool, json!({ param: id })).await;
        assert_eq!(status, 200, "{tool}: {body}");
        assert!(
            !body["result"][expect].is_null(),
            "{tool} has {expect}: {body}"
        );
    }
    let (status, body) = run(
        &admin,
        "getCompartment",
        json!({"compartmentId": compartments[0]}),
    )
    .await;
    assert_eq!(
        (status, body["result"]["id"].as_str()),
        (200, Some(compartments[0].as_str()))
    );
    let (_, tenancy) = run(&admin, "getTenancy", json!({})).await;
    assert!(
        tenancy["result"]["homeRegionKey"].is_string() || tenancy["result"]["name"].is_string(),
        "{tenancy}"
    );
    let (_, subs) = run(&admin, "listRegionSubscriptions", json!({})).await;
    assert!(
        subs["result"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["isHomeRegion"] == true),
        "{subs}"
    );

    let (status, services) = run(&admin, "listLimitServices", json!({})).await;
    assert_eq!(status, 200, "{services}");
    assert!(
        services["result"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "compute"),
        "{services}"
    );
    let (status, limits) = run(
        &admin,
        "getServiceLimits",
        json!({"serviceName": "compute"}),
    )
    .await;
    assert_eq!(status, 200, "{limits}");
    assert!(limits["result"]["count"].as_u64().unwrap() >= 1);
    let (status, quotas) = run(&admin, "listQuotas", json!({})).await;
    assert_eq!(status, 200, "{quotas}");
    assert!(quotas["result"]["count"].as_u64().unwrap() >= 1);

    let (status, found) = run(
        &admin,
        "searchResources",
        json!({"query": "query instance resources where lifecycleState = 'STOPPED'"}),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    let items = found["result"]["items"].as_array().unwrap();
    assert!(
        !items.is_empty() && items.iter().all(|i| i["lifecycleState"] == "STOPPED"),
        "{found}"
    );
    let (status, bad) = run(
        &admin,
        "searchResources",
        json!({"query": "DROP TABLE resources"}),
    )
    .await;
    assert_eq!(
        status, 502,
        "the cloud refuses what is not its query language: {bad}"
    );

    let (status, cost) = run(&admin, "getCostByCompartment", json!({"days": 14})).await;
    assert_eq!(status, 200, "{cost}");
    let rows = cost["result"]["items"].as_array().unwrap();
    assert!(!rows.is_empty(), "{cost}");
    let amounts: Vec<f64> = rows
        .iter()
        .map(|r| r["computedAmount"].as_f64().unwrap_or(0.0))
        .collect();
    assert!(
        amounts.windows(2).all(|w| w[0] >= w[1]),
        "sorted by cost: {amounts:?}"
    );
    assert!(amounts[0] > 0.0);

    let mut series = 0;
    for c in &compartments {
        let (status, m) = run(&admin, "getMetrics", json!({"compartmentId": c, "namespace": "oci_computeagent", "query": "CpuUtilization[5m].mean()", "hours": 2})).await;
        assert_eq!(status, 200, "{m}");
        series += m["result"]["count"].as_u64().unwrap();
    }
    assert!(series >= 1, "running instances report CPU");
}

#[tokio::test]
async fn logs_availability_backend_sets_and_buckets() {
    let (_app, admin) = app().await;
    let (_, comps) = run(&admin, "listCompartments", json!({})).await;
    let compartments: Vec<String> = comps["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let mut entries = 0;
    for c in &compartments {
        let (status, logs) = run(
            &admin,
            "searchLogs",
            json!({"query": format!("search \"{c}\" | sort by datetime desc"), "hours": 48}),
        )
        .await;
        assert_eq!(status, 200, "{logs}");
        entries += logs["result"]["count"].as_u64().unwrap();
    }
    assert!(entries >= 1, "running instances log");
    let (status, bad) = run(&admin, "searchLogs", json!({"query": "SELECT * FROM logs"})).await;
    assert_eq!(status, 502, "{bad}");

    let (_, limits) = run(
        &admin,
        "getServiceLimits",
        json!({"serviceName": "compute"}),
    )
    .await;
    let limit = limits["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["scopeType"] == "GLOBAL" || l["scopeType"] == "REGION")
        .cloned();
    let limit = limit.unwrap_or_else(|| limits["result"]["items"][0].clone());
    let mut args = json!({"serviceName": "compute", "limitName": limit["name"]});
    if let Some(ad) = limit["availabilityDomain"].as_str() {
        args["availabilityDomain"] = json!(ad);
    }
    let (status, avail) = run(&admin, "getResourceAvailability", args).await;
    assert_eq!(status, 200, "{avail}");
    assert!(
        avail["result"].get("available").is_some() || avail["result"].get("used").is_some(),
        "{avail}"
    );

    let mut lb = None;
    let mut bucket = None;
    for c in &compartments {
        let (_, l) = run(&admin, "listLoadBalancers", json!({"compartmentId": c})).await;
        lb = lb.or_else(|| first_id(&l, "id"));
        let (_, b) = run(&admin, "listBuckets", json!({"compartmentId": c})).await;
        bucket = bucket.or_else(|| first_id(&b, "name"));
    }
    let lb = lb.expect("a load balancer");
    let (_, detail) = run(&admin, "getLoadBalancer", json!({"loadBalancerId": lb})).await;
    let set = detail["result"]["backendSets"]
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .expect("a backend set");
    let (status, health) = run(
        &admin,
        "getBackendSetHealth",
        json!({"loadBalancerId": lb, "backendSetName": set}),
    )
    .await;
    assert_eq!(status, 200, "{health}");
    assert!(health["result"]["status"].is_string(), "{health}");
    let bucket = bucket.expect("a bucket");
    let (status, b) = run(&admin, "getBucket", json!({"bucketName": bucket})).await;
    assert_eq!(
        (status, b["result"]["name"].as_str()),
        (200, Some(bucket.as_str())),
        "{b}"
    );
}

#[tokio::test]
async fn namespace_free_text_usage_vnics_plugins_and_compute_metrics() {
    let (_app, admin) = app().await;
    let (status, ns) = run(&admin, "getObjectStorageNamespace", json!({})).await;
    assert_eq!(status, 200);
    assert!(
        ns["result"]["namespace"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{ns}"
    );

    let (_, comps) = run(&admin, "listCompartments", json!({})).await;
    let compartments: Vec<String> = comps["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let mut instance = None;
    for c in &compartments {
        let (_, l) = run(
            &admin,
            "listInstances",
            json!({"compartmentId": c, "lifecycleState": "RUNNING"}),
        )
        .await;
        if let Some(i) = first_id(&l, "id") {
            instance = Some((
                c.clone(),
                i,
                l["result"]["items"][0]["displayName"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ));
            break;
        }
    }
    let (c, id, name) = instance.expect("a running instance");
    let (status, found) = run(&admin, "searchResourcesByName", json!({"text": name})).await;
    assert_eq!(status, 200, "{found}");
    assert!(
        found["result"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["identifier"] == id.as_str()),
        "{found}"
    );
    let (status, vnics) = run(
        &admin,
        "getInstanceVnics",
        json!({"compartmentId": c, "instanceId": id}),
    )
    .await;
    assert_eq!(status, 200, "{vnics}");
    assert!(
        vnics["result"]["items"][0]["privateIp"].is_string(),
        "{vnics}"
    );
    let (status, plugins) = run(
        &admin,
        "listInstancePlugins",
        json!({"compartmentId": c, "instanceId": id}),
    )
    .await;
    assert_eq!(status, 200, "{plugins}");
    assert!(
        plugins["result"]["count"].as_u64().unwrap() >= 1,
        "{plugins}"
    );
    let (status, metrics) = run(
        &admin,
        "getComputeMetrics",
        json!({"compartmentId": c, "hours": 2}),
    )
    .await;
    assert_eq!(status, 200, "{metrics}");
    assert!(
        metrics["result"]["count"].as_u64().unwrap() >= 1,
        "{metrics}"
    );
    let (status, summary) = run(&admin, "summarizeMetrics", json!({"compartmentId": c, "namespace": "oci_computeagent", "query": "MemoryUtilization[5m].max()", "hours": 2})).await;
    assert_eq!(status, 200, "{summary}");
    assert!(
        summary["result"]["count"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    let (status, names) = run(&admin, "listMetricNamespaces", json!({"compartmentId": c})).await;
    assert_eq!(status, 200, "{names}");
    assert!(
        names["result"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["namespace"] == "oci_computeagent"),
        "{names}"
    );
    let (status, usage) = run(&admin, "getUsageCost", json!({"days": 7})).await;
    assert_eq!(status, 200, "{usage}");
    assert!(usage["result"]["count"].as_u64().unwrap() >= 1, "{usage}");
}

#[tokio::test]
async fn pricing_tools_work_offline_from_shipped_prices() {
    let (_app, admin) = app().await;
    let (status, all) = run(&admin, "getOCIPricing", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(all["result"]["shapes"].as_array().unwrap().len(), 7);
    let (_, arm) = run(&admin, "getOCIPricing", json!({"architecture": "arm"})).await;
    assert_eq!(arm["result"]["shapes"][0]["shape"], "VM.Standard.A1.Flex");
    let (status, missing) = run(&admin, "getOCIPricing", json!({"shapeName": "VM.Nope"})).await;
    assert_eq!(
        (status, missing["code"].as_str()),
        (404, Some("NOT_FOUND")),
        "{missing}"
    );
    let (_, aws) = run(&admin, "getAWSPricing", json!({"instanceType": "m5.large"})).await;
    assert_eq!(aws["result"]["items"][0]["perHour"], 0.107);
    let (_, az) = run(&admin, "getAzurePricing", json!({})).await;
    assert_eq!(az["result"]["items"].as_array().unwrap().len(), 5);
    let (_, free) = run(&admin, "getOCIFreeTier", json!({})).await;
    assert!(free["result"]["compute"]
        .as_str()
        .unwrap()
        .contains("24 GB"));

    // (0.03 × 2 OCPUs + 0.0015 × 16 GB) × 730 h
    let (_, est) = run(
        &admin,
        "estimateCloudCost",
        json!({"provider": "oci", "vcpus": 4, "memoryGB": 16}),
    )
    .await;
    assert_eq!(est["result"]["monthlyTotal"], 61.32, "{est}");
    let (_, free_arm) = run(
        &admin,
        "estimateCloudCost",
        json!({"provider": "oci", "architecture": "arm", "vcpus": 4, "memoryGB": 8}),
    )
    .await;
    assert_eq!(free_arm["result"]["monthlyTotal"], 0.0, "{free_arm}");
    let (_, cmp) = run(
        &admin,
        "compareCloudCosts",
        json!({"vcpus": 2, "memoryGB": 8}),
    )
    .await;
    let r = &cmp["result"];
    assert_eq!(r["estimates"]["oci"]["monthlyTotal"], 30.66, "{cmp}");
    assert_eq!(r["estimates"]["azure"]["monthlyTotal"], 70.08);
    assert_eq!(r["estimates"]["aws"]["monthlyTotal"], 78.11);
    assert_eq!(r["recommendation"]["provider"], "oci");
    assert_eq!(r["recommendation"]["costSavingsPercent"], 60.75);
    let (status, bad) = run(&admin, "estimateCloudCost", json!({"provider": "gcp"})).await;
    assert_eq!(status, 400, "{bad}");
}

#[tokio::test]
async fn generated_terraform_parses_as_hcl() {
    let (_app, admin) = app().await;
    for mode in ["vcn", "compute", "web-server"] {
        let (status, out) = run(
            &admin,
            "generateTerraform",
            json!({"mode": mode, "name": "Shop \"Front\" ${evil}", "vcnCidr": "10.42.0.0/16"}),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        let files = out["result"]["files"].as_object().unwrap();
        for (file, text) in files {
            let text = text.as_str().unwrap();
            let body: hcl::Body = hcl::from_str(text)
                .unwrap_or_else(|e| panic!("{mode} {file} is not HCL: {e}\n{text}"));
            assert!(
                body.iter().count() > 0 || file.ends_with(".example"),
                "{mode} {file}"
            );
        }
        let main: hcl::Body = hcl::from_str(files["main.tf"].as_str().unwrap()).unwrap();
        let resources: Vec<String> = main
            .blocks()
            .filter(|b| b.identifier() == "resource")
            .map(|b| {
                b.labels()
                    .first()
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_default()
            })
            .collect();
        let has = |t: &str| resources.iter().any(|r| r == t);
        assert_eq!(
            has("oci_core_vcn"),
            mode != "compute",
            "{mode}: {resources:?}"
        );
        assert_eq!(
            has("oci_core_instance"),
            mode != "vcn",
            "{mode}: {resources:?}"
        );
        let text = files["main.tf"].as_str().unwrap();
        if mode != "compute" {
            assert!(
                text.contains("\"10.42.0.0/24\"") && text.contains("\"10.42.1.0/24\""),
                "subnets from the VCN block"
            );
            assert!(
                text.contains("dns_label      = \"shopfrontevil\""),
                "valid DNS label"
            );
        }
        if mode == "web-server" {
            assert!(
                text.contains("subnet_id        = oci_core_subnet.shop__front____evil__public.id"),
                "instance wired to the generated subnet:\n{text}"
            );
        }
        assert!(text.contains("$${evil}"), "templates escaped");
    }
}

/// Runs a tool that needs an approval: asks, has `approver` grant it, runs it again.
async fn run_approved(
    requester: &Client,
    approver: &Client,
    tool: &str,
    args: Value,
) -> (u16, Value) {
    let (status, asked) = run(requester, tool, args.clone()).await;
    assert_eq!(
        (status, asked["code"].as_str()),
        (403, Some("APPROVAL_REQUIRED")),
        "{tool}: {asked}"
    );
    let res = approver
        .post(
            "/api/tools/approve",
            json!({"approvalId": asked["approvalId"], "approved": true}),
        )
        .await;
    assert_eq!(res.status(), 200, "{tool} approved");
    run(requester, tool, args).await
}

/// Runs a read tool until `done` holds for its result (15 s at most); returns that result.
async fn run_until(c: &Client, tool: &str, args: Value, done: impl Fn(&Value) -> bool) -> Value {
    let start = std::time::Instant::now();
    loop {
        let (status, body) = run(c, tool, args.clone()).await;
        assert_eq!(status, 200, "{tool}: {body}");
        if done(&body["result"]) {
            return body["result"].clone();
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(15),
            "{tool} never got there: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// The first item a list tool returns in any compartment for which `pick` holds,
/// with its compartment.
async fn find_item(c: &Client, tool: &str, pick: impl Fn(&Value) -> bool) -> (String, Value) {
    let (_, comps) = run(c, "listCompartments", json!({})).await;
    for comp in comps["result"]["items"].as_array().unwrap() {
        let id = comp["id"].as_str().unwrap();
        let (status, body) = run(c, tool, json!({"compartmentId": id})).await;
        assert_eq!(status, 200, "{tool}: {body}");
        if let Some(item) = body["result"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| pick(i))
        {
            return (id.to_string(), item.clone());
        }
    }
    panic!("{tool} found nothing of the kind in the demo tenancy");
}

/// Asserts a 400 whose message starts with `field`; nothing may be asked for approval.
async fn refused(c: &Client, tool: &str, args: Value, field: &str) -> String {
    let (status, body) = run(c, tool, args.clone()).await;
    assert_eq!(status, 400, "{tool} {args}: {body}");
    let message = body["error"].as_str().unwrap().to_string();
    assert!(message.starts_with(field), "{field}: {message}");
    message
}

/// Everything an administrator can read back about past calls: approvals, activity, audit.
async fn records(admin: &Client) -> String {
    let mut all = String::new();
    for path in [
        "/api/tools/approve",
        "/api/activity",
        "/api/audit?limit=200",
    ] {
        all.push_str(&admin.get(path).await.text().await.unwrap());
    }
    all
}

#[tokio::test]
async fn launch_instance_sends_shape_key_and_secret_user_data() {
    let (app, admin) = app().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let (compartment, subnet) =
        find_item(&admin, "listSubnets", |s| s["displayName"] == "prod-public").await;
    let (_, images) = run(
        &admin,
        "listImages",
        json!({"operatingSystem": "Oracle Linux"}),
    )
    .await;
    let image = images["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| !i["displayName"].as_str().unwrap().contains("aarch64"))
        .expect("an x86 image")["id"]
        .clone();
    let (_, ads) = run(&admin, "listAvailabilityDomains", json!({})).await;
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbT9x0portaltestkey ops@example.com";
    let secret = "TOPSECRET-launch-4c1d";
    let script = format!("#!/bin/sh\necho {secret} > /etc/token\n");
    let args = json!({
        "compartmentId": compartment,
        "availabilityDomain": ads["result"]["items"][0]["name"],
        "shape": "VM.Standard.E4.Flex",
        "imageId": image,
        "subnetId": subnet["id"],
        "displayName": "portal-launched",
        "ocpus": 2,
        "memoryInGBs": 24,
        "sshPublicKey": key,
        "userData": script,
    });

    let mut bad = args.clone();
    bad["sshPublicKey"] = json!("-----BEGIN PUBLIC KEY-----");
    refused(&op, "launchInstance", bad, "args/sshPublicKey").await;
    let mut bad = args.clone();
    bad["ocpus"] = json!(0);
    refused(&op, "launchInstance", bad, "args/ocpus").await;
    let mut bad = args.clone();
    bad["imageId"] = subnet["id"].clone();
    refused(
        &op,
        "launchInstance",
        bad,
        "args/imageId: must be an OCID of a image",
    )
    .await;

    let (status, launched) = run_approved(&op, &admin, "launchInstance", args).await;
    assert_eq!(status, 200, "{launched}");
    let result = &launched["result"];
    assert_eq!(result["displayName"], "portal-launched");
    assert_eq!(result["shape"], "VM.Standard.E4.Flex");
    assert_eq!(
        (
            result["shapeConfig"]["ocpus"].as_f64(),
            result["shapeConfig"]["memoryInGBs"].as_f64()
        ),
        (Some(2.0), Some(24.0))
    );
    assert!(
        matches!(
            result["lifecycleState"].as_str(),
            Some("PROVISIONING" | "RUNNING")
        ),
        "{launched}"
    );
    assert!(
        result.get("metadata").is_none(),
        "the result does not echo metadata"
    );
    let id = result["id"].as_str().unwrap();
    let running = run_until(&op, "getInstance", json!({"instanceId": id}), |i| {
        i["lifecycleState"] == "RUNNING"
    })
    .await;
    assert_eq!(running["metadata"]["ssh_authorized_keys"], key);
    // Reading the instance back through the tools does not reveal the script...
    assert_eq!(running["metadata"]["user_data"], "[REDACTED]");
    // ...but the cloud got it, base64-encoded as cloud-init expects.
    let cloud = app.state.cloud.get().expect("cloud");
    let raw = cloud
        .client
        .send(
            reqwest::Method::GET,
            &portal_oci::endpoint::Service::COMPUTE,
            &format!("/instances/{id}"),
            &[],
            None,
            &portal_oci::client::RequestOptions::default(),
        )
        .await
        .expect("raw read")
        .body;
    use base64::Engine as _;
    let sent = base64::engine::general_purpose::STANDARD
        .decode(raw["metadata"]["user_data"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf8(sent).unwrap(),
        script,
        "user data sent as cloud-init expects it"
    );

    let recorded = records(&admin).await;
    assert!(recorded.contains("[REDACTED]"), "{recorded}");
    assert!(
        !recorded.contains(secret),
        "the user data leaked into approvals, activity or audit"
    );
    assert!(!launched.to_string().contains(secret));
}

#[tokio::test]
async fn create_autonomous_database_checks_oci_rules_first() {
    let (app, admin) = app().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let (_, comps) = run(&admin, "listCompartments", json!({})).await;
    let compartment = comps["result"]["items"][0]["id"].clone();
    let password = "Portal-Test-Pw-2024";
    let args = json!({"compartmentId": compartment, "dbName": "PORTALT1", "displayName": "portal test", "adminPassword": password});
    for pw in [
        "Short1a",
        "nouppercase12345",
        "NOLOWERCASE12345",
        "NoDigitsHereAtAll",
        "Quote\"Inside1234",
        "MyAdminPassword1",
        "Far-too-long-for-Oracle-1234567",
    ] {
        let mut bad = args.clone();
        bad["adminPassword"] = json!(pw);
        let message = refused(
            &op,
            "createAutonomousDatabase",
            bad,
            "args/adminPassword: must be 12 to 30 characters",
        )
        .await;
        assert!(
            !message.contains(pw),
            "the refusal does not echo the password"
        );
    }
    for name in ["1SALES", "SALES_DB", "ABCDEFGHIJKLMNO", ""] {
        let mut bad = args.clone();
        bad["dbName"] = json!(name);
        refused(
            &op,
            "createAutonomousDatabase",
            bad,
            "args/dbName: must start with a letter",
        )
        .await;
    }
    let mut bad = args.clone();
    bad["dbWorkload"] = json!("OLAP");
    refused(&op, "createAutonomousDatabase", bad, "args/dbWorkload").await;
    let pending: Value = admin.get("/api/tools/approve").await.json().await.unwrap();
    assert_eq!(
        pending["approvals"],
        json!([]),
        "refused calls ask for nothing"
    );

    let (status, created) = run_approved(&op, &admin, "createAutonomousDatabase", args).await;
    assert_eq!(status, 200, "{created}");
    let result = &created["result"];
    assert_eq!(
        (result["dbName"].as_str(), result["dbWorkload"].as_str()),
        (Some("PORTALT1"), Some("OLTP"))
    );
    assert_eq!(result["lifecycleState"], "PROVISIONING");
    let id = result["id"].as_str().unwrap();
    let db = run_until(
        &op,
        "getAutonomousDatabase",
        json!({"autonomousDatabaseId": id}),
        |d| d["lifecycleState"] == "AVAILABLE",
    )
    .await;
    assert_eq!(
        (
            db["displayName"].as_str(),
            db["dataStorageSizeInTBs"].as_i64()
        ),
        (Some("portal test"), Some(1))
    );
    let (_, listed) = run(
        &op,
        "listAutonomousDatabases",
        json!({"compartmentId": compartment}),
    )
    .await;
    assert!(listed["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["id"] == id));
    assert!(
        !records(&admin).await.contains(password),
        "the password leaked"
    );
}

#[tokio::test]
async fn create_policy_adds_an_active_policy() {
    let (app, admin) = app().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let statements = json!([
        "Allow group Developers to read instance-family in tenancy",
        "Allow group Developers to use object-family in tenancy",
    ]);
    let args = json!({"name": "portal-readers", "description": "Made by a portal test", "statements": statements});
    let mut bad = args.clone();
    bad["statements"][1] = json!("Permit everyone to manage all-resources");
    refused(
        &op,
        "createPolicy",
        bad,
        "args/statements/1: must be a policy statement",
    )
    .await;
    let mut bad = args.clone();
    bad["statements"] = json!([]);
    refused(
        &op,
        "createPolicy",
        bad,
        "args/statements: must be a list of 1 to 50 items",
    )
    .await;
    let mut bad = args.clone();
    bad["name"] = json!("bad/name");
    refused(&op, "createPolicy", bad, "args/name").await;

    let (status, created) = run_approved(&op, &admin, "createPolicy", args).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["result"]["statements"], statements);
    let id = created["result"]["id"].clone();
    let listed = run_until(&op, "listPolicies", json!({}), |r| {
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == id && p["lifecycleState"] == "ACTIVE")
    })
    .await;
    let policy = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap();
    assert_eq!(
        (policy["name"].as_str(), &policy["statements"]),
        (Some("portal-readers"), &statements)
    );
}

#[tokio::test]
async fn container_registry_repositories_and_images() {
    let (_app, admin) = app().await;
    let (_, comps) = run(&admin, "listCompartments", json!({})).await;
    let mut repos = Vec::new();
    let mut images = 0;
    for c in comps["result"]["items"].as_array().unwrap() {
        let (status, r) = run(
            &admin,
            "listContainerRepos",
            json!({"compartmentId": c["id"]}),
        )
        .await;
        assert_eq!(status, 200, "{r}");
        repos.extend(r["result"]["items"].as_array().unwrap().iter().cloned());
        let (status, i) = run(
            &admin,
            "listContainerImages",
            json!({"compartmentId": c["id"]}),
        )
        .await;
        assert_eq!(status, 200, "{i}");
        images += i["result"]["count"].as_u64().unwrap();
    }
    let mut names: Vec<&str> = repos
        .iter()
        .map(|r| r["displayName"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["shop/api", "shop/web", "tools/ci-runner"]);
    assert_eq!(images, 5);
    let web = repos
        .iter()
        .find(|r| r["displayName"] == "shop/web")
        .unwrap();
    assert_eq!(
        (web["imageCount"].as_u64(), web["isPublic"].as_bool()),
        (Some(2), Some(false))
    );

    let (compartment, _) = find_item(&admin, "listContainerRepos", |r| {
        r["displayName"] == "shop/web"
    })
    .await;
    let (_, of_web) = run(
        &admin,
        "listContainerImages",
        json!({"compartmentId": compartment, "repositoryName": "shop/web"}),
    )
    .await;
    let versions: Vec<&str> = of_web["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions.len(), 2, "{of_web}");
    assert!(versions.contains(&"1.0.0") && versions.contains(&"1.1.0"));
    let (_, one) = run(
        &admin,
        "listContainerImages",
        json!({"compartmentId": compartment, "imageVersion": "2.3.1"}),
    )
    .await;
    assert_eq!(one["result"]["count"], 1, "{one}");
    assert_eq!(one["result"]["items"][0]["displayName"], "shop/api:2.3.1");
    assert!(one["result"]["items"][0]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    let (_, limited) = run(
        &admin,
        "listContainerImages",
        json!({"compartmentId": compartment, "limit": 1}),
    )
    .await;
    assert_eq!(limited["result"]["count"], 1);
    let one: Value = admin
        .get("/api/v1/tools/listContainerRepos")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["category"], "storage");
}

#[tokio::test]
async fn security_list_rules_change_with_four_eyes_and_valid_rules_only() {
    let (app, admin) = app().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let admin2 = app.member(&admin, "admin2@acme.test", "admin").await;
    let (compartment, list) = find_item(&admin, "listSecurityLists", |l| {
        l["displayName"] == "prod-web-sl"
    })
    .await;
    let id = list["id"].as_str().unwrap();
    let https = json!({"protocol": "6", "source": "0.0.0.0/0", "description": "HTTPS", "tcpOptions": {"destinationPortRange": {"min": 443, "max": 443}}});
    let ssh = json!({"protocol": "6", "source": "10.0.0.0/8", "isStateless": false, "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}}});
    let ping = json!({"protocol": "1", "source": "10.0.0.0/8", "icmpOptions": {"type": 8}});
    let args = json!({"securityListId": id, "ingressSecurityRules": [https, ssh, ping]});

    let schema: Value = admin
        .get("/api/v1/tools/updateSecurityListRules")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(schema["risk"], "danger");
    let rule = &schema["inputSchema"]["properties"]["ingressSecurityRules"]["items"];
    assert_eq!(rule["required"], json!(["protocol", "source"]));
    assert_eq!(
        rule["properties"]["tcpOptions"]["properties"]["destinationPortRange"]["properties"]["max"]
            ["maximum"],
        65535
    );

    let with = |path: &str, v: Value| {
        let mut a = args.clone();
        *a.pointer_mut(path).unwrap() = v;
        a
    };
    for (bad, field) in [
        (with("/ingressSecurityRules/0/source", json!("10.0.0.1/16")), "args/ingressSecurityRules/0/source: must be an IPv4 CIDR block"),
        (with("/ingressSecurityRules/1/source", json!("anywhere")), "args/ingressSecurityRules/1/source: must be an IPv4 CIDR block"),
        (with("/ingressSecurityRules/0/tcpOptions/destinationPortRange/min", json!(8443)), "args/ingressSecurityRules/0/tcpOptions/destinationPortRange: min (8443) must not be greater than max (443)"),
        (with("/ingressSecurityRules/1/tcpOptions/destinationPortRange/max", json!(70000)), "args/ingressSecurityRules/1/tcpOptions/destinationPortRange/max: must be an integer from 1 to 65535"),
        (with("/ingressSecurityRules/1/protocol", json!("17")), "args/ingressSecurityRules/1: tcpOptions needs protocol \"6\""),
        (with("/ingressSecurityRules/2/protocol", json!("icmp")), "args/ingressSecurityRules/2/protocol: must be one of 6, 17, 1, all"),
        (with("/ingressSecurityRules/0/tcpOptions", json!({"destinationPort": 22})), "args/ingressSecurityRules/0/tcpOptions/destinationPort: unknown field"),
        (json!({"securityListId": id}), "args: give ingressSecurityRules, egressSecurityRules or both"),
    ] {
        refused(&admin, "updateSecurityListRules", bad, field).await;
    }
    let pending: Value = admin.get("/api/tools/approve").await.json().await.unwrap();
    assert_eq!(
        pending["approvals"],
        json!([]),
        "refused calls ask for nothing"
    );
    let (status, _) = run(&op, "updateSecurityListRules", args.clone()).await;
    assert_eq!(status, 403, "operators lack tools:danger");

    // Four-eyes: the requester cannot approve it; a second admin can.
    let (status, asked) = run(&admin, "updateSecurityListRules", args.clone()).await;
    assert_eq!(status, 403);
    let res = admin
        .post(
            "/api/tools/approve",
            json!({"approvalId": asked["approvalId"], "approved": true}),
        )
        .await;
    assert_eq!(res.status(), 403, "self-approval refused");
    let (status, updated) = run_approved(&admin, &admin2, "updateSecurityListRules", args).await;
    assert_eq!(status, 200, "{updated}");
    let ingress = updated["result"]["ingressSecurityRules"]
        .as_array()
        .unwrap();
    assert_eq!(ingress.len(), 3, "{updated}");
    assert_eq!(
        ingress[1]["tcpOptions"]["destinationPortRange"],
        json!({"min": 22, "max": 22})
    );
    assert_eq!(ingress[1]["sourceType"], "CIDR_BLOCK");
    assert_eq!(ingress[2]["icmpOptions"]["type"], 8);
    assert_eq!(
        updated["result"]["egressSecurityRules"], list["egressSecurityRules"],
        "egress left as it was"
    );

    let (_, now) = run(
        &admin,
        "listSecurityLists",
        json!({"compartmentId": compartment}),
    )
    .await;
    let stored = now["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == id)
        .unwrap();
    assert_eq!(
        stored["ingressSecurityRules"],
        updated["result"]["ingressSecurityRules"]
    );
    assert!(
        !stored["ingressSecurityRules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["description"] == "HTTP"),
        "the old port-80 rule is gone"
    );

    // Closing everything: an empty egress list replaces the old one.
    let (status, closed) = run_approved(
        &admin,
        &admin2,
        "updateSecurityListRules",
        json!({"securityListId": id, "egressSecurityRules": []}),
    )
    .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["result"]["egressSecurityRules"], json!([]));
    assert_eq!(
        closed["result"]["ingressSecurityRules"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
