//! The authorization code flow with PKCE (S256): the authorization URL with
//! fresh `state` and `nonce`, then the callback's checks (state, RFC 9207
//! `iss`), the code exchange, the ID token's checks (signature by an allowed
//! asymmetric algorithm, issuer, audience, nonce, expiry with 60 s leeway)
//! and, when asked, userinfo (its `sub` must be the ID token's).

use std::time::Duration;

use openidconnect::core::{CoreClient, CoreGenderClaim, CoreJwsSigningAlgorithm, CoreResponseType};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IdToken, IdTokenVerifier, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::meta::Metadata;
use crate::{describe, OidcError, Rp};

/// Clock skew tolerated on `exp`.
pub const LEEWAY: Duration = Duration::from_secs(60);

/// The algorithms an ID token may be signed with: asymmetric only (never
/// `none`, never HS*, whose key would be the client secret).
pub const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// One relying-party registration at one OP.
#[derive(Debug, Clone)]
pub struct RpConfig {
    /// The issuer, exactly as the OP names itself.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The client secret (none: a public client).
    pub client_secret: Option<String>,
    /// The exact redirect URI registered at the OP.
    pub redirect_uri: String,
    /// Scopes besides `openid`.
    pub scopes: Vec<String>,
}

/// What the browser must bring back to the callback (kept in its cookie).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The `state` sent.
    pub state: String,
    /// The `nonce` sent.
    pub nonce: String,
    /// The PKCE verifier.
    pub verifier: String,
}

/// A started sign-in: where to send the browser, and what it must bring back.
#[derive(Debug, Clone)]
pub struct Started {
    /// The authorization URL.
    pub url: String,
    /// The values bound to the browser.
    pub pending: Pending,
}

/// The callback's query parameters.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    /// `code`.
    pub code: String,
    /// `state`.
    pub state: String,
    /// RFC 9207 `iss`, when the OP sent it.
    pub iss: Option<String>,
}

/// Every claim of the ID token (and userinfo), standard and not.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AllClaims {
    /// The claims, by name.
    #[serde(flatten)]
    pub map: Map<String, Value>,
}

impl AdditionalClaims for AllClaims {}

/// The signed-in person as the OP vouched for them.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The issuer.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `email`, when given.
    pub email: Option<String>,
    /// `email_verified` (absent: false).
    pub email_verified: bool,
    /// `name`, when given.
    pub name: Option<String>,
    /// The ID token's claims.
    pub id_token_claims: Map<String, Value>,
    /// Userinfo's claims, when it was asked.
    pub userinfo_claims: Option<Map<String, Value>>,
    /// The ID token as the OP sent it (kept, sealed, as RP-initiated
    /// logout's `id_token_hint`).
    pub id_token: String,
}

pub(crate) type Token = IdToken<
    AllClaims,
    CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

fn client(
    meta: Metadata,
    cfg: &RpConfig,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    OidcError,
> {
    let redirect = RedirectUrl::new(cfg.redirect_uri.clone())
        .map_err(|e| OidcError::Config(format!("redirect URI: {e}")))?;
    Ok(CoreClient::from_provider_metadata(
        meta,
        ClientId::new(cfg.client_id.clone()),
        cfg.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect))
}

impl Rp {
    /// Starts a sign-in: the OP's authorization URL and the values the
    /// browser must bring back.
    pub async fn begin(&self, cfg: &RpConfig) -> Result<Started, OidcError> {
        let meta = self.cache.get(&self.http, &cfg.issuer).await?;
        let client = client(meta, cfg)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(
                cfg.scopes
                    .iter()
                    .filter(|s| s.as_str() != "openid")
                    .map(|s| Scope::new(s.clone())),
            )
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            pending: Pending {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
            },
        })
    }

    /// Finishes a sign-in: checks the callback against what the browser
    /// brought back, exchanges the code and checks what the OP answered.
    pub async fn finish(
        &self,
        cfg: &RpConfig,
        pending: &Pending,
        cb: &Callback,
        userinfo: bool,
    ) -> Result<Identity, OidcError> {
        if !portal_core::crypto::constant_time_eq(cb.state.as_bytes(), pending.state.as_bytes()) {
            return Err(OidcError::State);
        }
        let meta = self.cache.get(&self.http, &cfg.issuer).await?;
        // RFC 9207: an `iss` that is not our issuer is a mix-up; an OP that
        // promised to send it must.
        let promised = meta
            .additional_metadata()
            .authorization_response_iss_parameter_supported
            .unwrap_or(false);
        match &cb.iss {
            Some(iss) if iss != meta.issuer().as_str() => {
                return Err(OidcError::Issuer(format!(
                    "the authorization response came from {iss:?}, not {:?}",
                    meta.issuer().as_str()
                )))
            }
            None if promised => {
                return Err(OidcError::Issuer(
                    "the OP promised an iss parameter and sent none".into(),
                ))
            }
            _ => {}
        }
        let client = client(meta.clone(), cfg)?;
        let token = client
            .exchange_code(AuthorizationCode::new(cb.code.clone()))
            .map_err(|e| OidcError::Token(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Token(describe(&e)))?;
        let raw = token
            .id_token()
            .ok_or_else(|| OidcError::IdToken("the token response has no ID token".into()))?
            .to_string();
        let id_token: Token = raw
            .parse()
            .map_err(|e| OidcError::IdToken(format!("malformed: {e}")))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match self.verify(cfg, &meta, &id_token, &nonce, None) {
            Err(VerifyFailure::UnknownKey) => {
                // The OP may have rotated its keys: fetch them once more.
                match self
                    .cache
                    .refetch_keys(&self.http, &cfg.issuer, &meta)
                    .await?
                {
                    Some(keys) => self
                        .verify(cfg, &meta, &id_token, &nonce, Some(keys))
                        .map_err(VerifyFailure::into_error)?,
                    None => return Err(VerifyFailure::UnknownKey.into_error()),
                }
            }
            other => other.map_err(VerifyFailure::into_error)?,
        };
        let subject = claims.subject().to_string();
        let id_map = claims.additional_claims().map.clone();
        let mut email = claims.email().map(|e| e.to_string());
        let mut email_verified = claims.email_verified().unwrap_or(false);
        let mut name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string());
        let userinfo_claims = if userinfo {
            let info: UserInfoClaims<AllClaims, CoreGenderClaim> = client
                .user_info(token.access_token().clone(), Some(claims.subject().clone()))
                .map_err(|e| OidcError::Userinfo(e.to_string()))?
                .request_async(&self.http)
                .await
                .map_err(|e| OidcError::Userinfo(describe(&e)))?;
            // Userinfo's profile claims are the fresher ones.
            if let Some(e) = info.email() {
                email = Some(e.to_string());
                email_verified = info.email_verified().unwrap_or(false);
            }
            if let Some(n) = info.name().and_then(|n| n.get(None)) {
                name = Some(n.to_string());
            }
            Some(info.additional_claims().map.clone())
        } else {
            None
        };
        Ok(Identity {
            issuer: meta.issuer().to_string(),
            subject,
            email,
            email_verified,
            name,
            id_token_claims: id_map,
            userinfo_claims,
            id_token: raw,
        })
    }

    fn verify<'t>(
        &self,
        cfg: &RpConfig,
        meta: &Metadata,
        token: &'t Token,
        nonce: &Nonce,
        keys: Option<openidconnect::core::CoreJsonWebKeySet>,
    ) -> Result<&'t openidconnect::IdTokenClaims<AllClaims, CoreGenderClaim>, VerifyFailure> {
        let issuer =
            IssuerUrl::new(cfg.issuer.clone()).map_err(|e| VerifyFailure::Other(e.to_string()))?;
        let keys = keys.unwrap_or_else(|| meta.jwks().clone());
        let verifier =
            IdTokenVerifier::new_public_client(ClientId::new(cfg.client_id.clone()), issuer, keys)
                .set_allowed_algs(ALLOWED_ALGS)
                .set_time_fn(|| {
                    chrono::Utc::now() - chrono::Duration::seconds(LEEWAY.as_secs() as i64)
                });
        token.claims(&verifier, nonce).map_err(|e| {
            use openidconnect::{ClaimsVerificationError as C, SignatureVerificationError as S};
            match e {
                C::SignatureVerification(S::NoMatchingKey) => VerifyFailure::UnknownKey,
                other => VerifyFailure::Other(describe(&other)),
            }
        })
    }
}

enum VerifyFailure {
    UnknownKey,
    Other(String),
}

impl VerifyFailure {
    fn into_error(self) -> OidcError {
        match self {
            VerifyFailure::UnknownKey => {
                OidcError::IdToken("signed with a key the OP does not publish".into())
            }
            VerifyFailure::Other(m) => OidcError::IdToken(m),
        }
    }
}
