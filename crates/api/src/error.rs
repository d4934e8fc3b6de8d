//! The API's error type is the shared [`portal_http::HttpError`] (its wire
//! shape `{"error", "code", "requestId"}`), under the name the routes use.

pub use portal_http::error::*;
pub use portal_http::HttpError as ApiError;
