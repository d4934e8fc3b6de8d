//! PUT updates (instance, VCN, subnet, volume) with etag/if-match, and the work
//! requests asynchronous Compute operations answer with, over real HTTP.

mod common;

use std::time::Duration;

use common::{service_error, start, TestEmu};
use http::Method;
use portal_oci::{RequestOptions, Service};
use serde_json::{json, Value};

const C: &Service = &Service::COMPUTE;
const NET: &Service = &Service::VIRTUAL_NETWORK;
const BV: &Service = &Service::BLOCKSTORAGE;

fn no_opts() -> RequestOptions {
    RequestOptions::default()
}

fn if_match(etag: &str) -> RequestOptions {
    RequestOptions::default().header("if-match", etag).unwrap()
}

async fn seeded_instance(t: &TestEmu) -> Value {
    let prod = t.compartment("Production").await;
    let all = t
        .list_all(
            C,
            "/instances",
            &[("compartmentId", &prod), ("lifecycleState", "RUNNING")],
        )
        .await;
    all.into_iter()
        .find(|i| i["shape"].as_str().is_some_and(|s| s.ends_with(".Flex")))
        .expect("a running flex instance is seeded")
}

async fn raw_put(t: &TestEmu, svc: &Service, path: &str, body: &'static [u8]) -> (u16, String) {
    let e = t
        .client
        .send_bytes(
            Method::PUT,
            svc,
            path,
            &[],
            Some(bytes::Bytes::from_static(body)),
            &no_opts(),
        )
        .await
        .unwrap_err();
    let (s, code, _) = service_error(e);
    (s, code)
}

#[tokio::test]
async fn instance_update_with_etags_tags_and_shape_config() {
    let t = start(0).await;
    let inst = seeded_instance(&t).await;
    let id = inst["id"].as_str().unwrap();
    let path = format!("/instances/{id}");
    let before = t.get(C, &path, &[]).await.unwrap();
    let etag = before.etag.clone().unwrap();

    // A stale etag is refused with 412 and changes nothing.
    let e = t
        .put(C, &path, json!({"displayName": "nope"}), &if_match("stale"))
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 412);

    let r = t
        .put(
            C,
            &path,
            json!({"displayName": "renamed", "freeformTags": {"team": "ops"}, "definedTags": {"Ops": {"CostCenter": "42"}}, "shapeConfig": {"ocpus": 2}}),
            &if_match(&etag),
        )
        .await
        .unwrap();
    assert_eq!(r.body["displayName"], "renamed");
    assert_eq!(r.body["freeformTags"], json!({"team": "ops"}));
    assert_eq!(r.body["definedTags"]["Ops"]["CostCenter"], "42");
    assert_eq!(r.body["shapeConfig"]["ocpus"], 2.0);
    assert_eq!(r.body["lifecycleState"], "RUNNING");
    let new_etag = r.etag.clone().unwrap();
    assert_ne!(new_etag, etag);
    let got = t.get(C, &path, &[]).await.unwrap();
    assert_eq!(got.body["displayName"], "renamed");
    assert_eq!(got.etag.as_deref(), Some(new_etag.as_str()));
    // The old etag no longer matches.
    let e = t
        .put(C, &path, json!({"displayName": "again"}), &if_match(&etag))
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 412);

    // Bad bodies are 400, unknown ids 404.
    for body in [
        json!({"displayName": 5}),
        json!({"displayName": ""}),
        json!({"freeformTags": {"k": 1}}),
        json!({"definedTags": {"ns": "flat"}}),
        json!({"shapeConfig": {"ocpus": 1000}}),
        json!({"shapeConfig": "big"}),
        json!({"shape": "VM.Standard2.1"}),
        json!({"metadata": {"k": []}}),
    ] {
        let e = t.put(C, &path, body.clone(), &no_opts()).await.unwrap_err();
        assert_eq!(service_error(e).0, 400, "{body}");
    }
    assert_eq!(raw_put(&t, C, &path, b"{not json").await.0, 400);
    assert_eq!(raw_put(&t, C, &path, b"[1]").await.0, 400);
    let e = t
        .put(
            C,
            "/instances/ocid1.instance.oc1.iad.nope",
            json!({"displayName": "x"}),
            &no_opts(),
        )
        .await
        .unwrap_err();
    assert_eq!(service_error(e).1, "NotAuthorizedOrNotFound");

    // A terminated instance cannot be updated.
    t.delete(C, &path, &[]).await.unwrap();
    let e = t
        .put(C, &path, json!({"displayName": "late"}), &no_opts())
        .await
        .unwrap_err();
    let (s, code, _) = service_error(e);
    assert_eq!((s, code.as_str()), (409, "IncorrectState"));
}

#[tokio::test]
async fn vcn_subnet_and_volume_updates() {
    let t = start(0).await;
    let prod = t.compartment("Production").await;
    let vcn = t
        .post(
            NET,
            "/vcns",
            &[],
            Some(json!({"compartmentId": prod, "cidrBlock": "10.50.0.0/16", "displayName": "upd"})),
        )
        .await
        .unwrap()
        .body;
    let vcn_id = vcn["id"].as_str().unwrap();
    let r = t
        .put(
            NET,
            &format!("/vcns/{vcn_id}"),
            json!({"displayName": "upd2", "freeformTags": {"a": "b"}}),
            &no_opts(),
        )
        .await
        .unwrap();
    assert_eq!(r.body["displayName"], "upd2");
    assert_eq!(r.body["freeformTags"]["a"], "b");
    assert_eq!(r.body["cidrBlock"], "10.50.0.0/16");
    let e = t
        .put(NET, "/vcns/ocid1.vcn.oc1.iad.nope", json!({}), &no_opts())
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 404);

    let subnet = t
        .post(
            NET,
            "/subnets",
            &[],
            Some(json!({"compartmentId": prod, "vcnId": vcn_id, "cidrBlock": "10.50.1.0/24"})),
        )
        .await
        .unwrap()
        .body;
    let sub_path = format!("/subnets/{}", subnet["id"].as_str().unwrap());
    let r = t
        .put(
            NET,
            &sub_path,
            json!({"displayName": "sub2", "securityListIds": [vcn["defaultSecurityListId"]]}),
            &no_opts(),
        )
        .await
        .unwrap();
    assert_eq!(r.body["displayName"], "sub2");
    // A security list of another VCN, a missing one, a CIDR change: 400.
    let other_sl = t
        .list_all(NET, "/securityLists", &[("compartmentId", &prod)])
        .await
        .into_iter()
        .find(|s| s["vcnId"] != vcn["id"])
        .unwrap();
    for body in [
        json!({"securityListIds": [other_sl["id"]]}),
        json!({"securityListIds": ["ocid1.securitylist.oc1.iad.nope"]}),
        json!({"securityListIds": [7]}),
        json!({"cidrBlock": "10.50.2.0/24"}),
    ] {
        let e = t
            .put(NET, &sub_path, body.clone(), &no_opts())
            .await
            .unwrap_err();
        assert_eq!(service_error(e).0, 400, "{body}");
    }

    let ad = vcn_ad(&t, &prod).await;
    let vol = t
        .post(
            BV,
            "/volumes",
            &[],
            Some(json!({"compartmentId": prod, "availabilityDomain": ad, "sizeInGBs": 50})),
        )
        .await
        .unwrap()
        .body;
    let vol_path = format!("/volumes/{}", vol["id"].as_str().unwrap());
    let r = t
        .put(
            BV,
            &vol_path,
            json!({"sizeInGBs": 100, "vpusPerGB": 20}),
            &no_opts(),
        )
        .await
        .unwrap();
    assert_eq!(r.body["sizeInGBs"], 100);
    assert_eq!(r.body["sizeInMBs"], 100 * 1024);
    assert_eq!(r.body["vpusPerGB"], 20);
    // Shrinking, out-of-range performance, wrong types: 400.
    for body in [
        json!({"sizeInGBs": 60}),
        json!({"vpusPerGB": 15}),
        json!({"sizeInGBs": "big"}),
    ] {
        let e = t
            .put(BV, &vol_path, body.clone(), &no_opts())
            .await
            .unwrap_err();
        assert_eq!(service_error(e).0, 400, "{body}");
    }
}

async fn vcn_ad(t: &TestEmu, compartment: &str) -> String {
    let ads = t
        .get(
            &Service::IDENTITY,
            "/availabilityDomains",
            &[("compartmentId", compartment)],
        )
        .await
        .unwrap();
    ads.body[0]["name"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn volume_growth_goes_through_provisioning() {
    let t = start(1000).await;
    let prod = t.compartment("Production").await;
    let ad = vcn_ad(&t, &prod).await;
    let vol = t
        .post(
            BV,
            "/volumes",
            &[],
            Some(json!({"compartmentId": prod, "availabilityDomain": ad, "sizeInGBs": 50})),
        )
        .await
        .unwrap()
        .body;
    let path = format!("/volumes/{}", vol["id"].as_str().unwrap());
    // Still PROVISIONING: resizing must wait.
    let e = t
        .put(BV, &path, json!({"sizeInGBs": 80}), &no_opts())
        .await
        .unwrap_err();
    assert_eq!(service_error(e).1, "IncorrectState");
    t.wait_for(BV, &path, "lifecycleState", "AVAILABLE").await;
    let r = t
        .put(BV, &path, json!({"sizeInGBs": 80}), &no_opts())
        .await
        .unwrap();
    assert_eq!(r.body["lifecycleState"], "PROVISIONING");
    let done = t.wait_for(BV, &path, "lifecycleState", "AVAILABLE").await;
    assert_eq!(done["sizeInGBs"], 80);
}

/// Poll a work request until SUCCEEDED, recording the statuses seen.
async fn wait_work_request(t: &TestEmu, id: &str) -> (Value, Vec<String>) {
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..300 {
        let r = t.get(C, &format!("/workRequests/{id}"), &[]).await.unwrap();
        let status = r.body["status"].as_str().unwrap().to_string();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "SUCCEEDED" {
            return (r.body, seen);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("work request {id} never succeeded; saw {seen:?}");
}

#[tokio::test]
async fn terminate_and_detach_answer_with_work_requests_that_succeed() {
    let t = start(300).await;
    let prod = t.compartment("Production").await;
    let web = t
        .list_all(
            C,
            "/instances",
            &[("compartmentId", &prod), ("displayName", "web-01")],
        )
        .await;
    let id = web[0]["id"].as_str().unwrap().to_string();
    let compartment = web[0]["compartmentId"].as_str().unwrap().to_string();

    // Detach of web-01's seeded data volume: a DetachVolume work request.
    let att = t
        .list_all(
            C,
            "/volumeAttachments",
            &[("compartmentId", &prod), ("lifecycleState", "ATTACHED")],
        )
        .await
        .into_iter()
        .find(|a| a["instanceId"] == id.as_str())
        .expect("web-01 has a seeded volume attachment");
    let att_id = att["id"].as_str().unwrap();
    let r = t
        .delete(C, &format!("/volumeAttachments/{att_id}"), &[])
        .await
        .unwrap();
    let wr_id = r.headers["opc-work-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let (done, _) = wait_work_request(&t, &wr_id).await;
    assert_eq!(done["operationType"], "DetachVolume");
    assert_eq!(done["resources"][0]["entityType"], "volumeAttachment");
    let att_now = t
        .get(C, &format!("/volumeAttachments/{att_id}"), &[])
        .await
        .unwrap();
    assert_eq!(att_now.body["lifecycleState"], "DETACHED");

    let r = t.delete(C, &format!("/instances/{id}"), &[]).await.unwrap();
    assert_eq!(r.status, 204);
    let wr_id = r.headers["opc-work-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        wr_id.starts_with("ocid1.coreservicesworkrequest.oc1."),
        "{wr_id}"
    );
    let first = t
        .get(C, &format!("/workRequests/{wr_id}"), &[])
        .await
        .unwrap();
    // Not done yet (ACCEPTED for the first quarter of the transition, then
    // IN_PROGRESS; exact timing is checked by the unit tests).
    let status = first.body["status"].as_str().unwrap();
    assert!(matches!(status, "ACCEPTED" | "IN_PROGRESS"), "{status}");
    assert!(first.body["percentComplete"].as_f64().unwrap() < 100.0);
    assert_eq!(first.body["operationType"], "TerminateInstance");
    assert_eq!(first.body["resources"][0]["actionType"], "IN_PROGRESS");
    assert!(first.body.get("timeFinished").is_none());
    let (done, seen) = wait_work_request(&t, &wr_id).await;
    // Statuses only move forward.
    let order = ["ACCEPTED", "IN_PROGRESS", "SUCCEEDED"];
    let ranks: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!(done["timeAccepted"].as_str() <= done["timeStarted"].as_str());
    assert!(done["timeStarted"].as_str() <= done["timeFinished"].as_str());
    assert_eq!(done["percentComplete"], 100.0);
    assert_eq!(done["compartmentId"], compartment.as_str());
    assert_eq!(done["resources"][0]["actionType"], "DELETED");
    assert_eq!(done["resources"][0]["entityType"], "instance");
    assert_eq!(done["resources"][0]["identifier"], id.as_str());
    assert!(done["timeFinished"].is_string());
    // When the work request has succeeded, the instance is gone.
    let inst_now = t.get(C, &format!("/instances/{id}"), &[]).await.unwrap();
    assert_eq!(inst_now.body["lifecycleState"], "TERMINATED");

    let logs = t
        .get(C, &format!("/workRequests/{wr_id}/logs"), &[])
        .await
        .unwrap();
    assert_eq!(logs.body.as_array().unwrap().len(), 3);
    assert_eq!(logs.body[2]["message"], "TerminateInstance succeeded");
    let errors = t
        .get(C, &format!("/workRequests/{wr_id}/errors"), &[])
        .await
        .unwrap();
    assert_eq!(errors.body, json!([]));
    let list = t
        .get(
            C,
            "/workRequests",
            &[("compartmentId", &compartment), ("resourceId", &id)],
        )
        .await
        .unwrap();
    // Newest first: this terminate, then the seeded launch of the same instance.
    let ops: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["operationType"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        vec!["TerminateInstance", "LaunchInstance"],
        "{}",
        list.body
    );
    assert_eq!(list.body[0]["id"], wr_id.as_str());
    assert!(list.body[0].get("resources").is_none());
    let none = t
        .get(
            C,
            "/workRequests",
            &[
                ("compartmentId", &compartment),
                ("resourceId", "ocid1.instance.oc1.iad.other"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(none.body, json!([]));

    // Errors: unknown work request, missing compartment.
    let e = t
        .get(
            C,
            "/workRequests/ocid1.coreservicesworkrequest.oc1.iad.nope",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 404);
    let e = t
        .get(
            C,
            "/workRequests/ocid1.coreservicesworkrequest.oc1.iad.nope/logs",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 404);
    let e = t.get(C, "/workRequests", &[]).await.unwrap_err();
    assert_eq!(service_error(e).1, "MissingParameter");
}
