//! Identity, Autonomous Database, Load Balancer, Limits/Quotas and Instance Agent.

mod common;

use common::{service_error, start};
use portal_oci::Service;
use serde_json::json;

const ID: &Service = &Service::IDENTITY;
const DB: &Service = &Service::DATABASE;

#[tokio::test]
async fn compartments_tenancy_users_and_policies() {
    let t = start(0).await;
    let tenancy = t.tenancy();
    let direct = t
        .list_all(ID, "/compartments", &[("compartmentId", &tenancy)])
        .await;
    let mut names: Vec<&str> = direct.iter().filter_map(|c| c["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["Development", "Production", "Sandbox"]);
    let subtree = t
        .list_all(
            ID,
            "/compartments",
            &[
                ("compartmentId", &tenancy),
                ("compartmentIdInSubtree", "true"),
                ("accessLevel", "ACCESSIBLE"),
            ],
        )
        .await;
    assert_eq!(subtree.len(), 4);
    let prod = t.compartment("Production").await;
    let children = t
        .list_all(ID, "/compartments", &[("compartmentId", &prod)])
        .await;
    assert_eq!(children.len(), 1);
    assert_eq!(children[0]["name"], "prod-apps");
    // compartmentIdInSubtree only on the tenancy; accessLevel validated.
    let (s, _, msg) = service_error(
        t.get(
            ID,
            "/compartments",
            &[("compartmentId", &prod), ("compartmentIdInSubtree", "true")],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("compartmentIdInSubtree"));
    let (s, _, _) = service_error(
        t.get(
            ID,
            "/compartments",
            &[("compartmentId", &tenancy), ("accessLevel", "SOME")],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s, 400);
    let c = t
        .get(ID, &format!("/compartments/{prod}"), &[])
        .await
        .unwrap();
    assert_eq!(c.body["compartmentId"], tenancy);
    let root = t
        .get(ID, &format!("/compartments/{tenancy}"), &[])
        .await
        .unwrap();
    assert_eq!(root.body["id"], tenancy);

    let ten = t
        .get(ID, &format!("/tenancies/{tenancy}"), &[])
        .await
        .unwrap();
    assert_eq!(ten.body["homeRegionKey"], "IAD");
    let subs = t
        .get(
            ID,
            &format!("/tenancies/{tenancy}/regionSubscriptions"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(subs.body[0]["isHomeRegion"], true);
    assert_eq!(subs.body[0]["regionName"], "us-ashburn-1");
    let (s, _, _) = service_error(
        t.get(ID, "/tenancies/ocid1.tenancy.oc1..other", &[])
            .await
            .unwrap_err(),
    );
    assert_eq!(s, 404);
    let ads = t
        .get(ID, "/availabilityDomains", &[("compartmentId", &tenancy)])
        .await
        .unwrap();
    assert_eq!(ads.body.as_array().unwrap().len(), 3);

    let users = t
        .list_all(ID, "/users", &[("compartmentId", &tenancy)])
        .await;
    assert_eq!(users.len(), 3);
    let me = t
        .get(ID, &format!("/users/{}", t.emu.demo_user_id()), &[])
        .await
        .unwrap();
    assert_eq!(me.body["name"], "portal-demo");
    let groups = t
        .list_all(
            ID,
            "/groups",
            &[("compartmentId", &tenancy), ("name", "Developers")],
        )
        .await;
    assert_eq!(groups.len(), 1);
    let policy = t
        .post(ID, "/policies", &[], Some(json!({"compartmentId": prod, "name": "p1", "description": "d", "statements": ["Allow group Developers to read all-resources in compartment Production"]})))
        .await
        .unwrap();
    assert_eq!(policy.body["lifecycleState"], "ACTIVE");
    let (s, _, _) = service_error(
        t.post(ID, "/policies", &[], Some(json!({"compartmentId": prod, "name": "p1", "description": "d", "statements": ["Allow group X to read all-resources in tenancy"]}))).await.unwrap_err(),
    );
    assert_eq!(s, 409);
    let (s, _, msg) = service_error(
        t.post(ID, "/policies", &[], Some(json!({"compartmentId": prod, "name": "p2", "description": "d", "statements": ["permit everything"]}))).await.unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("statements[0]"));
    let policies = t
        .list_all(ID, "/policies", &[("compartmentId", &prod)])
        .await;
    assert_eq!(policies.len(), 1);
}

#[tokio::test]
async fn autonomous_database_lifecycle() {
    let t = start(100).await;
    let prod = t.compartment("Production").await;
    let dev = t.compartment("Development").await;
    let seeded = t
        .list_all(DB, "/autonomousDatabases", &[("compartmentId", &dev)])
        .await;
    assert_eq!(seeded[0]["lifecycleState"], "STOPPED");
    assert_eq!(seeded[0]["dbWorkload"], "DW");
    let body = json!({"compartmentId": prod, "dbName": "TESTDB", "displayName": "test-db", "dbWorkload": "OLTP", "computeCount": 2, "dataStorageSizeInTBs": 1, "adminPassword": "Str0ngPassword1"});
    let created = t
        .post(DB, "/autonomousDatabases", &[], Some(body.clone()))
        .await
        .unwrap();
    assert_eq!(created.body["lifecycleState"], "PROVISIONING");
    assert!(created.body.get("adminPassword").is_none());
    let id = created.body["id"].as_str().unwrap().to_string();
    let path = format!("/autonomousDatabases/{id}");
    // Stopping while provisioning is an invalid transition.
    let (s, code, _) = service_error(
        t.post(DB, &format!("{path}/actions/stop"), &[], None)
            .await
            .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (409, "IncorrectState"));
    t.wait_for(DB, &path, "lifecycleState", "AVAILABLE").await;
    let stopping = t
        .post(DB, &format!("{path}/actions/stop"), &[], None)
        .await
        .unwrap();
    assert_eq!(stopping.body["lifecycleState"], "STOPPING");
    t.wait_for(DB, &path, "lifecycleState", "STOPPED").await;
    let starting = t
        .post(DB, &format!("{path}/actions/start"), &[], None)
        .await
        .unwrap();
    assert_eq!(starting.body["lifecycleState"], "STARTING");
    t.wait_for(DB, &path, "lifecycleState", "AVAILABLE").await;
    t.delete(DB, &path, &[]).await.unwrap();
    t.wait_for(DB, &path, "lifecycleState", "TERMINATED").await;
    let (s, code, _) = service_error(
        t.post(DB, &format!("{path}/actions/start"), &[], None)
            .await
            .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (409, "IncorrectState"));
    // Validation: weak password, bad name, duplicate name.
    let mut weak = body.clone();
    weak["adminPassword"] = json!("short");
    let (s, _, msg) = service_error(
        t.post(DB, "/autonomousDatabases", &[], Some(weak))
            .await
            .unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("adminPassword"));
    let mut bad = body.clone();
    bad["dbName"] = json!("1bad-name");
    assert_eq!(
        service_error(
            t.post(DB, "/autonomousDatabases", &[], Some(bad))
                .await
                .unwrap_err()
        )
        .0,
        400
    );
    let mut dup = body.clone();
    dup["dbName"] = json!("SALESDB");
    assert_eq!(
        service_error(
            t.post(DB, "/autonomousDatabases", &[], Some(dup))
                .await
                .unwrap_err()
        )
        .0,
        409
    );
    // Filters.
    let oltp = t
        .list_all(
            DB,
            "/autonomousDatabases",
            &[
                ("compartmentId", &prod),
                ("dbWorkload", "OLTP"),
                ("lifecycleState", "AVAILABLE"),
            ],
        )
        .await;
    assert_eq!(oltp.len(), 1);
    assert_eq!(oltp[0]["dbName"], "SALESDB");
}

#[tokio::test]
async fn load_balancer_health_follows_instances() {
    let t = start(0).await;
    let prod = t.compartment("Production").await;
    let lbs = t
        .list_all(
            &Service::LOAD_BALANCER,
            "/loadBalancers",
            &[("compartmentId", &prod)],
        )
        .await;
    assert_eq!(lbs.len(), 1);
    let lb = lbs[0]["id"].as_str().unwrap().to_string();
    let health = t
        .get(
            &Service::LOAD_BALANCER,
            &format!("/loadBalancers/{lb}/health"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(health.body["status"], "OK");
    let sets = t
        .get(
            &Service::LOAD_BALANCER,
            &format!("/loadBalancers/{lb}/backendSets"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(sets.body[0]["name"], "web-backends");
    // Stop web-01: its backend goes critical, the set is WARNING.
    let web = t
        .list_all(
            &Service::COMPUTE,
            "/instances",
            &[("compartmentId", &prod), ("displayName", "web-01")],
        )
        .await;
    t.post(
        &Service::COMPUTE,
        &format!("/instances/{}", web[0]["id"].as_str().unwrap()),
        &[("action", "STOP")],
        None,
    )
    .await
    .unwrap();
    let bs = t
        .get(
            &Service::LOAD_BALANCER,
            &format!("/loadBalancers/{lb}/backendSets/web-backends/health"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(bs.body["status"], "WARNING");
    assert_eq!(
        bs.body["criticalStateBackendNames"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let health = t
        .get(
            &Service::LOAD_BALANCER,
            &format!("/loadBalancers/{lb}/health"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(health.body["status"], "WARNING");
    let (s, _, _) = service_error(
        t.get(
            &Service::LOAD_BALANCER,
            &format!("/loadBalancers/{lb}/backendSets/nope/health"),
            &[],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s, 404);
}

#[tokio::test]
async fn limits_quotas_and_enforcement() {
    let t = start(0).await;
    let tenancy = t.tenancy();
    let services = t
        .list_all(
            &Service::LIMITS,
            "/20190729/services",
            &[("compartmentId", &tenancy)],
        )
        .await;
    assert!(services.iter().any(|s| s["name"] == "compute"));
    let values = t
        .list_all(
            &Service::LIMITS,
            "/20190729/limitValues",
            &[
                ("compartmentId", &tenancy),
                ("serviceName", "compute"),
                ("name", "standard-e4-core-count"),
            ],
        )
        .await;
    assert_eq!(values.len(), 3);
    let ad = values[0]["availabilityDomain"]
        .as_str()
        .unwrap()
        .to_string();
    let avail = t
        .get(
            &Service::LIMITS,
            "/20190729/services/compute/limits/standard-e4-core-count/resourceAvailability",
            &[("compartmentId", &tenancy), ("availabilityDomain", &ad)],
        )
        .await
        .unwrap();
    // web-01 (2 OCPUs) runs in AD-1.
    assert_eq!(avail.body["used"], 2);
    assert_eq!(avail.body["available"], 98);
    let (s, _, msg) = service_error(
        t.get(
            &Service::LIMITS,
            "/20190729/services/compute/limits/standard-e4-core-count/resourceAvailability",
            &[("compartmentId", &tenancy)],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("availabilityDomain"));
    // Quota on Development applies.
    let dev = t.compartment("Development").await;
    let q = t
        .get(
            &Service::LIMITS,
            "/20190729/services/compute/limits/standard-e5-core-count/resourceAvailability",
            &[("compartmentId", &dev), ("availabilityDomain", &ad)],
        )
        .await
        .unwrap();
    assert_eq!(q.body["effectiveQuotaValue"], 8.0);
    assert_eq!(q.body["used"], 1);
    let quotas = t
        .list_all(
            &Service::QUOTAS,
            "/20181025/quotas",
            &[("compartmentId", &tenancy)],
        )
        .await;
    assert_eq!(quotas[0]["name"], "dev-compute-quota");
    assert!(quotas[0].get("statements").is_none());
    // The always-free micro limit (2) blocks a third micro instance in AD-1.
    let sandbox = t.compartment("Sandbox").await;
    let subnets = t
        .list_all(
            &Service::VIRTUAL_NETWORK,
            "/subnets",
            &[("compartmentId", &dev)],
        )
        .await;
    let images = t
        .list_all(
            &Service::COMPUTE,
            "/images",
            &[("compartmentId", &sandbox), ("operatingSystemVersion", "9")],
        )
        .await;
    let launch = json!({"compartmentId": sandbox, "availabilityDomain": ad, "shape": "VM.Standard.E2.1.Micro", "sourceDetails": {"sourceType": "image", "imageId": images[0]["id"]}, "createVnicDetails": {"subnetId": subnets[0]["id"]}});
    for _ in 0..2 {
        t.post(&Service::COMPUTE, "/instances", &[], Some(launch.clone()))
            .await
            .unwrap();
    }
    let (s, code, _) = service_error(
        t.post(&Service::COMPUTE, "/instances", &[], Some(launch))
            .await
            .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (400, "LimitExceeded"));
}

#[tokio::test]
async fn instance_agent_commands() {
    let t = start(0).await;
    let prod = t.compartment("Production").await;
    let web = t
        .list_all(
            &Service::COMPUTE,
            "/instances",
            &[("compartmentId", &prod), ("displayName", "web-02")],
        )
        .await;
    let inst = web[0]["id"].as_str().unwrap().to_string();
    let cmd = t
        .post(&Service::INSTANCE_AGENT, "/instanceAgentCommands", &[], Some(json!({
            "compartmentId": prod, "executionTimeOutInSeconds": 60, "displayName": "check",
            "target": {"instanceId": inst},
            "content": {"source": {"sourceType": "TEXT", "text": "hostname && echo hello"}, "output": {"outputType": "TEXT"}},
        })))
        .await
        .unwrap();
    let id = cmd.body["id"].as_str().unwrap();
    let exec = t
        .get(
            &Service::INSTANCE_AGENT,
            &format!("/instanceAgentCommands/{id}/status"),
            &[("instanceId", &inst)],
        )
        .await
        .unwrap();
    assert_eq!(exec.body["lifecycleState"], "SUCCEEDED");
    assert_eq!(exec.body["content"]["exitCode"], 0);
    assert_eq!(exec.body["content"]["text"], "web-02\nhello\n");
    let failing = t
        .post(
            &Service::INSTANCE_AGENT,
            "/instanceAgentCommands",
            &[],
            Some(json!({
                "compartmentId": prod, "executionTimeOutInSeconds": 60,
                "target": {"instanceId": inst},
                "content": {"source": {"sourceType": "TEXT", "text": "frobnicate --now"}},
            })),
        )
        .await
        .unwrap();
    let exec = t
        .get(
            &Service::INSTANCE_AGENT,
            &format!(
                "/instanceAgentCommands/{}/status",
                failing.body["id"].as_str().unwrap()
            ),
            &[("instanceId", &inst)],
        )
        .await
        .unwrap();
    assert_eq!(exec.body["lifecycleState"], "FAILED");
    assert_eq!(exec.body["content"]["exitCode"], 127);
    let list = t
        .list_all(
            &Service::INSTANCE_AGENT,
            "/instanceAgentCommands",
            &[("compartmentId", &prod)],
        )
        .await;
    assert_eq!(list.len(), 2);
    let execs = t
        .list_all(
            &Service::INSTANCE_AGENT,
            "/instanceAgentCommandExecutions",
            &[("compartmentId", &prod), ("instanceId", &inst)],
        )
        .await;
    assert_eq!(execs.len(), 2);
    let plugins = t
        .get(
            &Service::INSTANCE_AGENT,
            &format!("/instanceagents/{inst}/plugins"),
            &[("compartmentId", &prod)],
        )
        .await
        .unwrap();
    assert!(plugins
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["status"] == "RUNNING"));
    let (s, _, msg) = service_error(
        t.post(&Service::INSTANCE_AGENT, "/instanceAgentCommands", &[], Some(json!({"compartmentId": prod, "executionTimeOutInSeconds": 60, "target": {"instanceId": inst}}))).await.unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("content"));
}
