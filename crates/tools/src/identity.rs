//! Identity: the tenancy, regions and availability domains, compartments,
//! users, groups and policies.

use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{json, Map, Value};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::{get_tool, list_tool, ANY_COMPARTMENT, COMPARTMENT, LIMIT};
use crate::rest::{array_of, body_of, counted, limit, pick, text};
use crate::tenancy::COMPARTMENT_FIELDS;
use crate::{rules, OciTools};

/// The identity tools.
pub(crate) const TOOLS: &[Tool] = &[
    tool!(get_compartment, get_tool!("getCompartment", "identity", "Get one compartment: name, description, parent, state.", "compartmentId", "compartment")),
    tool!(get_tenancy, list_tool!("getTenancy", "identity", "Get the tenancy: name, home region, description.", [])),
    tool!(list_region_subscriptions, list_tool!("listRegionSubscriptions", "identity", "List the regions the tenancy is subscribed to, marking the home region.", [])),
    tool!(list_users, list_tool!("listUsers", "identity", "List the tenancy's IAM users.", [LIMIT])),
    tool!(list_groups, list_tool!("listGroups", "identity", "List the tenancy's IAM groups.", [LIMIT])),
    tool!(list_policies, list_tool!("listPolicies", "identity", "List IAM policies in a compartment with their statements.", [ANY_COMPARTMENT, LIMIT])),
    tool!(list_regions, list_tool!("listRegions", "identity", "List OCI regions (name and key).", [])),
    tool!(list_availability_domains, list_tool!("listAvailabilityDomains", "identity", "List the tenancy's availability domains in its home region.", [])),
    tool!(list_compartments, ToolSpec {
        name: "listCompartments",
        category: "identity",
        description: "List the compartments under a compartment (the whole tree under the tenancy by default).",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[COMPARTMENT, LIMIT],
    }),
    tool!(create_policy, ToolSpec {
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
    pub(crate) async fn list_compartments(&self, args: &Args) -> Outcome {
        let c = self.compartment(args);
        if c != self.tenancy {
            // OCI lists a subtree in one call only from the tenancy.
            let mut all = self.walk(c).await?;
            all.truncate(limit(args));
            return Ok(counted(all, COMPARTMENT_FIELDS));
        }
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

    pub(crate) async fn get_compartment(&self, args: &Args) -> Outcome {
        self.get(
            &Service::IDENTITY,
            &format!("/compartments/{}", text(args, "compartmentId")),
        )
        .await
    }

    pub(crate) async fn get_tenancy(&self, _args: &Args) -> Outcome {
        let tenancy = self.tenancy.as_str();
        self.get(&Service::IDENTITY, &format!("/tenancies/{tenancy}"))
            .await
    }

    pub(crate) async fn list_region_subscriptions(&self, _args: &Args) -> Outcome {
        let tenancy = self.tenancy.as_str();
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

    pub(crate) async fn list_regions(&self, _args: &Args) -> Outcome {
        let body = self.get(&Service::IDENTITY, "/regions").await?;
        Ok(counted(array_of(body), &["name", "key"]))
    }

    pub(crate) async fn list_availability_domains(&self, _args: &Args) -> Outcome {
        self.list_projected(
            &Service::IDENTITY,
            "/availabilityDomains",
            &[("compartmentId", self.tenancy.as_str())],
            1000,
            &["name", "id"],
        )
        .await
    }

    pub(crate) async fn list_users(&self, args: &Args) -> Outcome {
        self.principals(args, "/users").await
    }

    pub(crate) async fn list_groups(&self, args: &Args) -> Outcome {
        self.principals(args, "/groups").await
    }

    /// The tenancy's users or groups.
    async fn principals(&self, args: &Map<String, Value>, path: &str) -> Result<Value, ToolError> {
        self.list_projected(
            &Service::IDENTITY,
            path,
            &[("compartmentId", self.tenancy.as_str())],
            limit(args),
            &[
                "id",
                "name",
                "description",
                "email",
                "lifecycleState",
                "isMfaActivated",
                "capabilities",
                "timeCreated",
            ],
        )
        .await
    }

    pub(crate) async fn list_policies(&self, args: &Args) -> Outcome {
        self.list_projected(
            &Service::IDENTITY,
            "/policies",
            &[("compartmentId", self.compartment(args))],
            limit(args),
            &["id", "name", "statements", "lifecycleState"],
        )
        .await
    }

    pub(crate) async fn create_policy(&self, args: &Args) -> Outcome {
        let mut body = body_of(args, &["name", "description", "statements"]);
        body.insert("compartmentId".into(), json!(self.compartment(args)));
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
}
