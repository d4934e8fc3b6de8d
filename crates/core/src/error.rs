//! The error type of core services; adapters map it to their wire format.

use crate::store::StoreError;

/// What a core service can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Input breaks a rule; the message names the field.
    #[error("{0}")]
    Validation(String),
    /// No valid credentials.
    #[error("Authentication required")]
    Unauthenticated,
    /// Wrong email or password (kept apart so the message can say so).
    #[error("Invalid email or password")]
    InvalidCredentials,
    /// Authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// Not there, or not visible to this caller.
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with stored state.
    #[error("{0}")]
    Conflict(String),
    /// The tool call needs an approval that has not been granted (yet).
    #[error("This tool call needs an approval")]
    ApprovalRequired(Box<crate::model::Approval>),
    /// Too many attempts; retry after the given seconds.
    #[error("Too many attempts; retry in {0} s")]
    RateLimited(u64),
    /// The cloud (or another upstream service) refused or failed the call.
    #[error("{0}")]
    Upstream(String),
    /// The database is away.
    #[error("The database is unavailable")]
    Unavailable,
    /// Unexpected failure (logged, never shown).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable => CoreError::Unavailable,
            StoreError::NotFound => CoreError::NotFound("Not found".into()),
            StoreError::Conflict(m) => CoreError::Conflict(m),
            other => CoreError::Internal(other.to_string()),
        }
    }
}

/// Shorthand for service results.
pub type CoreResult<T> = Result<T, CoreError>;
