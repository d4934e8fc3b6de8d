//! Body size limit, request timeout and load shedding.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// Middleware: refuses a declared body over the limit before reading it
/// (chunked bodies are cut by `DefaultBodyLimit` in the extractors).
pub async fn body_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.settings.body_limit_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::PayloadTooLarge(limit).into_response();
    }
    next.run(req).await
}

/// Middleware: bounds the time to the response head. Streaming bodies are not
/// covered (they hold their own slot and end at shutdown's drain deadline).
pub async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.settings.request_timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            state.metrics.shed.with_label_values(&["timeout"]).inc();
            ApiError::Timeout.into_response()
        }
    }
}

/// Middleware: sheds requests with 503 when too many are in flight, instead of
/// queueing them into ever-growing latency.
pub async fn load_shed(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        state.metrics.shed.with_label_values(&["overload"]).inc();
        return ApiError::Overloaded.into_response();
    };
    next.run(req).await
}
