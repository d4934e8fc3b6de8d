//! Turns a panic in a handler into a 500 with the request id, logged as the bug it is.

use std::panic::AssertUnwindSafe;

use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;

use crate::error::HttpError;

/// Runs `fut`, turning an unwinding panic into a logged 500.
pub async fn catch(fut: impl std::future::Future<Output = Response>) -> Response {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(res) => res,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".into());
            HttpError::Internal(format!("handler panicked: {what}")).into_response()
        }
    }
}
