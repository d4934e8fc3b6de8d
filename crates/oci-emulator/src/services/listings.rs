//! Small read endpoints the official CLI calls: console history captures
//! (Compute), limit definitions (Limits), the queryable resource types (Resource
//! Search), namespace metadata and the (always empty) pre-authenticated request
//! list (Object Storage).

use serde_json::{json, Value};

use super::objectstorage::{check_namespace, find_bucket};
use super::{list_in_compartment, search, Ctx, SORT_TIME_NAME};
use crate::catalog;
use crate::state::kind;
use crate::wire::{self, ApiError, Reply, Req};

const CONSOLE_HISTORY_STATES: &[&str] = &["REQUESTED", "GETTING-HISTORY", "SUCCEEDED", "FAILED"];

/// GET /20160918/instanceConsoleHistories
pub(crate) fn list_console_histories(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_in_compartment(
        ctx,
        req,
        kind::CONSOLE_HISTORY,
        CONSOLE_HISTORY_STATES,
        SORT_TIME_NAME,
        &[
            ("instanceId", "instanceId"),
            ("availabilityDomain", "availabilityDomain"),
        ],
    )
}

fn service_description(service: &str) -> &'static str {
    catalog::LIMIT_SERVICES
        .iter()
        .find(|(n, _)| *n == service)
        .map_or("", |(_, d)| *d)
}

/// GET /20190729/limitDefinitions
pub(crate) fn list_limit_definitions(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    ctx.compartment_param(req)?;
    let service = req.query("serviceName");
    if let Some(s) = service {
        if !catalog::LIMIT_SERVICES.iter().any(|(n, _)| *n == s) {
            return Err(ApiError::invalid(format!("Unknown serviceName `{s}`")));
        }
    }
    let by = req
        .query_enum("sortBy", &["name", "description"])?
        .unwrap_or("name");
    let desc = req.query_enum("sortOrder", &["ASC", "DESC"])? == Some("DESC");
    let mut items: Vec<Value> = catalog::LIMITS
        .iter()
        .filter(|l| service.is_none_or(|s| s == l.service))
        .filter(|l| req.query("name").is_none_or(|n| n == l.name))
        .map(|l| {
            json!({
                "name": l.name,
                "serviceName": l.service,
                "description": format!("{} limit `{}`", service_description(l.service), l.name),
                "scopeType": l.scope,
                "areQuotasSupported": true,
                "isResourceAvailabilitySupported": true,
                "isDeprecated": false,
                "isEligibleForLimitIncrease": true,
                "isDynamic": false,
                "supportedSubscriptions": [],
            })
        })
        .collect();
    items.sort_by(|a, b| {
        let o = a[by].as_str().cmp(&b[by].as_str());
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    wire::list_reply(req, items)
}

/// GET /20180409/resourceTypes: the types structured queries accept, with the
/// fields every one of them can be filtered on.
pub(crate) fn list_resource_types(_ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let fields: Vec<Value> = [
        ("identifier", "IDENTIFIER"),
        ("displayName", "STRING"),
        ("compartmentId", "IDENTIFIER"),
        ("lifecycleState", "STRING"),
        ("timeCreated", "DATETIME"),
        ("availabilityDomain", "STRING"),
        ("freeformTags", "OBJECT"),
    ]
    .iter()
    .map(|(name, ty)| json!({"fieldName": name, "fieldType": ty, "isArray": false}))
    .collect();
    let items = search::TYPES
        .iter()
        .map(|(_, _, name)| json!({"name": name, "fields": fields}))
        .collect();
    wire::list_reply(req, items)
}

/// GET /n/{ns}
pub(crate) fn get_namespace_metadata(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let ns = req.path("namespaceName");
    check_namespace(ctx, ns)?;
    let tenancy = ctx.tenancy();
    Ok(Reply::json(json!({
        "namespace": ns,
        "defaultS3CompartmentId": tenancy,
        "defaultSwiftCompartmentId": tenancy,
    })))
}

/// GET /n/{ns}/b/{bucket}/p — the emulator issues no pre-authenticated requests.
pub(crate) fn list_preauthenticated_requests(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    find_bucket(ctx, req)?;
    wire::list_reply(req, Vec::new())
}
