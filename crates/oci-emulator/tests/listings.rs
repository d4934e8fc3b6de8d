//! The list endpoints the CLI calls: console histories, limit definitions and
//! resource types, with their filters and errors.

mod common;

use common::{service_error, start};
use portal_oci::Service;
use serde_json::json;

#[tokio::test]
async fn console_histories_limit_definitions_and_resource_types() {
    let t = start(0).await;
    let prod = t.compartment("Production").await;
    let inst = t
        .list_all(&Service::COMPUTE, "/instances", &[("compartmentId", &prod)])
        .await;
    let id = inst[0]["id"].as_str().unwrap();
    assert_eq!(
        t.list_all(
            &Service::COMPUTE,
            "/instanceConsoleHistories",
            &[("compartmentId", &prod)]
        )
        .await
        .len(),
        0
    );
    let hist = t
        .post(
            &Service::COMPUTE,
            "/instanceConsoleHistories",
            &[],
            Some(json!({"instanceId": id})),
        )
        .await
        .unwrap();
    let list = t
        .list_all(
            &Service::COMPUTE,
            "/instanceConsoleHistories",
            &[("compartmentId", &prod), ("instanceId", id)],
        )
        .await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], hist.body["id"]);
    assert_eq!(list[0]["lifecycleState"], "SUCCEEDED");
    let other = t
        .list_all(
            &Service::COMPUTE,
            "/instanceConsoleHistories",
            &[
                ("compartmentId", &prod),
                ("instanceId", "ocid1.instance.oc1.iad.other"),
            ],
        )
        .await;
    assert!(other.is_empty());
    let e = t
        .get(
            &Service::COMPUTE,
            "/instanceConsoleHistories",
            &[("compartmentId", &prod), ("lifecycleState", "NOPE")],
        )
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 400);
    let e = t
        .get(&Service::COMPUTE, "/instanceConsoleHistories", &[])
        .await
        .unwrap_err();
    assert_eq!(service_error(e).1, "MissingParameter");

    let limits = Service::new(
        "limits",
        "https://limits.{region}.oci.{secondLevelDomain}",
        "/",
    );
    let tenancy = t.tenancy();
    let all = t
        .list_all(
            &limits,
            "/20190729/limitDefinitions",
            &[("compartmentId", &tenancy)],
        )
        .await;
    assert!(all.iter().any(|d| d["serviceName"] == "compute"));
    assert!(all.iter().any(|d| d["serviceName"] == "block-storage"));
    let names: Vec<&str> = all.iter().filter_map(|d| d["name"].as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "sorted by name by default");
    let compute = t
        .list_all(
            &limits,
            "/20190729/limitDefinitions",
            &[("compartmentId", &tenancy), ("serviceName", "compute")],
        )
        .await;
    assert!(!compute.is_empty() && compute.len() < all.len());
    let e = t
        .get(
            &limits,
            "/20190729/limitDefinitions",
            &[("compartmentId", &tenancy), ("serviceName", "nope")],
        )
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 400);

    let search = Service::new(
        "search",
        "https://query.{region}.oci.{secondLevelDomain}",
        "/20180409",
    );
    let types = t.list_all(&search, "/resourceTypes", &[]).await;
    let names: Vec<&str> = types.iter().filter_map(|x| x["name"].as_str()).collect();
    assert!(
        names.contains(&"Instance") && names.contains(&"Bucket"),
        "{names:?}"
    );
    assert!(types[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["fieldName"] == "displayName"));
    let page = t
        .get(&search, "/resourceTypes", &[("limit", "2")])
        .await
        .unwrap();
    assert_eq!(page.body.as_array().unwrap().len(), 2);
    assert!(page.opc_next_page.is_some());
}
