//! Static catalogue data the emulated region offers: compute shapes (with the
//! service limit each consumes and list prices used for usage/cost data), platform
//! images, regions, and the service limits.

use serde_json::{json, Value};

/// A compute shape.
#[derive(Debug, Clone, Copy)]
pub struct ShapeDef {
    /// Shape name.
    pub name: &'static str,
    /// `processorDescription`.
    pub processor: &'static str,
    /// Flexible (OCPUs/memory chosen at launch).
    pub flex: bool,
    /// Default/fixed OCPUs.
    pub ocpus: f64,
    /// Default/fixed memory in GB.
    pub memory_gb: f64,
    /// Flex OCPU range.
    pub ocpu_range: (f64, f64),
    /// Flex memory per OCPU range (GB).
    pub mem_per_ocpu: (f64, f64),
    /// Flex default memory per OCPU (GB).
    pub mem_default_per_ocpu: f64,
    /// Flex maximum memory (GB).
    pub max_memory_gb: f64,
    /// Networking bandwidth per OCPU (Gbps), capped at `max_bandwidth`.
    pub bandwidth_per_ocpu: f64,
    /// Bandwidth cap (Gbps).
    pub max_bandwidth: f64,
    /// GPUs.
    pub gpus: i64,
    /// GPU description.
    pub gpu_description: Option<&'static str>,
    /// `billingType`.
    pub billing: &'static str,
    /// CPU architecture, for image compatibility.
    pub arch: &'static str,
    /// Compute service limit consumed (cores, or GPUs for GPU shapes).
    pub limit_name: &'static str,
    /// List price per OCPU-hour (USD).
    pub price_ocpu_hour: f64,
    /// List price per GB-hour of memory (USD).
    pub price_gb_hour: f64,
}

#[allow(clippy::too_many_arguments)] // a positional table row, used only below
const fn fixed(
    name: &'static str,
    processor: &'static str,
    ocpus: f64,
    memory_gb: f64,
    bandwidth: f64,
    billing: &'static str,
    limit_name: &'static str,
    price_ocpu_hour: f64,
) -> ShapeDef {
    ShapeDef {
        name,
        processor,
        flex: false,
        ocpus,
        memory_gb,
        ocpu_range: (ocpus, ocpus),
        mem_per_ocpu: (0.0, 0.0),
        mem_default_per_ocpu: 0.0,
        max_memory_gb: memory_gb,
        bandwidth_per_ocpu: bandwidth / ocpus,
        max_bandwidth: bandwidth,
        gpus: 0,
        gpu_description: None,
        billing,
        arch: "x86_64",
        limit_name,
        price_ocpu_hour,
        price_gb_hour: 0.0,
    }
}

/// Shapes offered in every availability domain.
pub const SHAPES: &[ShapeDef] = &[
    ShapeDef {
        name: "VM.Standard.E4.Flex",
        processor: "2.55 GHz AMD EPYC™ 7J13 (Milan)",
        flex: true,
        ocpus: 1.0,
        memory_gb: 16.0,
        ocpu_range: (1.0, 64.0),
        mem_per_ocpu: (1.0, 64.0),
        mem_default_per_ocpu: 16.0,
        max_memory_gb: 1024.0,
        bandwidth_per_ocpu: 1.0,
        max_bandwidth: 40.0,
        gpus: 0,
        gpu_description: None,
        billing: "PAID",
        arch: "x86_64",
        limit_name: "standard-e4-core-count",
        price_ocpu_hour: 0.025,
        price_gb_hour: 0.0015,
    },
    ShapeDef {
        name: "VM.Standard.E5.Flex",
        processor: "2.4 GHz AMD EPYC™ 9J14 (Genoa)",
        flex: true,
        ocpus: 1.0,
        memory_gb: 12.0,
        ocpu_range: (1.0, 94.0),
        mem_per_ocpu: (1.0, 64.0),
        mem_default_per_ocpu: 12.0,
        max_memory_gb: 1049.0,
        bandwidth_per_ocpu: 1.0,
        max_bandwidth: 40.0,
        gpus: 0,
        gpu_description: None,
        billing: "PAID",
        arch: "x86_64",
        limit_name: "standard-e5-core-count",
        price_ocpu_hour: 0.03,
        price_gb_hour: 0.002,
    },
    ShapeDef {
        name: "VM.Standard.A1.Flex",
        processor: "3.0 GHz Ampere® Altra™",
        flex: true,
        ocpus: 1.0,
        memory_gb: 6.0,
        ocpu_range: (1.0, 80.0),
        mem_per_ocpu: (1.0, 64.0),
        mem_default_per_ocpu: 6.0,
        max_memory_gb: 512.0,
        bandwidth_per_ocpu: 1.0,
        max_bandwidth: 40.0,
        gpus: 0,
        gpu_description: None,
        billing: "LIMITED_FREE",
        arch: "aarch64",
        limit_name: "standard-a1-core-count",
        price_ocpu_hour: 0.01,
        price_gb_hour: 0.0015,
    },
    fixed(
        "VM.Standard2.1",
        "2.0 GHz Intel® Xeon® Platinum 8167M (Skylake)",
        1.0,
        15.0,
        1.0,
        "PAID",
        "standard2-core-count",
        0.0638,
    ),
    fixed(
        "VM.Standard.E2.1.Micro",
        "2.0 GHz AMD EPYC™ 7551 (Naples)",
        1.0,
        1.0,
        0.48,
        "ALWAYS_FREE",
        "standard-e2-micro-core-count",
        0.0,
    ),
    fixed(
        "BM.Standard3.64",
        "2.6 GHz Intel® Xeon® Platinum 8358 (Ice Lake)",
        64.0,
        1024.0,
        100.0,
        "PAID",
        "standard3-core-count",
        0.04,
    ),
    ShapeDef {
        name: "VM.GPU.A10.1",
        processor: "2.6 GHz Intel® Xeon® Platinum 8358 (Ice Lake)",
        flex: false,
        ocpus: 15.0,
        memory_gb: 240.0,
        ocpu_range: (15.0, 15.0),
        mem_per_ocpu: (0.0, 0.0),
        mem_default_per_ocpu: 0.0,
        max_memory_gb: 240.0,
        bandwidth_per_ocpu: 1.6,
        max_bandwidth: 24.0,
        gpus: 1,
        gpu_description: Some("NVIDIA® A10"),
        billing: "PAID",
        arch: "x86_64",
        limit_name: "gpu-a10-count",
        price_ocpu_hour: 0.134,
        price_gb_hour: 0.0,
    },
];

/// Look a shape up by name.
pub fn shape(name: &str) -> Option<&'static ShapeDef> {
    SHAPES.iter().find(|s| s.name == name)
}

impl ShapeDef {
    /// Bandwidth for a given OCPU count.
    pub fn bandwidth(&self, ocpus: f64) -> f64 {
        (self.bandwidth_per_ocpu * ocpus).min(self.max_bandwidth)
    }

    /// Hourly list price for a configuration (USD).
    pub fn hourly_price(&self, ocpus: f64, memory_gb: f64) -> f64 {
        if self.gpus > 0 {
            return 2.0 * self.gpus as f64;
        }
        self.price_ocpu_hour * ocpus + self.price_gb_hour * memory_gb
    }

    /// How much of [`ShapeDef::limit_name`] an instance consumes.
    pub fn limit_units(&self, ocpus: f64) -> i64 {
        if self.gpus > 0 {
            self.gpus
        } else {
            ocpus.ceil() as i64
        }
    }

    /// The `Shape` wire model.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "shape": self.name,
            "processorDescription": self.processor,
            "ocpus": self.ocpus,
            "memoryInGBs": self.memory_gb,
            "networkingBandwidthInGbps": self.bandwidth(self.ocpus),
            "maxVnicAttachments": if self.ocpus >= 2.0 { (self.ocpus as i64).min(24) } else { 2 },
            "gpus": self.gpus,
            "localDisks": 0,
            "localDisksTotalSizeInGBs": 0.0,
            "isLiveMigrationSupported": self.gpus == 0,
            "billingType": self.billing,
            "isFlexible": self.flex,
            "isBilledForStoppedInstance": false,
            "isSubcore": false,
            "quotaNames": [self.limit_name],
            "platformNames": [],
            "resizeCompatibleShapes": [],
            "recommendedAlternatives": [],
            "supportedResourceManagement": [],
            "baselineOcpuUtilizations": [],
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(gpu) = self.gpu_description {
                obj.insert("gpuDescription".into(), json!(gpu));
            }
            if self.flex {
                obj.insert(
                    "ocpuOptions".into(),
                    json!({"min": self.ocpu_range.0, "max": self.ocpu_range.1, "maxPerNumaNode": self.ocpu_range.1 / 2.0}),
                );
                obj.insert(
                    "memoryOptions".into(),
                    json!({
                        "minInGBs": self.mem_per_ocpu.0,
                        "maxInGBs": self.max_memory_gb,
                        "defaultPerOcpuInGBs": self.mem_default_per_ocpu,
                        "minPerOcpuInGBs": self.mem_per_ocpu.0,
                        "maxPerOcpuInGBs": self.mem_per_ocpu.1,
                        "maxPerNumaNodeInGBs": self.max_memory_gb / 2.0,
                    }),
                );
            }
        }
        v
    }
}

/// A platform image: (display name, OS, OS version, architecture, size MB, days old).
pub const PLATFORM_IMAGES: &[(&str, &str, &str, &str, i64, i64)] = &[
    (
        "Oracle-Linux-8.10-2024.09.30-0",
        "Oracle Linux",
        "8",
        "x86_64",
        47694,
        60,
    ),
    (
        "Oracle-Linux-8.10-aarch64-2024.09.30-0",
        "Oracle Linux",
        "8",
        "aarch64",
        47694,
        60,
    ),
    (
        "Oracle-Linux-9.4-2024.10.31-0",
        "Oracle Linux",
        "9",
        "x86_64",
        47694,
        30,
    ),
    (
        "Canonical-Ubuntu-22.04-2024.10.04-0",
        "Canonical Ubuntu",
        "22.04",
        "x86_64",
        47694,
        45,
    ),
    (
        "Canonical-Ubuntu-22.04-aarch64-2024.10.04-0",
        "Canonical Ubuntu",
        "22.04",
        "aarch64",
        47694,
        45,
    ),
    (
        "Windows-Server-2022-Standard-Edition-VM-2024.10.08-0",
        "Windows",
        "Server 2022 Standard",
        "x86_64",
        256000,
        40,
    ),
];

/// Architecture an image name implies.
pub fn image_arch(display_name: &str) -> &'static str {
    if display_name.contains("aarch64") {
        "aarch64"
    } else {
        "x86_64"
    }
}

/// Regions known to ListRegions: (key, name).
pub const REGIONS: &[(&str, &str)] = &[
    ("IAD", "us-ashburn-1"),
    ("PHX", "us-phoenix-1"),
    ("ORD", "us-chicago-1"),
    ("SJC", "us-sanjose-1"),
    ("YYZ", "ca-toronto-1"),
    ("GRU", "sa-saopaulo-1"),
    ("LHR", "uk-london-1"),
    ("FRA", "eu-frankfurt-1"),
    ("AMS", "eu-amsterdam-1"),
    ("ZRH", "eu-zurich-1"),
    ("CDG", "eu-paris-1"),
    ("MAD", "eu-madrid-1"),
    ("LIN", "eu-milan-1"),
    ("ARN", "eu-stockholm-1"),
    ("NRT", "ap-tokyo-1"),
    ("KIX", "ap-osaka-1"),
    ("SYD", "ap-sydney-1"),
    ("BOM", "ap-mumbai-1"),
    ("SIN", "ap-singapore-1"),
];

/// Region key (`IAD`) for a region name.
pub fn region_key(region: &str) -> String {
    REGIONS
        .iter()
        .find(|(_, n)| *n == region)
        .map(|(k, _)| (*k).to_string())
        .unwrap_or_else(|| region.to_ascii_uppercase())
}

/// Service limit definition: (service, limit name, scope type, value per scope,
/// description of what consumes it).
pub struct LimitDef {
    /// Limits service name (`compute`, `block-storage`, ...).
    pub service: &'static str,
    /// Limit name.
    pub name: &'static str,
    /// `GLOBAL`, `REGION` or `AD`.
    pub scope: &'static str,
    /// The limit value (per AD for AD-scoped limits).
    pub value: i64,
}

/// Services in the Limits API: (name, description).
pub const LIMIT_SERVICES: &[(&str, &str)] = &[
    ("compute", "Compute"),
    ("block-storage", "Block Volume"),
    ("vcn", "Virtual Cloud Network"),
    ("object-storage", "Object Storage"),
    ("database", "Database"),
    ("load-balancer", "LbaaS"),
    ("monitoring", "Monitoring"),
];

/// Service limits of the emulated tenancy.
pub const LIMITS: &[LimitDef] = &[
    LimitDef {
        service: "compute",
        name: "standard-e4-core-count",
        scope: "AD",
        value: 100,
    },
    LimitDef {
        service: "compute",
        name: "standard-e5-core-count",
        scope: "AD",
        value: 100,
    },
    LimitDef {
        service: "compute",
        name: "standard-a1-core-count",
        scope: "AD",
        value: 40,
    },
    LimitDef {
        service: "compute",
        name: "standard2-core-count",
        scope: "AD",
        value: 20,
    },
    LimitDef {
        service: "compute",
        name: "standard-e2-micro-core-count",
        scope: "AD",
        value: 2,
    },
    LimitDef {
        service: "compute",
        name: "standard3-core-count",
        scope: "AD",
        value: 64,
    },
    LimitDef {
        service: "compute",
        name: "gpu-a10-count",
        scope: "AD",
        value: 2,
    },
    LimitDef {
        service: "block-storage",
        name: "total-storage-gb",
        scope: "AD",
        value: 102_400,
    },
    LimitDef {
        service: "block-storage",
        name: "volume-count",
        scope: "AD",
        value: 1000,
    },
    LimitDef {
        service: "block-storage",
        name: "backup-count",
        scope: "REGION",
        value: 1000,
    },
    LimitDef {
        service: "vcn",
        name: "vcn-count",
        scope: "REGION",
        value: 50,
    },
    LimitDef {
        service: "vcn",
        name: "subnet-count",
        scope: "REGION",
        value: 300,
    },
    LimitDef {
        service: "object-storage",
        name: "bucket-count",
        scope: "REGION",
        value: 10_000,
    },
    LimitDef {
        service: "database",
        name: "adb-free-count",
        scope: "REGION",
        value: 2,
    },
    LimitDef {
        service: "database",
        name: "adw-ecpu-count",
        scope: "REGION",
        value: 64,
    },
    LimitDef {
        service: "database",
        name: "atp-ecpu-count",
        scope: "REGION",
        value: 64,
    },
    LimitDef {
        service: "load-balancer",
        name: "lb-flexible-count",
        scope: "REGION",
        value: 50,
    },
    LimitDef {
        service: "monitoring",
        name: "alarm-count",
        scope: "REGION",
        value: 1000,
    },
];
