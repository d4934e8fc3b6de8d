//! Fault injection for client retry tests: the next `count` requests whose path
//! starts with `path_prefix` are answered with `status` and an OCI error body.

use http::{HeaderName, HeaderValue, StatusCode};

use crate::wire::ApiError;

/// A planned run of failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultPlan {
    /// HTTP status to answer: 429, 500 or 503 (any 4xx/5xx is accepted).
    pub status: u16,
    /// How many matching requests fail.
    pub count: u32,
    /// Only requests whose path starts with this prefix; `None` matches all.
    pub path_prefix: Option<String>,
}

impl FaultPlan {
    /// `count` failures with `status` on every path.
    pub fn new(status: u16, count: u32) -> Self {
        Self {
            status,
            count,
            path_prefix: None,
        }
    }

    /// Restrict to paths starting with `prefix`.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }
}

/// The error a fault status answers with.
pub(crate) fn fault_error(status: u16) -> ApiError {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (code, message) = match status.as_u16() {
        429 => (
            "TooManyRequests",
            "Too many requests for the tenancy (injected fault)",
        ),
        503 => (
            "ServiceUnavailable",
            "The service is temporarily unavailable (injected fault)",
        ),
        500 => (
            "InternalServerError",
            "Internal server error (injected fault)",
        ),
        _ => ("InjectedFault", "Injected fault"),
    };
    let mut err = ApiError::new(status, code, message);
    if status == StatusCode::TOO_MANY_REQUESTS {
        err.headers.push((
            HeaderName::from_static("retry-after"),
            HeaderValue::from_static("0"),
        ));
    }
    err
}

/// Consume one fault matching `path`, if any is pending.
pub(crate) fn take(plans: &mut Vec<FaultPlan>, path: &str) -> Option<ApiError> {
    let idx = plans.iter().position(|p| {
        p.count > 0
            && p.path_prefix
                .as_deref()
                .is_none_or(|prefix| path.starts_with(prefix))
    })?;
    let plan = &mut plans[idx];
    plan.count -= 1;
    let err = fault_error(plan.status);
    if plan.count == 0 {
        plans.remove(idx);
    }
    Some(err)
}
