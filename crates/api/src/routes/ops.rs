//! Operational endpoints: Prometheus metrics.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// Prometheus text exposition: HTTP series by route template, database pool and
/// availability, process metrics, and the domain counters features register.
#[utoipa::path(
    get, path = "/api/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain; version=0.0.4"))
)]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let pool = state.store.pool_stats();
    let g = &state.metrics.db_pool;
    g.with_label_values(&["idle"]).set(pool.idle as i64);
    g.with_label_values(&["in_use"]).set(pool.in_use as i64);
    g.with_label_values(&["max"]).set(pool.max as i64);
    state
        .metrics
        .db_up
        .set(i64::from(state.store.availability().is_up()));
    if let Ok(n) = state
        .store
        .count_pending_approvals(portal_core::identity::now_ms())
        .await
    {
        state.metrics.approvals_pending.set(n);
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
