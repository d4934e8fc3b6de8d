//! Contract test against the OCI API subset (shared/testdata/oci-api-subset.json):
//! every route in the emulator's operation table exists in the subset with the
//! same method and path, and a tour that calls every operation checks that each
//! JSON response only uses field names (recursively, with the JSON types) of the
//! operation's response model.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use bytes::Bytes;
use common::start;
use http::Method;
use portal_oci::{RequestOptions, Service};
use portal_oci_emulator::routes::{operation_for, OPERATIONS};
use serde_json::{json, Value};

/// Find the subset JSON: `shared/testdata` next to or above the crate.
fn subset() -> Value {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in here.ancestors() {
        for candidate in [
            dir.join("shared/testdata/oci-api-subset.json"),
            dir.join("../shared/testdata/oci-api-subset.json"),
        ] {
            if let Ok(text) = std::fs::read_to_string(&candidate) {
                let mut subset: Value = serde_json::from_str(&text).expect("subset JSON parses");
                merge_supplements(&mut subset);
                return subset;
            }
        }
    }
    panic!(
        "shared/testdata/oci-api-subset.json not found above {}",
        here.display()
    );
}

/// Add the clients and models of `tests/data/*-subset.json`: APIs outside the
/// shared subset, extracted from the same OCI Python SDK by
/// `tests/python/extract_*.py` (Work Requests).
fn merge_supplements(subset: &mut Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("-subset.json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no supplements in {}", dir.display());
    for file in files {
        let extra: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for section in ["clients", "models"] {
            for (k, v) in extra[section].as_object().unwrap() {
                assert!(
                    subset[section].get(k).is_none(),
                    "{} redefines {section}.{k}",
                    file.display()
                );
                subset[section][k] = v.clone();
            }
        }
    }
}

/// (client, operation) from a `Client.OperationId` name.
fn lookup<'a>(subset: &'a Value, name: &str) -> (&'a Value, &'a Value) {
    let (client_name, op_id) = name.split_once('.').unwrap();
    let client = &subset["clients"][client_name];
    assert!(client.is_object(), "client {client_name} not in subset");
    let op = client["operations"]
        .as_object()
        .unwrap()
        .values()
        .find(|o| o["operation_id"] == op_id)
        .unwrap_or_else(|| panic!("{name} not in subset"));
    (client, op)
}

#[test]
fn every_route_exists_in_the_subset() {
    let subset = subset();
    for op in OPERATIONS {
        let (client, spec) = lookup(&subset, op.name);
        let base = client["base_path"].as_str().unwrap();
        let expected = if base == "/" {
            spec["path"].as_str().unwrap().to_string()
        } else {
            format!("{base}{}", spec["path"].as_str().unwrap())
        };
        assert_eq!(op.path, expected, "{}", op.name);
        assert_eq!(op.method, spec["method"].as_str().unwrap(), "{}", op.name);
    }
}

struct Checker<'a> {
    models: &'a serde_json::Map<String, Value>,
    errors: Vec<String>,
}

impl Checker<'_> {
    fn check(&mut self, ty: &str, v: &Value, at: &str) {
        if let Some(inner) = ty.strip_prefix("array<").and_then(|t| t.strip_suffix('>')) {
            match v.as_array() {
                Some(a) => a
                    .iter()
                    .enumerate()
                    .for_each(|(i, x)| self.check(inner, x, &format!("{at}[{i}]"))),
                None => self.errors.push(format!("{at}: expected array, got {v}")),
            }
            return;
        }
        if let Some(inner) = ty.strip_prefix("map<").and_then(|t| t.strip_suffix('>')) {
            match v.as_object() {
                Some(m) => m
                    .iter()
                    .for_each(|(k, x)| self.check(inner, x, &format!("{at}.{k}"))),
                None => self.errors.push(format!("{at}: expected map, got {v}")),
            }
            return;
        }
        let ok = match ty {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "datetime" | "date" => v.as_str().is_some_and(|s| {
                portal_oci_emulator::wire::parse_time(s, "").is_ok() || ty == "date"
            }),
            "any" => true,
            _ => {
                self.check_model(ty, v, at);
                true
            }
        };
        if !ok {
            self.errors.push(format!("{at}: expected {ty}, got {v}"));
        }
    }

    fn check_model(&mut self, name: &str, v: &Value, at: &str) {
        let Some(model) = self.models.get(name) else {
            self.errors.push(format!("{at}: unknown model {name}"));
            return;
        };
        let Some(obj) = v.as_object() else {
            self.errors
                .push(format!("{at}: expected {name} object, got {v}"));
            return;
        };
        // Polymorphic models: use the subtype named by the discriminator.
        let mut fields = model["fields"].as_object().cloned().unwrap_or_default();
        if let Some(d) = model.get("discriminator") {
            let prop = d["property"].as_str().unwrap_or("");
            if let Some(sub) = obj
                .get(prop)
                .and_then(Value::as_str)
                .and_then(|val| d["mapping"].get(val))
                .and_then(Value::as_str)
            {
                if let Some(sub_fields) = self.models.get(sub).and_then(|m| m["fields"].as_object())
                {
                    fields = sub_fields.clone();
                }
            }
        }
        for (k, x) in obj {
            match fields.get(k) {
                Some(f) => {
                    let ty = f["type"].as_str().unwrap_or("any").to_string();
                    self.check(&ty, x, &format!("{at}.{k}"));
                }
                None => self
                    .errors
                    .push(format!("{at}: field `{k}` is not in model {name}")),
            }
        }
    }
}

struct Tour<'a> {
    t: &'a common::TestEmu,
    raw: Service,
    seen: BTreeMap<&'static str, Vec<Value>>,
}

impl Tour<'_> {
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Value {
        let op = operation_for(method.as_str(), path)
            .unwrap_or_else(|| panic!("no operation for {method} {path}"));
        let resp = self
            .t
            .client
            .send(
                method.clone(),
                &self.raw,
                path,
                query,
                body,
                &RequestOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("{} {method} {path}: {e}", op.name));
        self.seen
            .entry(op.name)
            .or_default()
            .push(resp.body.clone());
        resp.body
    }

    async fn get(&mut self, path: &str, query: &[(&str, &str)]) -> Value {
        self.call(Method::GET, path, query, None).await
    }

    async fn post(&mut self, path: &str, query: &[(&str, &str)], body: Value) -> Value {
        self.call(Method::POST, path, query, Some(body)).await
    }

    async fn delete(&mut self, path: &str) {
        self.call(Method::DELETE, path, &[], None).await;
    }
}

fn s(v: &Value, f: &str) -> String {
    v[f].as_str()
        .unwrap_or_else(|| panic!("no {f} in {v}"))
        .to_string()
}

#[tokio::test]
async fn every_operation_emits_only_model_fields() {
    let subset = subset();
    let t = start(0).await;
    let mut tour = Tour {
        t: &t,
        raw: Service::new("raw", "https://raw.{region}.{secondLevelDomain}", "/"),
        seen: BTreeMap::new(),
    };
    let tenancy = t.tenancy();
    let now = portal_oci_emulator::wire::now_ms();
    let iso = portal_oci_emulator::wire::fmt_time;

    // Identity
    let comps = tour
        .get(
            "/20160918/compartments",
            &[
                ("compartmentId", &tenancy),
                ("compartmentIdInSubtree", "true"),
            ],
        )
        .await;
    let prod = comps
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Production")
        .map(|c| s(c, "id"))
        .unwrap();
    tour.get(&format!("/20160918/compartments/{prod}"), &[])
        .await;
    tour.get(&format!("/20160918/tenancies/{tenancy}"), &[])
        .await;
    tour.get(
        &format!("/20160918/tenancies/{tenancy}/regionSubscriptions"),
        &[],
    )
    .await;
    tour.get("/20160918/regions", &[]).await;
    let ads = tour
        .get(
            "/20160918/availabilityDomains",
            &[("compartmentId", &tenancy)],
        )
        .await;
    let ad = s(&ads[0], "name");
    let users = tour
        .get("/20160918/users", &[("compartmentId", &tenancy)])
        .await;
    tour.get(&format!("/20160918/users/{}", s(&users[0], "id")), &[])
        .await;
    tour.get("/20160918/groups", &[("compartmentId", &tenancy)])
        .await;
    tour.get("/20160918/policies", &[("compartmentId", &tenancy)])
        .await;
    tour.post("/20160918/policies", &[], json!({"compartmentId": prod, "name": "tour", "description": "d", "statements": ["Allow group Developers to read all-resources in tenancy"]})).await;

    // Networking
    let vcns = tour
        .get("/20160918/vcns", &[("compartmentId", &prod)])
        .await;
    tour.get(&format!("/20160918/vcns/{}", s(&vcns[0], "id")), &[])
        .await;
    let vcn = tour
        .post(
            "/20160918/vcns",
            &[],
            json!({"compartmentId": prod, "cidrBlock": "192.168.0.0/16", "displayName": "tour"}),
        )
        .await;
    let subnet = tour
        .post(
            "/20160918/subnets",
            &[],
            json!({"compartmentId": prod, "vcnId": vcn["id"], "cidrBlock": "192.168.1.0/24"}),
        )
        .await;
    tour.get(&format!("/20160918/subnets/{}", s(&subnet, "id")), &[])
        .await;
    let subnets = tour
        .get("/20160918/subnets", &[("compartmentId", &prod)])
        .await;
    tour.call(
        Method::PUT,
        &format!("/20160918/subnets/{}", s(&subnet, "id")),
        &[],
        Some(json!({"displayName": "renamed", "freeformTags": {"k": "v"}, "securityListIds": [vcn["defaultSecurityListId"]]})),
    )
    .await;
    tour.call(
        Method::PUT,
        &format!("/20160918/vcns/{}", s(&vcn, "id")),
        &[],
        Some(json!({"displayName": "renamed", "definedTags": {"ns": {"k": "v"}}})),
    )
    .await;
    tour.delete(&format!("/20160918/subnets/{}", s(&subnet, "id")))
        .await;
    tour.delete(&format!("/20160918/vcns/{}", s(&vcn, "id")))
        .await;
    let sls = tour
        .get("/20160918/securityLists", &[("compartmentId", &prod)])
        .await;
    let web_sl = sls
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["displayName"] == "prod-web-sl")
        .map(|x| s(x, "id"))
        .unwrap();
    let sl = tour
        .get(&format!("/20160918/securityLists/{web_sl}"), &[])
        .await;
    tour.call(
        Method::PUT,
        &format!("/20160918/securityLists/{}", s(&sl, "id")),
        &[],
        Some(json!({"ingressSecurityRules": sl["ingressSecurityRules"], "displayName": "renamed"})),
    )
    .await;
    let rts = tour
        .get("/20160918/routeTables", &[("compartmentId", &prod)])
        .await;
    tour.get(&format!("/20160918/routeTables/{}", s(&rts[0], "id")), &[])
        .await;
    tour.get("/20160918/internetGateways", &[("compartmentId", &prod)])
        .await;
    tour.get("/20160918/natGateways", &[("compartmentId", &prod)])
        .await;

    // Compute
    let instances = tour
        .get("/20160918/instances", &[("compartmentId", &prod)])
        .await;
    let web = s(&instances[0], "id");
    tour.get(&format!("/20160918/instances/{web}"), &[]).await;
    tour.get("/20160918/shapes", &[("compartmentId", &prod)])
        .await;
    let images = tour
        .get(
            "/20160918/images",
            &[("compartmentId", &prod), ("shape", "VM.Standard.E4.Flex")],
        )
        .await;
    tour.get(&format!("/20160918/images/{}", s(&images[0], "id")), &[])
        .await;
    let public = subnets
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["displayName"] == "prod-public")
        .map(|x| s(x, "id"))
        .unwrap();
    let launched = tour
        .post("/20160918/instances", &[], json!({"compartmentId": prod, "availabilityDomain": ad, "shape": "VM.Standard.E4.Flex", "sourceDetails": {"sourceType": "image", "imageId": images[0]["id"]}, "createVnicDetails": {"subnetId": public, "assignPublicIp": true}}))
        .await;
    let new_id = s(&launched, "id");
    tour.call(
        Method::POST,
        &format!("/20160918/instances/{new_id}"),
        &[("action", "STOP")],
        None,
    )
    .await;
    tour.call(
        Method::PUT,
        &format!("/20160918/instances/{new_id}"),
        &[],
        Some(json!({"displayName": "renamed", "shapeConfig": {"ocpus": 2}})),
    )
    .await;
    let hist = tour
        .post(
            "/20160918/instanceConsoleHistories",
            &[],
            json!({"instanceId": web}),
        )
        .await;
    tour.get(
        &format!("/20160918/instanceConsoleHistories/{}", s(&hist, "id")),
        &[],
    )
    .await;
    tour.get(
        &format!("/20160918/instanceConsoleHistories/{}/data", s(&hist, "id")),
        &[],
    )
    .await;
    let hists = tour
        .get(
            "/20160918/instanceConsoleHistories",
            &[("compartmentId", &prod), ("instanceId", &web)],
        )
        .await;
    assert!(!hists.as_array().unwrap().is_empty());
    let vnic_atts = tour
        .get("/20160918/vnicAttachments", &[("compartmentId", &prod)])
        .await;
    tour.get(
        &format!("/20160918/vnics/{}", s(&vnic_atts[0], "vnicId")),
        &[],
    )
    .await;
    tour.get(
        "/20160918/bootVolumeAttachments",
        &[("compartmentId", &prod), ("availabilityDomain", &ad)],
    )
    .await;
    tour.get("/20160918/volumeAttachments", &[("compartmentId", &prod)])
        .await;

    // Block storage
    let boots = tour
        .get("/20160918/bootVolumes", &[("compartmentId", &prod)])
        .await;
    tour.get(
        &format!("/20160918/bootVolumes/{}", s(&boots[0], "id")),
        &[],
    )
    .await;
    tour.get("/20160918/volumes", &[("compartmentId", &prod)])
        .await;
    let vol = tour
        .post(
            "/20160918/volumes",
            &[],
            json!({"compartmentId": prod, "availabilityDomain": ad, "sizeInGBs": 50}),
        )
        .await;
    tour.get(&format!("/20160918/volumes/{}", s(&vol, "id")), &[])
        .await;
    tour.call(
        Method::PUT,
        &format!("/20160918/volumes/{}", s(&vol, "id")),
        &[],
        Some(json!({"sizeInGBs": 60, "vpusPerGB": 20, "displayName": "grown"})),
    )
    .await;
    for ty in ["iscsi", "paravirtualized"] {
        let att = tour
            .post(
                "/20160918/volumeAttachments",
                &[],
                json!({"type": ty, "instanceId": new_id, "volumeId": vol["id"]}),
            )
            .await;
        tour.get(
            &format!("/20160918/volumeAttachments/{}", s(&att, "id")),
            &[],
        )
        .await;
        tour.delete(&format!("/20160918/volumeAttachments/{}", s(&att, "id")))
            .await;
    }
    let backup = tour
        .post(
            "/20160918/volumeBackups",
            &[],
            json!({"volumeId": vol["id"], "type": "FULL"}),
        )
        .await;
    tour.get(
        &format!("/20160918/volumeBackups/{}", s(&backup, "id")),
        &[],
    )
    .await;
    tour.get("/20160918/volumeBackups", &[("compartmentId", &prod)])
        .await;
    tour.delete(&format!("/20160918/volumes/{}", s(&vol, "id")))
        .await;
    tour.delete(&format!("/20160918/instances/{new_id}")).await;
    let wrs = tour
        .get("/20160918/workRequests", &[("compartmentId", &prod)])
        .await;
    let wr = s(&wrs[0], "id");
    tour.get(&format!("/20160918/workRequests/{wr}"), &[]).await;
    tour.get(&format!("/20160918/workRequests/{wr}/errors"), &[])
        .await;
    tour.get(&format!("/20160918/workRequests/{wr}/logs"), &[])
        .await;

    // Object storage
    let ns = tour.get("/n/", &[]).await.as_str().unwrap().to_string();
    tour.get(&format!("/n/{ns}/b"), &[("compartmentId", &prod)])
        .await;
    tour.post(
        &format!("/n/{ns}/b"),
        &[],
        json!({"name": "tour-bucket", "compartmentId": prod}),
    )
    .await;
    tour.get(
        &format!("/n/{ns}/b/tour-bucket"),
        &[("fields", "approximateCount,approximateSize")],
    )
    .await;
    tour.call(Method::HEAD, &format!("/n/{ns}/b/tour-bucket"), &[], None)
        .await;
    let put = t
        .client
        .send_bytes(
            Method::PUT,
            &tour.raw,
            &format!("/n/{ns}/b/tour-bucket/o/x.txt"),
            &[],
            Some(Bytes::from_static(b"hello")),
            &RequestOptions::default(),
        )
        .await
        .unwrap();
    tour.seen
        .entry("ObjectStorageClient.PutObject")
        .or_default()
        .push(put.body);
    tour.get(
        &format!("/n/{ns}/b/tour-bucket/o"),
        &[
            (
                "fields",
                "name,size,etag,timeCreated,md5,timeModified,storageTier,archivalState",
            ),
            ("delimiter", "/"),
        ],
    )
    .await;
    tour.get(&format!("/n/{ns}/b/tour-bucket/o/x.txt"), &[])
        .await;
    tour.call(
        Method::HEAD,
        &format!("/n/{ns}/b/tour-bucket/o/x.txt"),
        &[],
        None,
    )
    .await;
    tour.delete(&format!("/n/{ns}/b/tour-bucket/o/x.txt")).await;
    tour.get(&format!("/n/{ns}"), &[]).await;
    tour.get(&format!("/n/{ns}/b/tour-bucket/p"), &[]).await;
    let up = tour
        .post(
            &format!("/n/{ns}/b/tour-bucket/u"),
            &[],
            json!({"object": "big.bin", "contentType": "text/plain", "metadata": {"k": "v"}}),
        )
        .await;
    let upload_id = s(&up, "uploadId");
    tour.get(&format!("/n/{ns}/b/tour-bucket/u"), &[]).await;
    let part = t
        .client
        .send_bytes(
            Method::PUT,
            &tour.raw,
            &format!("/n/{ns}/b/tour-bucket/u/big.bin"),
            &[("uploadId", &upload_id), ("uploadPartNum", "1")],
            Some(Bytes::from_static(b"part one")),
            &RequestOptions::default(),
        )
        .await
        .unwrap();
    tour.seen
        .entry("ObjectStorageClient.UploadPart")
        .or_default()
        .push(part.body);
    let parts = tour
        .get(
            &format!("/n/{ns}/b/tour-bucket/u/big.bin"),
            &[("uploadId", &upload_id)],
        )
        .await;
    tour.post(
        &format!("/n/{ns}/b/tour-bucket/u/big.bin"),
        &[("uploadId", &upload_id)],
        json!({"partsToCommit": [{"partNum": 1, "etag": s(&parts[0], "etag")}]}),
    )
    .await;
    let up = tour
        .post(
            &format!("/n/{ns}/b/tour-bucket/u"),
            &[],
            json!({"object": "abandoned.bin"}),
        )
        .await;
    tour.call(
        Method::DELETE,
        &format!("/n/{ns}/b/tour-bucket/u/abandoned.bin"),
        &[("uploadId", &s(&up, "uploadId"))],
        None,
    )
    .await;
    tour.delete(&format!("/n/{ns}/b/tour-bucket/o/big.bin"))
        .await;
    tour.delete(&format!("/n/{ns}/b/tour-bucket")).await;

    // Database
    let adbs = tour
        .get("/20160918/autonomousDatabases", &[("compartmentId", &prod)])
        .await;
    tour.get(
        &format!("/20160918/autonomousDatabases/{}", s(&adbs[0], "id")),
        &[],
    )
    .await;
    let adb = tour
        .post(
            "/20160918/autonomousDatabases",
            &[],
            json!({"compartmentId": prod, "dbName": "TOURDB", "adminPassword": "Str0ngPassword1"}),
        )
        .await;
    let adb_path = format!("/20160918/autonomousDatabases/{}", s(&adb, "id"));
    tour.call(Method::POST, &format!("{adb_path}/actions/stop"), &[], None)
        .await;
    tour.call(
        Method::POST,
        &format!("{adb_path}/actions/start"),
        &[],
        None,
    )
    .await;
    tour.delete(&adb_path).await;

    // Load balancer
    let lbs = tour
        .get("/20170115/loadBalancers", &[("compartmentId", &prod)])
        .await;
    let lb = s(&lbs[0], "id");
    tour.get(&format!("/20170115/loadBalancers/{lb}"), &[])
        .await;
    tour.get(&format!("/20170115/loadBalancers/{lb}/health"), &[])
        .await;
    tour.get(&format!("/20170115/loadBalancers/{lb}/backendSets"), &[])
        .await;
    tour.get(
        &format!("/20170115/loadBalancers/{lb}/backendSets/web-backends/health"),
        &[],
    )
    .await;

    // Monitoring, logging, usage, search
    let alarms = tour
        .get("/20180401/alarms", &[("compartmentId", &prod)])
        .await;
    tour.get(&format!("/20180401/alarms/{}", s(&alarms[0], "id")), &[])
        .await;
    tour.get("/20180401/alarms/status", &[("compartmentId", &prod)])
        .await;
    tour.post(
        "/20180401/metrics/actions/summarizeMetricsData",
        &[("compartmentId", &prod)],
        json!({"namespace": "oci_computeagent", "query": "CpuUtilization[5m].mean()"}),
    )
    .await;
    tour.post(
        "/20180401/metrics/actions/listMetrics",
        &[("compartmentId", &prod)],
        json!({}),
    )
    .await;
    tour.post("/20190909/search", &[("limit", "20")], json!({"timeStart": iso(now - 86_400_000), "timeEnd": iso(now), "searchQuery": format!("search \"{prod}\""), "isReturnFieldInfo": true})).await;
    let day = 86_400_000;
    tour.post("/20200107/usage", &[], json!({"tenantId": tenancy, "timeUsageStarted": iso((now / day - 7) * day), "timeUsageEnded": iso((now / day) * day), "granularity": "DAILY", "groupBy": ["service", "skuName", "compartmentName", "resourceId", "logicalAd", "region"]})).await;
    tour.post(
        "/20180409/resources",
        &[],
        json!({"type": "Structured", "query": "query all resources"}),
    )
    .await;
    tour.get("/20180409/resourceTypes", &[]).await;

    // Limits and quotas
    tour.get("/20190729/services", &[("compartmentId", &tenancy)])
        .await;
    tour.get(
        "/20190729/limitValues",
        &[("compartmentId", &tenancy), ("serviceName", "compute")],
    )
    .await;
    let defs = tour
        .get(
            "/20190729/limitDefinitions",
            &[("compartmentId", &tenancy), ("serviceName", "compute")],
        )
        .await;
    assert!(defs
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["serviceName"] == "compute"));
    tour.get(
        "/20190729/services/compute/limits/standard-e4-core-count/resourceAvailability",
        &[("compartmentId", &tenancy), ("availabilityDomain", &ad)],
    )
    .await;
    let dev = comps
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Development")
        .map(|c| s(c, "id"))
        .unwrap();
    tour.get(
        "/20190729/services/compute/limits/standard-e5-core-count/resourceAvailability",
        &[("compartmentId", &dev), ("availabilityDomain", &ad)],
    )
    .await;
    tour.get("/20181025/quotas", &[("compartmentId", &tenancy)])
        .await;

    // Instance agent
    let cmd = tour
        .post("/20180530/instanceAgentCommands", &[], json!({"compartmentId": prod, "executionTimeOutInSeconds": 30, "target": {"instanceId": web}, "content": {"source": {"sourceType": "TEXT", "text": "uname -a"}, "output": {"outputType": "TEXT"}}}))
        .await;
    tour.get(
        "/20180530/instanceAgentCommands",
        &[("compartmentId", &prod)],
    )
    .await;
    tour.get(
        &format!("/20180530/instanceAgentCommands/{}", s(&cmd, "id")),
        &[],
    )
    .await;
    tour.get(
        &format!("/20180530/instanceAgentCommands/{}/status", s(&cmd, "id")),
        &[("instanceId", &web)],
    )
    .await;
    tour.get(
        "/20180530/instanceAgentCommandExecutions",
        &[("compartmentId", &prod), ("instanceId", &web)],
    )
    .await;
    tour.get(
        &format!("/20180530/instanceagents/{web}/plugins"),
        &[("compartmentId", &prod)],
    )
    .await;

    // Artifacts (Container Registry)
    let repos = tour
        .get(
            "/20160918/container/repositories",
            &[
                ("compartmentId", &tenancy),
                ("compartmentIdInSubtree", "true"),
            ],
        )
        .await;
    tour.get(
        "/20160918/container/images",
        &[
            ("compartmentId", &prod),
            ("repositoryId", &s(&repos["items"][0], "id")),
        ],
    )
    .await;
    tour.get("/20160918/container/images", &[("compartmentId", &prod)])
        .await;

    // Every operation was exercised...
    let covered: BTreeSet<&str> = tour.seen.keys().copied().collect();
    let missing: Vec<&str> = OPERATIONS
        .iter()
        .map(|o| o.name)
        .filter(|n| !covered.contains(n))
        .collect();
    assert!(missing.is_empty(), "operations not exercised: {missing:?}");

    // The checker itself catches unknown fields and wrong types.
    let core = subset["models"]["core"].as_object().unwrap();
    let mut probe = Checker {
        models: core,
        errors: Vec::new(),
    };
    probe.check(
        "array<Instance>",
        &json!([{"id": "x", "bogusField": 1, "shapeConfig": {"ocpus": "two"}}]),
        "probe",
    );
    assert_eq!(probe.errors.len(), 2, "{:?}", probe.errors);

    // ...and every JSON response matches its model.
    let mut errors = Vec::new();
    for (name, bodies) in &tour.seen {
        let (client, spec) = lookup(&subset, name);
        let pkg = client["package"].as_str().unwrap();
        let models = subset["models"][pkg].as_object().unwrap();
        let Some(ty) = spec["response"].as_str() else {
            for b in bodies {
                assert!(b.is_null(), "{name} has no response model but returned {b}");
            }
            continue;
        };
        if ty == "binary" {
            continue;
        }
        let mut checker = Checker {
            models,
            errors: Vec::new(),
        };
        for b in bodies {
            checker.check(ty, b, name);
        }
        errors.extend(checker.errors);
    }
    assert!(
        errors.is_empty(),
        "{} contract violations:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// Bad input never crashes a handler: every operation, fed unknown ids, bogus
/// query values and malformed bodies, answers with a 4xx OCI error body.
#[tokio::test]
async fn malformed_requests_get_4xx_never_5xx() {
    let t = start(0).await;
    let raw = Service::new("raw", "https://raw.{region}.{secondLevelDomain}", "/");
    let ns = t.emu.namespace();
    let bodies = [
        None,
        Some(json!({})),
        Some(json!([1, 2])),
        Some(json!({"compartmentId": 7, "name": {}, "query": 5, "type": "Structured"})),
    ];
    let queries: [&[(&str, &str)]; 3] = [
        &[],
        &[("compartmentId", "bogus"), ("limit", "-1"), ("page", "zzz")],
        &[
            ("compartmentId", "ocid1.compartment.oc1..nope"),
            ("lifecycleState", "???"),
            ("action", "NOPE"),
            ("instanceId", "x"),
            ("serviceName", "compute"),
        ],
    ];
    let mut checked = 0;
    for op in OPERATIONS {
        for param_value in ["bogus", "ocid1.instance.oc1.iad.nope"] {
            let path: String = op
                .path
                .split('/')
                .map(|seg| {
                    if seg == "{namespaceName}" {
                        ns.clone()
                    } else if seg.starts_with('{') {
                        param_value.to_string()
                    } else {
                        seg.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            for q in queries {
                for body in &bodies {
                    let method = Method::from_bytes(op.method.as_bytes()).unwrap();
                    let body = if matches!(op.method, "GET" | "HEAD" | "DELETE") {
                        None
                    } else {
                        body.clone()
                    };
                    let result = t
                        .client
                        .send(method, &raw, &path, q, body, &RequestOptions::default())
                        .await;
                    checked += 1;
                    if let Err(e) = result {
                        let status = e.status().map(|s| s.as_u16()).unwrap_or(0);
                        assert!(
                            (400..500).contains(&status),
                            "{} {path} {q:?}: {e}",
                            op.name
                        );
                        if op.method != "HEAD" {
                            assert!(
                                !e.code().unwrap_or("").is_empty(),
                                "{}: no error code",
                                op.name
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(checked > OPERATIONS.len() * 20);
}
