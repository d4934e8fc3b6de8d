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

/// The catalogue.
pub static TOOLS: &[ToolSpec] = &[
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
            other => Err(format!("{other} is not implemented by this catalogue")),
        }
    }
}
