//! Networking: VCNs, subnets, security lists and their rules, route tables,
//! gateways and VNICs.

use http::Method;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::client::RequestOptions;
use portal_oci::endpoint::Service;
use serde_json::{json, Map, Value};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::{get_tool, list_tool, ANY_COMPARTMENT, LIMIT, VCN_FILTER};
use crate::rest::{created, pick, text};
use crate::{rules, OciTools};

/// The networking tools (load balancers are in [`crate::loadbalancer`]).
pub(crate) const TOOLS: &[Tool] = &[
    tool!(get_vcn, ToolSpec {
        name: "getVcn",
        category: "networking",
        description: "Get one virtual cloud network: CIDR blocks, DNS label, default route table and security list.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[Param { name: "vcnId", kind: Kind::Ocid(Some("vcn")), required: true, description: "OCID of the VCN", default: None, secret: false }],
    }),
    tool!(list_security_lists, list_tool!("listSecurityLists", "networking", "List security lists (ingress and egress rules) in a compartment, optionally of one VCN. Flag rules open to 0.0.0.0/0.", [ANY_COMPARTMENT, VCN_FILTER, LIMIT])),
    tool!(list_route_tables, list_tool!("listRouteTables", "networking", "List route tables and their rules in a compartment, optionally of one VCN.", [ANY_COMPARTMENT, VCN_FILTER, LIMIT])),
    tool!(list_internet_gateways, list_tool!("listInternetGateways", "networking", "List internet gateways in a compartment, optionally of one VCN.", [ANY_COMPARTMENT, VCN_FILTER, LIMIT])),
    tool!(list_nat_gateways, list_tool!("listNatGateways", "networking", "List NAT gateways in a compartment, optionally of one VCN.", [ANY_COMPARTMENT, VCN_FILTER, LIMIT])),
    tool!(get_vnic, get_tool!("getVnic", "networking", "Get one VNIC: private and public IPs, subnet, MAC address.", "vnicId", "vnic")),
    tool!(create_vcn, ToolSpec {
        name: "createVcn",
        category: "networking",
        description: "Create a virtual cloud network. Needs an approval; check the CIDR does not overlap existing VCNs.",
        risk: Risk::Confirm,
        effect: Effect::Additive,
        idempotent: false,
        params: &[
            Param { name: "compartmentId", kind: Kind::Ocid(Some("compartment")), required: true, description: "OCID of the compartment", default: None, secret: false },
            Param { name: "cidrBlock", kind: Kind::Cidr, required: true, description: "IPv4 CIDR block, e.g. 10.1.0.0/16", default: None, secret: false },
            Param { name: "displayName", kind: Kind::Text { max: 255 }, required: false, description: "Name", default: None, secret: false },
        ],
    }),
    tool!(delete_vcn, ToolSpec {
        name: "deleteVcn",
        category: "networking",
        description: "Delete an empty virtual cloud network. Irreversible; needs an approval by someone other than the requester.",
        risk: Risk::Danger,
        effect: Effect::Destructive,
        idempotent: true,
        params: &[Param { name: "vcnId", kind: Kind::Ocid(Some("vcn")), required: true, description: "OCID of the VCN", default: None, secret: false }],
    }),
    tool!(list_vcns, ToolSpec {
        name: "listVcns",
        category: "networking",
        description: "List virtual cloud networks in a compartment with their CIDR blocks.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[ANY_COMPARTMENT, LIMIT],
    }),
    tool!(list_subnets, ToolSpec {
        name: "listSubnets",
        category: "networking",
        description: "List subnets in a compartment, optionally of one VCN, with CIDRs and whether they are public.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            ANY_COMPARTMENT,
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
    }),
    tool!(update_security_list_rules, ToolSpec {
        name: "updateSecurityListRules",
        category: "networking",
        description: "Replace a security list's ingress rules, egress rules, or both (a list given replaces that whole list; one left out stays as it is). Can open the network: needs an approval by someone other than the requester. Read the current rules with listSecurityLists first, keep those still wanted, and point out any rule open to 0.0.0.0/0.",
        risk: Risk::Danger,
        effect: Effect::Destructive,
        idempotent: true,
        params: &[
            Param { name: "securityListId", kind: Kind::Ocid(Some("securitylist")), required: true, description: "OCID of the security list", default: None, secret: false },
            Param { name: "ingressSecurityRules", kind: Kind::Array { items: &rules::INGRESS_RULE, min: 0, max: 200 }, required: false, description: "The complete new ingress rules", default: None, secret: false },
            Param { name: "egressSecurityRules", kind: Kind::Array { items: &rules::EGRESS_RULE, min: 0, max: 200 }, required: false, description: "The complete new egress rules", default: None, secret: false },
        ],
    }),
];

/// What the schema cannot say: a rules update names at least one list.
pub(crate) fn check(name: &str, args: &Map<String, Value>) -> Result<(), String> {
    if name == "updateSecurityListRules"
        && !args.contains_key("ingressSecurityRules")
        && !args.contains_key("egressSecurityRules")
    {
        return Err("args: give ingressSecurityRules, egressSecurityRules or both".into());
    }
    Ok(())
}

impl OciTools {
    pub(crate) async fn list_vcns(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::VIRTUAL_NETWORK,
            "/vcns",
            args,
            &[],
            &["id", "displayName", "cidrBlocks", "lifecycleState"],
        )
        .await
    }

    pub(crate) async fn get_vcn(&self, args: &Args) -> Outcome {
        let vcn = text(args, "vcnId");
        self.get(&Service::VIRTUAL_NETWORK, &format!("/vcns/{vcn}"))
            .await
    }

    pub(crate) async fn get_vnic(&self, args: &Args) -> Outcome {
        self.get(
            &Service::VIRTUAL_NETWORK,
            &format!("/vnics/{}", text(args, "vnicId")),
        )
        .await
    }

    pub(crate) async fn create_vcn(&self, args: &Args) -> Outcome {
        let mut b = json!({"compartmentId": args.get("compartmentId"), "cidrBlocks": [args.get("cidrBlock")]});
        if let Some(n) = args.get("displayName") {
            b["displayName"] = n.clone();
        }
        let res = self
            .post(&Service::VIRTUAL_NETWORK, "/vcns", Some(b))
            .await?;
        Ok(created(&res))
    }

    pub(crate) async fn delete_vcn(&self, args: &Args) -> Outcome {
        let vcn = text(args, "vcnId");
        let path = format!("/vcns/{vcn}");
        self.send(Method::DELETE, &Service::VIRTUAL_NETWORK, &path, &[], None)
            .await?;
        let now = self.get(&Service::VIRTUAL_NETWORK, &path).await.ok();
        Ok(
            json!({"id": vcn, "lifecycleState": now.and_then(|v| v.get("lifecycleState").cloned()).unwrap_or(json!("TERMINATED"))}),
        )
    }

    pub(crate) async fn list_subnets(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::VIRTUAL_NETWORK,
            "/subnets",
            args,
            &[("vcnId", "vcnId")],
            &[
                "id",
                "displayName",
                "cidrBlock",
                "vcnId",
                "prohibitPublicIpOnVnic",
                "securityListIds",
                "lifecycleState",
            ],
        )
        .await
    }

    pub(crate) async fn list_security_lists(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::VIRTUAL_NETWORK,
            "/securityLists",
            args,
            &[("vcnId", "vcnId")],
            &[
                "id",
                "displayName",
                "vcnId",
                "ingressSecurityRules",
                "egressSecurityRules",
            ],
        )
        .await
    }

    pub(crate) async fn list_route_tables(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::VIRTUAL_NETWORK,
            "/routeTables",
            args,
            &[("vcnId", "vcnId")],
            &["id", "displayName", "vcnId", "routeRules"],
        )
        .await
    }

    pub(crate) async fn list_internet_gateways(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::VIRTUAL_NETWORK,
            "/internetGateways",
            args,
            &[("vcnId", "vcnId")],
            &["id", "displayName", "vcnId", "isEnabled", "lifecycleState"],
        )
        .await
    }

    pub(crate) async fn list_nat_gateways(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::VIRTUAL_NETWORK,
            "/natGateways",
            args,
            &[("vcnId", "vcnId")],
            &[
                "id",
                "displayName",
                "vcnId",
                "natIp",
                "blockTraffic",
                "lifecycleState",
            ],
        )
        .await
    }

    pub(crate) async fn update_security_list_rules(&self, args: &Args) -> Outcome {
        self.update_security_list(args).await
    }

    /// UpdateSecurityList with the rule lists given, each typed as CIDR
    /// rules, against the version read (if-match): a concurrent change is
    /// refused, not overwritten.
    async fn update_security_list(&self, args: &Args) -> Outcome {
        let path = format!("/securityLists/{}", text(args, "securityListId"));
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
}
