//! Identity: the tenancy, regions and availability domains, compartments,
//! users, groups and policies.

use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{json, Map, Value};

use crate::catalogue::{tool, Tool};
use crate::params::{get_tool, list_tool, ANY_COMPARTMENT, COMPARTMENT, LIMIT};
use crate::rest::{array_of, body_of, counted, limit, not_here, pick, text};
use crate::tenancy::COMPARTMENT_FIELDS;
use crate::{rules, OciTools};

/// The identity tools.
pub(crate) const TOOLS: &[Tool] = &[
    tool!(identity, get_tool!("getCompartment", "identity", "Get one compartment: name, description, parent, state.", "compartmentId", "compartment")),
    tool!(identity, list_tool!("getTenancy", "identity", "Get the tenancy: name, home region, description.", [])),
    tool!(identity, list_tool!("listRegionSubscriptions", "identity", "List the regions the tenancy is subscribed to, marking the home region.", [])),
    tool!(identity, list_tool!("listUsers", "identity", "List the tenancy's IAM users.", [LIMIT])),
    tool!(identity, list_tool!("listGroups", "identity", "List the tenancy's IAM groups.", [LIMIT])),
    tool!(identity, list_tool!("listPolicies", "identity", "List IAM policies in a compartment with their statements.", [ANY_COMPARTMENT, LIMIT])),
    tool!(identity, list_tool!("listRegions", "identity", "List OCI regions (name and key).", [])),
    tool!(identity, list_tool!("listAvailabilityDomains", "identity", "List the tenancy's availability domains in its home region.", [])),
    tool!(identity, ToolSpec {
        name: "listCompartments",
        category: "identity",
        description: "List the compartments under a compartment (the whole tree under the tenancy by default).",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[COMPARTMENT, LIMIT],
    }),
    tool!(identity, ToolSpec {
        name: "createPolicy",
        category: "identity",
        description: "Create an IAM policy from statements such as `Allow group Developers to read all-resources in compartment Dev`. Needs an approval; show the statements and who they empower first.",
        risk: Risk::Confirm,
        effect: Effect::Additive,
        idempotent: false,
        params: &[
            COMPARTMENT,
            Param { name: "name", kind: Kind::Rule(&rules::POLICY_NAME), required: true, description: "Policy name, unique in the tenancy", default: None, secret: false },
            Param { name: "description", kind: Kind::Text { max: 400 }, required: true, description: "What the policy is for", default: None, secret: false },
            Param { name: "statements", kind: Kind::Array { items: &Kind::Rule(&rules::POLICY_STATEMENT), min: 1, max: 50 }, required: true, description: "Policy statements", default: None, secret: false },
        ],
    }),
];

impl OciTools {
    /// Runs one of the identity tools.
    pub(crate) async fn identity(
        &self,
        name: &str,
        args: &Map<String, Value>,
    ) -> Result<Value, ToolError> {
        let c = self.compartment(args);
        let tenancy = self.tenancy.as_str();
        match name {
            "listCompartments" if c != tenancy => {
                // OCI lists a subtree in one call only from the tenancy.
                let mut all = self.walk(c).await?;
                all.truncate(limit(args));
                Ok(counted(all, COMPARTMENT_FIELDS))
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
                    limit(args),
                    COMPARTMENT_FIELDS,
                )
                .await
            }
            "getCompartment" => {
                self.get(
                    &Service::IDENTITY,
                    &format!("/compartments/{}", text(args, "compartmentId")),
                )
                .await
            }
            "getTenancy" => {
                self.get(&Service::IDENTITY, &format!("/tenancies/{tenancy}"))
                    .await
            }
            "listRegionSubscriptions" => {
                let body = self
                    .get(
                        &Service::IDENTITY,
                        &format!("/tenancies/{tenancy}/regionSubscriptions"),
                    )
                    .await?;
                Ok(counted(
                    array_of(body),
                    &["regionName", "regionKey", "isHomeRegion", "status"],
                ))
            }
            "listRegions" => {
                let body = self.get(&Service::IDENTITY, "/regions").await?;
                Ok(counted(array_of(body), &["name", "key"]))
            }
            "listAvailabilityDomains" => {
                self.list_projected(
                    &Service::IDENTITY,
                    "/availabilityDomains",
                    &[("compartmentId", tenancy)],
                    1000,
                    &["name", "id"],
                )
                .await
            }
            "listUsers" | "listGroups" => {
                let path = if name == "listUsers" {
                    "/users"
                } else {
                    "/groups"
                };
                self.list_projected(
                    &Service::IDENTITY,
                    path,
                    &[("compartmentId", tenancy)],
                    limit(args),
                    &["id", "name", "description", "email", "lifecycleState"],
                )
                .await
            }
            "listPolicies" => {
                self.list_projected(
                    &Service::IDENTITY,
                    "/policies",
                    &[("compartmentId", c)],
                    limit(args),
                    &["id", "name", "statements", "lifecycleState"],
                )
                .await
            }
            "createPolicy" => {
                let mut body = body_of(args, &["name", "description", "statements"]);
                body.insert("compartmentId".into(), json!(c));
                let res = self
                    .post(&Service::IDENTITY, "/policies", Some(Value::Object(body)))
                    .await?;
                Ok(pick(
                    &res,
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
            other => not_here(other),
        }
    }
}
