//! Compute flows through the real client: list/get/launch/actions/terminate with
//! lifecycle transitions, pagination, etag/if-match, attachments, console history
//! and error bodies.

mod common;

use common::{service_error, start};
use http::Method;
use portal_oci::{RequestOptions, Service};
use serde_json::{json, Value};

const C: &Service = &Service::COMPUTE;

#[tokio::test]
async fn seeded_instances_paginate_with_limit_two() {
    let t = start(0).await;
    let tenancy_children = t.compartment("Production").await;
    let dev = t.compartment("Development").await;
    // Page by page with limit=2 over the six platform images: 2 + 2 + 2.
    let mut page: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut q = vec![("compartmentId", dev.as_str()), ("limit", "2")];
        if let Some(p) = page.as_deref() {
            q.push(("page", p));
        }
        let r = t.get(C, "/images", &q).await.unwrap();
        pages.push(r.body.as_array().unwrap().len());
        match r.opc_next_page {
            Some(n) => page = Some(n),
            None => break,
        }
    }
    assert_eq!(pages, vec![2, 2, 2]);
    // Instances: limit=1 gives two pages that list_all stitches together.
    let first = t
        .get(C, "/instances", &[("compartmentId", &dev), ("limit", "1")])
        .await
        .unwrap();
    assert_eq!(first.body.as_array().unwrap().len(), 1);
    assert!(first.opc_next_page.is_some());
    let all = t
        .list_all(C, "/instances", &[("compartmentId", &dev), ("limit", "1")])
        .await;
    assert_eq!(all.len(), 2);
    let names: Vec<&str> = all
        .iter()
        .filter_map(|i| i["displayName"].as_str())
        .collect();
    assert!(
        names.contains(&"dev-box") && names.contains(&"build-runner"),
        "{names:?}"
    );
    // States reflect the seeded history.
    let dev_box = all.iter().find(|i| i["displayName"] == "dev-box").unwrap();
    assert_eq!(dev_box["lifecycleState"], "STOPPED");
    // lifecycleState filter and sorting by display name.
    let running = t
        .list_all(
            C,
            "/instances",
            &[
                ("compartmentId", &tenancy_children),
                ("lifecycleState", "RUNNING"),
                ("sortBy", "DISPLAYNAME"),
                ("sortOrder", "ASC"),
            ],
        )
        .await;
    let names: Vec<&str> = running
        .iter()
        .filter_map(|i| i["displayName"].as_str())
        .collect();
    assert_eq!(names, vec!["web-01", "web-02"]);
    // The terminated sandbox instance is still listed for a while.
    let sandbox = t.compartment("Sandbox").await;
    let sb = t
        .list_all(C, "/instances", &[("compartmentId", &sandbox)])
        .await;
    assert_eq!(sb.len(), 1);
    assert_eq!(sb[0]["lifecycleState"], "TERMINATED");
    // Bad page token and bad limit are 400s.
    let (s, code, _) = service_error(
        t.get(
            C,
            "/instances",
            &[("compartmentId", &dev), ("page", "garbage")],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (400, "InvalidParameter"));
    let (s, _, msg) = service_error(
        t.get(C, "/instances", &[("compartmentId", &dev), ("limit", "0")])
            .await
            .unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("limit"));
}

async fn launch(t: &common::TestEmu, name: &str) -> Value {
    let prod = t.compartment("Production").await;
    let subnets = t
        .list_all(
            &Service::VIRTUAL_NETWORK,
            "/subnets",
            &[("compartmentId", &prod), ("displayName", "prod-public")],
        )
        .await;
    let subnet = subnets[0]["id"].as_str().unwrap().to_string();
    let images = t
        .list_all(
            C,
            "/images",
            &[
                ("compartmentId", &prod),
                ("operatingSystem", "Oracle Linux"),
                ("shape", "VM.Standard.E4.Flex"),
            ],
        )
        .await;
    assert!(!images.is_empty());
    let ads = t
        .get(
            &Service::IDENTITY,
            "/availabilityDomains",
            &[("compartmentId", &prod)],
        )
        .await
        .unwrap();
    let ad = ads.body[0]["name"].as_str().unwrap().to_string();
    let body = json!({
        "compartmentId": prod,
        "availabilityDomain": ad,
        "displayName": name,
        "shape": "VM.Standard.E4.Flex",
        "shapeConfig": {"ocpus": 1, "memoryInGBs": 8},
        "sourceDetails": {"sourceType": "image", "imageId": images[0]["id"]},
        "createVnicDetails": {"subnetId": subnet},
    });
    t.post(C, "/instances", &[], Some(body)).await.unwrap().body
}

#[tokio::test]
async fn launch_stop_start_terminate_lifecycle() {
    let t = start(150).await;
    let inst = launch(&t, "lifecycle-test").await;
    assert_eq!(inst["lifecycleState"], "PROVISIONING");
    assert_eq!(inst["shapeConfig"]["ocpus"], 1.0);
    let id = inst["id"].as_str().unwrap().to_string();
    let path = format!("/instances/{id}");
    let running = t.wait_for(C, &path, "lifecycleState", "RUNNING").await;
    assert_eq!(running["displayName"], "lifecycle-test");

    // VNIC with an allocated private IP, and a boot volume attachment.
    let compartment = inst["compartmentId"].as_str().unwrap();
    let atts = t
        .list_all(
            C,
            "/vnicAttachments",
            &[("compartmentId", compartment), ("instanceId", &id)],
        )
        .await;
    assert_eq!(atts.len(), 1);
    let vnic_id = atts[0]["vnicId"].as_str().unwrap();
    let vnic = t
        .get(&Service::VIRTUAL_NETWORK, &format!("/vnics/{vnic_id}"), &[])
        .await
        .unwrap();
    assert!(vnic.body["privateIp"]
        .as_str()
        .unwrap()
        .starts_with("10.0.0."));
    let ad = inst["availabilityDomain"].as_str().unwrap();
    let bva = t
        .list_all(
            C,
            "/bootVolumeAttachments",
            &[
                ("compartmentId", compartment),
                ("availabilityDomain", ad),
                ("instanceId", &id),
            ],
        )
        .await;
    assert_eq!(bva.len(), 1);

    // STOP: STOPPING then STOPPED.
    let stopping = t.post(C, &path, &[("action", "STOP")], None).await.unwrap();
    assert_eq!(stopping.body["lifecycleState"], "STOPPING");
    t.wait_for(C, &path, "lifecycleState", "STOPPED").await;
    // RESET on a stopped instance is an invalid transition.
    let (s, code, _) = service_error(
        t.post(C, &path, &[("action", "RESET")], None)
            .await
            .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (409, "IncorrectState"));
    // START: STARTING then RUNNING.
    let starting = t
        .post(C, &path, &[("action", "START")], None)
        .await
        .unwrap();
    assert_eq!(starting.body["lifecycleState"], "STARTING");
    t.wait_for(C, &path, "lifecycleState", "RUNNING").await;

    // Terminate: 204, then TERMINATING → TERMINATED; START is refused.
    let del = t.delete(C, &path, &[]).await.unwrap();
    assert_eq!(del.status.as_u16(), 204);
    t.wait_for(C, &path, "lifecycleState", "TERMINATED").await;
    let (s, code, msg) = service_error(
        t.post(C, &path, &[("action", "START")], None)
            .await
            .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (409, "IncorrectState"));
    assert!(msg.contains("TERMINATED"));
    // The boot volume went away with the instance; the VNIC attachment is detached.
    let atts = t
        .list_all(
            C,
            "/vnicAttachments",
            &[
                ("compartmentId", compartment),
                ("instanceId", &id),
                ("lifecycleState", "DETACHED"),
            ],
        )
        .await;
    assert_eq!(atts[0]["lifecycleState"], "DETACHED");
}

#[tokio::test]
async fn etag_and_if_match_on_actions() {
    let t = start(0).await;
    let inst = launch(&t, "etag-test").await;
    let path = format!("/instances/{}", inst["id"].as_str().unwrap());
    let got = t.get(C, &path, &[]).await.unwrap();
    let etag = got.etag.clone().expect("etag header on GET");
    // A stale etag is refused with 412.
    let stale = RequestOptions::default()
        .header("if-match", "not-the-etag")
        .unwrap();
    let err = t
        .client
        .send(Method::POST, C, &path, &[("action", "STOP")], None, &stale)
        .await
        .unwrap_err();
    let (s, code, _) = service_error(err);
    assert_eq!((s, code.as_str()), (412, "PreconditionFailed"));
    // The current etag works, and the etag changes with the state.
    let fresh = RequestOptions::default().header("if-match", &etag).unwrap();
    let stopped = t
        .client
        .send(Method::POST, C, &path, &[("action", "STOP")], None, &fresh)
        .await
        .unwrap();
    let new_etag = stopped.etag.clone().unwrap();
    assert_ne!(new_etag, etag);
    // Terminate with the old etag fails too.
    let err = t
        .client
        .send(Method::DELETE, C, &path, &[], None, &fresh)
        .await
        .unwrap_err();
    assert_eq!(service_error(err).0, 412);
}

#[tokio::test]
async fn error_bodies_are_oci_shaped() {
    let t = start(0).await;
    let prod = t.compartment("Production").await;
    // 404 for unknown ids and unknown compartments.
    let (s, code, _) = service_error(
        t.get(C, "/instances/ocid1.instance.oc1.iad.nope", &[])
            .await
            .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (404, "NotAuthorizedOrNotFound"));
    let (s, code, _) = service_error(
        t.get(
            C,
            "/instances",
            &[("compartmentId", "ocid1.compartment.oc1..nope")],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (404, "NotAuthorizedOrNotFound"));
    // Unknown route.
    let (s, code, _) = service_error(t.get(C, "/noSuchThing", &[]).await.unwrap_err());
    assert_eq!((s, code.as_str()), (404, "NotAuthorizedOrNotFound"));
    // Missing required query parameter names the field.
    let (s, code, msg) = service_error(t.get(C, "/instances", &[]).await.unwrap_err());
    assert_eq!((s, code.as_str()), (400, "MissingParameter"));
    assert!(msg.contains("compartmentId"), "{msg}");
    // Invalid enum value.
    let (s, code, msg) = service_error(
        t.get(
            C,
            "/instances",
            &[("compartmentId", &prod), ("lifecycleState", "NAPPING")],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (400, "InvalidParameter"));
    assert!(msg.contains("lifecycleState"));
    // Missing body fields are named.
    let (s, code, msg) = service_error(
        t.post(C, "/instances", &[], Some(json!({"compartmentId": prod})))
            .await
            .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (400, "MissingParameter"));
    assert!(msg.contains("availabilityDomain"), "{msg}");
    // Wrong types and bad values.
    let (s, _, msg) = service_error(
        t.post(C, "/instances", &[], Some(json!({"compartmentId": 5})))
            .await
            .unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("compartmentId"));
    let ads = t
        .get(
            &Service::IDENTITY,
            "/availabilityDomains",
            &[("compartmentId", &prod)],
        )
        .await
        .unwrap();
    let ad = ads.body[0]["name"].as_str().unwrap();
    let (s, _, msg) = service_error(
        t.post(
            C,
            "/instances",
            &[],
            Some(json!({"compartmentId": prod, "availabilityDomain": ad, "shape": "VM.Nope"})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("VM.Nope"));
    // Action must be one of the enum values.
    let inst = t
        .list_all(C, "/instances", &[("compartmentId", &prod)])
        .await;
    let path = format!("/instances/{}", inst[0]["id"].as_str().unwrap());
    let (s, _, msg) = service_error(
        t.post(C, &path, &[("action", "EXPLODE")], None)
            .await
            .unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("action"));
    let (s, code, _) = service_error(t.post(C, &path, &[], None).await.unwrap_err());
    assert_eq!((s, code.as_str()), (400, "MissingParameter"));
    // Invalid JSON body.
    let raw = t
        .client
        .send_bytes(
            Method::POST,
            C,
            "/instances",
            &[],
            Some(bytes::Bytes::from_static(b"{not json")),
            &RequestOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(service_error(raw).0, 400);
}

#[tokio::test]
async fn shapes_images_console_history_and_volume_attachments() {
    let t = start(0).await;
    let prod = t.compartment("Production").await;
    let shapes = t.list_all(C, "/shapes", &[("compartmentId", &prod)]).await;
    let e4 = shapes
        .iter()
        .find(|s| s["shape"] == "VM.Standard.E4.Flex")
        .unwrap();
    assert_eq!(e4["isFlexible"], true);
    assert_eq!(e4["ocpuOptions"]["max"], 64.0);
    let images = t.list_all(C, "/images", &[("compartmentId", &prod)]).await;
    let arm = images
        .iter()
        .find(|i| i["displayName"].as_str().unwrap().contains("aarch64"))
        .unwrap();
    let arm_shapes = t
        .list_all(
            C,
            "/shapes",
            &[
                ("compartmentId", &prod),
                ("imageId", arm["id"].as_str().unwrap()),
            ],
        )
        .await;
    assert!(arm_shapes
        .iter()
        .all(|s| s["shape"] == "VM.Standard.A1.Flex"));
    let img = t
        .get(C, &format!("/images/{}", arm["id"].as_str().unwrap()), &[])
        .await
        .unwrap();
    assert_eq!(img.body["lifecycleState"], "AVAILABLE");

    // Console history of web-01.
    let web = t
        .list_all(
            C,
            "/instances",
            &[("compartmentId", &prod), ("displayName", "web-01")],
        )
        .await;
    let web_id = web[0]["id"].as_str().unwrap().to_string();
    let hist = t
        .post(
            C,
            "/instanceConsoleHistories",
            &[],
            Some(json!({"instanceId": web_id})),
        )
        .await
        .unwrap();
    let hid = hist.body["id"].as_str().unwrap();
    let got = t
        .get(C, &format!("/instanceConsoleHistories/{hid}"), &[])
        .await
        .unwrap();
    assert_eq!(got.body["lifecycleState"], "SUCCEEDED");
    let data = t
        .get(
            C,
            &format!("/instanceConsoleHistories/{hid}/data"),
            &[("length", "4096")],
        )
        .await
        .unwrap();
    let text = String::from_utf8(data.raw.to_vec()).unwrap();
    assert!(text.contains("web-01"), "{text}");

    // Volume attachments: web-01 has its seeded data volume; attach a new volume.
    let atts = t
        .list_all(
            C,
            "/volumeAttachments",
            &[("compartmentId", &prod), ("instanceId", &web_id)],
        )
        .await;
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0]["attachmentType"], "paravirtualized");
    let ad = web[0]["availabilityDomain"].as_str().unwrap();
    let vol = t
        .post(&Service::BLOCKSTORAGE, "/volumes", &[], Some(json!({"compartmentId": prod, "availabilityDomain": ad, "displayName": "extra", "sizeInGBs": 50})))
        .await
        .unwrap();
    let vol_id = vol.body["id"].as_str().unwrap();
    let att = t
        .post(
            C,
            "/volumeAttachments",
            &[],
            Some(json!({"type": "paravirtualized", "instanceId": web_id, "volumeId": vol_id})),
        )
        .await
        .unwrap();
    assert_eq!(att.body["device"], "/dev/oracleoci/oraclevdc");
    // Attaching the same volume again conflicts; deleting an attached volume conflicts.
    let (s, code, _) = service_error(
        t.post(
            C,
            "/volumeAttachments",
            &[],
            Some(json!({"type": "paravirtualized", "instanceId": web_id, "volumeId": vol_id})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (409, "Conflict"));
    let (s, _, _) = service_error(
        t.delete(&Service::BLOCKSTORAGE, &format!("/volumes/{vol_id}"), &[])
            .await
            .unwrap_err(),
    );
    assert_eq!(s, 409);
    // Detach, then the volume can be deleted.
    let att_id = att.body["id"].as_str().unwrap();
    t.delete(C, &format!("/volumeAttachments/{att_id}"), &[])
        .await
        .unwrap();
    t.delete(&Service::BLOCKSTORAGE, &format!("/volumes/{vol_id}"), &[])
        .await
        .unwrap();
    let gone = t
        .get(&Service::BLOCKSTORAGE, &format!("/volumes/{vol_id}"), &[])
        .await
        .unwrap();
    assert_eq!(gone.body["lifecycleState"], "TERMINATED");
}
