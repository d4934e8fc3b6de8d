//! The one error type of the HTTP layer and its wire shape
//! `{"error": <message>, "code": <CODE>, "requestId": <id>}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_core::{CoreError, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::middleware::request_id;

/// Every failure an HTTP handler or middleware can answer with.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request is malformed; the message names the field.
    #[error("{0}")]
    Validation(String),
    /// No credentials, or credentials that do not verify.
    #[error("Authentication required")]
    AuthRequired,
    /// Sign-in with a wrong email or password.
    #[error("Invalid email or password")]
    InvalidCredentials,
    /// Authenticated, but without the named permission.
    #[error("{0}")]
    Forbidden(String),
    /// The resource does not exist for this caller (another org's resources too).
    #[error("{0}")]
    NotFound(String),
    /// Signed in with a one-time password: change it first.
    #[error("Change your one-time password first (POST /api/auth/change-password)")]
    PasswordChangeRequired,
    /// The route exists but not with this method.
    #[error("Method not allowed")]
    MethodNotAllowed,
    /// The write conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than the configured limit.
    #[error("Request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The body's content type is not accepted here.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The caller is over its rate limit; retry after the given seconds.
    #[error("Rate limit exceeded; retry in {0} s")]
    RateLimited(u64),
    /// The request took longer than the configured timeout.
    #[error("The request took too long and was cancelled")]
    Timeout,
    /// Too many requests in flight; shed to protect the rest.
    #[error("The server is busy; retry shortly")]
    Overloaded,
    /// The tool call needs an approval; the body says which and where to decide.
    #[error("This tool call needs an approval")]
    ApprovalRequired {
        /// The pending approval.
        approval_id: portal_core::ids::ApprovalId,
        /// The caller's id for the call, if it gave one.
        tool_call_id: Option<String>,
        /// Where an approver decides.
        approve_url: String,
    },
    /// The cloud refused or failed the call; the message is OCI's.
    #[error("{0}")]
    Upstream(String),
    /// The API tier (`--role web`'s upstream) cannot be reached.
    #[error("Backend unavailable")]
    BackendUnavailable,
    /// The database cannot be reached; nothing was changed.
    #[error("The database is unavailable; retry shortly")]
    DatabaseUnavailable,
    /// The portal is in maintenance: writes are paused (the message is the banner's).
    #[error("{0}")]
    Maintenance(String),
    /// A bug or an unexpected failure: logged in full, shown to nobody.
    #[error("Internal server error")]
    Internal(String),
}

/// What an error response was, kept in its extensions so a later layer (the
/// web UI's error pages) can render it in another form.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    /// The status answered.
    pub status: StatusCode,
    /// The stable code.
    pub code: &'static str,
    /// The message shown (never internals).
    pub message: String,
    /// The request id.
    pub request_id: Option<String>,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Human-readable message (never internals).
    #[schema(example = "body/name: missing field `name`")]
    pub error: String,
    /// Stable machine-readable code.
    #[schema(example = "VALIDATION_ERROR")]
    pub code: &'static str,
    /// The request id, also in the `X-Request-Id` header.
    #[serde(rename = "requestId")]
    #[schema(example = "req-0b9d2a4e-7c1f-4a57-9d0e-4f1c2b3a4d5e")]
    pub request_id: Option<String>,
}

impl HttpError {
    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            HttpError::Validation(_) => StatusCode::BAD_REQUEST,
            HttpError::AuthRequired | HttpError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            HttpError::Forbidden(_)
            | HttpError::ApprovalRequired { .. }
            | HttpError::PasswordChangeRequired => StatusCode::FORBIDDEN,
            HttpError::NotFound(_) => StatusCode::NOT_FOUND,
            HttpError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            HttpError::Conflict(_) => StatusCode::CONFLICT,
            HttpError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            HttpError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            HttpError::Timeout
            | HttpError::Overloaded
            | HttpError::DatabaseUnavailable
            | HttpError::Maintenance(_) => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            HttpError::Upstream(_) | HttpError::BackendUnavailable => StatusCode::BAD_GATEWAY,
        }
    }

    /// Stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            HttpError::Validation(_) => "VALIDATION_ERROR",
            HttpError::AuthRequired => "AUTH_REQUIRED",
            HttpError::InvalidCredentials => "INVALID_CREDENTIALS",
            HttpError::Forbidden(_) => "FORBIDDEN",
            HttpError::PasswordChangeRequired => "PASSWORD_CHANGE_REQUIRED",
            HttpError::ApprovalRequired { .. } => "APPROVAL_REQUIRED",
            HttpError::NotFound(_) => "NOT_FOUND",
            HttpError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            HttpError::Conflict(_) => "CONFLICT",
            HttpError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            HttpError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            HttpError::RateLimited(_) => "RATE_LIMITED",
            HttpError::Timeout => "TIMEOUT",
            HttpError::Overloaded => "OVERLOADED",
            HttpError::DatabaseUnavailable => "DATABASE_UNAVAILABLE",
            HttpError::Maintenance(_) => "MAINTENANCE",
            HttpError::Internal(_) => "INTERNAL_ERROR",
            HttpError::Upstream(_) => "CLOUD_ERROR",
            HttpError::BackendUnavailable => "BACKEND_UNAVAILABLE",
        }
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable => HttpError::DatabaseUnavailable,
            StoreError::NotFound => HttpError::NotFound("Not found".into()),
            StoreError::Conflict(detail) => {
                tracing::debug!(%detail, "constraint violation");
                HttpError::Conflict("The request conflicts with existing data".into())
            }
            other => HttpError::Internal(other.to_string()),
        }
    }
}

impl From<CoreError> for HttpError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Validation(m) => HttpError::Validation(m),
            CoreError::Unauthenticated => HttpError::AuthRequired,
            CoreError::InvalidCredentials => HttpError::InvalidCredentials,
            CoreError::Forbidden(m) => HttpError::Forbidden(m),
            CoreError::NotFound(m) => HttpError::NotFound(m),
            CoreError::Conflict(m) => HttpError::Conflict(m),
            CoreError::RateLimited(s) => HttpError::RateLimited(s),
            CoreError::Unavailable => HttpError::DatabaseUnavailable,
            CoreError::Upstream(m) => HttpError::Upstream(m),
            CoreError::ApprovalRequired(a) => HttpError::ApprovalRequired {
                approve_url: portal_core::service::approvals::approve_url("", &a.id),
                approval_id: a.id,
                tool_call_id: a.tool_call_id,
            },
            CoreError::Internal(m) => HttpError::Internal(m),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let request_id = request_id::current();
        if let HttpError::Internal(detail) = &self {
            tracing::error!(request_id = request_id.as_deref().unwrap_or("-"), %detail, "internal error");
        }
        let status = self.status();
        let body = ErrorBody {
            error: self.to_string(),
            code: self.code(),
            request_id,
        };
        let mut res = match &self {
            HttpError::ApprovalRequired {
                approval_id,
                tool_call_id,
                approve_url,
            } => {
                let mut v = serde_json::to_value(&body).unwrap_or_default();
                if let Some(m) = v.as_object_mut() {
                    m.insert("approvalId".into(), approval_id.as_str().into());
                    m.insert("toolCallId".into(), tool_call_id.clone().into());
                    m.insert("approveUrl".into(), approve_url.clone().into());
                }
                (status, axum::Json(v)).into_response()
            }
            _ => (status, axum::Json(body)).into_response(),
        };
        res.extensions_mut().insert(ErrorInfo {
            status,
            code: self.code(),
            message: self.to_string(),
            request_id: request_id::current(),
        });
        let h = res.headers_mut();
        match &self {
            HttpError::AuthRequired => {
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"portal\", ApiKey realm=\"portal\""),
                );
            }
            HttpError::RateLimited(secs) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            HttpError::Overloaded | HttpError::Timeout => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            HttpError::DatabaseUnavailable | HttpError::BackendUnavailable => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        res
    }
}
