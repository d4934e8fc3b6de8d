//! Offline list prices and the estimate engine behind the pricing tools. The
//! data ships with the binary (USD, on-demand list prices as recorded by the
//! reference portal's tables); no network is used.

use crate::catalogue::Tool;
use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use serde_json::{json, Map, Value};

use crate::params::list_tool;

// A workload, as estimateCloudCost and compareCloudCosts take it.
const VCPUS: Param = Param {
    name: "vcpus",
    kind: Kind::Int { min: 1, max: 512 },
    required: false,
    description: "vCPUs",
    default: Some("2"),
    secret: false,
};
const MEMORY_GB: Param = Param {
    name: "memoryGB",
    kind: Kind::Int { min: 1, max: 4096 },
    required: false,
    description: "Memory",
    default: Some("8"),
    secret: false,
};
const ARCHITECTURE: Param = Param {
    name: "architecture",
    kind: Kind::Enum(&["x86", "arm", "any"]),
    required: false,
    description: "CPU architecture",
    default: Some("\"any\""),
    secret: false,
};
const STORAGE_GB: Param = Param {
    name: "storageGB",
    kind: Kind::Int {
        min: 0,
        max: 1_000_000,
    },
    required: false,
    description: "Block storage",
    default: Some("0"),
    secret: false,
};
const STORAGE_TYPE: Param = Param {
    name: "storageType",
    kind: Kind::Enum(&["ssd", "hdd"]),
    required: false,
    description: "Storage type",
    default: Some("\"ssd\""),
    secret: false,
};
const EGRESS_GB: Param = Param {
    name: "egressGBPerMonth",
    kind: Kind::Int {
        min: 0,
        max: 10_000_000,
    },
    required: false,
    description: "Outbound data",
    default: Some("0"),
    secret: false,
};
const HOURS_PER_MONTH: Param = Param {
    name: "hoursPerMonth",
    kind: Kind::Int { min: 1, max: 744 },
    required: false,
    description: "Hours running",
    default: Some("730"),
    secret: false,
};

/// The pricing tools: offline, from the prices shipped with the binary.
pub(crate) const TOOLS: &[Tool] = &[
    Tool {
        spec: ToolSpec {
        name: "getOCIPricing",
        category: "pricing",
        description: "OCI list prices (USD) for compute shapes and storage, from the prices shipped with the portal. Without arguments, the whole list.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            Param { name: "shapeName", kind: Kind::Text { max: 100 }, required: false, description: "e.g. VM.Standard.E5.Flex", default: None, secret: false },
            Param { name: "architecture", kind: Kind::Enum(&["x86", "arm", "gpu"]), required: false, description: "Only this architecture", default: None, secret: false },
        ],
    },
        run: |_, args| Box::pin(async move { oci_prices(args).map_err(ToolError::NotFound) }),
    },
    Tool {
        spec: ToolSpec {
        name: "getAWSPricing",
        category: "pricing",
        description: "AWS EC2 on-demand list prices (eu-west-1, USD), shipped with the portal.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            Param { name: "instanceType", kind: Kind::Text { max: 50 }, required: false, description: "e.g. m5.large", default: None, secret: false },
            Param { name: "architecture", kind: Kind::Enum(&["x86", "arm"]), required: false, description: "Only this architecture", default: None, secret: false },
        ],
    },
        run: |_, args| Box::pin(async move { aws_prices(args).map_err(ToolError::NotFound) }),
    },
    Tool {
        spec: ToolSpec {
        name: "getAzurePricing",
        category: "pricing",
        description: "Azure VM pay-as-you-go list prices (USD), shipped with the portal.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[Param { name: "skuName", kind: Kind::Text { max: 50 }, required: false, description: "e.g. Standard_D2s_v3", default: None, secret: false }],
    },
        run: |_, args| Box::pin(async move { azure_prices(args).map_err(ToolError::NotFound) }),
    },
    Tool {
        spec: list_tool!("getOCIFreeTier", "pricing", "OCI's Always Free allowances (compute, storage, database, networking).", []),
        run: |_, _| Box::pin(async { Ok(free_tier()) }),
    },
    Tool {
        spec: ToolSpec {
        name: "estimateCloudCost",
        category: "pricing",
        description: "Monthly cost estimate on one provider for a workload (vCPUs, memory, storage, egress), itemised.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            Param { name: "provider", kind: Kind::Enum(&["oci", "azure", "aws"]), required: true, description: "Provider", default: None, secret: false },
            VCPUS,
            MEMORY_GB,
            ARCHITECTURE,
            STORAGE_GB,
            STORAGE_TYPE,
            EGRESS_GB,
            HOURS_PER_MONTH,
        ],
    },
        run: |_, args| Box::pin(async move { Ok(estimate(args)) }),
    },
    Tool {
        spec: ToolSpec {
        name: "compareCloudCosts",
        category: "pricing",
        description: "Compare the monthly cost of a workload on OCI, Azure and AWS and recommend the cheapest, with reasons. Present as a table per provider.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            VCPUS,
            MEMORY_GB,
            ARCHITECTURE,
            Param { name: "gpuRequired", kind: Kind::Bool, required: false, description: "Needs a GPU", default: Some("false"), secret: false },
            STORAGE_GB,
            STORAGE_TYPE,
            EGRESS_GB,
            HOURS_PER_MONTH,
            Param { name: "maxBudgetPerMonth", kind: Kind::Int { min: 1, max: 10_000_000 }, required: false, description: "Budget (USD)", default: None, secret: false },
        ],
    },
        run: |_, args| Box::pin(async move { Ok(compare(args)) }),
    },
];

/// OCI compute shapes: (shape, per OCPU-hour, per GB-hour, architecture, note).
pub const OCI_SHAPES: &[(&str, f64, f64, &str, &str)] = &[
    (
        "VM.Standard.E5.Flex",
        0.03,
        0.0015,
        "x86",
        "AMD EPYC, flexible OCPUs and memory",
    ),
    (
        "VM.Standard.E4.Flex",
        0.025,
        0.0015,
        "x86",
        "AMD EPYC, flexible OCPUs and memory",
    ),
    (
        "VM.Standard.A1.Flex",
        0.01,
        0.001,
        "arm",
        "Ampere Altra; 4 OCPUs and 24 GB are Always Free",
    ),
    (
        "VM.Standard3.Flex",
        0.04,
        0.002,
        "x86",
        "Intel Xeon, flexible OCPUs and memory",
    ),
    (
        "VM.GPU.A10.1",
        2.95,
        0.0,
        "gpu",
        "1 × NVIDIA A10, flat rate per instance-hour",
    ),
    (
        "VM.GPU.A10.2",
        5.9,
        0.0,
        "gpu",
        "2 × NVIDIA A10, flat rate per instance-hour",
    ),
    (
        "BM.GPU.A100-v2.8",
        34.0,
        0.0,
        "gpu",
        "8 × NVIDIA A100 80 GB, flat rate per instance-hour",
    ),
];

/// OCI storage per GB-month.
pub const OCI_STORAGE: &[(&str, f64)] = &[
    ("ssd", 0.0255),
    ("hdd", 0.0085),
    ("object", 0.0255),
    ("archive", 0.0026),
];

/// AWS EC2 (eu-west-1 on-demand): (type, vCPUs, GB, architecture, per hour).
pub const AWS_INSTANCES: &[(&str, u32, f64, &str, f64)] = &[
    ("t3.micro", 2, 1.0, "x86", 0.0114),
    ("t3.small", 2, 2.0, "x86", 0.0228),
    ("t3.medium", 2, 4.0, "x86", 0.0456),
    ("t3.large", 2, 8.0, "x86", 0.0912),
    ("m5.large", 2, 8.0, "x86", 0.107),
    ("m5.xlarge", 4, 16.0, "x86", 0.214),
    ("m5.2xlarge", 8, 32.0, "x86", 0.428),
    ("c5.large", 2, 4.0, "x86", 0.096),
    ("c5.xlarge", 4, 8.0, "x86", 0.192),
    ("r5.large", 2, 16.0, "x86", 0.141),
    ("t4g.micro", 2, 1.0, "arm", 0.0092),
    ("t4g.small", 2, 2.0, "arm", 0.0184),
    ("m6g.large", 2, 8.0, "arm", 0.086),
    ("c6g.large", 2, 4.0, "arm", 0.077),
];

/// Azure VMs (static table; the same in westeurope, eastus, westus2, northeurope):
/// (SKU, vCPUs, GB, architecture, per hour).
pub const AZURE_VMS: &[(&str, u32, f64, &str, f64)] = &[
    ("Standard_B2s", 2, 4.0, "x86", 0.0416),
    ("Standard_D2s_v3", 2, 8.0, "x86", 0.096),
    ("Standard_D4s_v3", 4, 16.0, "x86", 0.192),
    ("Standard_D8s_v3", 8, 32.0, "x86", 0.384),
    ("Standard_D2ps_v5", 2, 8.0, "arm", 0.077),
];

/// What an estimate is for.
struct Needs {
    vcpus: f64,
    memory_gb: f64,
    arch: String,
    gpu: bool,
    storage_gb: f64,
    storage_type: String,
    egress_gb: f64,
    hours: f64,
}

fn needs(args: &Map<String, Value>) -> Needs {
    let num = |k: &str, d: f64| args.get(k).and_then(Value::as_f64).unwrap_or(d);
    let text = |k: &str, d: &str| args.get(k).and_then(Value::as_str).unwrap_or(d).to_string();
    Needs {
        vcpus: num("vcpus", 2.0),
        memory_gb: num("memoryGB", 8.0),
        arch: text("architecture", "any"),
        gpu: args
            .get("gpuRequired")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        storage_gb: num("storageGB", 0.0),
        storage_type: text("storageType", "ssd"),
        egress_gb: num("egressGBPerMonth", 0.0),
        hours: num("hoursPerMonth", 730.0),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn line(category: &str, description: String, monthly: f64) -> Value {
    json!({"category": category, "description": description, "monthlyCost": round2(monthly)})
}

fn oci(n: &Needs) -> Value {
    let shape = if n.gpu {
        "VM.GPU.A10.1"
    } else if n.arch == "arm" {
        "VM.Standard.A1.Flex"
    } else {
        "VM.Standard.E5.Flex"
    };
    let (_, ocpu_rate, gb_rate, _, _) = OCI_SHAPES
        .iter()
        .find(|s| s.0 == shape)
        .copied()
        .unwrap_or(OCI_SHAPES[0]);
    let ocpus = (n.vcpus / 2.0).ceil().max(1.0);
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    if n.arch == "arm" && !n.gpu && ocpus <= 4.0 && n.memory_gb <= 24.0 {
        notes.push("Compute fits the Always Free Ampere allowance (4 OCPUs, 24 GB)".to_string());
    } else {
        let compute = if n.gpu {
            ocpu_rate * n.hours
        } else {
            (ocpu_rate * ocpus + gb_rate * n.memory_gb) * n.hours
        };
        lines.push(line(
            "compute",
            format!("{shape}: {ocpus} OCPU, {} GB", n.memory_gb),
            compute,
        ));
    }
    if n.storage_gb > 0.0 {
        let kind = if n.storage_type == "ssd" {
            "ssd"
        } else {
            "hdd"
        };
        let rate = OCI_STORAGE
            .iter()
            .find(|s| s.0 == kind)
            .map(|s| s.1)
            .unwrap_or(0.0255);
        lines.push(line(
            "storage",
            format!("{} GB block ({kind})", n.storage_gb),
            n.storage_gb * rate,
        ));
    }
    let billable = (n.egress_gb - 10_000.0).max(0.0);
    if billable > 0.0 {
        lines.push(line(
            "egress",
            format!("{billable} GB beyond 10 TB free"),
            billable * 0.0085,
        ));
    } else if n.egress_gb > 0.0 {
        notes.push("Egress within the 10 TB monthly free allowance".into());
    }
    total("oci", "eu-frankfurt-1", lines, notes)
}

fn aws(n: &Needs) -> Value {
    let ty = if n.arch == "arm" {
        "m6g.large"
    } else if n.vcpus <= 2.0 {
        "m5.large"
    } else if n.vcpus <= 4.0 {
        "m5.xlarge"
    } else {
        "m5.2xlarge"
    };
    let rate = AWS_INSTANCES
        .iter()
        .find(|i| i.0 == ty)
        .map(|i| i.4)
        .unwrap_or(0.0);
    let mut lines = vec![line("compute", format!("EC2 {ty}"), rate * n.hours)];
    if n.storage_gb > 0.0 {
        let r = if n.storage_type == "ssd" { 0.08 } else { 0.045 };
        lines.push(line(
            "storage",
            format!("{} GB EBS", n.storage_gb),
            n.storage_gb * r,
        ));
    }
    let billable = (n.egress_gb - 100.0).max(0.0);
    if billable > 0.0 {
        lines.push(line(
            "egress",
            format!("{billable} GB beyond 100 GB free"),
            billable * 0.09,
        ));
    }
    total(
        "aws",
        "eu-west-1",
        lines,
        vec!["The AWS free tier lasts 12 months only".into()],
    )
}

fn azure(n: &Needs) -> Value {
    let sku = if n.arch == "arm" {
        "Standard_D2ps_v5"
    } else if n.vcpus <= 2.0 {
        "Standard_D2s_v3"
    } else if n.vcpus <= 4.0 {
        "Standard_D4s_v3"
    } else {
        "Standard_D8s_v3"
    };
    let rate = AZURE_VMS
        .iter()
        .find(|v| v.0 == sku)
        .map(|v| v.4)
        .unwrap_or(0.0);
    let mut lines = vec![line("compute", format!("VM {sku}"), rate * n.hours)];
    if n.storage_gb > 0.0 {
        lines.push(line(
            "storage",
            format!("{} GB managed SSD", n.storage_gb),
            n.storage_gb * 0.075,
        ));
    }
    let billable = (n.egress_gb - 5.0).max(0.0);
    if billable > 0.0 {
        lines.push(line(
            "egress",
            format!("{billable} GB beyond 5 GB free"),
            billable * 0.087,
        ));
    }
    total("azure", "westeurope", lines, Vec::new())
}

fn total(provider: &str, region: &str, lines: Vec<Value>, notes: Vec<String>) -> Value {
    let monthly: f64 = lines.iter().filter_map(|l| l["monthlyCost"].as_f64()).sum();
    json!({
        "provider": provider,
        "region": region,
        "breakdown": lines,
        "monthlyTotal": round2(monthly),
        "annualTotal": round2(monthly * 12.0),
        "notes": notes,
        "currency": "USD",
    })
}

/// One provider's monthly estimate.
pub fn estimate(args: &Map<String, Value>) -> Value {
    let n = needs(args);
    match args
        .get("provider")
        .and_then(Value::as_str)
        .unwrap_or("oci")
    {
        "aws" => aws(&n),
        "azure" => azure(&n),
        _ => oci(&n),
    }
}

/// Three-way comparison with a recommendation.
pub fn compare(args: &Map<String, Value>) -> Value {
    let n = needs(args);
    let estimates = [oci(&n), azure(&n), aws(&n)];
    let mut ranked: Vec<(&str, f64)> = estimates
        .iter()
        .map(|e| {
            (
                e["provider"].as_str().unwrap_or(""),
                e["monthlyTotal"].as_f64().unwrap_or(0.0),
            )
        })
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (cheapest, min) = ranked[0];
    let max = ranked[ranked.len() - 1].1;
    let savings = if max > 0.0 {
        round2((max - min) / max * 100.0)
    } else {
        0.0
    };
    let mut reasoning = vec![if savings > 5.0 {
        format!(
            "{} is {savings:.1}% cheaper than the most expensive option",
            cheapest.to_uppercase()
        )
    } else {
        "Costs are similar".to_string()
    }];
    if n.arch == "arm" {
        reasoning.push("OCI's Ampere A1 shapes include an Always Free allowance".into());
    }
    if n.egress_gb > 100.0 {
        reasoning.push("OCI includes 10 TB of egress a month".into());
    }
    if let Some(budget) = args.get("maxBudgetPerMonth").and_then(Value::as_f64) {
        for (p, cost) in &ranked {
            reasoning.push(format!(
                "{}: ${cost:.2}/month is {} the ${budget:.2} budget",
                p.to_uppercase(),
                if *cost <= budget { "within" } else { "over" }
            ));
        }
    }
    json!({
        "estimates": {"oci": estimates[0], "azure": estimates[1], "aws": estimates[2]},
        "recommendation": {"provider": cheapest, "costSavingsPercent": savings, "reasoning": reasoning},
    })
}

/// The OCI price list, or one shape.
pub fn oci_prices(args: &Map<String, Value>) -> Result<Value, String> {
    let shape = args.get("shapeName").and_then(Value::as_str);
    let arch = args.get("architecture").and_then(Value::as_str);
    let rows: Vec<Value> = OCI_SHAPES
        .iter()
        .filter(|s| shape.is_none_or(|n| s.0.eq_ignore_ascii_case(n)) && arch.is_none_or(|a| s.3 == a))
        .map(|s| json!({"shape": s.0, "perOcpuHour": s.1, "perGbHour": s.2, "architecture": s.3, "notes": s.4}))
        .collect();
    if rows.is_empty() {
        return Err(format!("Shape not found: {}", shape.unwrap_or("(any)")));
    }
    let storage: Map<String, Value> = OCI_STORAGE
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    Ok(json!({"currency": "USD", "shapes": rows, "storagePerGbMonth": storage}))
}

fn table(
    rows: &[(&str, u32, f64, &str, f64)],
    name: Option<&str>,
    arch: Option<&str>,
    key: &str,
) -> Result<Value, String> {
    let out: Vec<Value> = rows
        .iter()
        .filter(|r| name.is_none_or(|n| r.0.eq_ignore_ascii_case(n)) && arch.is_none_or(|a| r.3 == a))
        .map(|r| json!({key: r.0, "vcpus": r.1, "memoryGB": r.2, "architecture": r.3, "perHour": r.4, "perMonth": round2(r.4 * 730.0)}))
        .collect();
    if out.is_empty() {
        return Err(format!("Not found: {}", name.unwrap_or("(any)")));
    }
    Ok(json!({"currency": "USD", "items": out}))
}

/// AWS EC2 list prices (eu-west-1).
pub fn aws_prices(args: &Map<String, Value>) -> Result<Value, String> {
    table(
        AWS_INSTANCES,
        args.get("instanceType").and_then(Value::as_str),
        args.get("architecture").and_then(Value::as_str),
        "instanceType",
    )
}

/// Azure VM list prices (static table).
pub fn azure_prices(args: &Map<String, Value>) -> Result<Value, String> {
    table(
        AZURE_VMS,
        args.get("skuName").and_then(Value::as_str),
        None,
        "skuName",
    )
}

/// OCI's Always Free allowances.
pub fn free_tier() -> Value {
    json!({
        "compute": "4 Ampere A1 OCPUs and 24 GB memory (as one or several VMs); 2 AMD micro VMs",
        "storage": "200 GB block volume in total; 20 GB Object Storage (standard, infrequent, archive combined)",
        "database": "2 Autonomous Databases, 20 GB each",
        "networking": "10 TB outbound data transfer a month; 1 flexible load balancer (10 Mbps)",
    })
}

/// The shipped price list as the advisor reads it (the same tables as the
/// pricing tools, so a finding's savings are the tools' arithmetic).
pub struct PriceList;

impl portal_core::advisor::Prices for PriceList {
    fn compute_hourly(&self, shape: &str, ocpus: f64, memory_gb: f64) -> Option<f64> {
        OCI_SHAPES
            .iter()
            .find(|s| s.0 == shape)
            .map(|s| s.1 * ocpus + s.2 * memory_gb)
    }

    fn storage_gb_month(&self, class: portal_core::advisor::StorageClass) -> Option<f64> {
        let name = match class {
            portal_core::advisor::StorageClass::Block => "ssd",
            portal_core::advisor::StorageClass::Object => "object",
        };
        OCI_STORAGE.iter().find(|s| s.0 == name).map(|s| s.1)
    }
}
