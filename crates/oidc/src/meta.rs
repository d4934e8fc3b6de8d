//! The OP's metadata and keys, cached per issuer: discovery and JWKS are
//! fetched once per [`META_TTL`]; a token signed with a key the cache does not
//! know refetches the key set (at most once per [`JWKS_REFETCH_EVERY`] per
//! issuer), so an OP's key rotation needs no restart and a stream of
//! made-up `kid`s cannot turn the portal into a load generator.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AsyncHttpClient, HttpRequest, IssuerUrl, ProviderMetadata,
};
use serde::{Deserialize, Serialize};

use crate::http::OidcHttp;
use crate::OidcError;

/// How long discovery and keys are trusted before they are fetched again.
pub const META_TTL: Duration = Duration::from_secs(600);
/// The shortest gap between two key-set refetches of one issuer.
pub const JWKS_REFETCH_EVERY: Duration = Duration::from_secs(30);

/// Discovery fields beyond openidconnect's core set.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraMetadata {
    /// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    /// RFC 9207: the OP always sends `iss` with the authorization response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

/// The provider metadata the relying party reads.
pub type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

struct Entry {
    meta: Metadata,
    fetched: Instant,
    /// The last refetch an unknown key caused (discovery does not count:
    /// a rotation right after it must still be picked up).
    refetched: Option<Instant>,
}

/// The cache, one entry per issuer.
#[derive(Default)]
pub struct MetaCache {
    entries: Mutex<HashMap<String, Entry>>,
}

/// Which step of fetching an OP's metadata failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The discovery document (unreachable, malformed, or another issuer's).
    Discovery,
    /// The key set its `jwks_uri` names.
    Jwks,
}

impl Step {
    /// Stable name for APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Discovery => "discovery",
            Step::Jwks => "jwks",
        }
    }
}

/// Counts the calls one discovery makes, to tell which step failed.
struct Counting<'a> {
    inner: &'a OidcHttp,
    calls: AtomicUsize,
}

impl<'c> AsyncHttpClient<'c> for Counting<'_> {
    type Error = <OidcHttp as AsyncHttpClient<'c>>::Error;
    type Future = <OidcHttp as AsyncHttpClient<'c>>::Future;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.call(request)
    }
}

/// Fetches discovery and keys, naming the step that failed.
pub async fn discover(http: &OidcHttp, issuer: &str) -> Result<Metadata, (Step, String)> {
    let url = IssuerUrl::new(issuer.to_string())
        .map_err(|e| (Step::Discovery, format!("the issuer is not a URL: {e}")))?;
    let counting = Counting {
        inner: http,
        calls: AtomicUsize::new(0),
    };
    Metadata::discover_async(url, &counting).await.map_err(|e| {
        let step = if counting.calls.load(Ordering::Relaxed) > 1 {
            Step::Jwks
        } else {
            Step::Discovery
        };
        (step, crate::describe(&e))
    })
}

impl MetaCache {
    /// The issuer's metadata, from the cache while fresh.
    pub async fn get(&self, http: &OidcHttp, issuer: &str) -> Result<Metadata, OidcError> {
        if let Some(m) = self.fresh(issuer) {
            return Ok(m);
        }
        let meta = discover(http, issuer)
            .await
            .map_err(|(step, m)| match step {
                Step::Discovery => OidcError::Discovery(m),
                Step::Jwks => OidcError::Jwks(m),
            })?;
        let now = Instant::now();
        if let Ok(mut e) = self.entries.lock() {
            e.insert(
                issuer.to_string(),
                Entry {
                    meta: meta.clone(),
                    fetched: now,
                    refetched: None,
                },
            );
        }
        Ok(meta)
    }

    fn fresh(&self, issuer: &str) -> Option<Metadata> {
        let e = self.entries.lock().ok()?;
        let entry = e.get(issuer)?;
        (entry.fetched.elapsed() < META_TTL).then(|| entry.meta.clone())
    }

    /// Fetches the issuer's key set again unless that was done within
    /// [`JWKS_REFETCH_EVERY`]; the new keys, or `None` when rate-limited.
    pub async fn refetch_keys(
        &self,
        http: &OidcHttp,
        issuer: &str,
        meta: &Metadata,
    ) -> Result<Option<CoreJsonWebKeySet>, OidcError> {
        {
            let mut e = self
                .entries
                .lock()
                .map_err(|_| OidcError::Jwks("key cache poisoned".into()))?;
            if let Some(entry) = e.get_mut(issuer) {
                if entry
                    .refetched
                    .is_some_and(|t| t.elapsed() < JWKS_REFETCH_EVERY)
                {
                    return Ok(None);
                }
                // Claimed before the fetch, so concurrent misses fetch once.
                entry.refetched = Some(Instant::now());
            }
        }
        let keys = CoreJsonWebKeySet::fetch_async(meta.jwks_uri(), http)
            .await
            .map_err(|e| OidcError::Jwks(crate::describe(&e)))?;
        if let Ok(mut e) = self.entries.lock() {
            if let Some(entry) = e.get_mut(issuer) {
                entry.meta = entry.meta.clone().set_jwks(keys.clone());
            }
        }
        Ok(Some(keys))
    }

    /// Forgets an issuer (its configuration changed).
    pub fn forget(&self, issuer: &str) {
        if let Ok(mut e) = self.entries.lock() {
            e.remove(issuer);
        }
    }
}
