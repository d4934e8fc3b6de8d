//! The OpenID Connect relying party. openidconnect does the protocol and all
//! JOSE work; this crate adds what a multi-tenant portal needs around it:
//! every OP URL fetched through the SSRF-guarded client, discovery and keys
//! cached per issuer with a rate-limited refetch on an unknown key, the
//! algorithm allowlist, RFC 9207's `iss` check, and a connection test that
//! names the step that failed. Which person the identity is, and what they
//! may do, is decided in core (`portal_core::sso`).

mod flow;
mod http;
mod meta;

pub use flow::{AllClaims, Callback, Identity, Pending, RpConfig, Started, ALLOWED_ALGS, LEEWAY};
pub use http::{HttpError, OidcHttp, MAX_BODY};
pub use meta::{ExtraMetadata, Metadata, Step, JWKS_REFETCH_EVERY, META_TTL};

use openidconnect::{ClientId, EndSessionUrl, LogoutRequest, PostLogoutRedirectUrl};
use portal_webhooks::GuardedClient;

/// What went wrong in a sign-in, by stage (the message is for logs and
/// admins; users see the stage only).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider's configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// Discovery failed.
    #[error("discovery: {0}")]
    Discovery(String),
    /// The key set could not be fetched.
    #[error("jwks: {0}")]
    Jwks(String),
    /// The callback's `state` is not the one this browser was given.
    #[error("state does not match")]
    State,
    /// RFC 9207: the authorization response names another issuer (or none
    /// where the OP promised one).
    #[error("issuer: {0}")]
    Issuer(String),
    /// The code exchange failed.
    #[error("token: {0}")]
    Token(String),
    /// The ID token failed a check.
    #[error("id token: {0}")]
    IdToken(String),
    /// Userinfo failed or named another subject.
    #[error("userinfo: {0}")]
    Userinfo(String),
}

/// What "test connection" found.
#[derive(Debug, Clone)]
pub struct TestReport {
    /// The issuer the OP names.
    pub issuer: String,
    /// How many keys it publishes.
    pub keys: usize,
    /// Its authorization endpoint.
    pub authorization_endpoint: String,
    /// Whether it offers RP-initiated logout.
    pub end_session: bool,
}

/// The relying party: the guarded HTTP client and the metadata cache.
pub struct Rp {
    http: OidcHttp,
    cache: meta::MetaCache,
}

impl Rp {
    /// A relying party fetching through `client`.
    pub fn new(client: GuardedClient) -> Self {
        Self {
            http: OidcHttp::new(client),
            cache: meta::MetaCache::default(),
        }
    }

    /// Discovery and keys, fetched now (not from the cache): the report, or
    /// the step that failed and why.
    pub async fn test(&self, issuer: &str) -> Result<TestReport, (Step, String)> {
        let meta = meta::discover(&self.http, issuer).await?;
        if meta.jwks().keys().is_empty() {
            return Err((Step::Jwks, "the key set is empty".into()));
        }
        self.cache.forget(issuer);
        Ok(TestReport {
            issuer: meta.issuer().to_string(),
            keys: meta.jwks().keys().len(),
            authorization_endpoint: meta.authorization_endpoint().to_string(),
            end_session: meta.additional_metadata().end_session_endpoint.is_some(),
        })
    }

    /// Forgets an issuer's cached metadata (its provider was edited).
    pub fn forget(&self, issuer: &str) {
        self.cache.forget(issuer);
    }

    /// The OP's RP-initiated logout URL (none when it offers none), with the
    /// ID token the sign-in gave as `id_token_hint`, our client id, and where
    /// the OP sends the browser back (registered at the OP).
    pub async fn logout_url(
        &self,
        cfg: &RpConfig,
        id_token: Option<&str>,
        post_logout_redirect: &str,
    ) -> Result<Option<String>, OidcError> {
        let meta = self.cache.get(&self.http, &cfg.issuer).await?;
        let Some(end) = &meta.additional_metadata().end_session_endpoint else {
            return Ok(None);
        };
        let end = EndSessionUrl::new(end.clone())
            .map_err(|e| OidcError::Discovery(format!("end_session_endpoint: {e}")))?;
        let back = PostLogoutRedirectUrl::new(post_logout_redirect.to_string())
            .map_err(|e| OidcError::Config(format!("post-logout redirect: {e}")))?;
        let mut req = LogoutRequest::from(end)
            .set_client_id(ClientId::new(cfg.client_id.clone()))
            .set_post_logout_redirect_uri(back);
        if let Some(raw) = id_token {
            let token: flow::Token = raw
                .parse()
                .map_err(|e| OidcError::IdToken(format!("malformed: {e}")))?;
            req = req.set_id_token_hint(&token);
        }
        let url = req.http_get_url();
        Ok(Some(url.to_string()))
    }
}

/// An error and its causes, on one line.
pub(crate) fn describe(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}
