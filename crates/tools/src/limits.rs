//! Service limits, their usage and availability, and quotas.

use http::Method;
use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::{encode_path_param, Service};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::{list_tool, LIMIT};
use crate::rest::{filters, limit, text};
use crate::{rules, OciTools};

/// The limits and quotas tools.
pub(crate) const TOOLS: &[Tool] = &[
    tool!(list_limit_services, list_tool!("listLimitServices", "limits", "List the services that have service limits.", [])),
    tool!(get_service_limits, ToolSpec {
        name: "getServiceLimits",
        category: "limits",
        description: "List a service's limit values (e.g. compute core counts per shape and availability domain).",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            Param { name: "serviceName", kind: Kind::Rule(&rules::PATH_NAME), required: true, description: "Service name from listLimitServices, e.g. compute", default: None, secret: false },
            LIMIT,
        ],
    }),
    tool!(list_quotas, list_tool!("listQuotas", "limits", "List the tenancy's quota policies and their statements.", [LIMIT])),
    tool!(get_resource_availability, ToolSpec {
        name: "getResourceAvailability",
        category: "limits",
        description: "How much of a service limit is used and still available (e.g. compute standard-e4-core-count), optionally in one availability domain. Check it before proposing a launch.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            Param { name: "serviceName", kind: Kind::Rule(&rules::PATH_NAME), required: true, description: "Service name, e.g. compute", default: None, secret: false },
            Param { name: "limitName", kind: Kind::Rule(&rules::PATH_NAME), required: true, description: "Limit name from getServiceLimits", default: None, secret: false },
            Param { name: "availabilityDomain", kind: Kind::Text { max: 100 }, required: false, description: "For AD-scoped limits", default: None, secret: false },
        ],
    }),
];

impl OciTools {
    pub(crate) async fn list_limit_services(&self, _args: &Args) -> Outcome {
        let tenancy = ("compartmentId", self.tenancy.as_str());
        self.list_projected(
            &Service::LIMITS,
            "/20190729/services",
            &[tenancy],
            1000,
            &["name", "description"],
        )
        .await
    }

    pub(crate) async fn get_service_limits(&self, args: &Args) -> Outcome {
        let tenancy = ("compartmentId", self.tenancy.as_str());
        let service = text(args, "serviceName");
        self.list_projected(
            &Service::LIMITS,
            "/20190729/limitValues",
            &[tenancy, ("serviceName", service)],
            limit(args),
            &["name", "scopeType", "availabilityDomain", "value"],
        )
        .await
    }

    pub(crate) async fn list_quotas(&self, args: &Args) -> Outcome {
        let tenancy = ("compartmentId", self.tenancy.as_str());
        self.list_projected(
            &Service::QUOTAS,
            "/20181025/quotas",
            &[tenancy],
            limit(args),
            &["id", "name", "description", "lifecycleState"],
        )
        .await
    }

    pub(crate) async fn get_resource_availability(&self, args: &Args) -> Outcome {
        let tenancy = ("compartmentId", self.tenancy.as_str());
        let service = text(args, "serviceName");
        let mut q = vec![tenancy];
        q.extend(filters(
            args,
            &[("availabilityDomain", "availabilityDomain")],
        ));
        let path = format!(
            "/20190729/services/{}/limits/{}/resourceAvailability",
            encode_path_param(service, true).map_err(|e| ToolError::Invalid(e.to_string()))?,
            encode_path_param(text(args, "limitName"), true)
                .map_err(|e| ToolError::Invalid(e.to_string()))?
        );
        self.send(Method::GET, &Service::LIMITS, &path, &q, None)
            .await
            .map(|r| r.body)
    }
}
