//! Property over the whole catalogue (security review H1): with a compartment
//! policy set, no argument combination of any tool acts outside it.
//!
//! The cloud is a standalone emulator behind a recording layer, so the test
//! sees every request the portal really sent and every resource that answered.
//! For each tool, argument combinations are generated from its spec: allowed
//! and outside compartments, the tenancy, resources from inside and outside
//! the allowed subtree, the allowed compartment's OCID in every text argument,
//! `compartmentId` omitted, and policy statements granting elsewhere. Each
//! call goes through the gateway (approvals granted by a second admin); the
//! gateway must refuse it, or every compartment the executed call touched must
//! be inside the allowed subtree.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use portal_core::tools::{Kind, Param};
use portal_oci_emulator::{Emulator, EmulatorConfig};
use portal_testkit::{Client, TestApp};
use serde_json::{json, Map, Value};

/// One request the portal sent to the cloud, and the answer.
#[derive(Debug, Clone)]
struct Rec {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: Value,
    response: Value,
}

type Log = Arc<Mutex<Vec<Rec>>>;

async fn record(State(log): State<Log>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let url = reqwest::Url::parse(&format!("http://x{}", parts.uri)).expect("uri");
    let mut rec = Rec {
        method: parts.method.to_string(),
        path: url.path().to_string(),
        query: url.query_pairs().into_owned().collect(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        response: Value::Null,
    };
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (rp, rb) = res.into_parts();
    let rbytes = axum::body::to_bytes(rb, usize::MAX)
        .await
        .unwrap_or_default();
    rec.response = serde_json::from_slice(&rbytes).unwrap_or(Value::Null);
    log.lock().unwrap().push(rec);
    Response::from_parts(rp, Body::from(rbytes))
}

/// What the demo tenancy holds, learned before the policy is set.
struct Inventory {
    tenancy: String,
    /// Compartment id → (name, parent).
    compartments: BTreeMap<String, (String, String)>,
    /// Resource OCID → compartment.
    resources: BTreeMap<String, String>,
    /// Bucket name → compartment.
    buckets: BTreeMap<String, String>,
    availability_domain: String,
    image: String,
    allowed: String,
    child: String,
    outside: String,
}

impl Inventory {
    /// Whether `c` is the allowed compartment or below it.
    fn inside(&self, c: &str) -> bool {
        let mut cur = c.to_string();
        for _ in 0..10 {
            if cur == self.allowed {
                return true;
            }
            match self.compartments.get(&cur) {
                Some((_, parent)) => cur = parent.clone(),
                None => return false,
            }
        }
        false
    }

    fn by_name(&self, name: &str) -> Option<&String> {
        self.compartments
            .iter()
            .find(|(_, (n, _))| n.eq_ignore_ascii_case(name))
            .map(|(id, _)| id)
    }

    /// One resource of OCID type `ty` inside the allowed subtree and one outside.
    fn of_type(&self, ty: &str) -> Vec<String> {
        let prefix = format!("ocid1.{ty}.");
        let pick = |inside: bool| {
            self.resources
                .iter()
                .find(|(id, c)| id.starts_with(&prefix) && self.inside(c) == inside)
                .map(|(id, _)| id.clone())
        };
        let found: Vec<String> = [pick(true), pick(false)].into_iter().flatten().collect();
        if found.is_empty() {
            vec![format!("ocid1.{ty}.oc1.iad.aaaadoesnotexist")]
        } else {
            found
        }
    }
}

async fn tool(c: &Client, name: &str, args: Value) -> (u16, Value) {
    let res = c
        .post(
            &format!("/api/v1/tools/{name}/execute"),
            json!({ "args": args }),
        )
        .await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn inventory(admin: &Client, tenancy: String) -> Inventory {
    let (_, found) = tool(
        admin,
        "searchResources",
        json!({"query": "query all resources", "limit": 1000}),
    )
    .await;
    let mut inv = Inventory {
        tenancy,
        compartments: BTreeMap::new(),
        resources: BTreeMap::new(),
        buckets: BTreeMap::new(),
        availability_domain: String::new(),
        image: String::new(),
        allowed: String::new(),
        child: String::new(),
        outside: String::new(),
    };
    for item in found["result"]["items"].as_array().expect("search items") {
        let id = item["identifier"].as_str().unwrap_or_default().to_string();
        let c = item["compartmentId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match item["resourceType"].as_str() {
            Some("Compartment") => {
                let name = item["displayName"].as_str().unwrap_or_default().to_string();
                inv.compartments.insert(id, (name, c));
            }
            Some("Bucket") => {
                let name = item["displayName"].as_str().unwrap_or_default().to_string();
                inv.buckets.insert(name, c);
            }
            _ => {
                inv.resources.insert(id, c);
            }
        }
    }
    inv.allowed = inv.by_name("Production").expect("Production").clone();
    inv.child = inv.by_name("prod-apps").expect("prod-apps").clone();
    inv.outside = inv.by_name("Development").expect("Development").clone();
    let (_, ads) = tool(admin, "listAvailabilityDomains", json!({})).await;
    inv.availability_domain = ads["result"]["items"][0]["name"]
        .as_str()
        .expect("an availability domain")
        .to_string();
    let (_, images) = tool(admin, "listImages", json!({"compartmentId": inv.allowed})).await;
    inv.image = images["result"]["items"][0]["id"]
        .as_str()
        .expect("a platform image")
        .to_string();
    inv
}

/// Sample values of text rules; each rule keeps those it accepts.
fn rule_samples(inv: &Inventory) -> Vec<String> {
    let mut v: Vec<String> = inv.buckets.keys().cloned().collect();
    v.sort_by_key(|b| !inv.inside(&inv.buckets[b]));
    v.extend(
        [
            "prop-new-1",
            "Allow group A to read instances in compartment prod-apps",
            "Allow group Everyone to manage all-resources in tenancy",
            "Allow group A to manage all-resources in compartment Development",
            "Define tenancy Other as ocid1.tenancy.oc1..aaaa",
            "PropDb1",
            "Str0ngPassw0rdX",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE5hbWUgdGVzdA user@host",
            "10.0.0.0/16",
            "compute",
            "vm-standard2-1-count",
            "web-backends",
        ]
        .map(String::from),
    );
    v.push(format!(
        "Allow group A to read instances in compartment id {}",
        inv.outside
    ));
    v.push(inv.allowed.clone());
    v
}

/// Candidate values of a parameter, the one that should pass first.
fn candidates(p: &Param, kind: &Kind, inv: &Inventory) -> Vec<Value> {
    let s = |v: &str| Value::String(v.to_string());
    match *kind {
        Kind::Ocid(Some("compartment")) => {
            vec![
                s(&inv.allowed),
                s(&inv.child),
                s(&inv.outside),
                s(&inv.tenancy),
            ]
        }
        Kind::Ocid(Some("image")) => vec![s(&inv.image)],
        Kind::Ocid(Some(ty)) => inv.of_type(ty).iter().map(|v| s(v)).collect(),
        Kind::Ocid(None) => vec![s(&inv.allowed), s(&inv.outside)],
        Kind::Text { .. } => match p.name {
            "availabilityDomain" => vec![s(&inv.availability_domain), s(&inv.allowed)],
            "shape" => vec![s("VM.Standard.E4.Flex"), s(&inv.allowed)],
            "script" => vec![s("echo hi")],
            _ => vec![s(&inv.allowed), s("x")],
        },
        Kind::Rule(r) => rule_samples(inv)
            .into_iter()
            .filter(|v| v.chars().count() <= r.max && (r.check)(v))
            .map(Value::String)
            .collect(),
        Kind::Enum(values) => vec![s(values[0])],
        Kind::Int { min, max } => {
            let d = p.default.and_then(|d| d.parse::<i64>().ok());
            vec![json!(d.unwrap_or(if min <= 1 && max >= 1 {
                1
            } else {
                min
            }))]
        }
        Kind::Bool => vec![json!(false)],
        Kind::Cidr => vec![s("10.9.0.0/16")],
        Kind::Array { items, .. } => candidates(p, items, inv)
            .into_iter()
            .map(|v| Value::Array(vec![v]))
            .collect(),
        Kind::Object { fields, .. } => {
            let mut m = Map::new();
            for f in fields.iter().filter(|f| f.required) {
                if let Some(v) = candidates(f, &f.kind, inv).into_iter().next() {
                    m.insert(f.name.to_string(), v);
                }
            }
            vec![Value::Object(m)]
        }
        Kind::Json => vec![json!({})],
    }
}

/// Argument combinations for one tool.
fn combinations(spec: &portal_core::tools::ToolSpec, inv: &Inventory) -> Vec<Value> {
    let mut base = Map::new();
    for p in spec.params {
        if p.required || p.name == "compartmentId" {
            if let Some(v) = candidates(p, &p.kind, inv).into_iter().next() {
                base.insert(p.name.to_string(), v);
            }
        }
    }
    let mut out = vec![Value::Object(base.clone())];
    for p in spec.params {
        for c in candidates(p, &p.kind, inv) {
            let mut m = base.clone();
            m.insert(p.name.to_string(), c);
            out.push(Value::Object(m));
        }
    }
    // compartmentId omitted: the call runs in the tenancy's root, or a list searches
    // every allowed compartment (portal_tools::FAN_OUT).
    let mut m = base.clone();
    m.remove("compartmentId");
    out.push(Value::Object(m.clone()));
    // ...with the allowed compartment's OCID in every text argument.
    for p in spec.params {
        if matches!(p.kind, Kind::Text { .. }) {
            m.insert(p.name.to_string(), Value::String(inv.allowed.clone()));
        }
    }
    out.push(Value::Object(m));
    let mut seen = BTreeSet::new();
    out.retain(|v| seen.insert(v.to_string()));
    out
}

/// Where a statement of a policy created in `own` grants access (for the check).
fn statement_compartment(s: &str, own: &str, inv: &Inventory) -> String {
    let lower = s.to_ascii_lowercase();
    let first = lower.split_whitespace().next().unwrap_or_default();
    if first != "allow" || lower.contains(" in tenancy") {
        return inv.tenancy.clone();
    }
    if let Some(rest) = lower.split(" in compartment id ").nth(1) {
        return rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
    }
    match lower.split(" in compartment ").nth(1) {
        Some(path) => {
            let last = path.split_whitespace().next().unwrap_or_default();
            let last = last.rsplit(':').next().unwrap_or_default();
            inv.by_name(last)
                .cloned()
                .unwrap_or_else(|| own.to_string())
        }
        None => inv.tenancy.clone(),
    }
}

/// The compartments a recorded request acted in.
fn touched(r: &Rec, inv: &Inventory) -> Vec<String> {
    let mut out = Vec::new();
    let mut obj = |v: &Value| {
        let id = v["id"].as_str().unwrap_or_default();
        if id.starts_with("ocid1.compartment.") {
            out.push(id.to_string());
        } else if let Some(c) = v["compartmentId"].as_str() {
            // Platform images are listed in every compartment.
            if !(id.starts_with("ocid1.image.") && c == inv.tenancy) {
                out.push(c.to_string());
            }
        }
    };
    obj(&r.body);
    obj(&r.response);
    let items = match &r.response {
        Value::Array(items) => items.clone(),
        v => v["items"].as_array().cloned().unwrap_or_default(),
    };
    for item in &items {
        obj(item);
    }
    for (k, v) in &r.query {
        if k == "compartmentId" {
            out.push(v.clone());
        }
    }
    if r.method == "POST" && r.path.ends_with("/policies") {
        let own = r.body["compartmentId"].as_str().unwrap_or(&inv.tenancy);
        for s in r.body["statements"].as_array().into_iter().flatten() {
            out.push(statement_compartment(
                s.as_str().unwrap_or_default(),
                own,
                inv,
            ));
        }
    }
    out
}

#[tokio::test]
async fn with_a_policy_set_no_tool_acts_outside_it() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(EmulatorConfig {
        transition_delay: std::time::Duration::from_millis(50),
        ..EmulatorConfig::new(dir.path())
    })
    .unwrap();
    let log: Log = Arc::default();
    let router = emu
        .router()
        .layer(axum::middleware::from_fn_with_state(log.clone(), record));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "oci")
        .env(
            "PORTAL_OCI_CONFIG_FILE",
            emu.config_path().display().to_string(),
        )
        .env("PORTAL_OCI_ENDPOINT", &endpoint)
        .spawn()
        .await;
    let admin = app.admin().await;
    let approver = app.member(&admin, "approver@acme.test", "admin").await;
    let inv = inventory(&admin, emu.tenancy_id().to_string()).await;
    let org = admin.who["activeOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The detector sees the reviewed attack's effect: a root policy acts outside.
    let attack = Rec {
        method: "POST".into(),
        path: "/20160918/policies".into(),
        query: vec![],
        body: json!({"compartmentId": inv.tenancy, "statements": ["Allow group Everyone to manage all-resources in tenancy"]}),
        response: Value::Null,
    };
    assert!(touched(&attack, &inv).iter().any(|c| !inv.inside(c)));

    admin.assign_compartments(&org, &[&inv.allowed]).await;
    let mut violations = Vec::new();
    let mut executed = BTreeSet::new();
    let mut fanned = BTreeSet::new();
    let mut calls = 0;
    for spec in portal_tools::TOOLS {
        for args in combinations(spec, &inv) {
            calls += 1;
            log.lock().unwrap().clear();
            let (mut status, mut body) = tool(&admin, spec.name, args.clone()).await;
            if status == 403 && body["code"] == "APPROVAL_REQUIRED" {
                let early: Vec<Rec> = log.lock().unwrap().drain(..).collect();
                for r in early.iter().filter(|r| r.method != "GET") {
                    violations.push(format!(
                        "{} {args}: before approval {} {}",
                        spec.name, r.method, r.path
                    ));
                }
                let id = body["approvalId"].as_str().unwrap_or_default().to_string();
                let res = approver
                    .post(
                        "/api/tools/approve",
                        json!({"approvalId": id, "approved": true}),
                    )
                    .await;
                assert_eq!(res.status(), 200, "{} approval", spec.name);
                (status, body) = tool(&admin, spec.name, args.clone()).await;
            }
            if status == 200 {
                executed.insert(spec.name);
            }
            let recs: Vec<Rec> = log.lock().unwrap().drain(..).collect();
            // A list without a compartment searched the allowed subtree, down to the child.
            if status == 200
                && portal_tools::FAN_OUT.contains(&spec.name)
                && args.get("compartmentId").is_none()
            {
                let child = recs.iter().any(|r| {
                    r.method == "GET"
                        && r.query
                            .iter()
                            .any(|(k, v)| k == "compartmentId" && *v == inv.child)
                        && !r.path.ends_with("/compartments")
                });
                if child && body["result"]["searched"]["compartments"] == 2 {
                    fanned.insert(spec.name);
                }
            }
            for r in &recs {
                // A refused call's lookups (reads of what it names) act nowhere.
                if status != 200 && r.method == "GET" {
                    continue;
                }
                for c in touched(r, &inv) {
                    if !inv.inside(&c) {
                        violations.push(format!(
                            "{} {args} -> {status}: {} {} acted in {c}",
                            spec.name, r.method, r.path
                        ));
                    }
                }
            }
            let _ = body;
        }
    }
    assert!(
        violations.is_empty(),
        "{} violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
    // Every list without a compartment searched the allowed subtree (and only it).
    let missing: Vec<&&str> = portal_tools::FAN_OUT
        .iter()
        .filter(|t| !fanned.contains(*t))
        .collect();
    assert!(
        missing.is_empty(),
        "did not search the allowed subtree: {missing:?}"
    );
    // Not vacuous: most cloud tools really ran inside the allowed subtree.
    assert!(calls > 300, "{calls} calls");
    assert!(
        executed.len() >= 45,
        "{} tools executed: {executed:?}",
        executed.len()
    );
}
