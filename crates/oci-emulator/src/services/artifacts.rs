//! Artifacts (Container Registry): container repositories and the images
//! pushed to them, listed as OCI's `…Collection` models. The emulator has no
//! registry to push to; the seeded tenancy holds a few repositories and images.

use serde_json::{json, Value};

use super::{Ctx, SORT_TIME_NAME};
use crate::state::kind;
use crate::wire::{self, ApiError, Reply, Req};

/// Lifecycle states of repositories and images.
const STATES: &[&str] = &["AVAILABLE", "DELETING", "DELETED"];

/// The compartments a list covers: `compartmentId`, or with
/// `compartmentIdInSubtree=true` (only on the tenancy) every compartment.
fn scope(ctx: &Ctx<'_>, req: &Req<'_>) -> Result<Vec<String>, ApiError> {
    let compartment = ctx.compartment_param(req)?;
    if req.query_bool("compartmentIdInSubtree")?.unwrap_or(false) {
        if compartment != ctx.st.meta.tenancy_id {
            return Err(ApiError::invalid(
                "compartmentIdInSubtree can only be true when compartmentId is the tenancy (root compartment)",
            ));
        }
        return Ok(ctx.st.compartment_subtree(&compartment));
    }
    Ok(vec![compartment])
}

/// The listed, filtered and sorted resources of `kind` in scope.
fn listed(
    ctx: &Ctx<'_>,
    req: &Req<'_>,
    kind: &str,
    filters: &[(&str, &str)],
) -> Result<Vec<Value>, ApiError> {
    let scope = scope(ctx, req)?;
    let mut items = ctx.rendered(kind, false, |r| {
        r.str("compartmentId")
            .is_some_and(|c| scope.iter().any(|s| s == c))
    });
    for (param, field) in filters {
        wire::filter_eq(req, &mut items, param, field);
    }
    wire::filter_lifecycle(req, &mut items, STATES)?;
    wire::sort_items(req, &mut items, SORT_TIME_NAME)?;
    Ok(items)
}

fn sum(items: &[Value], field: &str) -> i64 {
    items
        .iter()
        .filter_map(|i| i.get(field).and_then(Value::as_i64))
        .sum()
}

/// GET /container/repositories
pub(crate) fn list_container_repositories(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let items = listed(
        ctx,
        req,
        kind::CONTAINER_REPOSITORY,
        &[
            ("repositoryId", "id"),
            ("displayName", "displayName"),
            ("isPublic", "isPublic"),
        ],
    )?;
    // The collection's totals are over every matching repository, not the page.
    let (images, layers, bytes) = (
        sum(&items, "imageCount"),
        sum(&items, "layerCount"),
        sum(&items, "layersSizeInBytes"),
    );
    let count = items.len();
    wire::collection_reply(req, items, wire::DEFAULT_LIMIT, |page, remaining| {
        json!({
            "items": page,
            "remainingItemsCount": remaining,
            "repositoryCount": count,
            "imageCount": images,
            "layerCount": layers,
            "layersSizeInBytes": bytes,
        })
    })
}

/// GET /container/images
pub(crate) fn list_container_images(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let mut items = listed(
        ctx,
        req,
        kind::CONTAINER_IMAGE,
        &[
            ("displayName", "displayName"),
            ("imageId", "id"),
            ("repositoryId", "repositoryId"),
            ("repositoryName", "repositoryName"),
            ("version", "version"),
            ("imageDigest", "digest"),
        ],
    )?;
    if let Some(versioned) = req.query_bool("isVersioned")? {
        items.retain(|i| i.get("version").is_some_and(Value::is_string) == versioned);
    }
    wire::collection_reply(
        req,
        items,
        wire::DEFAULT_LIMIT,
        |page, remaining| json!({"items": page, "remainingItemsCount": remaining}),
    )
}
