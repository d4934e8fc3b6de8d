//! The cloud tool catalogue. Each tool is a typed [`ToolSpec`] plus the OCI
//! REST calls that implement it through the signed client; the gateway in
//! `portal-core` is the only caller.
//!
//! Tools that change the cloud declare `confirm` or `danger` risk; the gateway
//! only runs them with a granted approval.

use async_trait::async_trait;
use http::Method;
use portal_core::service::tools::ToolRunner;
use portal_core::tools::{Kind, Param, Risk, ToolSpec};
use portal_oci::client::{OciClient, RequestOptions};
use portal_oci::endpoint::Service;
use serde_json::{json, Map, Value};

const COMPARTMENT: Param = Param {
    name: "compartmentId",
    kind: Kind::Ocid(Some("compartment")),
    required: false,
    description: "OCID of the compartment (default: the tenancy's root compartment)",
    default: None,
    secret: false,
};

const LIMIT: Param = Param {
    name: "limit",
    kind: Kind::Int { min: 1, max: 1000 },
    required: false,
    description: "Most items to return",
    default: Some("100"),
    secret: false,
};

const INSTANCE: Param = Param {
    name: "instanceId",
    kind: Kind::Ocid(Some("instance")),
    required: true,
    description: "OCID of the instance",
    default: None,
    secret: false,
};

const VCN_FILTER: Param = Param {
    name: "vcnId",
    kind: Kind::Ocid(Some("vcn")),
    required: false,
    description: "Only those of this VCN",
    default: None,
    secret: false,
};

macro_rules! list_tool {
    ($name:literal, $cat:literal, $desc:literal, [$($p:expr),*]) => {
        ToolSpec { name: $name, category: $cat, description: $desc, risk: Risk::Read, params: &[$($p),*] }
    };
}

/// The catalogue.
pub static TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "getVcn",
        category: "networking",
        description: "Get one virtual cloud network: CIDR blocks, DNS label, default route table and security list.",
        risk: Risk::Read,
        params: &[Param { name: "vcnId", kind: Kind::Ocid(Some("vcn")), required: true, description: "OCID of the VCN", default: None, secret: false }],
    },
    list_tool!("listSecurityLists", "networking", "List security lists (ingress and egress rules) in a compartment, optionally of one VCN. Flag rules open to 0.0.0.0/0.", [COMPARTMENT, VCN_FILTER, LIMIT]),
    list_tool!("listRouteTables", "networking", "List route tables and their rules in a compartment, optionally of one VCN.", [COMPARTMENT, VCN_FILTER, LIMIT]),
    list_tool!("listInternetGateways", "networking", "List internet gateways in a compartment, optionally of one VCN.", [COMPARTMENT, VCN_FILTER, LIMIT]),
    list_tool!("listNatGateways", "networking", "List NAT gateways in a compartment, optionally of one VCN.", [COMPARTMENT, VCN_FILTER, LIMIT]),
    list_tool!("listVolumeBackups", "storage", "List block volume backups in a compartment with size, type and state.", [COMPARTMENT, LIMIT]),
    ToolSpec {
        name: "listObjects",
        category: "storage",
        description: "List objects in an Object Storage bucket, optionally under a prefix.",
        risk: Risk::Read,
        params: &[
            Param { name: "bucketName", kind: Kind::Text { max: 256 }, required: true, description: "Bucket name", default: None, secret: false },
            Param { name: "prefix", kind: Kind::Text { max: 1024 }, required: false, description: "Only names starting with this", default: None, secret: false },
            Param { name: "limit", kind: Kind::Int { min: 1, max: 1000 }, required: false, description: "Most objects to return", default: Some("100"), secret: false },
        ],
    },
    list_tool!("listUsers", "identity", "List the tenancy's IAM users.", [LIMIT]),
    list_tool!("listGroups", "identity", "List the tenancy's IAM groups.", [LIMIT]),
    list_tool!("listPolicies", "identity", "List IAM policies in a compartment with their statements.", [COMPARTMENT, LIMIT]),
    list_tool!("listRegions", "identity", "List OCI regions (name and key).", []),
    list_tool!("listAvailabilityDomains", "identity", "List the tenancy's availability domains in its home region.", []),
    list_tool!("listLoadBalancers", "networking", "List load balancers in a compartment with shape, IPs and state.", [COMPARTMENT, LIMIT]),
    list_tool!("listAlarms", "observability", "List monitoring alarms in a compartment with severity and whether they are enabled.", [COMPARTMENT, LIMIT]),
    list_tool!("getAlarmStatus", "observability", "Show the current status (FIRING or OK) of the alarms in a compartment. Lead with anything FIRING.", [COMPARTMENT, LIMIT]),
    ToolSpec {
        name: "startInstance",
        category: "compute",
        description: "Start a STOPPED compute instance. Needs an approval. Explain that billing resumes once it runs.",
        risk: Risk::Confirm,
        params: &[INSTANCE],
    },
    ToolSpec {
        name: "stopInstance",
        category: "compute",
        description: "Stop a RUNNING compute instance (graceful shutdown). Needs an approval. Warn that its workloads stop.",
        risk: Risk::Confirm,
        params: &[INSTANCE],
    },
    ToolSpec {
        name: "rebootInstance",
        category: "compute",
        description: "Reboot a RUNNING compute instance (graceful). Needs an approval.",
        risk: Risk::Confirm,
        params: &[INSTANCE],
    },
    ToolSpec {
        name: "runInstanceCommand",
        category: "compute",
        description: "Run a shell script on an instance through the Oracle Cloud Agent (Run Command). Needs an approval. The script is secret: it is never shown, stored or logged outside the call. Returns the command id; read its output with getCommandExecution.",
        risk: Risk::Confirm,
        params: &[
            INSTANCE,
            Param { name: "script", kind: Kind::Text { max: 65_536 }, required: true, description: "The script to run", default: None, secret: true },
            Param { name: "timeoutSeconds", kind: Kind::Int { min: 1, max: 3600 }, required: false, description: "Time allowed", default: Some("60"), secret: false },
        ],
    },
    ToolSpec {
        name: "getCommandExecution",
        category: "compute",
        description: "Read the state, exit code and output of a Run Command execution on an instance.",
        risk: Risk::Read,
        params: &[
            INSTANCE,
            Param { name: "commandId", kind: Kind::Ocid(Some("instanceagentcommand")), required: true, description: "OCID of the command", default: None, secret: false },
        ],
    },
    ToolSpec {
        name: "terminateInstance",
        category: "compute",
        description: "Terminate (permanently delete) a compute instance and, unless preserved, its boot volume. Irreversible; needs an approval by someone other than the requester.",
        risk: Risk::Danger,
        params: &[
            INSTANCE,
            Param {
                name: "preserveBootVolume",
                kind: Kind::Bool,
                required: false,
                description: "Keep the boot volume",
                default: Some("false"),
                secret: false,
            },
        ],
    },
    ToolSpec {
        name: "listInstances",
        category: "compute",
        description: "List compute instances in a compartment with their state and shape. Present as a table: Name | State | Shape | Availability domain; point out STOPPED instances.",
        risk: Risk::Read,
        params: &[
            COMPARTMENT,
            Param {
                name: "lifecycleState",
                kind: Kind::Enum(&["PROVISIONING", "RUNNING", "STARTING", "STOPPING", "STOPPED", "TERMINATING", "TERMINATED"]),
                required: false,
                description: "Only instances in this state",
                default: None,
                secret: false,
            },
            LIMIT,
        ],
    },
    ToolSpec {
        name: "getInstance",
        category: "compute",
        description: "Get one compute instance's details: state, shape, configuration, image, times.",
        risk: Risk::Read,
        params: &[Param {
            name: "instanceId",
            kind: Kind::Ocid(Some("instance")),
            required: true,
            description: "OCID of the instance",
            default: None,
            secret: false,
        }],
    },
    ToolSpec {
        name: "listShapes",
        category: "compute",
        description: "List the compute shapes available in a compartment (OCPUs, memory). Use it before proposing a launch.",
        risk: Risk::Read,
        params: &[COMPARTMENT, LIMIT],
    },
    ToolSpec {
        name: "listImages",
        category: "compute",
        description: "List platform and custom images in a compartment, optionally for one operating system.",
        risk: Risk::Read,
        params: &[
            COMPARTMENT,
            Param {
                name: "operatingSystem",
                kind: Kind::Text { max: 100 },
                required: false,
                description: "e.g. Oracle Linux",
                default: None,
                secret: false,
            },
            LIMIT,
        ],
    },
    ToolSpec {
        name: "listCompartments",
        category: "identity",
        description: "List the compartments under a compartment (the whole tree under the tenancy by default).",
        risk: Risk::Read,
        params: &[COMPARTMENT, LIMIT],
    },
    ToolSpec {
        name: "listVcns",
        category: "networking",
        description: "List virtual cloud networks in a compartment with their CIDR blocks.",
        risk: Risk::Read,
        params: &[COMPARTMENT, LIMIT],
    },
    ToolSpec {
        name: "listSubnets",
        category: "networking",
        description: "List subnets in a compartment, optionally of one VCN, with CIDRs and whether they are public.",
        risk: Risk::Read,
        params: &[
            COMPARTMENT,
            Param {
                name: "vcnId",
                kind: Kind::Ocid(Some("vcn")),
                required: false,
                description: "Only subnets of this VCN",
                default: None,
                secret: false,
            },
            LIMIT,
        ],
    },
    ToolSpec {
        name: "listBlockVolumes",
        category: "storage",
        description: "List block volumes in a compartment with size and state.",
        risk: Risk::Read,
        params: &[COMPARTMENT, LIMIT],
    },
    ToolSpec {
        name: "listBuckets",
        category: "storage",
        description: "List Object Storage buckets in a compartment.",
        risk: Risk::Read,
        params: &[COMPARTMENT, LIMIT],
    },
    ToolSpec {
        name: "listAutonomousDatabases",
        category: "database",
        description: "List Autonomous Databases in a compartment with workload, state and size.",
        risk: Risk::Read,
        params: &[COMPARTMENT, LIMIT],
    },
];

/// The catalogue running against one cloud through the signed client.
pub struct OciTools {
    client: OciClient,
    tenancy: String,
    cloud: &'static str,
}

impl OciTools {
    /// Tools acting in `tenancy` through `client`; `cloud` names the cloud in results.
    pub fn new(client: OciClient, tenancy: impl Into<String>, cloud: &'static str) -> Self {
        Self {
            client,
            tenancy: tenancy.into(),
            cloud,
        }
    }

    fn compartment<'a>(&'a self, args: &'a Map<String, Value>) -> &'a str {
        args.get("compartmentId")
            .and_then(Value::as_str)
            .unwrap_or(&self.tenancy)
    }

    async fn list(
        &self,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        limit: usize,
    ) -> Result<Vec<Value>, String> {
        let opts = RequestOptions::default();
        let mut items = self
            .client
            .list_all(service, path, query, &opts)
            .await
            .map_err(|e| e.to_string())?;
        items.truncate(limit);
        Ok(items)
    }

    async fn get(&self, service: &Service, path: &str) -> Result<Value, String> {
        let opts = RequestOptions::default();
        self.client
            .send(Method::GET, service, path, &[], None, &opts)
            .await
            .map(|r| r.body)
            .map_err(|e| e.to_string())
    }
}

/// Keeps only `fields` of each item: the compact output a model needs.
fn project(items: Vec<Value>, fields: &[&str]) -> Value {
    Value::Array(
        items
            .into_iter()
            .map(|item| {
                Value::Object(
                    fields
                        .iter()
                        .filter_map(|f| item.get(*f).map(|v| (f.to_string(), v.clone())))
                        .collect(),
                )
            })
            .collect(),
    )
}

#[async_trait]
impl ToolRunner for OciTools {
    fn specs(&self) -> &'static [ToolSpec] {
        TOOLS
    }

    fn cloud(&self) -> &'static str {
        self.cloud
    }

    async fn run(&self, name: &str, args: &Map<String, Value>) -> Result<Value, String> {
        let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(100) as usize;
        let c = self.compartment(args);
        let items = |v: Value, n: usize| json!({"items": v, "count": n});
        match name {
            "listInstances" => {
                let mut q = vec![("compartmentId", c)];
                if let Some(s) = args.get("lifecycleState").and_then(Value::as_str) {
                    q.push(("lifecycleState", s));
                }
                let l = self
                    .list(&Service::COMPUTE, "/instances", &q, limit)
                    .await?;
                let n = l.len();
                Ok(items(
                    project(
                        l,
                        &[
                            "id",
                            "displayName",
                            "lifecycleState",
                            "shape",
                            "availabilityDomain",
                            "timeCreated",
                        ],
                    ),
                    n,
                ))
            }
            "getInstance" => {
                let id = args
                    .get("instanceId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.get(&Service::COMPUTE, &format!("/instances/{id}"))
                    .await
            }
            "listShapes" => {
                let l = self
                    .list(&Service::COMPUTE, "/shapes", &[("compartmentId", c)], limit)
                    .await?;
                let n = l.len();
                Ok(items(
                    project(
                        l,
                        &["shape", "ocpus", "memoryInGBs", "processorDescription"],
                    ),
                    n,
                ))
            }
            "listImages" => {
                let mut q = vec![("compartmentId", c)];
                if let Some(s) = args.get("operatingSystem").and_then(Value::as_str) {
                    q.push(("operatingSystem", s));
                }
                let l = self.list(&Service::COMPUTE, "/images", &q, limit).await?;
                let n = l.len();
                Ok(items(
                    project(
                        l,
                        &[
                            "id",
                            "displayName",
                            "operatingSystem",
                            "operatingSystemVersion",
                            "lifecycleState",
                        ],
                    ),
                    n,
                ))
            }
            "listCompartments" => {
                let q = [
                    ("compartmentId", c),
                    ("compartmentIdInSubtree", "true"),
                    ("accessLevel", "ANY"),
                ];
                let l = self
                    .list(&Service::IDENTITY, "/compartments", &q, limit)
                    .await?;
                let n = l.len();
                Ok(items(
                    project(
                        l,
                        &[
                            "id",
                            "name",
                            "description",
                            "compartmentId",
                            "lifecycleState",
                        ],
                    ),
                    n,
                ))
            }
            "listVcns" => {
                let l = self
                    .list(
                        &Service::VIRTUAL_NETWORK,
                        "/vcns",
                        &[("compartmentId", c)],
                        limit,
                    )
                    .await?;
                let n = l.len();
                Ok(items(
                    project(l, &["id", "displayName", "cidrBlocks", "lifecycleState"]),
                    n,
                ))
            }
            "listSubnets" => {
                let mut q = vec![("compartmentId", c)];
                if let Some(v) = args.get("vcnId").and_then(Value::as_str) {
                    q.push(("vcnId", v));
                }
                let l = self
                    .list(&Service::VIRTUAL_NETWORK, "/subnets", &q, limit)
                    .await?;
                let n = l.len();
                Ok(items(
                    project(
                        l,
                        &[
                            "id",
                            "displayName",
                            "cidrBlock",
                            "vcnId",
                            "prohibitPublicIpOnVnic",
                            "lifecycleState",
                        ],
                    ),
                    n,
                ))
            }
            "listBlockVolumes" => {
                let l = self
                    .list(
                        &Service::BLOCKSTORAGE,
                        "/volumes",
                        &[("compartmentId", c)],
                        limit,
                    )
                    .await?;
                let n = l.len();
                Ok(items(
                    project(
                        l,
                        &[
                            "id",
                            "displayName",
                            "sizeInGBs",
                            "lifecycleState",
                            "availabilityDomain",
                        ],
                    ),
                    n,
                ))
            }
            "listBuckets" => {
                let ns = self.get(&Service::OBJECT_STORAGE, "/n/").await?;
                let ns = ns
                    .as_str()
                    .ok_or("Object Storage returned no namespace")?
                    .to_string();
                let l = self
                    .list(
                        &Service::OBJECT_STORAGE,
                        &format!("/n/{ns}/b"),
                        &[("compartmentId", c)],
                        limit,
                    )
                    .await?;
                let n = l.len();
                Ok(items(
                    project(l, &["name", "namespace", "compartmentId", "timeCreated"]),
                    n,
                ))
            }
            "listAutonomousDatabases" => {
                let l = self
                    .list(
                        &Service::DATABASE,
                        "/autonomousDatabases",
                        &[("compartmentId", c)],
                        limit,
                    )
                    .await?;
                let n = l.len();
                Ok(items(
                    project(
                        l,
                        &[
                            "id",
                            "displayName",
                            "dbWorkload",
                            "lifecycleState",
                            "cpuCoreCount",
                            "dataStorageSizeInTBs",
                        ],
                    ),
                    n,
                ))
            }
            "startInstance" | "stopInstance" | "rebootInstance" => {
                let id = args
                    .get("instanceId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let action = match name {
                    "startInstance" => "START",
                    "stopInstance" => "SOFTSTOP",
                    _ => "SOFTRESET",
                };
                let opts = RequestOptions::default();
                let res = self
                    .client
                    .send(
                        Method::POST,
                        &Service::COMPUTE,
                        &format!("/instances/{id}"),
                        &[("action", action)],
                        None,
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(
                    json!({"id": id, "action": action, "lifecycleState": res.body.get("lifecycleState").cloned().unwrap_or(Value::Null)}),
                )
            }
            "runInstanceCommand" => {
                let id = args
                    .get("instanceId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let script = args
                    .get("script")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let timeout = args
                    .get("timeoutSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(60);
                let instance = self
                    .get(&Service::COMPUTE, &format!("/instances/{id}"))
                    .await?;
                let compartment = instance
                    .get("compartmentId")
                    .and_then(Value::as_str)
                    .ok_or("the instance has no compartment")?;
                let body = json!({
                    "compartmentId": compartment,
                    "executionTimeOutInSeconds": timeout,
                    "displayName": "portal run command",
                    "target": {"instanceId": id},
                    "content": {"source": {"sourceType": "TEXT", "text": script}, "output": {"outputType": "TEXT"}},
                });
                let opts = RequestOptions::default();
                let res = self
                    .client
                    .send(
                        Method::POST,
                        &Service::INSTANCE_AGENT,
                        "/instanceAgentCommands",
                        &[],
                        Some(body),
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(
                    json!({"commandId": res.body.get("id").cloned().unwrap_or(Value::Null), "instanceId": id}),
                )
            }
            "getCommandExecution" => {
                let id = args
                    .get("instanceId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let cmd = args
                    .get("commandId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let opts = RequestOptions::default();
                let res = self
                    .client
                    .send(
                        Method::GET,
                        &Service::INSTANCE_AGENT,
                        &format!("/instanceAgentCommands/{cmd}/status"),
                        &[("instanceId", id)],
                        None,
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let b = res.body;
                Ok(json!({
                    "lifecycleState": b.get("lifecycleState").cloned().unwrap_or(Value::Null),
                    "deliveryState": b.get("deliveryState").cloned().unwrap_or(Value::Null),
                    "exitCode": b.pointer("/content/exitCode").cloned().unwrap_or(Value::Null),
                    "output": b.pointer("/content/text").cloned().unwrap_or(Value::Null),
                }))
            }
            "terminateInstance" => {
                let id = args
                    .get("instanceId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let preserve = if args
                    .get("preserveBootVolume")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                {
                    "true"
                } else {
                    "false"
                };
                let opts = RequestOptions::default();
                self.client
                    .send(
                        Method::DELETE,
                        &Service::COMPUTE,
                        &format!("/instances/{id}"),
                        &[("preserveBootVolume", preserve)],
                        None,
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let now = self
                    .get(&Service::COMPUTE, &format!("/instances/{id}"))
                    .await?;
                Ok(
                    json!({"id": id, "lifecycleState": now.get("lifecycleState").cloned().unwrap_or(Value::Null)}),
                )
            }
            "getVcn" => {
                let id = args
                    .get("vcnId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.get(&Service::VIRTUAL_NETWORK, &format!("/vcns/{id}"))
                    .await
            }
            "listSecurityLists"
            | "listRouteTables"
            | "listInternetGateways"
            | "listNatGateways" => {
                let (path, fields): (&str, &[&str]) = match name {
                    "listSecurityLists" => (
                        "/securityLists",
                        &[
                            "id",
                            "displayName",
                            "vcnId",
                            "ingressSecurityRules",
                            "egressSecurityRules",
                        ],
                    ),
                    "listRouteTables" => (
                        "/routeTables",
                        &["id", "displayName", "vcnId", "routeRules"],
                    ),
                    "listInternetGateways" => (
                        "/internetGateways",
                        &["id", "displayName", "vcnId", "isEnabled", "lifecycleState"],
                    ),
                    _ => (
                        "/natGateways",
                        &[
                            "id",
                            "displayName",
                            "vcnId",
                            "natIp",
                            "blockTraffic",
                            "lifecycleState",
                        ],
                    ),
                };
                let mut q = vec![("compartmentId", c)];
                if let Some(v) = args.get("vcnId").and_then(Value::as_str) {
                    q.push(("vcnId", v));
                }
                let l = self
                    .list(&Service::VIRTUAL_NETWORK, path, &q, limit)
                    .await?;
                let n = l.len();
                Ok(items(project(l, fields), n))
            }
            "listVolumeBackups" => {
                let l = self
                    .list(
                        &Service::BLOCKSTORAGE,
                        "/volumeBackups",
                        &[("compartmentId", c)],
                        limit,
                    )
                    .await?;
                let n = l.len();
                Ok(items(
                    project(
                        l,
                        &[
                            "id",
                            "displayName",
                            "volumeId",
                            "sizeInGBs",
                            "type",
                            "lifecycleState",
                            "timeCreated",
                        ],
                    ),
                    n,
                ))
            }
            "listObjects" => {
                let bucket = args
                    .get("bucketName")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let ns = self.get(&Service::OBJECT_STORAGE, "/n/").await?;
                let ns = ns
                    .as_str()
                    .ok_or("Object Storage returned no namespace")?
                    .to_string();
                let bucket = portal_oci::endpoint::encode_path_param(bucket, true);
                let mut q = vec![("fields", "name,size,timeCreated"), ("limit", "1000")];
                if let Some(p) = args.get("prefix").and_then(Value::as_str) {
                    q.push(("prefix", p));
                }
                let opts = RequestOptions::default();
                let res = self
                    .client
                    .send(
                        Method::GET,
                        &Service::OBJECT_STORAGE,
                        &format!("/n/{ns}/b/{bucket}/o"),
                        &q,
                        None,
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let mut objects = res
                    .body
                    .get("objects")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                objects.truncate(limit);
                let n = objects.len();
                Ok(items(project(objects, &["name", "size", "timeCreated"]), n))
            }
            "listUsers" | "listGroups" => {
                let path = if name == "listUsers" {
                    "/users"
                } else {
                    "/groups"
                };
                let l = self
                    .list(
                        &Service::IDENTITY,
                        path,
                        &[("compartmentId", self.tenancy.as_str())],
                        limit,
                    )
                    .await?;
                let n = l.len();
                Ok(items(
                    project(l, &["id", "name", "description", "email", "lifecycleState"]),
                    n,
                ))
            }
            "listPolicies" => {
                let l = self
                    .list(
                        &Service::IDENTITY,
                        "/policies",
                        &[("compartmentId", c)],
                        limit,
                    )
                    .await?;
                let n = l.len();
                Ok(items(
                    project(l, &["id", "name", "statements", "lifecycleState"]),
                    n,
                ))
            }
            "listRegions" => {
                let body = self.get(&Service::IDENTITY, "/regions").await?;
                let l = body.as_array().cloned().unwrap_or_default();
                let n = l.len();
                Ok(items(project(l, &["name", "key"]), n))
            }
            "listAvailabilityDomains" => {
                let l = self
                    .list(
                        &Service::IDENTITY,
                        "/availabilityDomains",
                        &[("compartmentId", self.tenancy.as_str())],
                        1000,
                    )
                    .await?;
                let n = l.len();
                Ok(items(project(l, &["name", "id"]), n))
            }
            "listLoadBalancers" => {
                let l = self
                    .list(
                        &Service::LOAD_BALANCER,
                        "/loadBalancers",
                        &[("compartmentId", c)],
                        limit,
                    )
                    .await?;
                let n = l.len();
                Ok(items(
                    project(
                        l,
                        &[
                            "id",
                            "displayName",
                            "shapeName",
                            "ipAddresses",
                            "isPrivate",
                            "lifecycleState",
                        ],
                    ),
                    n,
                ))
            }
            "listAlarms" => {
                let l = self
                    .list(
                        &Service::MONITORING,
                        "/alarms",
                        &[("compartmentId", c)],
                        limit,
                    )
                    .await?;
                let n = l.len();
                Ok(items(
                    project(
                        l,
                        &[
                            "id",
                            "displayName",
                            "severity",
                            "isEnabled",
                            "namespace",
                            "query",
                            "lifecycleState",
                        ],
                    ),
                    n,
                ))
            }
            "getAlarmStatus" => {
                let l = self
                    .list(
                        &Service::MONITORING,
                        "/alarms/status",
                        &[("compartmentId", c)],
                        limit,
                    )
                    .await?;
                let n = l.len();
                Ok(items(
                    project(
                        l,
                        &[
                            "id",
                            "displayName",
                            "severity",
                            "status",
                            "timestampTriggered",
                        ],
                    ),
                    n,
                ))
            }
            other => Err(format!("{other} is not implemented by this catalogue")),
        }
    }
}
