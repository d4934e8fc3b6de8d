//! Operational endpoints: Prometheus metrics, and who may see operational detail.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use portal_core::crypto::{constant_time_eq, sha256_hex};

use crate::error::{ApiError, ErrorBody};
use crate::middleware::caller::Caller;
use crate::state::AppState;

/// Who is asking for operational detail (metrics, health details).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpsAccess {
    /// The metrics token or a platform admin. Not an org admin (`admin:all`):
    /// these figures span every organisation.
    Operator,
    /// Anyone else, with credentials presented or not.
    Other {
        /// Whether the caller is a verified principal (403 rather than 401).
        authenticated: bool,
    },
}

/// True when `headers` carry `Authorization: Bearer <PORTAL_METRICS_TOKEN>`.
/// Compared as SHA-256 digests in constant time (lengths never leak).
pub fn has_metrics_token(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(expected) = &state.settings.http.metrics_token else {
        return false;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .is_some_and(|t| {
            constant_time_eq(
                sha256_hex(t.as_bytes()).as_bytes(),
                sha256_hex(expected.expose().as_bytes()).as_bytes(),
            )
        })
}

/// Classifies the caller of an operational endpoint.
pub fn access(state: &AppState, caller: Option<&Caller>, headers: &HeaderMap) -> OpsAccess {
    if has_metrics_token(state, headers) {
        return OpsAccess::Operator;
    }
    let principal = caller.and_then(|c| c.principal.as_ref());
    match principal {
        Some(p) if p.is_platform_admin() => OpsAccess::Operator,
        Some(_) => OpsAccess::Other {
            authenticated: true,
        },
        None => OpsAccess::Other {
            authenticated: false,
        },
    }
}

/// Prometheus text exposition: HTTP series by route template, database pool and
/// availability, process metrics, and the domain counters features register.
///
/// Every label is drawn from a fixed set (methods, route templates, status codes,
/// catalogue tool names), so no request can add series. Access: with
/// `PORTAL_METRICS_TOKEN` set, `Authorization: Bearer <token>` (or a platform
/// admin's session); without it, public in development and platform admins only
/// in production.
#[utoipa::path(
    get, path = "/api/metrics", operation_id = "getMetrics", tag = "ops",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, description = "AUTH_REQUIRED: the metrics token (or an operator's credentials) is needed", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: the caller is not a platform admin", body = ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn metrics(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let open = state.settings.http.metrics_token.is_none() && !state.settings.is_production();
    if !open {
        match access(&state, caller.as_ref().map(|c| &c.0), &headers) {
            OpsAccess::Operator => {}
            OpsAccess::Other {
                authenticated: true,
            } => {
                return Err(ApiError::Forbidden(
                    "Metrics need the metrics token or a platform admin".into(),
                ))
            }
            OpsAccess::Other {
                authenticated: false,
            } => return Err(ApiError::AuthRequired),
        }
    }
    let pool = state.app.pool_stats();
    let g = &state.metrics.db_pool;
    g.with_label_values(&["idle"]).set(pool.idle as i64);
    g.with_label_values(&["in_use"]).set(pool.in_use as i64);
    g.with_label_values(&["max"]).set(pool.max as i64);
    state.metrics.db_up.set(i64::from(state.app.database_up()));
    let backlog = state
        .app
        .approval_backlog(portal_core::identity::now_ms())
        .await;
    if let Some(n) = backlog.pending {
        state.metrics.approvals_pending.set(n);
    }
    if let Some(age_ms) = backlog.oldest_age_ms {
        state
            .metrics
            .approvals_oldest_age
            .set(age_ms as f64 / 1000.0);
    }
    let text = state
        .metrics
        .render()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
