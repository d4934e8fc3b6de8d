//! Form bodies and small display helpers the pages share.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use portal_http::HttpError;

use crate::visit::PageError;

/// An `application/x-www-form-urlencoded` body; a malformed one is a 400 page
/// (axum's own rejection would answer in plain text).
pub struct PageForm<T>(pub T);

impl<S, T> FromRequest<S> for PageForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        let limit = req
            .extensions()
            .get::<portal_http::BodyLimit>()
            .map_or(0, |b| b.0);
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(PageForm(v)),
            Err(e) => Err(match e.status().as_u16() {
                413 => HttpError::PayloadTooLarge(limit),
                415 => HttpError::UnsupportedMediaType("Expected a form submission".into()),
                _ => HttpError::Validation(format!("form: {}", e.body_text())),
            }
            .into()),
        }
    }
}

/// Epoch milliseconds as `2026-12-03 14:05 UTC`.
pub fn when(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| "-".into())
}

/// Redacted arguments (JSON text) pretty-printed for reading.
pub fn pretty_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

/// Redacted arguments (JSON object text) as a short list of `name: value`.
pub fn args_list(text: &str) -> maud::Markup {
    let parsed = serde_json::from_str::<serde_json::Value>(text).ok();
    let Some(serde_json::Value::Object(map)) = parsed else {
        return maud::html! { code { (text) } };
    };
    maud::html! {
        @if map.is_empty() {
            span.muted { "none" }
        } @else {
            dl.args {
                @for (k, v) in &map {
                    dt { (k) }
                    dd { code { @match v { serde_json::Value::String(s) => (s), other => (other.to_string()) } } }
                }
            }
        }
    }
}
