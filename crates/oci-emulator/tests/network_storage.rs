//! VirtualNetwork, Blockstorage and Object Storage flows, and Container Registry listings.

mod common;

use bytes::Bytes;
use common::{service_error, start};
use http::Method;
use portal_oci::{ContentHeaders, RequestOptions, Service};
use serde_json::json;

const NET: &Service = &Service::VIRTUAL_NETWORK;
const BS: &Service = &Service::BLOCKSTORAGE;
const OS: &Service = &Service::OBJECT_STORAGE;
const ART: &Service = &Service::ARTIFACTS;

#[tokio::test]
async fn vcn_subnet_lifecycle_and_validation() {
    let t = start(20).await;
    let sandbox = t.compartment("Sandbox").await;
    let vcn = t
        .post(NET, "/vcns", &[], Some(json!({"compartmentId": sandbox, "displayName": "test-vcn", "cidrBlock": "172.16.0.0/16", "dnsLabel": "testvcn"})))
        .await
        .unwrap();
    assert_eq!(vcn.body["lifecycleState"], "PROVISIONING");
    assert_eq!(vcn.body["vcnDomainName"], "testvcn.oraclevcn.com");
    let vcn_id = vcn.body["id"].as_str().unwrap().to_string();
    t.wait_for(
        NET,
        &format!("/vcns/{vcn_id}"),
        "lifecycleState",
        "AVAILABLE",
    )
    .await;
    // Default security list and route table exist.
    let sls = t
        .list_all(
            NET,
            "/securityLists",
            &[("compartmentId", &sandbox), ("vcnId", &vcn_id)],
        )
        .await;
    assert_eq!(sls.len(), 1);
    assert_eq!(sls[0]["id"], vcn.body["defaultSecurityListId"]);
    let rts = t
        .list_all(
            NET,
            "/routeTables",
            &[("compartmentId", &sandbox), ("vcnId", &vcn_id)],
        )
        .await;
    assert_eq!(rts.len(), 1);

    let subnet = t
        .post(NET, "/subnets", &[], Some(json!({"compartmentId": sandbox, "vcnId": vcn_id, "cidrBlock": "172.16.1.0/24", "displayName": "s1"})))
        .await
        .unwrap();
    assert_eq!(subnet.body["virtualRouterIp"], "172.16.1.1");
    assert_eq!(subnet.body["routeTableId"], vcn.body["defaultRouteTableId"]);
    let subnet_id = subnet.body["id"].as_str().unwrap().to_string();
    t.wait_for(
        NET,
        &format!("/subnets/{subnet_id}"),
        "lifecycleState",
        "AVAILABLE",
    )
    .await;
    // Overlap, outside the VCN, and a malformed CIDR are 400s.
    for (cidr, needle) in [
        ("172.16.1.128/25", "overlaps"),
        ("10.99.0.0/24", "not within"),
        ("172.16.300.0/24", "not a valid"),
    ] {
        let (s, code, msg) = service_error(
            t.post(
                NET,
                "/subnets",
                &[],
                Some(json!({"compartmentId": sandbox, "vcnId": vcn_id, "cidrBlock": cidr})),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!((s, code.as_str()), (400, "InvalidParameter"), "{cidr}");
        assert!(msg.contains(needle), "{cidr}: {msg}");
    }
    // A VCN with a subnet cannot be deleted.
    let (s, code, msg) = service_error(
        t.delete(NET, &format!("/vcns/{vcn_id}"), &[])
            .await
            .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (409, "Conflict"));
    assert!(msg.contains(&subnet_id));
    t.delete(NET, &format!("/subnets/{subnet_id}"), &[])
        .await
        .unwrap();
    t.wait_for(
        NET,
        &format!("/subnets/{subnet_id}"),
        "lifecycleState",
        "TERMINATED",
    )
    .await;
    t.delete(NET, &format!("/vcns/{vcn_id}"), &[])
        .await
        .unwrap();
    t.wait_for(
        NET,
        &format!("/vcns/{vcn_id}"),
        "lifecycleState",
        "TERMINATED",
    )
    .await;
    // A subnet with VNICs cannot be deleted.
    let prod = t.compartment("Production").await;
    let public = t
        .list_all(
            NET,
            "/subnets",
            &[("compartmentId", &prod), ("displayName", "prod-public")],
        )
        .await;
    let (s, _, _) = service_error(
        t.delete(
            NET,
            &format!("/subnets/{}", public[0]["id"].as_str().unwrap()),
            &[],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s, 409);
    // Gateways are listed per VCN.
    let igws = t
        .list_all(NET, "/internetGateways", &[("compartmentId", &prod)])
        .await;
    assert_eq!(igws.len(), 1);
    let nats = t
        .list_all(NET, "/natGateways", &[("compartmentId", &prod)])
        .await;
    assert_eq!(nats[0]["blockTraffic"], false);
}

#[tokio::test]
async fn security_list_update_with_if_match() {
    let t = start(0).await;
    let prod = t.compartment("Production").await;
    let sls = t
        .list_all(
            NET,
            "/securityLists",
            &[("compartmentId", &prod), ("displayName", "prod-web-sl")],
        )
        .await;
    let path = format!("/securityLists/{}", sls[0]["id"].as_str().unwrap());
    let got = t.get(NET, &path, &[]).await.unwrap();
    let etag = got.etag.clone().unwrap();
    let mut ingress = got.body["ingressSecurityRules"].as_array().unwrap().clone();
    ingress.push(json!({"protocol": "6", "source": "10.0.0.0/16", "tcpOptions": {"destinationPortRange": {"min": 8080, "max": 8081}}, "description": "app"}));
    let body = json!({"ingressSecurityRules": ingress});
    let stale = RequestOptions::default()
        .header("if-match", "stale")
        .unwrap();
    let (s, code, _) = service_error(t.put(NET, &path, body.clone(), &stale).await.unwrap_err());
    assert_eq!((s, code.as_str()), (412, "PreconditionFailed"));
    let ok = RequestOptions::default().header("if-match", &etag).unwrap();
    let updated = t.put(NET, &path, body, &ok).await.unwrap();
    assert_eq!(
        updated.body["ingressSecurityRules"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_ne!(updated.etag.unwrap(), etag);
    let again = t.get(NET, &path, &[]).await.unwrap();
    assert_eq!(
        again.body["ingressSecurityRules"][2]["tcpOptions"]["destinationPortRange"]["min"],
        8080
    );
    // Invalid rules name the offending field.
    for (rule, needle) in [
        (json!({"protocol": "6"}), "ingressSecurityRules[0].source"),
        (
            json!({"protocol": "tcp", "source": "0.0.0.0/0"}),
            "protocol",
        ),
        (
            json!({"protocol": "6", "source": "0.0.0.0/0", "tcpOptions": {"destinationPortRange": {"min": 90, "max": 80}}}),
            "destinationPortRange",
        ),
    ] {
        let (s, _, msg) = service_error(
            t.put(
                NET,
                &path,
                json!({"ingressSecurityRules": [rule]}),
                &RequestOptions::default(),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(s, 400);
        assert!(msg.contains(needle), "{msg}");
    }
}

#[tokio::test]
async fn volumes_and_backups() {
    let t = start(20).await;
    let dev = t.compartment("Development").await;
    let vols = t.list_all(BS, "/volumes", &[("compartmentId", &dev)]).await;
    assert_eq!(vols.len(), 1);
    let scratch = &vols[0];
    assert_eq!(scratch["displayName"], "dev-scratch");
    let boots = t
        .list_all(BS, "/bootVolumes", &[("compartmentId", &dev)])
        .await;
    assert_eq!(boots.len(), 2);
    let backups = t
        .list_all(
            BS,
            "/volumeBackups",
            &[
                ("compartmentId", &dev),
                ("volumeId", scratch["id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(backups.len(), 1);
    assert_eq!(backups[0]["type"], "FULL");

    let backup = t
        .post(
            BS,
            "/volumeBackups",
            &[],
            Some(json!({"volumeId": scratch["id"], "type": "INCREMENTAL", "displayName": "b2"})),
        )
        .await
        .unwrap();
    assert_eq!(backup.body["lifecycleState"], "REQUEST_RECEIVED");
    let bpath = format!("/volumeBackups/{}", backup.body["id"].as_str().unwrap());
    t.wait_for(BS, &bpath, "lifecycleState", "AVAILABLE").await;

    // Restore a new volume from the backup: RESTORING → AVAILABLE.
    let ad = scratch["availabilityDomain"].as_str().unwrap();
    let restored = t
        .post(BS, "/volumes", &[], Some(json!({"compartmentId": dev, "availabilityDomain": ad, "sourceDetails": {"type": "volumeBackup", "id": backup.body["id"]}, "sizeInGBs": 100})))
        .await
        .unwrap();
    assert_eq!(restored.body["lifecycleState"], "RESTORING");
    let vpath = format!("/volumes/{}", restored.body["id"].as_str().unwrap());
    t.wait_for(BS, &vpath, "lifecycleState", "AVAILABLE").await;
    // Too small a size for the backup, and a size out of range.
    let (s, _, msg) = service_error(
        t.post(BS, "/volumes", &[], Some(json!({"compartmentId": dev, "availabilityDomain": ad, "volumeBackupId": backup.body["id"], "sizeInGBs": 60}))).await.unwrap_err(),
    );
    assert_eq!(s, 400);
    assert!(msg.contains("smaller"), "{msg}");
    let (s, _, _) = service_error(
        t.post(
            BS,
            "/volumes",
            &[],
            Some(json!({"compartmentId": dev, "availabilityDomain": ad, "sizeInGBs": 10})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s, 400);
    t.delete(BS, &vpath, &[]).await.unwrap();
    t.wait_for(BS, &vpath, "lifecycleState", "TERMINATED").await;
}

#[tokio::test]
async fn buckets_and_objects() {
    let t = start(0).await;
    let ns = t
        .get(OS, "/n/", &[])
        .await
        .unwrap()
        .body
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(ns, t.emu.namespace());
    let prod = t.compartment("Production").await;
    let buckets = t
        .list_all(OS, &format!("/n/{ns}/b"), &[("compartmentId", &prod)])
        .await;
    assert_eq!(buckets.len(), 1);
    assert_eq!(buckets[0]["name"], "prod-assets");
    // Summaries carry only BucketSummary fields.
    assert!(buckets[0].get("publicAccessType").is_none());
    let bucket = t
        .get(
            OS,
            &format!("/n/{ns}/b/prod-assets"),
            &[("fields", "approximateCount,approximateSize")],
        )
        .await
        .unwrap();
    assert_eq!(bucket.body["approximateCount"], 5);
    assert!(bucket.etag.is_some());

    // Create a bucket; a duplicate conflicts; bad names are rejected.
    let created = t
        .post(
            OS,
            &format!("/n/{ns}/b"),
            &[],
            Some(json!({"name": "test-bucket", "compartmentId": prod})),
        )
        .await
        .unwrap();
    assert_eq!(created.body["publicAccessType"], "NoPublicAccess");
    let (s, code, _) = service_error(
        t.post(
            OS,
            &format!("/n/{ns}/b"),
            &[],
            Some(json!({"name": "test-bucket", "compartmentId": prod})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (409, "BucketAlreadyExists"));
    let (s, _, _) = service_error(
        t.post(
            OS,
            &format!("/n/{ns}/b"),
            &[],
            Some(json!({"name": "bad name!", "compartmentId": prod})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s, 400);

    // Put five objects (object storage signs without body headers), list with start/limit.
    let put_opts = RequestOptions {
        content_headers: ContentHeaders::Skip,
        ..RequestOptions::default()
    }
    .header("content-type", "text/plain")
    .unwrap()
    .header("opc-meta-owner", "tests")
    .unwrap();
    for name in ["a.txt", "b.txt", "dir/c.txt", "dir/d.txt", "e.txt"] {
        let path = format!(
            "/n/{ns}/b/test-bucket/o/{}",
            portal_oci::endpoint::encode_path_param(name, true).unwrap()
        );
        let r = t
            .client
            .send_bytes(
                Method::PUT,
                OS,
                &path,
                &[],
                Some(Bytes::from(format!("content of {name}"))),
                &put_opts,
            )
            .await
            .unwrap();
        assert!(r.etag.is_some());
    }
    let objects = t
        .client
        .list_all_start(
            OS,
            &format!("/n/{ns}/b/test-bucket/o"),
            &[("limit", "2"), ("fields", "name,size,md5")],
            "objects",
            &RequestOptions::default(),
        )
        .await
        .unwrap();
    let names: Vec<&str> = objects.iter().filter_map(|o| o["name"].as_str()).collect();
    assert_eq!(
        names,
        vec!["a.txt", "b.txt", "dir/c.txt", "dir/d.txt", "e.txt"]
    );
    assert_eq!(objects[0]["size"], 16);
    let first = t
        .get(OS, &format!("/n/{ns}/b/test-bucket/o"), &[("limit", "2")])
        .await
        .unwrap();
    assert_eq!(first.body["nextStartWith"], "dir/c.txt");
    assert!(first.body["objects"][0].get("size").is_none());
    let delimited = t
        .get(
            OS,
            &format!("/n/{ns}/b/test-bucket/o"),
            &[("delimiter", "/")],
        )
        .await
        .unwrap();
    assert_eq!(delimited.body["prefixes"], json!(["dir/"]));
    assert_eq!(delimited.body["objects"].as_array().unwrap().len(), 3);

    // Get, range, head and delete.
    let obj_path = format!("/n/{ns}/b/test-bucket/o/dir%2Fc.txt");
    let got = t.get(OS, &obj_path, &[]).await.unwrap();
    assert_eq!(&got.raw[..], b"content of dir/c.txt");
    assert_eq!(got.headers["opc-meta-owner"], "tests");
    assert_eq!(got.headers["content-type"], "text/plain");
    let ranged = t
        .client
        .send(
            Method::GET,
            OS,
            &obj_path,
            &[],
            None,
            &RequestOptions::default()
                .header("range", "bytes=0-6")
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(ranged.status.as_u16(), 206);
    assert_eq!(&ranged.raw[..], b"content");
    let head = t
        .client
        .send(
            Method::HEAD,
            OS,
            &obj_path,
            &[],
            None,
            &RequestOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(head.headers["content-length"], "20");
    assert!(head.raw.is_empty());
    // Non-empty bucket cannot be deleted.
    let (s, code, _) = service_error(
        t.delete(OS, &format!("/n/{ns}/b/test-bucket"), &[])
            .await
            .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (409, "BucketNotEmpty"));
    for name in ["a.txt", "b.txt", "dir%2Fc.txt", "dir%2Fd.txt", "e.txt"] {
        t.delete(OS, &format!("/n/{ns}/b/test-bucket/o/{name}"), &[])
            .await
            .unwrap();
    }
    let (s, code, _) = service_error(t.get(OS, &obj_path, &[]).await.unwrap_err());
    assert_eq!((s, code.as_str()), (404, "ObjectNotFound"));
    // if-match on bucket delete.
    let stale = RequestOptions::default()
        .header("if-match", "nope")
        .unwrap();
    let err = t
        .client
        .send(
            Method::DELETE,
            OS,
            &format!("/n/{ns}/b/test-bucket"),
            &[],
            None,
            &stale,
        )
        .await
        .unwrap_err();
    assert_eq!(service_error(err).0, 412);
    t.delete(OS, &format!("/n/{ns}/b/test-bucket"), &[])
        .await
        .unwrap();
    let (s, code, _) = service_error(
        t.get(OS, &format!("/n/{ns}/b/test-bucket"), &[])
            .await
            .unwrap_err(),
    );
    assert_eq!((s, code.as_str()), (404, "BucketNotFound"));
    let (s, _, _) = service_error(
        t.get(OS, "/n/wrongns/b", &[("compartmentId", &prod)])
            .await
            .unwrap_err(),
    );
    assert_eq!(s, 404);
}

#[tokio::test]
async fn container_repositories_and_images() {
    let t = start(0).await;
    let tenancy = t.tenancy();
    let prod = t.compartment("Production").await;
    let page = t
        .get(
            ART,
            "/container/repositories",
            &[
                ("compartmentId", &prod),
                ("limit", "1"),
                ("sortBy", "DISPLAYNAME"),
                ("sortOrder", "ASC"),
            ],
        )
        .await
        .unwrap();
    // A collection: one item on this page, totals over all of them.
    let items = page.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["displayName"], "shop/api");
    assert_eq!(page.body["remainingItemsCount"], 1);
    assert_eq!(page.body["repositoryCount"], 2);
    assert_eq!(page.body["imageCount"], 4);
    assert!(page.opc_next_page.is_some());
    let all = t
        .list_all(ART, "/container/repositories", &[("compartmentId", &prod)])
        .await;
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(
        |r| r["lifecycleState"] == "AVAILABLE" && r["namespace"] == t.emu.namespace().as_str()
    ));
    let everywhere = t
        .list_all(
            ART,
            "/container/repositories",
            &[
                ("compartmentId", &tenancy),
                ("compartmentIdInSubtree", "true"),
            ],
        )
        .await;
    assert_eq!(everywhere.len(), 3);
    let (status, _, _) = common::service_error(
        t.get(
            ART,
            "/container/repositories",
            &[("compartmentId", &prod), ("compartmentIdInSubtree", "true")],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(status, 400, "subtree only from the root");

    let web = all.iter().find(|r| r["displayName"] == "shop/web").unwrap();
    let images = t
        .list_all(
            ART,
            "/container/images",
            &[
                ("compartmentId", &prod),
                ("repositoryId", web["id"].as_str().unwrap()),
            ],
        )
        .await;
    let mut names: Vec<&str> = images
        .iter()
        .map(|i| i["displayName"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["shop/web:1.0.0", "shop/web:1.1.0"]);
    assert!(images
        .iter()
        .all(|i| i["digest"].as_str().unwrap().starts_with("sha256:")));
    let tagged = t
        .list_all(
            ART,
            "/container/images",
            &[
                ("compartmentId", &prod),
                ("repositoryName", "shop/api"),
                ("isVersioned", "false"),
            ],
        )
        .await;
    assert_eq!(tagged.len(), 1, "one untagged image");
    assert!(tagged[0].get("version").is_none());
    let version = t
        .list_all(
            ART,
            "/container/images",
            &[("compartmentId", &prod), ("version", "2.3.1")],
        )
        .await;
    assert_eq!(version.len(), 1);
    assert_eq!(version[0]["repositoryName"], "shop/api");
    let (status, _, _) = common::service_error(
        t.get(
            ART,
            "/container/images",
            &[("compartmentId", &prod), ("lifecycleState", "GONE")],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(status, 400);
}
