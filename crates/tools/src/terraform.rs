//! Terraform generation (offline): a VCN with public and private subnets, a
//! compute instance, or both ("web-server"), as files ready for `terraform
//! init`. Names are escaped for HCL, DNS labels are valid OCI labels, subnets
//! are carved from the VCN's CIDR, and the instance uses the generated subnet.

use crate::catalogue::Tool;
use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use serde_json::{json, Map, Value};

/// The Terraform tool (category `compute`): offline.
pub(crate) const TOOLS: &[Tool] = &[
    Tool {
        spec: ToolSpec {
        name: "generateTerraform",
        category: "compute",
        description: "Generate Terraform for OCI (offline): `vcn` (VCN, internet and NAT gateways, public and private subnets), `compute` (one instance), or `web-server` (both, wired together). Returns the files; show main.tf in a code block and list the next steps.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
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
        run: |_, args| Box::pin(async move { generate(args).map_err(ToolError::Invalid) }),
    },
];

/// An HCL string literal (quotes, backslashes, `${`/`%{` templates escaped).
fn hcl_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Terraform resource label: lower-case alphanumerics and `_`, starting with a letter.
fn label(name: &str) -> String {
    let mut l: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !l.starts_with(|c: char| c.is_ascii_alphabetic()) {
        l.insert_str(0, "r_");
    }
    l
}

/// A valid OCI DNS label: starts with a letter, alphanumerics only, at most 15 characters.
fn dns_label(name: &str) -> String {
    let mut l: String = name
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if !l.starts_with(|c: char| c.is_ascii_alphabetic()) {
        l.insert(0, 'v');
    }
    l.truncate(15);
    l
}

/// Two subnets carved from the VCN block: the first two /24s (or halves of a smaller block).
fn subnets(cidr: &str) -> Result<(String, String), String> {
    let (ip, len) = cidr.split_once('/').ok_or("vcnCidr: not a CIDR block")?;
    let ip: std::net::Ipv4Addr = ip.parse().map_err(|_| "vcnCidr: not a CIDR block")?;
    let len: u32 = len.parse().map_err(|_| "vcnCidr: not a CIDR block")?;
    if !(16..=29).contains(&len) {
        return Err("vcnCidr: the prefix must be between /16 and /29".into());
    }
    let child = if len <= 23 { 24 } else { len + 1 };
    let base = u32::from(ip);
    let step = 1u32 << (32 - child);
    let fmt = |n: u32| format!("{}/{child}", std::net::Ipv4Addr::from(n));
    Ok((fmt(base), fmt(base + step)))
}

/// Generates the files for `mode` (`vcn`, `compute` or `web-server`).
pub fn generate(args: &Map<String, Value>) -> Result<Value, String> {
    let mode = args
        .get("mode")
        .and_then(Value::as_str)
        .unwrap_or("web-server");
    let name = args.get("name").and_then(Value::as_str).unwrap_or("portal");
    let region = args
        .get("region")
        .and_then(Value::as_str)
        .unwrap_or("us-ashburn-1");
    let cidr = args
        .get("vcnCidr")
        .and_then(Value::as_str)
        .unwrap_or("10.0.0.0/16");
    let shape = args
        .get("shape")
        .and_then(Value::as_str)
        .unwrap_or("VM.Standard.E5.Flex");
    let ocpus = args.get("ocpus").and_then(Value::as_i64).unwrap_or(1);
    let memory = args.get("memoryGB").and_then(Value::as_i64).unwrap_or(16);
    let with_net = mode != "compute";
    let with_compute = mode != "vcn";
    let l = label(name);
    let mut main = String::from(
        "terraform {\n  required_providers {\n    oci = {\n      source  = \"oracle/oci\"\n      version = \"~> 5.0\"\n    }\n  }\n}\n\n\
         provider \"oci\" {\n  tenancy_ocid     = var.tenancy_ocid\n  user_ocid        = var.user_ocid\n  private_key_path = var.private_key_path\n  fingerprint      = var.fingerprint\n  region           = var.region\n}\n",
    );
    let tags = format!(
        "  freeform_tags = {{\n    \"ManagedBy\" = \"Terraform\"\n    \"Name\"      = {}\n  }}\n",
        hcl_str(name)
    );
    if with_net {
        let (public, private) = subnets(cidr)?;
        main.push_str(&format!(
            "\nresource \"oci_core_vcn\" \"{l}\" {{\n  compartment_id = var.compartment_id\n  cidr_blocks    = [{}]\n  display_name   = {}\n  dns_label      = {}\n{tags}}}\n",
            hcl_str(cidr),
            hcl_str(&format!("{name}-vcn")),
            hcl_str(&dns_label(name))
        ));
        main.push_str(&format!(
            "\nresource \"oci_core_internet_gateway\" \"{l}\" {{\n  compartment_id = var.compartment_id\n  vcn_id         = oci_core_vcn.{l}.id\n  display_name   = {}\n}}\n\
             \nresource \"oci_core_nat_gateway\" \"{l}\" {{\n  compartment_id = var.compartment_id\n  vcn_id         = oci_core_vcn.{l}.id\n  display_name   = {}\n}}\n\
             \nresource \"oci_core_route_table\" \"{l}_public\" {{\n  compartment_id = var.compartment_id\n  vcn_id         = oci_core_vcn.{l}.id\n  display_name   = {}\n  route_rules {{\n    destination       = \"0.0.0.0/0\"\n    network_entity_id = oci_core_internet_gateway.{l}.id\n  }}\n}}\n\
             \nresource \"oci_core_route_table\" \"{l}_private\" {{\n  compartment_id = var.compartment_id\n  vcn_id         = oci_core_vcn.{l}.id\n  display_name   = {}\n  route_rules {{\n    destination       = \"0.0.0.0/0\"\n    network_entity_id = oci_core_nat_gateway.{l}.id\n  }}\n}}\n",
            hcl_str(&format!("{name}-igw")),
            hcl_str(&format!("{name}-nat")),
            hcl_str(&format!("{name}-public-rt")),
            hcl_str(&format!("{name}-private-rt"))
        ));
        for (kind, block, public_ip) in [("public", &public, true), ("private", &private, false)] {
            main.push_str(&format!(
                "\nresource \"oci_core_subnet\" \"{l}_{kind}\" {{\n  compartment_id             = var.compartment_id\n  vcn_id                     = oci_core_vcn.{l}.id\n  cidr_block                 = {}\n  display_name               = {}\n  dns_label                  = \"{kind}\"\n  prohibit_public_ip_on_vnic = {}\n  route_table_id             = oci_core_route_table.{l}_{kind}.id\n}}\n",
                hcl_str(block),
                hcl_str(&format!("{name}-{kind}")),
                !public_ip
            ));
        }
    }
    if with_compute {
        let subnet = if with_net {
            format!("oci_core_subnet.{l}_public.id")
        } else {
            "var.subnet_id".to_string()
        };
        let flex = if shape.contains("Flex") {
            format!("  shape_config {{\n    ocpus         = {ocpus}\n    memory_in_gbs = {memory}\n  }}\n")
        } else {
            String::new()
        };
        main.push_str(&format!(
            "\ndata \"oci_identity_availability_domains\" \"ads\" {{\n  compartment_id = var.tenancy_ocid\n}}\n\
             \ndata \"oci_core_images\" \"ol8\" {{\n  compartment_id           = var.compartment_id\n  operating_system         = \"Oracle Linux\"\n  operating_system_version = \"8\"\n  shape                    = {shape_s}\n  sort_by                  = \"TIMECREATED\"\n  sort_order               = \"DESC\"\n}}\n\
             \nresource \"oci_core_instance\" \"{l}\" {{\n  compartment_id      = var.compartment_id\n  availability_domain = data.oci_identity_availability_domains.ads.availability_domains[0].name\n  display_name        = {display}\n  shape               = {shape_s}\n{flex}  create_vnic_details {{\n    subnet_id        = {subnet}\n    assign_public_ip = {public}\n  }}\n  source_details {{\n    source_type = \"image\"\n    source_id   = data.oci_core_images.ol8.images[0].id\n  }}\n  metadata = {{\n    ssh_authorized_keys = var.ssh_public_key\n  }}\n{tags}}}\n",
            shape_s = hcl_str(shape),
            display = hcl_str(name),
            public = with_net,
        ));
    }
    let mut variables = String::new();
    for (v, d) in [
        ("tenancy_ocid", None),
        ("user_ocid", None),
        ("fingerprint", None),
        ("private_key_path", Some("~/.oci/oci_api_key.pem")),
        ("region", Some(region)),
        ("compartment_id", None),
    ] {
        match d {
            Some(d) => variables.push_str(&format!(
                "variable \"{v}\" {{\n  type    = string\n  default = {}\n}}\n\n",
                hcl_str(d)
            )),
            None => variables.push_str(&format!(
                "variable \"{v}\" {{\n  type = string\n}}\n\n",
                v = v
            )),
        }
    }
    if with_compute {
        if !with_net {
            variables.push_str("variable \"subnet_id\" {\n  type = string\n}\n\n");
        }
        variables.push_str("variable \"ssh_public_key\" {\n  type = string\n}\n");
    }
    let mut outputs = String::new();
    if with_net {
        outputs.push_str(&format!("output \"vcn_id\" {{\n  value = oci_core_vcn.{l}.id\n}}\n\noutput \"public_subnet_id\" {{\n  value = oci_core_subnet.{l}_public.id\n}}\n\n"));
    }
    if with_compute {
        outputs.push_str(&format!(
            "output \"instance_id\" {{\n  value = oci_core_instance.{l}.id\n}}\n\noutput \"instance_public_ip\" {{\n  value = oci_core_instance.{l}.public_ip\n}}\n"
        ));
    }
    let tfvars = "tenancy_ocid     = \"ocid1.tenancy.oc1..example\"\nuser_ocid        = \"ocid1.user.oc1..example\"\nfingerprint      = \"aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99\"\ncompartment_id   = \"ocid1.compartment.oc1..example\"\n";
    let mut files = Map::new();
    files.insert("main.tf".into(), main.into());
    files.insert("variables.tf".into(), variables.into());
    files.insert("outputs.tf".into(), outputs.into());
    files.insert("terraform.tfvars.example".into(), tfvars.into());
    Ok(json!({
        "mode": mode,
        "files": files,
        "nextSteps": ["Copy terraform.tfvars.example to terraform.tfvars and fill it in", "terraform init", "terraform plan", "terraform apply"],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_labels_and_subnets() {
        assert_eq!(hcl_str("a\"b${x}"), "\"a\\\"b$${x}\"");
        assert_eq!(label("My App-1"), "my_app_1");
        assert_eq!(label("1st"), "r_1st");
        assert_eq!(dns_label("web-server-production"), "webserverproduc");
        assert_eq!(
            subnets("10.20.0.0/16").unwrap(),
            ("10.20.0.0/24".into(), "10.20.1.0/24".into())
        );
        assert_eq!(
            subnets("192.168.8.0/24").unwrap(),
            ("192.168.8.0/25".into(), "192.168.8.128/25".into())
        );
        assert!(subnets("10.0.0.0/8").is_err());
    }
}
