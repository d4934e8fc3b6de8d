//! Request authentication: every request must carry an OCI HTTP signature made
//! with a key the emulator knows (the demo user's, plus any registered through
//! [`crate::Emulator::add_api_key`]), verified with [`portal_oci::verify`].

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use portal_oci::verify::{verify_request, KeyLookup, PublicKey, VerifiedRequest, VerifyOptions};

use crate::wire::ApiError;

/// OCI's tolerance between the request `date` and the server clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

struct Keys<'a>(&'a RwLock<HashMap<String, PublicKey>>);

impl KeyLookup for Keys<'_> {
    fn lookup(&self, key_id: &str) -> Option<PublicKey> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key_id)
            .cloned()
    }
}

/// Verify a request; any failure becomes 401 `NotAuthenticated` whose message
/// says what was wrong (as helpful as OCI's, without leaking key material).
pub(crate) fn authenticate(
    keys: &RwLock<HashMap<String, PublicKey>>,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    check_skew: bool,
    unsigned_body: bool,
) -> Result<VerifiedRequest, ApiError> {
    let options = VerifyOptions {
        max_clock_skew: check_skew.then_some(MAX_CLOCK_SKEW),
        now: None,
        require_content_headers: !unsigned_body,
    };
    verify_request(method, path_and_query, headers, body, &Keys(keys), &options).map_err(|e| {
        ApiError::not_authenticated(format!(
            "The required information to complete authentication was not provided or was incorrect: {e}"
        ))
    })
}
