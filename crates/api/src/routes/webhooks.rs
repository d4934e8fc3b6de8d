//! Webhook subscriptions of the active organisation (`admin:webhooks`):
//! CRUD, secret rotation, the delivery log, redelivery and test messages.
//! Served at `/api/v1/webhooks` and, as the source architecture names it,
//! `/api/webhooks` (the same handlers; [`alias`] documents both).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use portal_core::service::webhooks::{self as svc, Fields, WithSecret};
use utoipa::openapi::OpenApi;

use super::auth::no_content;
use super::webhook_views::*;
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The documented prefix, and the source architecture's.
const V1: &str = "/api/v1/webhooks";
const ALIAS: &str = "/api/webhooks";

fn with_secret(w: WithSecret) -> WebhookWithSecret {
    WebhookWithSecret {
        secret: w.secret.expose().clone(),
        webhook: WebhookView::from(&w.webhook),
    }
}

fn int(field: &str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|s| {
        s.trim()
            .parse::<i64>()
            .map_err(|_| ApiError::Validation(format!("query/{field}: must be an integer")))
    })
    .transpose()
}

/// Lists the organisation's subscriptions.
#[utoipa::path(
    get, path = "/api/v1/webhooks", operation_id = "listWebhooks", tag = "webhooks",
    responses(
        (status = 200, description = "Subscriptions", body = WebhookList),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::AdminWebhooks>,
) -> Result<Json<WebhookList>, ApiError> {
    let all = svc::list(&state.ctx(&r.caller), &r.principal).await?;
    Ok(Json(WebhookList {
        webhooks: all.iter().map(WebhookView::from).collect(),
    }))
}

/// Creates a subscription; the answer carries its signing secret, once.
#[utoipa::path(
    post, path = "/api/v1/webhooks", operation_id = "createWebhook", tag = "webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Created", body = WebhookWithSecret),
        (status = 400, description = "VALIDATION_ERROR (names the field; a forbidden URL says why)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    r: Require<perm::AdminWebhooks>,
    ApiJson(b): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, Json<WebhookWithSecret>), ApiError> {
    let policy = state.settings.outbound.policy();
    let f = Fields {
        url: Some(b.url),
        description: b.description,
        event_types: Some(b.event_types),
        status: b.status,
    };
    let created = svc::create(&state.ctx(&r.caller), &r.principal, &policy, f).await?;
    Ok((StatusCode::CREATED, Json(with_secret(created))))
}

/// One subscription.
#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}", operation_id = "getWebhook", tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription", body = WebhookView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not in this organisation", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    r: Require<perm::AdminWebhooks>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let w = svc::get(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(Json(WebhookView::from(&w)))
}

/// Changes a subscription; `status: active` resumes its queue where it stopped.
#[utoipa::path(
    patch, path = "/api/v1/webhooks/{id}", operation_id = "updateWebhook", tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id")), request_body = UpdateWebhook,
    responses(
        (status = 200, description = "Updated", body = WebhookView),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not in this organisation", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    r: Require<perm::AdminWebhooks>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<UpdateWebhook>,
) -> Result<Json<WebhookView>, ApiError> {
    let policy = state.settings.outbound.policy();
    let f = Fields {
        url: b.url,
        description: b.description,
        event_types: b.event_types,
        status: b.status,
    };
    let w = svc::update(&state.ctx(&r.caller), &r.principal, &policy, &id, f).await?;
    Ok(Json(WebhookView::from(&w)))
}

/// Deletes a subscription with its queue and log.
#[utoipa::path(
    delete, path = "/api/v1/webhooks/{id}", operation_id = "deleteWebhook", tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not in this organisation", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    r: Require<perm::AdminWebhooks>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    svc::delete(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(no_content())
}

/// A new signing secret; the old one signs beside it for the grace period.
#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/rotate-secret", operation_id = "rotateWebhookSecret",
    tag = "webhooks", params(("id" = String, Path, description = "Subscription id")),
    request_body = Rotate,
    responses(
        (status = 200, description = "The new secret, once", body = WebhookWithSecret),
        (status = 400, description = "VALIDATION_ERROR (graceSeconds)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not in this organisation", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn rotate(
    State(state): State<AppState>,
    r: Require<perm::AdminWebhooks>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<Rotate>,
) -> Result<Json<WebhookWithSecret>, ApiError> {
    let w = svc::rotate(&state.ctx(&r.caller), &r.principal, &id, b.grace_seconds).await?;
    Ok(Json(with_secret(w)))
}

/// Queues a `webhook.test` message to this subscription.
#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/test", operation_id = "testWebhook", tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 202, description = "Queued", body = Queued),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not in this organisation", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn test(
    State(state): State<AppState>,
    r: Require<perm::AdminWebhooks>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let d = svc::send_test(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            delivery_id: Some(d),
            queued: 1,
        }),
    ))
}

/// The subscription's delivery log, newest first.
#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}/deliveries", operation_id = "listWebhookDeliveries",
    tag = "webhooks", params(("id" = String, Path, description = "Subscription id"), LogQuery),
    responses(
        (status = 200, description = "Deliveries", body = DeliveryList),
        (status = 400, description = "VALIDATION_ERROR (names the parameter)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not in this organisation", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn deliveries(
    State(state): State<AppState>,
    r: Require<perm::AdminWebhooks>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    let before = int("before", q.before.as_deref())?;
    let limit = int("limit", q.limit.as_deref())?;
    let all = svc::deliveries(
        &state.ctx(&r.caller),
        &r.principal,
        &id,
        q.state.as_deref(),
        before,
        limit,
    )
    .await?;
    Ok(Json(DeliveryList {
        deliveries: all.iter().map(DeliveryView::from).collect(),
    }))
}

/// One delivery with every attempt (status, latency, response, next retry).
#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}/deliveries/{deliveryId}", operation_id = "getWebhookDelivery",
    tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id"), ("deliveryId" = i64, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "The delivery", body = DeliveryDetail),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not in this organisation", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn delivery(
    State(state): State<AppState>,
    r: Require<perm::AdminWebhooks>,
    ApiPath((id, delivery_id)): ApiPath<(String, i64)>,
) -> Result<Json<DeliveryDetail>, ApiError> {
    let (d, attempts) =
        svc::delivery(&state.ctx(&r.caller), &r.principal, &id, delivery_id).await?;
    Ok(Json(DeliveryDetail {
        delivery: DeliveryView::from(&d),
        attempts: attempts.iter().map(AttemptView::from).collect(),
    }))
}

/// Sends one delivery again, with the same `webhook-id` and body.
#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver",
    operation_id = "redeliverWebhookDelivery", tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id"), ("deliveryId" = i64, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued", body = Queued),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not in this organisation", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn redeliver(
    State(state): State<AppState>,
    r: Require<perm::AdminWebhooks>,
    ApiPath((id, delivery_id)): ApiPath<(String, i64)>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let d = svc::redeliver(&state.ctx(&r.caller), &r.principal, &id, delivery_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            delivery_id: Some(d),
            queued: 1,
        }),
    ))
}

/// Sends again every delivery queued since a time (at most 1000), in order.
#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/redeliver", operation_id = "redeliverWebhookSince",
    tag = "webhooks", params(("id" = String, Path, description = "Subscription id")),
    request_body = RedeliverSince,
    responses(
        (status = 202, description = "Queued", body = Queued),
        (status = 400, description = "VALIDATION_ERROR (since)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not in this organisation", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn redeliver_since(
    State(state): State<AppState>,
    r: Require<perm::AdminWebhooks>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RedeliverSince>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let since = time::OffsetDateTime::parse(
        b.since.trim(),
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| ApiError::Validation("since: must be an RFC 3339 time".into()))?;
    let ms = i64::try_from(since.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| ApiError::Validation("since: out of range".into()))?;
    let n = svc::redeliver_since(&state.ctx(&r.caller), &r.principal, &id, ms).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            delivery_id: None,
            queued: n,
        }),
    ))
}

/// The same handlers at the source architecture's `/api/webhooks` paths.
pub fn alias_router() -> Router<AppState> {
    let at = |tail: &str| format!("{ALIAS}{tail}");
    Router::new()
        .route(&at(""), get(list).post(create))
        .route(&at("/{id}"), get(get_one).patch(update).delete(delete))
        .route(&at("/{id}/rotate-secret"), post(rotate))
        .route(&at("/{id}/test"), post(test))
        .route(&at("/{id}/deliveries"), get(deliveries))
        .route(&at("/{id}/deliveries/{deliveryId}"), get(delivery))
        .route(
            &at("/{id}/deliveries/{deliveryId}/redeliver"),
            post(redeliver),
        )
        .route(&at("/{id}/redeliver"), post(redeliver_since))
}

/// Documents the `/api/webhooks` forms beside the `/api/v1/webhooks` ones
/// (operation ids get an `Alias` suffix so each stays unique).
pub fn alias(doc: &mut OpenApi) {
    let copies: Vec<(String, utoipa::openapi::PathItem)> = doc
        .paths
        .paths
        .iter()
        .filter_map(|(path, item)| {
            let tail = path.strip_prefix(V1)?;
            let mut item = item.clone();
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                op.operation_id = op.operation_id.take().map(|id| format!("{id}Alias"));
            }
            Some((format!("{ALIAS}{tail}"), item))
        })
        .collect();
    doc.paths.paths.extend(copies);
}
