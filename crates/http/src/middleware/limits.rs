//! Body size limit, request timeout and load shedding.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::HttpError;
use crate::state::AppState;

/// Middleware, the inner guards as one layer: a declared body over the limit
/// is refused before it is read (chunked bodies are cut by `DefaultBodyLimit`
/// in the extractors); requests are shed with 503 when too many are in flight,
/// instead of queueing into ever-growing latency; and the time to the response
/// head is bounded (streaming bodies are not: they hold their own slot and end
/// at shutdown's drain deadline).
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.settings.limits.body_limit_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return HttpError::PayloadTooLarge(limit).into_response();
    }
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        state.metrics.shed.with_label_values(&["overload"]).inc();
        return HttpError::Overloaded.into_response();
    };
    match tokio::time::timeout(state.settings.http.request_timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            state.metrics.shed.with_label_values(&["timeout"]).inc();
            HttpError::Timeout.into_response()
        }
    }
}
