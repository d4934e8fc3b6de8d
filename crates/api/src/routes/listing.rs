//! Degraded listings: while the database is away, list endpoints answer 200
//! with no items, `degraded: true` and a message, instead of failing.

use portal_core::CoreError;

use crate::error::ApiError;

/// Message shown with degraded listings.
pub const DEGRADED_MESSAGE: &str = "The database is unavailable; showing no data until it returns";

/// For a failed listing: `Ok((true, message))` when the failure is the
/// database being away, the mapped error otherwise.
pub fn degraded(e: CoreError) -> Result<(bool, String), ApiError> {
    match e {
        CoreError::Unavailable => Ok((true, DEGRADED_MESSAGE.to_string())),
        other => Err(other.into()),
    }
}
