//! Load balancing: load balancers, their health and their backend sets'.

use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::{encode_path_param, Service};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::{get_tool, list_tool, ANY_COMPARTMENT, LIMIT};
use crate::rest::{limit, text};
use crate::{rules, OciTools};

/// The load balancing tools (category `networking`).
pub(crate) const TOOLS: &[Tool] = &[
    tool!(get_load_balancer, get_tool!("getLoadBalancer", "networking", "Get one load balancer: shape, listeners, backend sets, IPs.", "loadBalancerId", "loadbalancer")),
    tool!(get_load_balancer_health, get_tool!("getLoadBalancerHealth", "networking", "Get a load balancer's overall health and its unhealthy backend sets. Lead with anything CRITICAL or WARNING.", "loadBalancerId", "loadbalancer")),
    tool!(get_backend_set_health, ToolSpec {
        name: "getBackendSetHealth",
        category: "networking",
        description: "Health of one backend set of a load balancer, with the backends that fail their checks.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            Param { name: "loadBalancerId", kind: Kind::Ocid(Some("loadbalancer")), required: true, description: "OCID of the load balancer", default: None, secret: false },
            Param { name: "backendSetName", kind: Kind::Rule(&rules::PATH_NAME), required: true, description: "Backend set name (see getLoadBalancer)", default: None, secret: false },
        ],
    }),
    tool!(list_load_balancers, list_tool!("listLoadBalancers", "networking", "List load balancers in a compartment with shape, IPs and state.", [ANY_COMPARTMENT, LIMIT])),
];

impl OciTools {
    pub(crate) async fn list_load_balancers(&self, args: &Args) -> Outcome {
        self.list_projected(
            &Service::LOAD_BALANCER,
            "/loadBalancers",
            &[("compartmentId", self.compartment(args))],
            limit(args),
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

    pub(crate) async fn get_load_balancer(&self, args: &Args) -> Outcome {
        let lb = format!("/loadBalancers/{}", text(args, "loadBalancerId"));
        self.get(&Service::LOAD_BALANCER, &lb).await
    }

    pub(crate) async fn get_load_balancer_health(&self, args: &Args) -> Outcome {
        let lb = format!("/loadBalancers/{}", text(args, "loadBalancerId"));
        self.get(&Service::LOAD_BALANCER, &format!("{lb}/health"))
            .await
    }

    pub(crate) async fn get_backend_set_health(&self, args: &Args) -> Outcome {
        let lb = format!("/loadBalancers/{}", text(args, "loadBalancerId"));
        let set = encode_path_param(text(args, "backendSetName"), true)
            .map_err(|e| ToolError::Invalid(e.to_string()))?;
        self.get(
            &Service::LOAD_BALANCER,
            &format!("{lb}/backendSets/{set}/health"),
        )
        .await
    }
}
