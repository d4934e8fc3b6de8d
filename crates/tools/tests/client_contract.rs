//! Client-side contract test against the OCI API subset
//! (`shared/testdata/oci-api-subset.json`).
//!
//! Every cloud-backed tool of [`portal_tools::TOOLS`] runs against the in-process
//! OCI emulator, behind a recording layer that keeps each HTTP request the tool
//! sent. Each request is matched to its subset operation by method and path
//! template (base path included) and checked: query parameter names (and the
//! values of typed or enumerated ones), required query parameters, OCI headers,
//! and the JSON body's field names and types, recursively through the subset's
//! models (arrays, maps, nested models, discriminated subtypes), with required
//! fields present. The emulator side of the contract is
//! `crates/oci-emulator/tests/contract.rs`.
//!
//! A tool that is added to the catalogue without a row in [`SAMPLES`] (or in
//! [`OFFLINE`]) fails this test, so no tool silently escapes the contract.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use portal_core::service::tools::ToolRunner;
use portal_oci::{ClientOptions, OciClient, RetryPolicy};
use portal_oci_emulator::{Emulator, EmulatorConfig};
use portal_tools::{OciTools, TOOLS};
use serde_json::{json, Map, Value};

/// Tools that never call the cloud, with sample arguments. The test runs them
/// too and checks they send nothing.
const OFFLINE: &[(&str, &str)] = &[
    ("getOCIPricing", r#"{"shapeName": "VM.Standard.E5.Flex"}"#),
    ("getAWSPricing", r#"{"instanceType": "m5.large"}"#),
    ("getAzurePricing", r#"{"skuName": "Standard_D2s_v3"}"#),
    ("getOCIFreeTier", r#"{}"#),
    ("estimateCloudCost", r#"{"provider": "oci", "vcpus": 4}"#),
    ("compareCloudCosts", r#"{"vcpus": 4, "memoryGB": 16}"#),
    (
        "generateTerraform",
        r#"{"name": "contract", "mode": "web-server"}"#,
    ),
];

/// One run of a cloud tool: its arguments (JSON, where `$var` is replaced by a
/// value captured from an earlier run) and the values to capture from its
/// result for later rows.
struct Sample {
    tool: &'static str,
    args: &'static str,
    /// `(var, selector)`: a `/`-separated path into the result; a segment is an
    /// object key, an array index, or `field=value` (the first array element
    /// whose `field` equals `value`).
    capture: &'static [(&'static str, &'static str)],
}

/// Shorthand for a [`Sample`] row.
const fn s(
    tool: &'static str,
    args: &'static str,
    capture: &'static [(&'static str, &'static str)],
) -> Sample {
    Sample {
        tool,
        args,
        capture,
    }
}

/// Sample arguments for every cloud tool, run in this order against the seeded
/// demo tenancy: discovery (list tools) first, reads next, mutations last.
/// `$tenancy` is predefined. Add a row for every new cloud tool.
const SAMPLES: &[Sample] = &[
    // Identity
    s(
        "listCompartments",
        r#"{}"#,
        &[
            ("prod", "items/name=Production/id"),
            ("dev", "items/name=Development/id"),
        ],
    ),
    s("getCompartment", r#"{"compartmentId": "$prod"}"#, &[]),
    s("getTenancy", r#"{}"#, &[]),
    s("listRegionSubscriptions", r#"{}"#, &[]),
    s("listRegions", r#"{}"#, &[]),
    s(
        "listAvailabilityDomains",
        r#"{}"#,
        &[("ad", "items/0/name")],
    ),
    s("listUsers", r#"{"limit": 10}"#, &[]),
    s("listGroups", r#"{}"#, &[]),
    s("listPolicies", r#"{"compartmentId": "$tenancy"}"#, &[]),
    // Compute
    s(
        "listInstances",
        r#"{"compartmentId": "$prod", "lifecycleState": "RUNNING"}"#,
        &[
            ("instance", "items/displayName=web-01/id"),
            ("instance2", "items/displayName=web-02/id"),
        ],
    ),
    s("getInstance", r#"{"instanceId": "$instance"}"#, &[]),
    s("listShapes", r#"{"compartmentId": "$prod"}"#, &[]),
    s(
        "listImages",
        r#"{"compartmentId": "$prod", "operatingSystem": "Oracle Linux"}"#,
        &[("image", "items/0/id")],
    ),
    s(
        "listVnicAttachments",
        r#"{"compartmentId": "$prod", "instanceId": "$instance"}"#,
        &[("vnic", "items/0/vnicId")],
    ),
    s(
        "getInstanceVnics",
        r#"{"compartmentId": "$prod", "instanceId": "$instance"}"#,
        &[],
    ),
    s(
        "listVolumeAttachments",
        r#"{"compartmentId": "$prod", "instanceId": "$instance"}"#,
        &[],
    ),
    s(
        "listInstancePlugins",
        r#"{"compartmentId": "$prod", "instanceId": "$instance"}"#,
        &[],
    ),
    s(
        "getInstanceConsoleHistory",
        r#"{"instanceId": "$instance"}"#,
        &[],
    ),
    s(
        "runInstanceCommand",
        r#"{"instanceId": "$instance", "script": "uname -a", "timeoutSeconds": 30}"#,
        &[("command", "commandId")],
    ),
    s(
        "getCommandExecution",
        r#"{"instanceId": "$instance", "commandId": "$command"}"#,
        &[],
    ),
    // Networking
    s(
        "listVcns",
        r#"{"compartmentId": "$prod"}"#,
        &[("vcn", "items/displayName=prod-vcn/id")],
    ),
    s("getVcn", r#"{"vcnId": "$vcn"}"#, &[]),
    s(
        "listSubnets",
        r#"{"compartmentId": "$prod", "vcnId": "$vcn"}"#,
        &[("subnet", "items/0/id")],
    ),
    s(
        "listSecurityLists",
        r#"{"compartmentId": "$prod", "vcnId": "$vcn"}"#,
        &[("securityList", "items/0/id")],
    ),
    s(
        "listRouteTables",
        r#"{"compartmentId": "$prod", "vcnId": "$vcn"}"#,
        &[],
    ),
    s(
        "listInternetGateways",
        r#"{"compartmentId": "$prod", "vcnId": "$vcn"}"#,
        &[],
    ),
    s(
        "listNatGateways",
        r#"{"compartmentId": "$prod", "vcnId": "$vcn"}"#,
        &[],
    ),
    s("getVnic", r#"{"vnicId": "$vnic"}"#, &[]),
    // Container registry
    s("listContainerRepos", r#"{}"#, &[]),
    s("listContainerImages", r#"{}"#, &[]),
    s(
        "listLoadBalancers",
        r#"{"compartmentId": "$prod"}"#,
        &[("lb", "items/0/id")],
    ),
    s("getLoadBalancer", r#"{"loadBalancerId": "$lb"}"#, &[]),
    s("getLoadBalancerHealth", r#"{"loadBalancerId": "$lb"}"#, &[]),
    s(
        "getBackendSetHealth",
        r#"{"loadBalancerId": "$lb", "backendSetName": "web-backends"}"#,
        &[],
    ),
    // Storage
    s(
        "listBootVolumes",
        r#"{"compartmentId": "$prod", "availabilityDomain": "$ad"}"#,
        &[("bootVolume", "items/0/id")],
    ),
    s("getBootVolume", r#"{"bootVolumeId": "$bootVolume"}"#, &[]),
    s(
        "listBlockVolumes",
        r#"{"compartmentId": "$prod"}"#,
        &[("volume", "items/0/id")],
    ),
    s("getBlockVolume", r#"{"volumeId": "$volume"}"#, &[]),
    s("listVolumeBackups", r#"{"compartmentId": "$prod"}"#, &[]),
    s(
        "createVolumeBackup",
        r#"{"volumeId": "$volume", "type": "FULL", "displayName": "contract-backup"}"#,
        &[("backup", "id")],
    ),
    s("getVolumeBackup", r#"{"volumeBackupId": "$backup"}"#, &[]),
    s("getObjectStorageNamespace", r#"{}"#, &[]),
    s(
        "listBuckets",
        r#"{"compartmentId": "$prod"}"#,
        &[("bucket", "items/0/name")],
    ),
    s("getBucket", r#"{"bucketName": "$bucket"}"#, &[]),
    s(
        "listObjects",
        r#"{"bucketName": "$bucket", "prefix": "img/"}"#,
        &[],
    ),
    // Database
    s(
        "listAutonomousDatabases",
        r#"{"compartmentId": "$prod"}"#,
        &[("adb", "items/0/id")],
    ),
    s(
        "getAutonomousDatabase",
        r#"{"autonomousDatabaseId": "$adb"}"#,
        &[],
    ),
    // Observability, logging, search, billing, limits
    s(
        "listAlarms",
        r#"{"compartmentId": "$prod"}"#,
        &[("alarm", "items/0/id")],
    ),
    s("getAlarm", r#"{"alarmId": "$alarm"}"#, &[]),
    s("getAlarmStatus", r#"{"compartmentId": "$prod"}"#, &[]),
    s(
        "getMetrics",
        r#"{"compartmentId": "$prod", "namespace": "oci_computeagent", "query": "CpuUtilization[5m].mean()", "hours": 2}"#,
        &[],
    ),
    s(
        "summarizeMetrics",
        r#"{"compartmentId": "$prod", "namespace": "oci_autonomous_database", "query": "CpuUtilization[1h].max()"}"#,
        &[],
    ),
    s(
        "getComputeMetrics",
        r#"{"compartmentId": "$prod", "metric": "MemoryUtilization"}"#,
        &[],
    ),
    s("listMetricNamespaces", r#"{"compartmentId": "$prod"}"#, &[]),
    s(
        "searchLogs",
        r#"{"query": "search \"$prod\" | where level = 'ERROR' | sort by datetime desc", "hours": 48, "limit": 20}"#,
        &[],
    ),
    s(
        "searchResources",
        r#"{"query": "query instance resources where lifecycleState = 'RUNNING'", "limit": 20}"#,
        &[],
    ),
    s("searchResourcesByName", r#"{"text": "web"}"#, &[]),
    s("getCostByCompartment", r#"{"days": 7}"#, &[]),
    s("getUsageCost", r#"{"days": 7}"#, &[]),
    s("listLimitServices", r#"{}"#, &[]),
    s("getServiceLimits", r#"{"serviceName": "compute"}"#, &[]),
    s(
        "getResourceAvailability",
        r#"{"serviceName": "compute", "limitName": "standard-e4-core-count", "availabilityDomain": "$ad"}"#,
        &[],
    ),
    s("listQuotas", r#"{}"#, &[]),
    // Mutations (OciTools runs them directly; the gateway's approvals are not involved)
    s("stopInstance", r#"{"instanceId": "$instance"}"#, &[]),
    s("startInstance", r#"{"instanceId": "$instance"}"#, &[]),
    s("rebootInstance", r#"{"instanceId": "$instance"}"#, &[]),
    s(
        "createVcn",
        r#"{"compartmentId": "$prod", "cidrBlock": "192.168.0.0/16", "displayName": "contract-vcn"}"#,
        &[("newVcn", "id")],
    ),
    s("deleteVcn", r#"{"vcnId": "$newVcn"}"#, &[]),
    s(
        "createBucket",
        r#"{"compartmentId": "$prod", "name": "contract-bucket", "storageTier": "Standard"}"#,
        &[],
    ),
    s("deleteBucket", r#"{"bucketName": "contract-bucket"}"#, &[]),
    s(
        "createBlockVolume",
        r#"{"compartmentId": "$prod", "availabilityDomain": "$ad", "sizeInGBs": 60, "displayName": "contract-volume"}"#,
        &[("newVolume", "id")],
    ),
    s(
        "attachBlockVolume",
        r#"{"instanceId": "$instance", "volumeId": "$newVolume", "type": "paravirtualized", "readOnly": true}"#,
        &[],
    ),
    s(
        "stopAutonomousDatabase",
        r#"{"autonomousDatabaseId": "$adb"}"#,
        &[],
    ),
    s(
        "startAutonomousDatabase",
        r#"{"autonomousDatabaseId": "$adb"}"#,
        &[],
    ),
    s(
        "terminateAutonomousDatabase",
        r#"{"autonomousDatabaseId": "$adb"}"#,
        &[],
    ),
    s(
        "launchInstance",
        r#"{"compartmentId": "$prod", "availabilityDomain": "$ad", "shape": "VM.Standard.E4.Flex", "imageId": "$image", "subnetId": "$subnet", "displayName": "contract-launched", "ocpus": 1, "memoryInGBs": 16, "userData": "echo contract"}"#,
        &[],
    ),
    s(
        "createAutonomousDatabase",
        r#"{"compartmentId": "$prod", "dbName": "CONTRACTDB", "displayName": "contract-db", "cpuCoreCount": 1, "dataStorageSizeInTBs": 1, "adminPassword": "Contract-Passw0rd-1"}"#,
        &[],
    ),
    s(
        "createPolicy",
        r#"{"name": "contract-policy", "description": "Contract test", "statements": ["Allow group Developers to read instance-family in tenancy"]}"#,
        &[],
    ),
    s(
        "updateSecurityListRules",
        r#"{"securityListId": "$securityList", "ingressSecurityRules": [{"protocol": "6", "source": "10.0.0.0/16", "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}}}]}"#,
        &[],
    ),
    s(
        "terminateInstance",
        r#"{"instanceId": "$instance2", "preserveBootVolume": true}"#,
        &[],
    ),
];

/// Headers every request carries whatever the operation (signing and the SDK's
/// common headers, see `meta.conventions.common_headers`).
const COMMON_OPC_HEADERS: &[&str] = &["opc-request-id", "opc-client-info", "opc-client-retries"];

// ---------------------------------------------------------------------------
// The subset

/// Finds and parses the subset JSON: `shared/testdata` next to or above the crate.
fn subset() -> Value {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in here.ancestors() {
        for candidate in [
            dir.join("shared/testdata/oci-api-subset.json"),
            dir.join("../shared/testdata/oci-api-subset.json"),
        ] {
            if let Ok(text) = std::fs::read_to_string(&candidate) {
                return serde_json::from_str(&text).expect("subset JSON parses");
            }
        }
    }
    panic!(
        "shared/testdata/oci-api-subset.json not found above {}",
        here.display()
    );
}

/// One subset operation with its full path template split into segments.
struct Op<'a> {
    /// `Client.OperationId`.
    name: String,
    /// The client's SDK package (where its models live).
    package: &'a str,
    spec: &'a Value,
    segments: Vec<&'a str>,
}

impl Op<'_> {
    fn method(&self) -> &str {
        self.spec["method"].as_str().unwrap_or("")
    }

    /// Whether the raw request path fits the template; `Some(literal segments)`.
    fn matches(&self, path: &[&str]) -> Option<usize> {
        if path.len() != self.segments.len() {
            return None;
        }
        let mut literals = 0;
        for (t, p) in self.segments.iter().zip(path) {
            if t.starts_with('{') && t.ends_with('}') {
                if p.is_empty() {
                    return None;
                }
            } else if t == p {
                literals += 1;
            } else {
                return None;
            }
        }
        Some(literals)
    }
}

/// Every operation of every client, with `base_path` + `path` as the template.
fn operations(subset: &Value) -> Vec<Op<'_>> {
    let mut ops = Vec::new();
    for (client_name, client) in subset["clients"].as_object().expect("clients") {
        let base = client["base_path"].as_str().expect("base_path");
        let package = client["package"].as_str().expect("package");
        for spec in client["operations"]
            .as_object()
            .expect("operations")
            .values()
        {
            let path = spec["path"].as_str().expect("path");
            let base = if base == "/" { "" } else { base };
            let full = format!("{base}{path}");
            // Leaked so the segments can borrow it for the test's lifetime.
            let full: &'static str = Box::leak(full.into_boxed_str());
            ops.push(Op {
                name: format!(
                    "{client_name}.{}",
                    spec["operation_id"].as_str().unwrap_or("?")
                ),
                package,
                spec,
                segments: full.split('/').collect(),
            });
        }
    }
    ops
}

// ---------------------------------------------------------------------------
// Recording

/// One request as the emulator received it.
#[derive(Clone, Debug)]
struct Recorded {
    /// The tool that was running.
    tool: String,
    method: String,
    /// The raw (percent-encoded) path.
    path: String,
    /// Decoded query pairs, in order.
    query: Vec<(String, String)>,
    /// Lower-case header names and values.
    headers: Vec<(String, String)>,
    /// `None` for an empty body; otherwise the JSON, or why it is not JSON.
    body: Option<Result<Value, String>>,
}

#[derive(Default)]
struct Log {
    current: String,
    requests: Vec<Recorded>,
}

type Recorder = Arc<Mutex<Log>>;

/// Middleware in front of the emulator's router: records, then forwards the
/// request unchanged (the same body bytes, so the signature still verifies).
async fn record(State(rec): State<Recorder>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => {
            let mut r = Response::new(Body::from(format!("recorder: {e}")));
            *r.status_mut() = http::StatusCode::BAD_REQUEST;
            return r;
        }
    };
    let body = if bytes.is_empty() {
        None
    } else {
        Some(serde_json::from_slice::<Value>(&bytes).map_err(|e| e.to_string()))
    };
    let query = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    {
        let mut log = rec
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tool = log.current.clone();
        log.requests.push(Recorded {
            tool,
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query,
            headers,
            body,
        });
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The emulator on a loopback port behind the recorder, and the tool runner
/// pointed at it.
struct Harness {
    emu: Emulator,
    tools: OciTools,
    rec: Recorder,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = EmulatorConfig::new(dir.path());
    cfg.transition_delay = Duration::ZERO;
    let emu = Emulator::open(cfg).expect("emulator opens");
    let rec: Recorder = Arc::default();
    let app = emu
        .router()
        .layer(axum::middleware::from_fn_with_state(rec.clone(), record));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
            .expect("serve");
    });
    let options = ClientOptions {
        endpoint_override: Some(format!("http://{addr}").parse().expect("url")),
        retry: RetryPolicy {
            max_attempts: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        ..ClientOptions::default()
    };
    let client =
        OciClient::new(emu.demo_signer(), emu.region().to_string(), options).expect("client");
    let tools = OciTools::new(client, emu.tenancy_id(), "emulator");
    Harness {
        emu,
        tools,
        rec,
        _dir: dir,
        _shutdown: tx,
    }
}

impl Harness {
    /// Runs `tool` with `args` (validated and defaulted as the gateway does),
    /// labelling the requests it sends; returns the result and how many requests.
    async fn run(&self, tool: &str, args: &Value) -> (Result<Value, String>, usize) {
        let before = {
            let mut log = self.rec.lock().expect("log");
            log.current = tool.to_string();
            log.requests.len()
        };
        let result = match TOOLS.iter().find(|t| t.name == tool) {
            None => Err(format!("{tool} is not in the catalogue")),
            Some(spec) => match spec.validate(args) {
                Err(e) => Err(format!("sample arguments rejected: {e}")),
                Ok(args) => self
                    .tools
                    .run(tool, &args)
                    .await
                    .map_err(|e| e.message().to_string()),
            },
        };
        let after = self.rec.lock().expect("log").requests.len();
        (result, after - before)
    }
}

/// Replaces each `$var` in `template` by its captured value.
fn substitute(template: &str, vars: &HashMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let end = tail
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let value = vars
            .get(name)
            .ok_or_else(|| format!("`${name}` was never captured"))?;
        out.push_str(value);
        rest = &tail[end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Follows a capture selector (see [`Sample::capture`]) into `v`.
fn select(v: &Value, selector: &str) -> Option<String> {
    let mut cur = v;
    for seg in selector.split('/') {
        cur = if let Some((field, want)) = seg.split_once('=') {
            cur.as_array()?
                .iter()
                .find(|x| x.get(field).and_then(Value::as_str) == Some(want))?
        } else if let Ok(i) = seg.parse::<usize>() {
            cur.get(i)?
        } else {
            cur.get(seg)?
        };
    }
    match cur {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Checking

/// Checks JSON request bodies against the models of one SDK package.
struct BodyChecker<'a> {
    models: &'a Map<String, Value>,
    errors: Vec<String>,
}

impl BodyChecker<'_> {
    fn check(&mut self, ty: &str, v: &Value, at: &str) {
        if let Some(inner) = ty.strip_prefix("array<").and_then(|t| t.strip_suffix('>')) {
            match v.as_array() {
                Some(a) => a
                    .iter()
                    .enumerate()
                    .for_each(|(i, x)| self.check(inner, x, &format!("{at}[{i}]"))),
                None => self.errors.push(format!("{at}: expected {ty}, got {v}")),
            }
            return;
        }
        if let Some(inner) = ty.strip_prefix("map<").and_then(|t| t.strip_suffix('>')) {
            match v.as_object() {
                Some(m) => m
                    .iter()
                    .for_each(|(k, x)| self.check(inner, x, &format!("{at}.{k}"))),
                None => self.errors.push(format!("{at}: expected {ty}, got {v}")),
            }
            return;
        }
        let rfc3339 = |s: &str| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
        };
        let ok = match ty {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "datetime" => v.as_str().is_some_and(rfc3339),
            "date" => v.as_str().is_some_and(|s| {
                let f = time::macros::format_description!("[year]-[month]-[day]");
                time::Date::parse(s, f).is_ok()
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
                .push(format!("{at}: expected a {name} object, got {v}"));
            return;
        };
        // Polymorphic models: the discriminator must name a subtype, whose
        // fields (inherited ones included) are the ones allowed.
        let mut model_name = name.to_string();
        let mut fields = model["fields"].as_object().cloned().unwrap_or_default();
        if let Some(d) = model.get("discriminator") {
            let prop = d["property"].as_str().unwrap_or("");
            match obj.get(prop).and_then(Value::as_str) {
                None => self.errors.push(format!(
                    "{at}: {name} needs its discriminator `{prop}` (one of {})",
                    keys(&d["mapping"])
                )),
                Some(val) => match d["mapping"].get(val).and_then(Value::as_str) {
                    None => self.errors.push(format!(
                        "{at}.{prop}: `{val}` is not a {name} subtype (one of {})",
                        keys(&d["mapping"])
                    )),
                    Some(sub) => match self.models.get(sub).and_then(|m| m["fields"].as_object()) {
                        Some(f) => {
                            fields = f.clone();
                            model_name = sub.to_string();
                        }
                        None => self.errors.push(format!("{at}: unknown model {sub}")),
                    },
                },
            }
        }
        for (k, x) in obj {
            match fields.get(k) {
                Some(f) => {
                    let ty = f["type"].as_str().unwrap_or("any");
                    self.check(ty, x, &format!("{at}.{k}"));
                    if let Some(allowed) = f["enum"].as_array() {
                        let values: Vec<&Value> = match x.as_array() {
                            Some(a) => a.iter().collect(),
                            None => vec![x],
                        };
                        for val in values {
                            if val.is_string() && !allowed.contains(val) {
                                self.errors.push(format!(
                                    "{at}.{k}: {val} is not one of {}",
                                    join(allowed)
                                ));
                            }
                        }
                    }
                }
                None => self
                    .errors
                    .push(format!("{at}: field `{k}` is not in model {model_name}")),
            }
        }
        for (k, f) in &fields {
            if f["required"] == true && !obj.contains_key(k) {
                self.errors.push(format!(
                    "{at}: required field `{k}` of {model_name} is missing"
                ));
            }
        }
    }
}

fn keys(v: &Value) -> String {
    v.as_object()
        .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

fn join(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a query value fits a parameter's type and (checked) enum.
fn query_value_problem(param: &Value, values: &[&str]) -> Option<String> {
    let ty = param["type"].as_str().unwrap_or("string");
    let csv = param["collection_format"] == "csv";
    let mut items: Vec<&str> = Vec::new();
    for v in values {
        if csv {
            items.extend(v.split(','));
        } else {
            items.push(v);
        }
    }
    for v in &items {
        let fits = match ty {
            "integer" => v.parse::<i64>().is_ok(),
            "number" => v.parse::<f64>().is_ok(),
            "boolean" => matches!(*v, "true" | "false"),
            "datetime" => {
                time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                    .is_ok()
            }
            _ => true,
        };
        if !fits {
            return Some(format!("`{v}` is not a {ty}"));
        }
        if param["enum_source"] == "check" {
            if let Some(allowed) = param["enum"].as_array() {
                if !allowed.iter().any(|a| a == *v) {
                    return Some(format!("`{v}` is not one of {}", join(allowed)));
                }
            }
        }
    }
    None
}

/// Everything wrong with request `r` measured against operation `op`.
fn check_against(subset: &Value, op: &Op<'_>, r: &Recorded) -> Vec<String> {
    let spec = op.spec;
    let mut errors = Vec::new();

    // Query parameters: declared, repeated only when the SDK repeats them,
    // typed values, required ones present.
    let declared = spec["query_params"].as_array().cloned().unwrap_or_default();
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, v) in &r.query {
        by_name.entry(k.as_str()).or_default().push(v.as_str());
    }
    for (name, values) in &by_name {
        match declared.iter().find(|p| p["name"] == *name) {
            None => errors.push(format!(
                "query parameter `{name}` is not declared (declared: {})",
                declared
                    .iter()
                    .filter_map(|p| p["name"].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(p) => {
                if values.len() > 1 && p["collection_format"] != "multi" {
                    let how = if p["collection_format"] == "csv" {
                        "comma-joined in one"
                    } else {
                        "once"
                    };
                    errors.push(format!(
                        "query parameter `{name}` is repeated {} times; the SDK sends it {how}",
                        values.len()
                    ));
                }
                if let Some(problem) = query_value_problem(p, values) {
                    errors.push(format!("query parameter `{name}`: {problem}"));
                }
            }
        }
    }
    for p in &declared {
        let name = p["name"].as_str().unwrap_or("");
        if p["required"] == true && !by_name.contains_key(name) {
            errors.push(format!("required query parameter `{name}` is missing"));
        }
    }

    // OCI headers: declared by the operation (or common to every request).
    let header_params = spec["header_params"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let prefixes: Vec<String> = spec["header_prefix_maps"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["prefix"].as_str().map(str::to_ascii_lowercase))
                .collect()
        })
        .unwrap_or_default();
    let declared_header = |h: &str| {
        header_params.iter().any(|p| {
            p["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(h))
        }) || prefixes.iter().any(|pre| h.starts_with(pre.as_str()))
    };
    for (h, _) in &r.headers {
        let oci_like = h.starts_with("opc-") || h.starts_with("if-");
        if oci_like && !COMMON_OPC_HEADERS.contains(&h.as_str()) && !declared_header(h) {
            errors.push(format!("header `{h}` is not declared by the operation"));
        }
    }
    for p in &header_params {
        let name = p["name"].as_str().unwrap_or("");
        if p["required"] == true && !r.headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(name)) {
            errors.push(format!("required header `{name}` is missing"));
        }
    }

    // Body: only when the operation takes one; JSON bodies match the model.
    match (&spec["body"], &r.body) {
        (Value::Null, None) => {}
        (Value::Null, Some(_)) => errors.push("sends a body; the operation takes none".into()),
        (b, None) => {
            if b["required"] == true {
                errors.push(format!(
                    "required body {} is missing",
                    b["type"].as_str().unwrap_or("?")
                ));
            }
        }
        (b, Some(body)) => {
            let ty = b["type"].as_str().unwrap_or("any");
            if ty != "binary" {
                match body {
                    Err(e) => errors.push(format!("body is not JSON: {e}")),
                    Ok(v) => {
                        let mut checker = BodyChecker {
                            models: subset["models"][op.package]
                                .as_object()
                                .expect("models of the package"),
                            errors: Vec::new(),
                        };
                        checker.check(ty, v, "body");
                        errors.extend(checker.errors);
                    }
                }
                if let Some(ct) = spec["fixed_headers"]["content-type"].as_str() {
                    let sent = r
                        .headers
                        .iter()
                        .find(|(h, _)| h == "content-type")
                        .map(|(_, v)| v.as_str());
                    if sent != Some(ct) {
                        errors.push(format!(
                            "content-type is {sent:?}; the operation sends {ct}"
                        ));
                    }
                }
            }
        }
    }
    errors
}

/// The operation a request corresponds to (`Ok`), or why there is none.
fn find_op<'a, 'o>(ops: &'o [Op<'a>], r: &Recorded) -> Result<Vec<&'o Op<'a>>, String> {
    let segments: Vec<&str> = r.path.split('/').collect();
    let matched: Vec<(usize, &Op<'_>)> = ops
        .iter()
        .filter_map(|op| op.matches(&segments).map(|n| (n, op)))
        .collect();
    let Some(best) = matched.iter().map(|(n, _)| *n).max() else {
        return Err("no subset operation has this path".into());
    };
    // The most specific templates (most literal segments) win: `/alarms/status`
    // over `/alarms/{alarmId}`.
    let best: Vec<&Op<'_>> = matched
        .iter()
        .filter(|(n, _)| *n == best)
        .map(|(_, op)| *op)
        .collect();
    let with_method: Vec<&Op<'_>> = best
        .iter()
        .copied()
        .filter(|op| op.method() == r.method)
        .collect();
    if with_method.is_empty() {
        return Err(format!(
            "wrong method: the path is {}",
            best.iter()
                .map(|op| format!("{} {}", op.method(), op.name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(with_method)
}

/// Checks every request; returns the operations seen and the violations.
fn check_all(
    subset: &Value,
    ops: &[Op<'_>],
    requests: &[Recorded],
) -> (BTreeSet<String>, Vec<String>) {
    let mut seen = BTreeSet::new();
    let mut violations = Vec::new();
    for r in requests {
        let at = format!("{}: {} {}", r.tool, r.method, r.path);
        match find_op(ops, r) {
            Err(e) => violations.push(format!("{at}: {e}")),
            Ok(candidates) => {
                // Several equally specific templates: the request must fit one.
                let results: Vec<(&Op<'_>, Vec<String>)> = candidates
                    .iter()
                    .map(|op| (*op, check_against(subset, op, r)))
                    .collect();
                match results.iter().find(|(_, e)| e.is_empty()) {
                    Some((op, _)) => {
                        seen.insert(op.name.clone());
                    }
                    None => {
                        for (op, errors) in results {
                            seen.insert(op.name.clone());
                            for e in errors {
                                violations.push(format!("{at} ({}): {e}", op.name));
                            }
                        }
                    }
                }
            }
        }
    }
    (seen, violations)
}

// ---------------------------------------------------------------------------
// Tests

/// The checker itself catches each kind of violation, so a clean run means
/// something.
#[test]
fn checker_catches_violations() {
    let subset = subset();
    let ops = operations(&subset);
    let req = |method: &str,
               path: &str,
               query: &[(&str, &str)],
               headers: &[(&str, &str)],
               body: Option<Value>| Recorded {
        tool: "probe".into(),
        method: method.into(),
        path: path.into(),
        query: query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.map(Ok),
    };
    let clean = [
        req(
            "GET",
            "/20160918/instances",
            &[
                ("compartmentId", "ocid1.compartment.oc1..x"),
                ("lifecycleState", "RUNNING"),
            ],
            &[("opc-request-id", "X")],
            None,
        ),
        req(
            "POST",
            "/20160918/volumeAttachments",
            &[],
            &[("content-type", "application/json")],
            Some(json!({"type": "iscsi", "instanceId": "i", "volumeId": "v"})),
        ),
        req(
            "GET",
            "/20180401/alarms/status",
            &[("compartmentId", "c")],
            &[],
            None,
        ),
        req(
            "GET",
            "/n/ns/b/bucket",
            &[("fields", "approximateCount,approximateSize")],
            &[],
            None,
        ),
    ];
    let (seen, violations) = check_all(&subset, &ops, &clean);
    assert!(violations.is_empty(), "{violations:#?}");
    assert!(
        seen.contains("MonitoringClient.ListAlarmsStatus"),
        "{seen:?}"
    );

    let bad = [
        // Undeclared query parameter, missing required one, bad enum value.
        req(
            "GET",
            "/20160918/instances",
            &[("compartment", "c"), ("lifecycleState", "ON")],
            &[],
            None,
        ),
        // Wrong method.
        req("PATCH", "/20160918/instances", &[], &[], None),
        // Unknown path.
        req("GET", "/20160918/nothingHere", &[], &[], None),
        // Undeclared OCI header.
        req(
            "GET",
            "/20160918/vcns/ocid1.vcn.oc1..x",
            &[],
            &[("opc-retry-token", "t")],
            None,
        ),
        // Unknown body field, wrong nested type, missing required field, unknown subtype.
        req(
            "POST",
            "/20160918/volumeAttachments",
            &[],
            &[("content-type", "application/json")],
            Some(json!({"type": "iscsi", "instanceId": "i", "volumeID": "v", "isReadOnly": "yes"})),
        ),
        req(
            "POST",
            "/20160918/volumeAttachments",
            &[],
            &[("content-type", "application/json")],
            Some(json!({"type": "floppy", "instanceId": "i", "volumeId": "v"})),
        ),
        // A csv parameter sent repeated.
        req(
            "GET",
            "/n/ns/b/bucket",
            &[
                ("fields", "approximateCount"),
                ("fields", "approximateSize"),
            ],
            &[],
            None,
        ),
        // A body where none is taken.
        req(
            "GET",
            "/20160918/vcns/ocid1.vcn.oc1..x",
            &[],
            &[],
            Some(json!({})),
        ),
    ];
    let (_, violations) = check_all(&subset, &ops, &bad);
    let expect = [
        "query parameter `compartment` is not declared",
        "required query parameter `compartmentId` is missing",
        "query parameter `lifecycleState`: `ON` is not one of",
        "PATCH /20160918/instances: wrong method",
        "no subset operation has this path",
        "header `opc-retry-token` is not declared",
        "field `volumeID` is not in model AttachIScsiVolumeDetails",
        "body.isReadOnly: expected boolean",
        "required field `volumeId` of AttachIScsiVolumeDetails is missing",
        "`floppy` is not a AttachVolumeDetails subtype",
        "query parameter `fields` is repeated 2 times",
        "sends a body; the operation takes none",
    ];
    for e in expect {
        assert!(
            violations.iter().any(|v| v.contains(e)),
            "expected a violation containing {e:?} in {violations:#?}"
        );
    }
    assert_eq!(violations.len(), expect.len(), "{violations:#?}");
}

/// Every cloud tool's requests match the subset (see the module docs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_request_matches_the_subset() {
    let subset = subset();
    let ops = operations(&subset);
    let h = start().await;

    // The offline list is checked against the catalogue: every entry exists,
    // every pricing tool is in it, and (below) none of them sends a request.
    let offline: BTreeSet<&str> = OFFLINE.iter().map(|(n, _)| *n).collect();
    for name in &offline {
        assert!(
            TOOLS.iter().any(|t| t.name == *name),
            "OFFLINE names {name}, which is not in the catalogue"
        );
    }
    for t in TOOLS.iter().filter(|t| t.category == "pricing") {
        assert!(
            offline.contains(t.name),
            "pricing tool {} is not in OFFLINE",
            t.name
        );
    }

    // Every cloud tool has a sample, exactly once.
    let mut sampled = BTreeSet::new();
    for row in SAMPLES {
        assert!(
            sampled.insert(row.tool),
            "{} has two SAMPLES rows",
            row.tool
        );
        assert!(
            !offline.contains(row.tool),
            "{} is both offline and sampled",
            row.tool
        );
    }
    let unsampled: Vec<&str> = TOOLS
        .iter()
        .map(|t| t.name)
        .filter(|n| !offline.contains(n) && !sampled.contains(n))
        .collect();
    assert!(
        unsampled.is_empty(),
        "cloud tools without a row in SAMPLES (add one so the contract covers them): {unsampled:?}"
    );

    let mut failures = Vec::new();
    for (name, args) in OFFLINE {
        let args: Value = serde_json::from_str(args).expect("OFFLINE args are JSON");
        let (result, sent) = h.run(name, &args).await;
        if let Err(e) = result {
            failures.push(format!("{name} (offline) failed: {e}"));
        }
        if sent != 0 {
            failures.push(format!(
                "{name} is listed as offline but sent {sent} requests"
            ));
        }
    }

    let mut vars = HashMap::from([("tenancy".to_string(), h.emu.tenancy_id().to_string())]);
    for row in SAMPLES {
        let args = match substitute(row.args, &vars)
            .and_then(|a| serde_json::from_str::<Value>(&a).map_err(|e| format!("not JSON: {e}")))
        {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{}: sample arguments: {e}", row.tool));
                continue;
            }
        };
        let (result, sent) = h.run(row.tool, &args).await;
        match result {
            Ok(v) => {
                for (var, selector) in row.capture {
                    match select(&v, selector) {
                        Some(x) => {
                            vars.insert(var.to_string(), x);
                        }
                        None => failures.push(format!(
                            "{}: nothing at `{selector}` to capture as ${var} in {v}",
                            row.tool
                        )),
                    }
                }
            }
            Err(e) => failures.push(format!("{} failed with {args}: {e}", row.tool)),
        }
        if sent == 0 {
            failures.push(format!("{} sent no request to the cloud", row.tool));
        }
    }

    let requests = h.rec.lock().expect("log").requests.clone();
    let (seen, violations) = check_all(&subset, &ops, &requests);
    eprintln!(
        "client contract: {} cloud tools, {} offline tools, {} requests, {} distinct operations",
        SAMPLES.len(),
        OFFLINE.len(),
        requests.len(),
        seen.len()
    );
    for op in &seen {
        eprintln!("  {op}");
    }
    assert!(
        failures.is_empty() && violations.is_empty(),
        "{} tool failures:\n{}\n\n{} contract violations:\n{}",
        failures.len(),
        failures.join("\n"),
        violations.len(),
        violations.join("\n")
    );
}

/// Defence in depth (security review L6): even past argument validation, a
/// dot-segment path parameter is refused as the caller's mistake, before any
/// request names it.
#[tokio::test]
async fn dot_segment_path_parameters_never_reach_the_cloud() {
    let h = start().await;
    let lb = "ocid1.loadbalancer.oc1.iad.aaaaexample";
    for (tool, args) in [
        (
            "getBackendSetHealth",
            json!({"loadBalancerId": lb, "backendSetName": ".."}),
        ),
        (
            "getResourceAvailability",
            json!({"serviceName": ".", "limitName": "x"}),
        ),
        ("getBucket", json!({"bucketName": ".."})),
        ("deleteBucket", json!({"bucketName": ""})),
    ] {
        let Value::Object(args) = args else {
            unreachable!()
        };
        let before = h.rec.lock().expect("log").requests.len();
        let err = h.tools.run(tool, &args).await.unwrap_err();
        assert!(
            matches!(err, portal_core::service::tools::ToolError::Invalid(_)),
            "{tool}: {err:?}"
        );
        let log = h.rec.lock().expect("log");
        let sent: Vec<&str> = log.requests[before..]
            .iter()
            .map(|r| r.path.as_str())
            .collect();
        assert!(
            sent.iter().all(|p| !p.contains("/b/")
                && !p.contains("backendSets")
                && !p.contains("/services/")),
            "{tool} sent {sent:?}"
        );
    }
    // The compartment policy's lookups refuse them too.
    let Value::Object(args) = json!({"bucketName": ".."}) else {
        unreachable!()
    };
    let err = h.tools.scope("getBucket", &args).await.unwrap_err();
    assert!(
        matches!(err, portal_core::service::tools::ToolError::Invalid(_)),
        "{err:?}"
    );
    drop(h.emu);
}
