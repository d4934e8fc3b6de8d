//! The cloud tool catalogue. Each tool is a typed [`ToolSpec`] plus the OCI
//! REST calls that implement it through the signed client; the gateway in
//! `portal-core` is the only caller.
//!
//! Tools that change the cloud declare `confirm` or `danger` risk; the gateway
//! only runs them with a granted approval.

mod pricing;
mod rules;
mod terraform;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use http::Method;
use portal_core::service::tools::{ToolError, ToolRunner};
use portal_core::tools::{Kind, Param, Risk, ToolSpec};
use portal_oci::client::{OciClient, OciResponse, RequestOptions};
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

macro_rules! get_tool {
    ($name:literal, $cat:literal, $desc:literal, $param:literal, $ty:literal) => {
        ToolSpec {
            name: $name,
            category: $cat,
            description: $desc,
            risk: Risk::Read,
            params: &[Param {
                name: $param,
                kind: Kind::Ocid(Some($ty)),
                required: true,
                description: "OCID of the resource",
                default: None,
                secret: false,
            }],
        }
    };
}

const DAYS: Param = Param {
    name: "days",
    kind: Kind::Int { min: 1, max: 90 },
    required: false,
    description: "How many days back from today",
    default: Some("30"),
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
    get_tool!("getBlockVolume", "storage", "Get one block volume: size, performance, state, backups policy.", "volumeId", "volume"),
    get_tool!("getBootVolume", "storage", "Get one boot volume: size, image, state.", "bootVolumeId", "bootvolume"),
    get_tool!("getVolumeBackup", "storage", "Get one volume backup: source volume, size, type, state.", "volumeBackupId", "volumebackup"),
    get_tool!("getAutonomousDatabase", "database", "Get one Autonomous Database: workload, version, OCPUs, storage, state, connection endpoints.", "autonomousDatabaseId", "autonomousdatabase"),
    get_tool!("getCompartment", "identity", "Get one compartment: name, description, parent, state.", "compartmentId", "compartment"),
    get_tool!("getLoadBalancer", "networking", "Get one load balancer: shape, listeners, backend sets, IPs.", "loadBalancerId", "loadbalancer"),
    get_tool!("getLoadBalancerHealth", "networking", "Get a load balancer's overall health and its unhealthy backend sets. Lead with anything CRITICAL or WARNING.", "loadBalancerId", "loadbalancer"),
    get_tool!("getAlarm", "observability", "Get one alarm: its MQL query, severity, destinations.", "alarmId", "alarm"),
    get_tool!("getVnic", "networking", "Get one VNIC: private and public IPs, subnet, MAC address.", "vnicId", "vnic"),
    ToolSpec {
        name: "listBootVolumes",
        category: "storage",
        description: "List boot volumes in a compartment, optionally in one availability domain.",
        risk: Risk::Read,
        params: &[
            COMPARTMENT,
            Param { name: "availabilityDomain", kind: Kind::Text { max: 100 }, required: false, description: "e.g. Uocm:US-ASHBURN-AD-1", default: None, secret: false },
            LIMIT,
        ],
    },
    list_tool!("listVolumeAttachments", "compute", "List block volume attachments in a compartment, optionally of one instance.", [COMPARTMENT, Param { name: "instanceId", kind: Kind::Ocid(Some("instance")), required: false, description: "Only this instance's", default: None, secret: false }, LIMIT]),
    list_tool!("listVnicAttachments", "compute", "List VNIC attachments in a compartment, optionally of one instance (use getVnic for IPs).", [COMPARTMENT, Param { name: "instanceId", kind: Kind::Ocid(Some("instance")), required: false, description: "Only this instance's", default: None, secret: false }, LIMIT]),
    list_tool!("getTenancy", "identity", "Get the tenancy: name, home region, description.", []),
    list_tool!("listRegionSubscriptions", "identity", "List the regions the tenancy is subscribed to, marking the home region.", []),
    list_tool!("listLimitServices", "limits", "List the services that have service limits.", []),
    ToolSpec {
        name: "getServiceLimits",
        category: "limits",
        description: "List a service's limit values (e.g. compute core counts per shape and availability domain).",
        risk: Risk::Read,
        params: &[
            Param { name: "serviceName", kind: Kind::Text { max: 100 }, required: true, description: "Service name from listLimitServices, e.g. compute", default: None, secret: false },
            LIMIT,
        ],
    },
    list_tool!("listQuotas", "limits", "List the tenancy's quota policies and their statements.", [LIMIT]),
    ToolSpec {
        name: "searchResources",
        category: "search",
        description: "Search resources across the tenancy with OCI's structured query language, e.g. `query instance resources where lifecycleState = 'STOPPED'`.",
        risk: Risk::Read,
        params: &[
            Param { name: "query", kind: Kind::Text { max: 1000 }, required: true, description: "Structured search query", default: None, secret: false },
            LIMIT,
        ],
    },
    ToolSpec {
        name: "getCostByCompartment",
        category: "billing",
        description: "Total cost per compartment over the last N days (Usage API). Present as a table sorted by cost, with the currency.",
        risk: Risk::Read,
        params: &[DAYS],
    },
    ToolSpec {
        name: "getMetrics",
        category: "observability",
        description: "Summarize monitoring metrics with an MQL query over the last hours, e.g. namespace oci_computeagent, query `CpuUtilization[5m].mean()`.",
        risk: Risk::Read,
        params: &[
            COMPARTMENT,
            Param { name: "namespace", kind: Kind::Enum(&["oci_computeagent", "oci_autonomous_database", "oci_lbaas"]), required: true, description: "Metric namespace", default: None, secret: false },
            Param { name: "query", kind: Kind::Text { max: 1000 }, required: true, description: "MQL query", default: None, secret: false },
            Param { name: "hours", kind: Kind::Int { min: 1, max: 168 }, required: false, description: "Window, in hours back from now", default: Some("1"), secret: false },
        ],
    },
    ToolSpec {
        name: "searchLogs",
        category: "logging",
        description: "Search logs with the Logging Search query language over the last hours, e.g. `search \"<compartment OCID>\" | where level = 'ERROR' | sort by datetime desc`.",
        risk: Risk::Read,
        params: &[
            Param { name: "query", kind: Kind::Text { max: 2000 }, required: true, description: "Logging Search query", default: None, secret: false },
            Param { name: "hours", kind: Kind::Int { min: 1, max: 336 }, required: false, description: "Window, in hours back from now", default: Some("24"), secret: false },
            Param { name: "limit", kind: Kind::Int { min: 1, max: 500 }, required: false, description: "Most entries", default: Some("50"), secret: false },
        ],
    },
    ToolSpec {
        name: "getResourceAvailability",
        category: "limits",
        description: "How much of a service limit is used and still available (e.g. compute standard-e4-core-count), optionally in one availability domain. Check it before proposing a launch.",
        risk: Risk::Read,
        params: &[
            Param { name: "serviceName", kind: Kind::Text { max: 100 }, required: true, description: "Service name, e.g. compute", default: None, secret: false },
            Param { name: "limitName", kind: Kind::Text { max: 200 }, required: true, description: "Limit name from getServiceLimits", default: None, secret: false },
            Param { name: "availabilityDomain", kind: Kind::Text { max: 100 }, required: false, description: "For AD-scoped limits", default: None, secret: false },
        ],
    },
    ToolSpec {
        name: "getBackendSetHealth",
        category: "networking",
        description: "Health of one backend set of a load balancer, with the backends that fail their checks.",
        risk: Risk::Read,
        params: &[
            Param { name: "loadBalancerId", kind: Kind::Ocid(Some("loadbalancer")), required: true, description: "OCID of the load balancer", default: None, secret: false },
            Param { name: "backendSetName", kind: Kind::Text { max: 100 }, required: true, description: "Backend set name (see getLoadBalancer)", default: None, secret: false },
        ],
    },
    ToolSpec {
        name: "getBucket",
        category: "storage",
        description: "Get one Object Storage bucket: storage tier, public access, versioning, object count and size.",
        risk: Risk::Read,
        params: &[Param { name: "bucketName", kind: Kind::Text { max: 256 }, required: true, description: "Bucket name", default: None, secret: false }],
    },
    ToolSpec {
        name: "createBucket",
        category: "storage",
        description: "Create a private Object Storage bucket in a compartment. Needs an approval.",
        risk: Risk::Confirm,
        params: &[
            Param { name: "compartmentId", kind: Kind::Ocid(Some("compartment")), required: true, description: "OCID of the compartment", default: None, secret: false },
            Param { name: "name", kind: Kind::Text { max: 256 }, required: true, description: "Bucket name (letters, digits, '-', '_', '.')", default: None, secret: false },
            Param { name: "storageTier", kind: Kind::Enum(&["Standard", "Archive"]), required: false, description: "Storage tier", default: Some("\"Standard\""), secret: false },
        ],
    },
    ToolSpec {
        name: "deleteBucket",
        category: "storage",
        description: "Delete an empty Object Storage bucket. Irreversible; needs an approval by someone other than the requester.",
        risk: Risk::Danger,
        params: &[Param { name: "bucketName", kind: Kind::Text { max: 256 }, required: true, description: "Bucket name", default: None, secret: false }],
    },
    ToolSpec {
        name: "createVolumeBackup",
        category: "storage",
        description: "Back up a block volume (full or incremental). Needs an approval; mention the storage cost.",
        risk: Risk::Confirm,
        params: &[
            Param { name: "volumeId", kind: Kind::Ocid(Some("volume")), required: true, description: "OCID of the volume", default: None, secret: false },
            Param { name: "type", kind: Kind::Enum(&["FULL", "INCREMENTAL"]), required: false, description: "Backup type", default: Some("\"INCREMENTAL\""), secret: false },
            Param { name: "displayName", kind: Kind::Text { max: 255 }, required: false, description: "Backup name", default: None, secret: false },
        ],
    },
    ToolSpec {
        name: "startAutonomousDatabase",
        category: "database",
        description: "Start a STOPPED Autonomous Database. Needs an approval; billing resumes.",
        risk: Risk::Confirm,
        params: &[Param { name: "autonomousDatabaseId", kind: Kind::Ocid(Some("autonomousdatabase")), required: true, description: "OCID of the database", default: None, secret: false }],
    },
    ToolSpec {
        name: "stopAutonomousDatabase",
        category: "database",
        description: "Stop an AVAILABLE Autonomous Database. Needs an approval; connections drop.",
        risk: Risk::Confirm,
        params: &[Param { name: "autonomousDatabaseId", kind: Kind::Ocid(Some("autonomousdatabase")), required: true, description: "OCID of the database", default: None, secret: false }],
    },
    list_tool!("getObjectStorageNamespace", "storage", "Get the tenancy's Object Storage namespace (needed in object URLs).", []),
    ToolSpec {
        name: "searchResourcesByName",
        category: "search",
        description: "Find resources anywhere in the tenancy whose name or fields contain some text (free-text search).",
        risk: Risk::Read,
        params: &[
            Param { name: "text", kind: Kind::Text { max: 200 }, required: true, description: "Text to look for", default: None, secret: false },
            LIMIT,
        ],
    },
    ToolSpec {
        name: "summarizeMetrics",
        category: "observability",
        description: "Summarize any monitoring metric with an MQL query over the last hours (the reference portal's name for getMetrics), e.g. namespace oci_autonomous_database, query `CpuUtilization[1h].max()`.",
        risk: Risk::Read,
        params: &[
            COMPARTMENT,
            Param { name: "namespace", kind: Kind::Enum(&["oci_computeagent", "oci_autonomous_database", "oci_lbaas"]), required: true, description: "Metric namespace", default: None, secret: false },
            Param { name: "query", kind: Kind::Text { max: 1000 }, required: true, description: "MQL query", default: None, secret: false },
            Param { name: "hours", kind: Kind::Int { min: 1, max: 168 }, required: false, description: "Window, in hours back from now", default: Some("1"), secret: false },
        ],
    },
    ToolSpec {
        name: "terminateAutonomousDatabase",
        category: "database",
        description: "Delete an Autonomous Database and its data. Irreversible; needs an approval by someone other than the requester.",
        risk: Risk::Danger,
        params: &[Param { name: "autonomousDatabaseId", kind: Kind::Ocid(Some("autonomousdatabase")), required: true, description: "OCID of the database", default: None, secret: false }],
    },
    ToolSpec {
        name: "getComputeMetrics",
        category: "observability",
        description: "CPU and memory utilization of the compute instances in a compartment over the last hours (5-minute means). Point out instances above 80 %.",
        risk: Risk::Read,
        params: &[
            COMPARTMENT,
            Param { name: "metric", kind: Kind::Enum(&["CpuUtilization", "MemoryUtilization"]), required: false, description: "Which metric", default: Some("\"CpuUtilization\""), secret: false },
            Param { name: "hours", kind: Kind::Int { min: 1, max: 168 }, required: false, description: "Window, in hours", default: Some("1"), secret: false },
        ],
    },
    list_tool!("listMetricNamespaces", "observability", "List the metric names and namespaces emitted in a compartment (to write MQL queries).", [COMPARTMENT]),
    ToolSpec {
        name: "getUsageCost",
        category: "billing",
        description: "Daily cost per service over the last N days (Usage API). Summarize the trend and the top services.",
        risk: Risk::Read,
        params: &[DAYS],
    },
    ToolSpec {
        name: "getInstanceVnics",
        category: "compute",
        description: "The network interfaces of an instance with their private and public IPs and subnets.",
        risk: Risk::Read,
        params: &[COMPARTMENT, INSTANCE],
    },
    ToolSpec {
        name: "listInstancePlugins",
        category: "compute",
        description: "List the Oracle Cloud Agent plugins of an instance and their status (Run Command needs its plugin RUNNING).",
        risk: Risk::Read,
        params: &[COMPARTMENT, INSTANCE],
    },
    ToolSpec {
        name: "getInstanceConsoleHistory",
        category: "compute",
        description: "Capture and return the recent serial console output of an instance (boot messages, kernel panics). Use it when an instance does not come up.",
        risk: Risk::Read,
        params: &[INSTANCE],
    },
    ToolSpec {
        name: "createBlockVolume",
        category: "storage",
        description: "Create a block volume in an availability domain. Needs an approval; state the monthly storage cost first.",
        risk: Risk::Confirm,
        params: &[
            Param { name: "compartmentId", kind: Kind::Ocid(Some("compartment")), required: true, description: "OCID of the compartment", default: None, secret: false },
            Param { name: "availabilityDomain", kind: Kind::Text { max: 100 }, required: true, description: "Availability domain (see listAvailabilityDomains)", default: None, secret: false },
            Param { name: "sizeInGBs", kind: Kind::Int { min: 50, max: 32_768 }, required: false, description: "Size", default: Some("50"), secret: false },
            Param { name: "displayName", kind: Kind::Text { max: 255 }, required: false, description: "Name", default: None, secret: false },
        ],
    },
    ToolSpec {
        name: "attachBlockVolume",
        category: "storage",
        description: "Attach a block volume to an instance in the same availability domain. Needs an approval.",
        risk: Risk::Confirm,
        params: &[
            INSTANCE,
            Param { name: "volumeId", kind: Kind::Ocid(Some("volume")), required: true, description: "OCID of the volume", default: None, secret: false },
            Param { name: "type", kind: Kind::Enum(&["paravirtualized", "iscsi"]), required: false, description: "Attachment type", default: Some("\"paravirtualized\""), secret: false },
            Param { name: "readOnly", kind: Kind::Bool, required: false, description: "Attach read-only", default: Some("false"), secret: false },
        ],
    },
    ToolSpec {
        name: "createVcn",
        category: "networking",
        description: "Create a virtual cloud network. Needs an approval; check the CIDR does not overlap existing VCNs.",
        risk: Risk::Confirm,
        params: &[
            Param { name: "compartmentId", kind: Kind::Ocid(Some("compartment")), required: true, description: "OCID of the compartment", default: None, secret: false },
            Param { name: "cidrBlock", kind: Kind::Cidr, required: true, description: "IPv4 CIDR block, e.g. 10.1.0.0/16", default: None, secret: false },
            Param { name: "displayName", kind: Kind::Text { max: 255 }, required: false, description: "Name", default: None, secret: false },
        ],
    },
    ToolSpec {
        name: "deleteVcn",
        category: "networking",
        description: "Delete an empty virtual cloud network. Irreversible; needs an approval by someone other than the requester.",
        risk: Risk::Danger,
        params: &[Param { name: "vcnId", kind: Kind::Ocid(Some("vcn")), required: true, description: "OCID of the VCN", default: None, secret: false }],
    },
    ToolSpec {
        name: "getOCIPricing",
        category: "pricing",
        description: "OCI list prices (USD) for compute shapes and storage, from the prices shipped with the portal. Without arguments, the whole list.",
        risk: Risk::Read,
        params: &[
            Param { name: "shapeName", kind: Kind::Text { max: 100 }, required: false, description: "e.g. VM.Standard.E5.Flex", default: None, secret: false },
            Param { name: "architecture", kind: Kind::Enum(&["x86", "arm", "gpu"]), required: false, description: "Only this architecture", default: None, secret: false },
        ],
    },
    ToolSpec {
        name: "getAWSPricing",
        category: "pricing",
        description: "AWS EC2 on-demand list prices (eu-west-1, USD), shipped with the portal.",
        risk: Risk::Read,
        params: &[
            Param { name: "instanceType", kind: Kind::Text { max: 50 }, required: false, description: "e.g. m5.large", default: None, secret: false },
            Param { name: "architecture", kind: Kind::Enum(&["x86", "arm"]), required: false, description: "Only this architecture", default: None, secret: false },
        ],
    },
    ToolSpec {
        name: "getAzurePricing",
        category: "pricing",
        description: "Azure VM pay-as-you-go list prices (USD), shipped with the portal.",
        risk: Risk::Read,
        params: &[Param { name: "skuName", kind: Kind::Text { max: 50 }, required: false, description: "e.g. Standard_D2s_v3", default: None, secret: false }],
    },
    list_tool!("getOCIFreeTier", "pricing", "OCI's Always Free allowances (compute, storage, database, networking).", []),
    ToolSpec {
        name: "estimateCloudCost",
        category: "pricing",
        description: "Monthly cost estimate on one provider for a workload (vCPUs, memory, storage, egress), itemised.",
        risk: Risk::Read,
        params: &[
            Param { name: "provider", kind: Kind::Enum(&["oci", "azure", "aws"]), required: true, description: "Provider", default: None, secret: false },
            Param { name: "vcpus", kind: Kind::Int { min: 1, max: 512 }, required: false, description: "vCPUs", default: Some("2"), secret: false },
            Param { name: "memoryGB", kind: Kind::Int { min: 1, max: 4096 }, required: false, description: "Memory", default: Some("8"), secret: false },
            Param { name: "architecture", kind: Kind::Enum(&["x86", "arm", "any"]), required: false, description: "CPU architecture", default: Some("\"any\""), secret: false },
            Param { name: "storageGB", kind: Kind::Int { min: 0, max: 1_000_000 }, required: false, description: "Block storage", default: Some("0"), secret: false },
            Param { name: "storageType", kind: Kind::Enum(&["ssd", "hdd"]), required: false, description: "Storage type", default: Some("\"ssd\""), secret: false },
            Param { name: "egressGBPerMonth", kind: Kind::Int { min: 0, max: 10_000_000 }, required: false, description: "Outbound data", default: Some("0"), secret: false },
            Param { name: "hoursPerMonth", kind: Kind::Int { min: 1, max: 744 }, required: false, description: "Hours running", default: Some("730"), secret: false },
        ],
    },
    ToolSpec {
        name: "compareCloudCosts",
        category: "pricing",
        description: "Compare the monthly cost of a workload on OCI, Azure and AWS and recommend the cheapest, with reasons. Present as a table per provider.",
        risk: Risk::Read,
        params: &[
            Param { name: "vcpus", kind: Kind::Int { min: 1, max: 512 }, required: false, description: "vCPUs", default: Some("2"), secret: false },
            Param { name: "memoryGB", kind: Kind::Int { min: 1, max: 4096 }, required: false, description: "Memory", default: Some("8"), secret: false },
            Param { name: "architecture", kind: Kind::Enum(&["x86", "arm", "any"]), required: false, description: "CPU architecture", default: Some("\"any\""), secret: false },
            Param { name: "gpuRequired", kind: Kind::Bool, required: false, description: "Needs a GPU", default: Some("false"), secret: false },
            Param { name: "storageGB", kind: Kind::Int { min: 0, max: 1_000_000 }, required: false, description: "Block storage", default: Some("0"), secret: false },
            Param { name: "storageType", kind: Kind::Enum(&["ssd", "hdd"]), required: false, description: "Storage type", default: Some("\"ssd\""), secret: false },
            Param { name: "egressGBPerMonth", kind: Kind::Int { min: 0, max: 10_000_000 }, required: false, description: "Outbound data", default: Some("0"), secret: false },
            Param { name: "hoursPerMonth", kind: Kind::Int { min: 1, max: 744 }, required: false, description: "Hours running", default: Some("730"), secret: false },
            Param { name: "maxBudgetPerMonth", kind: Kind::Int { min: 1, max: 10_000_000 }, required: false, description: "Budget (USD)", default: None, secret: false },
        ],
    },
    ToolSpec {
        name: "generateTerraform",
        category: "compute",
        description: "Generate Terraform for OCI (offline): `vcn` (VCN, internet and NAT gateways, public and private subnets), `compute` (one instance), or `web-server` (both, wired together). Returns the files; show main.tf in a code block and list the next steps.",
        risk: Risk::Read,
        params: &[
            Param { name: "mode", kind: Kind::Enum(&["vcn", "compute", "web-server"]), required: false, description: "What to generate", default: Some("\"web-server\""), secret: false },
            Param { name: "name", kind: Kind::Text { max: 100 }, required: true, description: "Base name for resources", default: None, secret: false },
            Param { name: "region", kind: Kind::Text { max: 50 }, required: false, description: "OCI region", default: Some("\"us-ashburn-1\""), secret: false },
            Param { name: "vcnCidr", kind: Kind::Cidr, required: false, description: "VCN block (/16 to /29)", default: Some("\"10.0.0.0/16\""), secret: false },
            Param { name: "shape", kind: Kind::Text { max: 100 }, required: false, description: "Compute shape", default: Some("\"VM.Standard.E5.Flex\""), secret: false },
            Param { name: "ocpus", kind: Kind::Int { min: 1, max: 64 }, required: false, description: "OCPUs (Flex shapes)", default: Some("1"), secret: false },
            Param { name: "memoryGB", kind: Kind::Int { min: 1, max: 1024 }, required: false, description: "Memory (Flex shapes)", default: Some("16"), secret: false },
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
    ToolSpec {
        name: "launchInstance",
        category: "compute",
        description: "Launch a compute instance from an image into a subnet. Needs an approval; check the shape's availability (getResourceAvailability) and state the monthly cost first. Flex shapes take ocpus and memoryInGBs. The userData script is secret: never shown, stored or logged outside the call.",
        risk: Risk::Confirm,
        params: &[
            Param { name: "compartmentId", kind: Kind::Ocid(Some("compartment")), required: true, description: "OCID of the compartment", default: None, secret: false },
            Param { name: "availabilityDomain", kind: Kind::Text { max: 100 }, required: true, description: "Availability domain (see listAvailabilityDomains); the subnet's when it is AD-specific", default: None, secret: false },
            Param { name: "shape", kind: Kind::Text { max: 100 }, required: true, description: "Shape (see listShapes), e.g. VM.Standard.E4.Flex", default: None, secret: false },
            Param { name: "imageId", kind: Kind::Ocid(Some("image")), required: true, description: "OCID of the image (see listImages); its architecture must match the shape's", default: None, secret: false },
            Param { name: "subnetId", kind: Kind::Ocid(Some("subnet")), required: true, description: "OCID of the subnet for the primary VNIC", default: None, secret: false },
            Param { name: "displayName", kind: Kind::Text { max: 255 }, required: true, description: "Name", default: None, secret: false },
            Param { name: "ocpus", kind: Kind::Int { min: 1, max: 128 }, required: false, description: "OCPUs (Flex shapes only)", default: None, secret: false },
            Param { name: "memoryInGBs", kind: Kind::Int { min: 1, max: 2048 }, required: false, description: "Memory in GB (Flex shapes only)", default: None, secret: false },
            Param { name: "sshPublicKey", kind: Kind::Rule(&rules::SSH_PUBLIC_KEY), required: false, description: "OpenSSH public key allowed to log in as the image's default user", default: None, secret: false },
            Param { name: "userData", kind: Kind::Text { max: 16_384 }, required: false, description: "cloud-init script run at first boot (sent base64-encoded as metadata user_data)", default: None, secret: true },
        ],
    },
    ToolSpec {
        name: "createAutonomousDatabase",
        category: "database",
        description: "Create an Autonomous Database. Needs an approval; state the monthly cost first (free tier: none). The admin password is secret: never shown, stored or logged outside the call.",
        risk: Risk::Confirm,
        params: &[
            Param { name: "compartmentId", kind: Kind::Ocid(Some("compartment")), required: true, description: "OCID of the compartment", default: None, secret: false },
            Param { name: "dbName", kind: Kind::Rule(&rules::DB_NAME), required: true, description: "Database name, unique in the tenancy", default: None, secret: false },
            Param { name: "displayName", kind: Kind::Text { max: 255 }, required: false, description: "Name shown in the console (default: dbName)", default: None, secret: false },
            Param { name: "dbWorkload", kind: Kind::Enum(&["OLTP", "DW", "AJD", "APEX"]), required: false, description: "Transaction processing, data warehouse, JSON or APEX", default: Some("\"OLTP\""), secret: false },
            Param { name: "cpuCoreCount", kind: Kind::Int { min: 1, max: 128 }, required: false, description: "OCPUs", default: Some("1"), secret: false },
            Param { name: "dataStorageSizeInTBs", kind: Kind::Int { min: 1, max: 384 }, required: false, description: "Storage in TB", default: Some("1"), secret: false },
            Param { name: "isFreeTier", kind: Kind::Bool, required: false, description: "An Always Free database (fixed small size, no cost)", default: Some("false"), secret: false },
            Param { name: "adminPassword", kind: Kind::Rule(&rules::ADB_PASSWORD), required: true, description: "Password of the ADMIN user", default: None, secret: true },
        ],
    },
    ToolSpec {
        name: "createPolicy",
        category: "identity",
        description: "Create an IAM policy from statements such as `Allow group Developers to read all-resources in compartment Dev`. Needs an approval; show the statements and who they empower first.",
        risk: Risk::Confirm,
        params: &[
            COMPARTMENT,
            Param { name: "name", kind: Kind::Rule(&rules::POLICY_NAME), required: true, description: "Policy name, unique in the tenancy", default: None, secret: false },
            Param { name: "description", kind: Kind::Text { max: 400 }, required: true, description: "What the policy is for", default: None, secret: false },
            Param { name: "statements", kind: Kind::Array { items: &Kind::Rule(&rules::POLICY_STATEMENT), min: 1, max: 50 }, required: true, description: "Policy statements", default: None, secret: false },
        ],
    },
    list_tool!("listContainerRepos", "storage", "List Container Registry (OCIR) repositories in a compartment with their image count, size and visibility.", [COMPARTMENT, LIMIT]),
    ToolSpec {
        name: "listContainerImages",
        category: "storage",
        description: "List container images in Container Registry (OCIR), optionally of one repository or version, with digests and push times.",
        risk: Risk::Read,
        params: &[
            COMPARTMENT,
            Param { name: "repositoryName", kind: Kind::Text { max: 255 }, required: false, description: "Only this repository's, e.g. shop/web", default: None, secret: false },
            Param { name: "imageVersion", kind: Kind::Text { max: 128 }, required: false, description: "Only this version (tag), e.g. 1.2.0", default: None, secret: false },
            LIMIT,
        ],
    },
    ToolSpec {
        name: "updateSecurityListRules",
        category: "networking",
        description: "Replace a security list's ingress rules, egress rules, or both (a list given replaces that whole list; one left out stays as it is). Can open the network: needs an approval by someone other than the requester. Read the current rules with listSecurityLists first, keep those still wanted, and point out any rule open to 0.0.0.0/0.",
        risk: Risk::Danger,
        params: &[
            Param { name: "securityListId", kind: Kind::Ocid(Some("securitylist")), required: true, description: "OCID of the security list", default: None, secret: false },
            Param { name: "ingressSecurityRules", kind: Kind::Array { items: &rules::INGRESS_RULE, min: 0, max: 200 }, required: false, description: "The complete new ingress rules", default: None, secret: false },
            Param { name: "egressSecurityRules", kind: Kind::Array { items: &rules::EGRESS_RULE, min: 0, max: 200 }, required: false, description: "The complete new egress rules", default: None, secret: false },
        ],
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

    /// Lists and projects: the common shape of the list tools.
    async fn list_projected(
        &self,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        limit: usize,
        fields: &[&str],
    ) -> Result<Value, String> {
        let l = self.list(service, path, query, limit).await?;
        let n = l.len();
        Ok(json!({"items": project(l, fields), "count": n}))
    }

    /// Resource Search with a structured or free-text body, projected.
    async fn search(&self, body: Value, limit: usize) -> Result<Value, String> {
        let limit_text = limit.min(1000).to_string();
        let opts = RequestOptions::default();
        let res = self
            .client
            .send(
                Method::POST,
                &Service::RESOURCE_SEARCH,
                "/resources",
                &[("limit", limit_text.as_str())],
                Some(body),
                &opts,
            )
            .await
            .map_err(|e| e.to_string())?;
        let l = res
            .body
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let n = l.len();
        Ok(
            json!({"items": project(l, &["resourceType", "identifier", "displayName", "lifecycleState", "compartmentId"]), "count": n}),
        )
    }

    /// Cost over the last `days` from the Usage API: `(items, from, to)`.
    async fn usage(
        &self,
        days: i64,
        granularity: &str,
        group_by: &str,
    ) -> Result<(Vec<Value>, String, String), String> {
        let today = time::OffsetDateTime::now_utc().date();
        let fmt = |d: time::Date| format!("{d}T00:00:00Z");
        let start = today - time::Duration::days(days);
        let body = json!({
            "tenantId": self.tenancy,
            "timeUsageStarted": fmt(start),
            "timeUsageEnded": fmt(today),
            "granularity": granularity,
            "queryType": "COST",
            "groupBy": [group_by],
        });
        let opts = RequestOptions::default();
        let res = self
            .client
            .send(
                Method::POST,
                &Service::USAGE_API,
                "/usage",
                &[],
                Some(body),
                &opts,
            )
            .await
            .map_err(|e| e.to_string())?;
        let items = res
            .body
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok((items, fmt(start), fmt(today)))
    }

    /// One signed call; the error is the cloud's message.
    async fn send(
        &self,
        method: Method,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<OciResponse, String> {
        self.send_with(
            method,
            service,
            path,
            query,
            body,
            &RequestOptions::default(),
        )
        .await
    }

    /// [`OciTools::send`] with request options (e.g. `if-match`).
    async fn send_with(
        &self,
        method: Method,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
        opts: &RequestOptions,
    ) -> Result<OciResponse, String> {
        self.client
            .send(method, service, path, query, body, opts)
            .await
            .map_err(|e| e.to_string())
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

async fn tokio_sleep(ms: u64) {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Keeps only `fields` of each item: the compact output a model needs.
fn project(items: Vec<Value>, fields: &[&str]) -> Value {
    Value::Array(items.iter().map(|item| pick(item, fields)).collect())
}

/// Keeps only `fields` of one object.
fn pick(item: &Value, fields: &[&str]) -> Value {
    Value::Object(
        fields
            .iter()
            .filter_map(|f| item.get(*f).map(|v| (f.to_string(), v.clone())))
            .collect(),
    )
}

/// A string argument ("" when absent: validation made required ones present).
fn text<'a>(args: &'a Map<String, Value>, name: &str) -> &'a str {
    args.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// The given `fields` of the arguments, under the same names, as a request body.
fn body_of(args: &Map<String, Value>, fields: &[&str]) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|f| args.get(*f).map(|v| (f.to_string(), v.clone())))
        .collect()
}

#[async_trait]
impl ToolRunner for OciTools {
    fn specs(&self) -> &'static [ToolSpec] {
        TOOLS
    }

    fn cloud(&self) -> &'static str {
        self.cloud
    }

    fn check(&self, name: &str, args: &Map<String, Value>) -> Result<(), String> {
        if name == "updateSecurityListRules"
            && !args.contains_key("ingressSecurityRules")
            && !args.contains_key("egressSecurityRules")
        {
            return Err("args: give ingressSecurityRules, egressSecurityRules or both".into());
        }
        Ok(())
    }

    async fn run(&self, name: &str, args: &Map<String, Value>) -> Result<Value, ToolError> {
        match name {
            "generateTerraform" => terraform::generate(args).map_err(ToolError::Invalid),
            "getOCIPricing" => pricing::oci_prices(args).map_err(ToolError::NotFound),
            "getAWSPricing" => pricing::aws_prices(args).map_err(ToolError::NotFound),
            "getAzurePricing" => pricing::azure_prices(args).map_err(ToolError::NotFound),
            "getOCIFreeTier" => Ok(pricing::free_tier()),
            "estimateCloudCost" => Ok(pricing::estimate(args)),
            "compareCloudCosts" => Ok(pricing::compare(args)),
            _ if !TOOLS.iter().any(|t| t.name == name) => Err(ToolError::NotFound(format!(
                "{name} is not in this catalogue"
            ))),
            _ => self.call(name, args).await.map_err(ToolError::Cloud),
        }
    }
}

impl OciTools {
    /// Runs a tool that calls the cloud; the error is the cloud's message.
    async fn call(&self, name: &str, args: &Map<String, Value>) -> Result<Value, String> {
        let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(100) as usize;
        let c = self.compartment(args);
        let items = |v: Value, n: usize| json!({"items": v, "count": n});
        match name {
            "listInstances" => {
                let mut q = vec![("compartmentId", c)];
                if let Some(s) = args.get("lifecycleState").and_then(Value::as_str) {
                    q.push(("lifecycleState", s));
                }
                self.list_projected(
                    &Service::COMPUTE,
                    "/instances",
                    &q,
                    limit,
                    &[
                        "id",
                        "displayName",
                        "lifecycleState",
                        "shape",
                        "availabilityDomain",
                        "timeCreated",
                    ],
                )
                .await
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
                self.list_projected(
                    &Service::COMPUTE,
                    "/shapes",
                    &[("compartmentId", c)],
                    limit,
                    &["shape", "ocpus", "memoryInGBs", "processorDescription"],
                )
                .await
            }
            "listImages" => {
                let mut q = vec![("compartmentId", c)];
                if let Some(s) = args.get("operatingSystem").and_then(Value::as_str) {
                    q.push(("operatingSystem", s));
                }
                self.list_projected(
                    &Service::COMPUTE,
                    "/images",
                    &q,
                    limit,
                    &[
                        "id",
                        "displayName",
                        "operatingSystem",
                        "operatingSystemVersion",
                        "lifecycleState",
                    ],
                )
                .await
            }
            "listCompartments" => {
                let q = [
                    ("compartmentId", c),
                    ("compartmentIdInSubtree", "true"),
                    ("accessLevel", "ANY"),
                ];
                self.list_projected(
                    &Service::IDENTITY,
                    "/compartments",
                    &q,
                    limit,
                    &[
                        "id",
                        "name",
                        "description",
                        "compartmentId",
                        "lifecycleState",
                    ],
                )
                .await
            }
            "listVcns" => {
                self.list_projected(
                    &Service::VIRTUAL_NETWORK,
                    "/vcns",
                    &[("compartmentId", c)],
                    limit,
                    &["id", "displayName", "cidrBlocks", "lifecycleState"],
                )
                .await
            }
            "listSubnets" => {
                let mut q = vec![("compartmentId", c)];
                if let Some(v) = args.get("vcnId").and_then(Value::as_str) {
                    q.push(("vcnId", v));
                }
                self.list_projected(
                    &Service::VIRTUAL_NETWORK,
                    "/subnets",
                    &q,
                    limit,
                    &[
                        "id",
                        "displayName",
                        "cidrBlock",
                        "vcnId",
                        "prohibitPublicIpOnVnic",
                        "lifecycleState",
                    ],
                )
                .await
            }
            "listBlockVolumes" => {
                self.list_projected(
                    &Service::BLOCKSTORAGE,
                    "/volumes",
                    &[("compartmentId", c)],
                    limit,
                    &[
                        "id",
                        "displayName",
                        "sizeInGBs",
                        "lifecycleState",
                        "availabilityDomain",
                    ],
                )
                .await
            }
            "listBuckets" => {
                let ns = self.get(&Service::OBJECT_STORAGE, "/n/").await?;
                let ns = ns
                    .as_str()
                    .ok_or("Object Storage returned no namespace")?
                    .to_string();
                self.list_projected(
                    &Service::OBJECT_STORAGE,
                    &format!("/n/{ns}/b"),
                    &[("compartmentId", c)],
                    limit,
                    &["name", "namespace", "compartmentId", "timeCreated"],
                )
                .await
            }
            "listAutonomousDatabases" => {
                self.list_projected(
                    &Service::DATABASE,
                    "/autonomousDatabases",
                    &[("compartmentId", c)],
                    limit,
                    &[
                        "id",
                        "displayName",
                        "dbWorkload",
                        "lifecycleState",
                        "cpuCoreCount",
                        "dataStorageSizeInTBs",
                    ],
                )
                .await
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
            "getBlockVolume"
            | "getBootVolume"
            | "getVolumeBackup"
            | "getAutonomousDatabase"
            | "getCompartment"
            | "getLoadBalancer"
            | "getLoadBalancerHealth"
            | "getAlarm"
            | "getVnic" => {
                let (service, param, path) = match name {
                    "getBlockVolume" => (&Service::BLOCKSTORAGE, "volumeId", "/volumes/{}"),
                    "getBootVolume" => (&Service::BLOCKSTORAGE, "bootVolumeId", "/bootVolumes/{}"),
                    "getVolumeBackup" => (
                        &Service::BLOCKSTORAGE,
                        "volumeBackupId",
                        "/volumeBackups/{}",
                    ),
                    "getAutonomousDatabase" => (
                        &Service::DATABASE,
                        "autonomousDatabaseId",
                        "/autonomousDatabases/{}",
                    ),
                    "getCompartment" => (&Service::IDENTITY, "compartmentId", "/compartments/{}"),
                    "getLoadBalancer" => (
                        &Service::LOAD_BALANCER,
                        "loadBalancerId",
                        "/loadBalancers/{}",
                    ),
                    "getLoadBalancerHealth" => (
                        &Service::LOAD_BALANCER,
                        "loadBalancerId",
                        "/loadBalancers/{}/health",
                    ),
                    "getAlarm" => (&Service::MONITORING, "alarmId", "/alarms/{}"),
                    _ => (&Service::VIRTUAL_NETWORK, "vnicId", "/vnics/{}"),
                };
                let id = args.get(param).and_then(Value::as_str).unwrap_or_default();
                self.get(service, &path.replace("{}", id)).await
            }
            "listBootVolumes" => {
                let mut q = vec![("compartmentId", c)];
                if let Some(ad) = args.get("availabilityDomain").and_then(Value::as_str) {
                    q.push(("availabilityDomain", ad));
                }
                self.list_projected(
                    &Service::BLOCKSTORAGE,
                    "/bootVolumes",
                    &q,
                    limit,
                    &[
                        "id",
                        "displayName",
                        "sizeInGBs",
                        "imageId",
                        "lifecycleState",
                        "availabilityDomain",
                    ],
                )
                .await
            }
            "listVolumeAttachments" | "listVnicAttachments" => {
                let (path, fields): (&str, &[&str]) = if name == "listVolumeAttachments" {
                    (
                        "/volumeAttachments",
                        &[
                            "id",
                            "instanceId",
                            "volumeId",
                            "attachmentType",
                            "lifecycleState",
                        ],
                    )
                } else {
                    (
                        "/vnicAttachments",
                        &["id", "instanceId", "vnicId", "subnetId", "lifecycleState"],
                    )
                };
                let mut q = vec![("compartmentId", c)];
                if let Some(i) = args.get("instanceId").and_then(Value::as_str) {
                    q.push(("instanceId", i));
                }
                let l = self.list(&Service::COMPUTE, path, &q, limit).await?;
                let n = l.len();
                Ok(items(project(l, fields), n))
            }
            "getTenancy" => {
                self.get(&Service::IDENTITY, &format!("/tenancies/{}", self.tenancy))
                    .await
            }
            "listRegionSubscriptions" => {
                let body = self
                    .get(
                        &Service::IDENTITY,
                        &format!("/tenancies/{}/regionSubscriptions", self.tenancy),
                    )
                    .await?;
                let l = body.as_array().cloned().unwrap_or_default();
                let n = l.len();
                Ok(items(
                    project(l, &["regionName", "regionKey", "isHomeRegion", "status"]),
                    n,
                ))
            }
            "listLimitServices" => {
                let l = self
                    .list(
                        &Service::LIMITS,
                        "/20190729/services",
                        &[("compartmentId", self.tenancy.as_str())],
                        1000,
                    )
                    .await?;
                let n = l.len();
                Ok(items(project(l, &["name", "description"]), n))
            }
            "getServiceLimits" => {
                let service = args
                    .get("serviceName")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let q = [
                    ("compartmentId", self.tenancy.as_str()),
                    ("serviceName", service),
                ];
                self.list_projected(
                    &Service::LIMITS,
                    "/20190729/limitValues",
                    &q,
                    limit,
                    &["name", "scopeType", "availabilityDomain", "value"],
                )
                .await
            }
            "listQuotas" => {
                let l = self
                    .list(
                        &Service::QUOTAS,
                        "/20181025/quotas",
                        &[("compartmentId", self.tenancy.as_str())],
                        limit,
                    )
                    .await?;
                let n = l.len();
                Ok(items(
                    project(l, &["id", "name", "description", "lifecycleState"]),
                    n,
                ))
            }
            "searchResources" => {
                let query = args
                    .get("query")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.search(json!({"type": "Structured", "query": query}), limit)
                    .await
            }
            "getCostByCompartment" => {
                let days = args.get("days").and_then(Value::as_i64).unwrap_or(30);
                let (mut l, from, to) = self.usage(days, "TOTAL", "compartmentName").await?;
                l.sort_by(|a, b| {
                    let f = |v: &Value| {
                        v.get("computedAmount")
                            .and_then(Value::as_f64)
                            .unwrap_or(0.0)
                    };
                    f(b).total_cmp(&f(a))
                });
                let n = l.len();
                Ok(
                    json!({"items": project(l, &["compartmentName", "computedAmount", "currency"]), "count": n, "from": from, "to": to}),
                )
            }
            "getMetrics" => {
                let hours = args.get("hours").and_then(Value::as_i64).unwrap_or(1);
                let now = time::OffsetDateTime::now_utc();
                let rfc = |t: time::OffsetDateTime| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default()
                };
                let body = json!({
                    "namespace": args.get("namespace").cloned().unwrap_or(Value::Null),
                    "query": args.get("query").cloned().unwrap_or(Value::Null),
                    "startTime": rfc(now - time::Duration::hours(hours)),
                    "endTime": rfc(now),
                });
                let opts = RequestOptions::default();
                let res = self
                    .client
                    .send(
                        Method::POST,
                        &Service::MONITORING,
                        "/metrics/actions/summarizeMetricsData",
                        &[("compartmentId", c)],
                        Some(body),
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let series: Vec<Value> = res
                    .body
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| {
                        let points = m.get("aggregatedDatapoints").and_then(Value::as_array).cloned().unwrap_or_default();
                        let tail: Vec<Value> = points.iter().rev().take(20).rev().cloned().collect();
                        json!({"name": m.get("name"), "dimensions": m.get("dimensions"), "datapoints": tail})
                    })
                    .collect();
                let n = series.len();
                Ok(items(Value::Array(series), n))
            }
            "searchLogs" => {
                let hours = args.get("hours").and_then(Value::as_i64).unwrap_or(24);
                let now = time::OffsetDateTime::now_utc();
                let rfc = |t: time::OffsetDateTime| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default()
                };
                let body = json!({
                    "timeStart": rfc(now - time::Duration::hours(hours)),
                    "timeEnd": rfc(now),
                    "searchQuery": args.get("query").cloned().unwrap_or(Value::Null),
                    "isReturnFieldInfo": false,
                });
                let limit_text = limit.min(500).to_string();
                let opts = RequestOptions::default();
                let res = self
                    .client
                    .send(
                        Method::POST,
                        &Service::LOG_SEARCH,
                        "/search",
                        &[("limit", limit_text.as_str())],
                        Some(body),
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let l: Vec<Value> = res
                    .body
                    .get("results")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| r.get("data").cloned().unwrap_or(r))
                    .collect();
                let n = l.len();
                Ok(items(Value::Array(l), n))
            }
            "getResourceAvailability" => {
                let service = args
                    .get("serviceName")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let limit_name = args
                    .get("limitName")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let mut q = vec![("compartmentId", self.tenancy.as_str())];
                if let Some(ad) = args.get("availabilityDomain").and_then(Value::as_str) {
                    q.push(("availabilityDomain", ad));
                }
                let path = format!(
                    "/20190729/services/{}/limits/{}/resourceAvailability",
                    portal_oci::endpoint::encode_path_param(service, true),
                    portal_oci::endpoint::encode_path_param(limit_name, true)
                );
                let opts = RequestOptions::default();
                self.client
                    .send(Method::GET, &Service::LIMITS, &path, &q, None, &opts)
                    .await
                    .map(|r| r.body)
                    .map_err(|e| e.to_string())
            }
            "getBackendSetHealth" => {
                let id = args
                    .get("loadBalancerId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let set = args
                    .get("backendSetName")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let set = portal_oci::endpoint::encode_path_param(set, true);
                self.get(
                    &Service::LOAD_BALANCER,
                    &format!("/loadBalancers/{id}/backendSets/{set}/health"),
                )
                .await
            }
            "getBucket" | "deleteBucket" | "createBucket" => {
                let ns = self.get(&Service::OBJECT_STORAGE, "/n/").await?;
                let ns = ns
                    .as_str()
                    .ok_or("Object Storage returned no namespace")?
                    .to_string();
                let opts = RequestOptions::default();
                match name {
                    "createBucket" => {
                        let body = json!({
                            "compartmentId": args.get("compartmentId").cloned().unwrap_or(Value::Null),
                            "name": args.get("name").cloned().unwrap_or(Value::Null),
                            "storageTier": args.get("storageTier").cloned().unwrap_or(json!("Standard")),
                            "publicAccessType": "NoPublicAccess",
                        });
                        self.client
                            .send(
                                Method::POST,
                                &Service::OBJECT_STORAGE,
                                &format!("/n/{ns}/b"),
                                &[],
                                Some(body),
                                &opts,
                            )
                            .await
                            .map(|r| r.body)
                            .map_err(|e| e.to_string())
                    }
                    _ => {
                        let bucket = args
                            .get("bucketName")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let path = format!(
                            "/n/{ns}/b/{}",
                            portal_oci::endpoint::encode_path_param(bucket, true)
                        );
                        if name == "getBucket" {
                            let q = [
                                ("fields", "approximateCount"),
                                ("fields", "approximateSize"),
                            ];
                            self.client
                                .send(
                                    Method::GET,
                                    &Service::OBJECT_STORAGE,
                                    &path,
                                    &q,
                                    None,
                                    &opts,
                                )
                                .await
                                .map(|r| r.body)
                                .map_err(|e| e.to_string())
                        } else {
                            self.client
                                .send(
                                    Method::DELETE,
                                    &Service::OBJECT_STORAGE,
                                    &path,
                                    &[],
                                    None,
                                    &opts,
                                )
                                .await
                                .map_err(|e| e.to_string())?;
                            Ok(json!({"bucketName": bucket, "deleted": true}))
                        }
                    }
                }
            }
            "createVolumeBackup" => {
                let mut body = json!({
                    "volumeId": args.get("volumeId").cloned().unwrap_or(Value::Null),
                    "type": args.get("type").cloned().unwrap_or(json!("INCREMENTAL")),
                });
                if let Some(n) = args.get("displayName") {
                    body["displayName"] = n.clone();
                }
                let opts = RequestOptions::default();
                let res = self
                    .client
                    .send(
                        Method::POST,
                        &Service::BLOCKSTORAGE,
                        "/volumeBackups",
                        &[],
                        Some(body),
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(project(
                    vec![res.body],
                    &["id", "displayName", "volumeId", "type", "lifecycleState"],
                )
                .as_array()
                .and_then(|a| a.first().cloned())
                .unwrap_or(Value::Null))
            }
            "startAutonomousDatabase" | "stopAutonomousDatabase" => {
                let id = args
                    .get("autonomousDatabaseId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let action = if name == "startAutonomousDatabase" {
                    "start"
                } else {
                    "stop"
                };
                let opts = RequestOptions::default();
                let res = self
                    .client
                    .send(
                        Method::POST,
                        &Service::DATABASE,
                        &format!("/autonomousDatabases/{id}/actions/{action}"),
                        &[],
                        None,
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(
                    json!({"id": id, "lifecycleState": res.body.get("lifecycleState").cloned().unwrap_or(Value::Null)}),
                )
            }
            "getObjectStorageNamespace" => {
                Ok(json!({"namespace": self.get(&Service::OBJECT_STORAGE, "/n/").await?}))
            }
            "searchResourcesByName" => {
                let text = args.get("text").and_then(Value::as_str).unwrap_or_default();
                self.search(json!({"type": "FreeText", "text": text}), limit)
                    .await
            }
            "summarizeMetrics" => Box::pin(self.call("getMetrics", args)).await,
            "terminateAutonomousDatabase" => {
                let id = args
                    .get("autonomousDatabaseId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let opts = RequestOptions::default();
                self.client
                    .send(
                        Method::DELETE,
                        &Service::DATABASE,
                        &format!("/autonomousDatabases/{id}"),
                        &[],
                        None,
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let now = self
                    .get(&Service::DATABASE, &format!("/autonomousDatabases/{id}"))
                    .await?;
                Ok(
                    json!({"id": id, "lifecycleState": now.get("lifecycleState").cloned().unwrap_or(Value::Null)}),
                )
            }
            "getComputeMetrics" => {
                let metric = args
                    .get("metric")
                    .and_then(Value::as_str)
                    .unwrap_or("CpuUtilization");
                let mut forwarded = args.clone();
                forwarded.insert("namespace".into(), json!("oci_computeagent"));
                forwarded.insert("query".into(), json!(format!("{metric}[5m].mean()")));
                Box::pin(self.call("getMetrics", &forwarded)).await
            }
            "listMetricNamespaces" => {
                let opts = RequestOptions::default();
                let res = self
                    .client
                    .send(
                        Method::POST,
                        &Service::MONITORING,
                        "/metrics/actions/listMetrics",
                        &[("compartmentId", c)],
                        Some(json!({"groupBy": ["namespace", "name"]})),
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let l = res.body.as_array().cloned().unwrap_or_default();
                let n = l.len();
                Ok(items(project(l, &["namespace", "name"]), n))
            }
            "getUsageCost" => {
                let days = args.get("days").and_then(Value::as_i64).unwrap_or(30);
                let (l, from, to) = self.usage(days, "DAILY", "service").await?;
                let n = l.len();
                Ok(
                    json!({"items": project(l, &["timeUsageStarted", "service", "computedAmount", "currency"]), "count": n, "from": from, "to": to}),
                )
            }
            "getInstanceVnics" => {
                let id = args
                    .get("instanceId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let attachments = self
                    .list(
                        &Service::COMPUTE,
                        "/vnicAttachments",
                        &[("compartmentId", c), ("instanceId", id)],
                        100,
                    )
                    .await?;
                let mut vnics = Vec::new();
                for a in attachments {
                    if let Some(v) = a.get("vnicId").and_then(Value::as_str) {
                        vnics.push(
                            self.get(&Service::VIRTUAL_NETWORK, &format!("/vnics/{v}"))
                                .await?,
                        );
                    }
                }
                let n = vnics.len();
                Ok(items(
                    project(
                        vnics,
                        &[
                            "id",
                            "displayName",
                            "privateIp",
                            "publicIp",
                            "subnetId",
                            "isPrimary",
                            "macAddress",
                        ],
                    ),
                    n,
                ))
            }
            "listInstancePlugins" => {
                let id = args
                    .get("instanceId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.list_projected(
                    &Service::INSTANCE_AGENT,
                    &format!("/instanceagents/{id}/plugins"),
                    &[("compartmentId", c)],
                    1000,
                    &["name", "status", "message", "timeLastUpdatedUtc"],
                )
                .await
            }
            "getInstanceConsoleHistory" => {
                let id = args
                    .get("instanceId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let opts = RequestOptions::default();
                let capture = self
                    .client
                    .send(
                        Method::POST,
                        &Service::COMPUTE,
                        "/instanceConsoleHistories",
                        &[],
                        Some(json!({"instanceId": id})),
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let hist = capture
                    .body
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or("no console history id")?
                    .to_string();
                // Capturing takes a moment; wait for it (bounded by the gateway's timeout).
                for _ in 0..60 {
                    let h = self
                        .get(
                            &Service::COMPUTE,
                            &format!("/instanceConsoleHistories/{hist}"),
                        )
                        .await?;
                    match h.get("lifecycleState").and_then(Value::as_str) {
                        Some("SUCCEEDED") => break,
                        Some("FAILED") => return Err("the console history capture failed".into()),
                        _ => tokio_sleep(500).await,
                    }
                }
                let res = self
                    .client
                    .send(
                        Method::GET,
                        &Service::COMPUTE,
                        &format!("/instanceConsoleHistories/{hist}/data"),
                        &[("length", "65536")],
                        None,
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(
                    json!({"instanceId": id, "consoleHistoryId": hist, "output": String::from_utf8_lossy(&res.raw)}),
                )
            }
            "createBlockVolume" | "attachBlockVolume" | "createVcn" => {
                let (service, path, body) = match name {
                    "createBlockVolume" => {
                        let mut b = json!({
                            "compartmentId": args.get("compartmentId"),
                            "availabilityDomain": args.get("availabilityDomain"),
                            "sizeInGBs": args.get("sizeInGBs"),
                        });
                        if let Some(n) = args.get("displayName") {
                            b["displayName"] = n.clone();
                        }
                        (&Service::BLOCKSTORAGE, "/volumes", b)
                    }
                    "attachBlockVolume" => (
                        &Service::COMPUTE,
                        "/volumeAttachments",
                        json!({
                            "instanceId": args.get("instanceId"),
                            "volumeId": args.get("volumeId"),
                            "type": args.get("type"),
                            "isReadOnly": args.get("readOnly"),
                        }),
                    ),
                    _ => {
                        let mut b = json!({"compartmentId": args.get("compartmentId"), "cidrBlocks": [args.get("cidrBlock")]});
                        if let Some(n) = args.get("displayName") {
                            b["displayName"] = n.clone();
                        }
                        (&Service::VIRTUAL_NETWORK, "/vcns", b)
                    }
                };
                let opts = RequestOptions::default();
                let res = self
                    .client
                    .send(Method::POST, service, path, &[], Some(body), &opts)
                    .await
                    .map_err(|e| e.to_string())?;
                let b = res.body;
                Ok(
                    json!({"id": b.get("id"), "displayName": b.get("displayName"), "lifecycleState": b.get("lifecycleState")}),
                )
            }
            "deleteVcn" => {
                let id = args
                    .get("vcnId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let opts = RequestOptions::default();
                self.client
                    .send(
                        Method::DELETE,
                        &Service::VIRTUAL_NETWORK,
                        &format!("/vcns/{id}"),
                        &[],
                        None,
                        &opts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let now = self
                    .get(&Service::VIRTUAL_NETWORK, &format!("/vcns/{id}"))
                    .await
                    .ok();
                Ok(
                    json!({"id": id, "lifecycleState": now.and_then(|v| v.get("lifecycleState").cloned()).unwrap_or(json!("TERMINATED"))}),
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
                self.list_projected(
                    &Service::BLOCKSTORAGE,
                    "/volumeBackups",
                    &[("compartmentId", c)],
                    limit,
                    &[
                        "id",
                        "displayName",
                        "volumeId",
                        "sizeInGBs",
                        "type",
                        "lifecycleState",
                        "timeCreated",
                    ],
                )
                .await
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
                self.list_projected(
                    &Service::IDENTITY,
                    "/policies",
                    &[("compartmentId", c)],
                    limit,
                    &["id", "name", "statements", "lifecycleState"],
                )
                .await
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
                self.list_projected(
                    &Service::LOAD_BALANCER,
                    "/loadBalancers",
                    &[("compartmentId", c)],
                    limit,
                    &[
                        "id",
                        "displayName",
                        "shapeName",
                        "ipAddresses",
                        "isPrivate",
                        "lifecycleState",
                    ],
                )
                .await
            }
            "listAlarms" => {
                self.list_projected(
                    &Service::MONITORING,
                    "/alarms",
                    &[("compartmentId", c)],
                    limit,
                    &[
                        "id",
                        "displayName",
                        "severity",
                        "isEnabled",
                        "namespace",
                        "query",
                        "lifecycleState",
                    ],
                )
                .await
            }
            "getAlarmStatus" => {
                self.list_projected(
                    &Service::MONITORING,
                    "/alarms/status",
                    &[("compartmentId", c)],
                    limit,
                    &[
                        "id",
                        "displayName",
                        "severity",
                        "status",
                        "timestampTriggered",
                    ],
                )
                .await
            }
            "launchInstance" => {
                let mut body = body_of(
                    args,
                    &[
                        "compartmentId",
                        "availabilityDomain",
                        "shape",
                        "displayName",
                    ],
                );
                body.insert(
                    "sourceDetails".into(),
                    json!({"sourceType": "image", "imageId": text(args, "imageId")}),
                );
                body.insert(
                    "createVnicDetails".into(),
                    json!({"subnetId": text(args, "subnetId")}),
                );
                let shape = body_of(args, &["ocpus", "memoryInGBs"]);
                if !shape.is_empty() {
                    body.insert("shapeConfig".into(), Value::Object(shape));
                }
                let mut metadata = Map::new();
                if let Some(key) = args.get("sshPublicKey") {
                    metadata.insert("ssh_authorized_keys".into(), key.clone());
                }
                if let Some(script) = args.get("userData").and_then(Value::as_str) {
                    metadata.insert("user_data".into(), json!(BASE64.encode(script)));
                }
                if !metadata.is_empty() {
                    body.insert("metadata".into(), Value::Object(metadata));
                }
                let res = self
                    .send(
                        Method::POST,
                        &Service::COMPUTE,
                        "/instances",
                        &[],
                        Some(Value::Object(body)),
                    )
                    .await?;
                Ok(pick(
                    &res.body,
                    &[
                        "id",
                        "displayName",
                        "lifecycleState",
                        "shape",
                        "shapeConfig",
                        "availabilityDomain",
                        "compartmentId",
                        "timeCreated",
                    ],
                ))
            }
            "createAutonomousDatabase" => {
                let mut body = body_of(
                    args,
                    &[
                        "compartmentId",
                        "dbName",
                        "displayName",
                        "dbWorkload",
                        "cpuCoreCount",
                        "dataStorageSizeInTBs",
                        "isFreeTier",
                        "adminPassword",
                    ],
                );
                body.insert("source".into(), json!("NONE"));
                let res = self
                    .send(
                        Method::POST,
                        &Service::DATABASE,
                        "/autonomousDatabases",
                        &[],
                        Some(Value::Object(body)),
                    )
                    .await?;
                Ok(pick(
                    &res.body,
                    &[
                        "id",
                        "displayName",
                        "dbName",
                        "dbWorkload",
                        "lifecycleState",
                        "cpuCoreCount",
                        "dataStorageSizeInTBs",
                        "isFreeTier",
                    ],
                ))
            }
            "createPolicy" => {
                let mut body = body_of(args, &["name", "description", "statements"]);
                body.insert("compartmentId".into(), json!(c));
                let res = self
                    .send(
                        Method::POST,
                        &Service::IDENTITY,
                        "/policies",
                        &[],
                        Some(Value::Object(body)),
                    )
                    .await?;
                Ok(pick(
                    &res.body,
                    &[
                        "id",
                        "name",
                        "description",
                        "statements",
                        "compartmentId",
                        "lifecycleState",
                    ],
                ))
            }
            "listContainerRepos" => {
                self.list_projected(
                    &Service::ARTIFACTS,
                    "/container/repositories",
                    &[("compartmentId", c)],
                    limit,
                    &[
                        "id",
                        "displayName",
                        "isPublic",
                        "imageCount",
                        "layersSizeInBytes",
                        "lifecycleState",
                        "timeCreated",
                    ],
                )
                .await
            }
            "listContainerImages" => {
                let mut q = vec![("compartmentId", c)];
                for (arg, param) in [
                    ("repositoryName", "repositoryName"),
                    ("imageVersion", "version"),
                ] {
                    if let Some(v) = args.get(arg).and_then(Value::as_str) {
                        q.push((param, v));
                    }
                }
                self.list_projected(
                    &Service::ARTIFACTS,
                    "/container/images",
                    &q,
                    limit,
                    &[
                        "id",
                        "displayName",
                        "repositoryName",
                        "version",
                        "digest",
                        "lifecycleState",
                        "timeCreated",
                    ],
                )
                .await
            }
            "updateSecurityListRules" => {
                let path = format!("/securityLists/{}", text(args, "securityListId"));
                // Replace what was read, not what someone changed since (if-match).
                let current = self
                    .send(Method::GET, &Service::VIRTUAL_NETWORK, &path, &[], None)
                    .await?;
                let mut opts = RequestOptions::default();
                if let Some(etag) = &current.etag {
                    opts = opts.header("if-match", etag).map_err(|e| e.to_string())?;
                }
                let mut body = Map::new();
                for (field, peer) in [
                    ("ingressSecurityRules", "sourceType"),
                    ("egressSecurityRules", "destinationType"),
                ] {
                    if let Some(Value::Array(given)) = args.get(field) {
                        let rules = given
                            .iter()
                            .map(|r| {
                                let mut r = r.clone();
                                if let Value::Object(m) = &mut r {
                                    m.insert(peer.into(), json!("CIDR_BLOCK"));
                                }
                                r
                            })
                            .collect();
                        body.insert(field.into(), Value::Array(rules));
                    }
                }
                let res = self
                    .send_with(
                        Method::PUT,
                        &Service::VIRTUAL_NETWORK,
                        &path,
                        &[],
                        Some(Value::Object(body)),
                        &opts,
                    )
                    .await?;
                Ok(pick(
                    &res.body,
                    &[
                        "id",
                        "displayName",
                        "vcnId",
                        "ingressSecurityRules",
                        "egressSecurityRules",
                        "lifecycleState",
                    ],
                ))
            }
            other => Err(format!("{other} is not implemented by this catalogue")),
        }
    }
}
