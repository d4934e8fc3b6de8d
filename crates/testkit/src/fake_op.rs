//! A scripted fake OpenID Provider: a small HTTP server on port 0 serving
//! discovery, a key set, an authorization endpoint that signs the scripted
//! person in at once, a token endpoint (which checks PKCE) and userinfo,
//! each answering what the test scripted. Tests only (this crate never
//! reaches the portal binary).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AdditionalClaims, Audience, EndUserEmail, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId,
    Nonce, PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Claims beyond the standard ones (`groups`, a tenant claim).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Extra {
    /// The claims, by name.
    #[serde(flatten)]
    pub map: Map<String, Value>,
}

impl AdditionalClaims for Extra {}

/// The claims the fake OP signs.
pub type Claims = IdTokenClaims<Extra, CoreGenderClaim>;

/// Makes the ID token for a sign-in from its nonce.
pub type Minter = Box<dyn Fn(&str) -> String + Send>;

pub const KEY_A: &str = include_str!("../keys/rsa-a.pem");
pub const KEY_B: &str = include_str!("../keys/rsa-b.pem");
pub const CLIENT_ID: &str = "portal-test";

pub fn key(pem: &str, kid: Option<&str>) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, kid.map(|k| JsonWebKeyId::new(k.into())))
        .expect("test key")
}

pub fn public(k: &CoreRsaPrivateSigningKey) -> CoreJsonWebKey {
    k.as_verification_key()
}

/// What the fake OP answers.
#[derive(Default)]
#[allow(missing_docs)]
pub struct Script {
    /// The issuer its discovery document names (default: its own URL).
    pub discovery_issuer: Option<String>,
    /// The keys it publishes.
    pub keys: Vec<CoreJsonWebKey>,
    /// Key-set fetches so far.
    pub jwks_fetches: usize,
    /// 404 on the key set.
    pub jwks_missing: bool,
    /// The ID token the token endpoint returns next.
    pub id_token: Option<String>,
    /// Userinfo's answer.
    pub userinfo: Value,
    /// PKCE challenges by code (the test registers one per sign-in).
    pub challenges: HashMap<String, String>,
    /// `authorization_response_iss_parameter_supported`.
    pub promises_iss: bool,
    /// The ID token `/authorize` mints for the person it signs in at once.
    pub on_authorize: Option<Minter>,
    /// Leave `iss` out of the authorization response.
    pub omit_iss: bool,
    /// Offer no RP-initiated logout (no `end_session_endpoint`).
    pub no_end_session: bool,
    /// The client secret the token endpoint demands (HTTP Basic, as
    /// `client_secret_basic`); `None`: any client authentication.
    pub client_secret: Option<String>,
}

#[derive(Clone)]
pub struct FakeOp {
    pub issuer: String,
    pub script: Arc<Mutex<Script>>,
}

async fn discovery(State(op): State<FakeOp>) -> Response {
    let s = op.script.lock().unwrap();
    let iss = s.discovery_issuer.clone().unwrap_or(op.issuer.clone());
    let end_session = (!s.no_end_session).then(|| format!("{}/logout", op.issuer));
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{}/authorize", op.issuer),
        "token_endpoint": format!("{}/token", op.issuer),
        "userinfo_endpoint": format!("{}/userinfo", op.issuer),
        "jwks_uri": format!("{}/jwks", op.issuer),
        "end_session_endpoint": end_session,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "authorization_response_iss_parameter_supported": s.promises_iss,
    }))
    .into_response()
}

async fn jwks(State(op): State<FakeOp>) -> Response {
    let mut s = op.script.lock().unwrap();
    s.jwks_fetches += 1;
    if s.jwks_missing {
        return StatusCode::NOT_FOUND.into_response();
    }
    Json(json!({ "keys": s.keys })).into_response()
}

async fn token(
    State(op): State<FakeOp>,
    headers: axum::http::HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let s = op.script.lock().unwrap();
    if let Some(secret) = &s.client_secret {
        let b64 = base64::engine::general_purpose::STANDARD;
        let want = format!("Basic {}", b64.encode(format!("{CLIENT_ID}:{secret}")));
        let got = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if got != Some(want.as_str()) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "invalid_client"})),
            )
                .into_response();
        }
    }
    let (Some(code), Some(verifier)) = (f.get("code"), f.get("code_verifier")) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_request"})),
        )
            .into_response();
    };
    let digest = openidconnect::PkceCodeChallenge::from_code_verifier_sha256(
        &openidconnect::PkceCodeVerifier::new(verifier.clone()),
    );
    if s.challenges.get(code) != Some(digest.as_str().to_string()).as_ref() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    Json(json!({
        "access_token": "at-1",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": s.id_token.clone().unwrap_or_default(),
    }))
    .into_response()
}

/// `/authorize`: signs the scripted person in at once and redirects back
/// with a code (its PKCE challenge and ID token registered for `/token`).
async fn authorize(State(op): State<FakeOp>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut s = op.script.lock().unwrap();
    let (Some(redirect), Some(state), Some(nonce), Some(challenge)) = (
        q.get("redirect_uri"),
        q.get("state"),
        q.get("nonce"),
        q.get("code_challenge"),
    ) else {
        return (StatusCode::BAD_REQUEST, "missing parameters").into_response();
    };
    let Some(mint) = &s.on_authorize else {
        return (StatusCode::BAD_REQUEST, "nobody to sign in").into_response();
    };
    let token = mint(nonce);
    let code = format!("code-{}", s.challenges.len() + 1);
    s.challenges.insert(code.clone(), challenge.clone());
    s.id_token = Some(token);
    let mut url = reqwest::Url::parse(redirect).unwrap();
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", state);
    if !s.omit_iss {
        url.query_pairs_mut().append_pair("iss", &op.issuer);
    }
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

async fn userinfo(State(op): State<FakeOp>) -> Response {
    Json(op.script.lock().unwrap().userinfo.clone()).into_response()
}

impl FakeOp {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let op = FakeOp {
            issuer: format!("http://{addr}"),
            script: Arc::new(Mutex::new(Script {
                keys: vec![public(&key(KEY_A, Some("k1")))],
                ..Script::default()
            })),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(op.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        op
    }

    /// From now on `/authorize` signs in this person (key A, `kid` k1).
    pub fn sign_in_as(&self, sub: &str, email: &str, verified: bool, groups: &[&str]) {
        let issuer = self.issuer.clone();
        let (sub, email) = (sub.to_string(), email.to_string());
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        let k = key(KEY_A, Some("k1"));
        self.set(move |s| {
            s.on_authorize = Some(Box::new(move |nonce| {
                let now = chrono::Utc::now();
                let mut extra = Map::new();
                extra.insert("groups".into(), json!(groups));
                let c = Claims::new(
                    IssuerUrl::new(issuer.clone()).unwrap(),
                    vec![Audience::new(CLIENT_ID.into())],
                    now + chrono::Duration::seconds(300),
                    now,
                    StandardClaims::new(SubjectIdentifier::new(sub.clone()))
                        .set_email(Some(EndUserEmail::new(email.clone())))
                        .set_email_verified(Some(verified)),
                    Extra { map: extra },
                )
                .set_nonce(Some(Nonce::new(nonce.into())));
                sign(&c, &k)
            }))
        });
    }

    pub fn set(&self, f: impl FnOnce(&mut Script)) {
        f(&mut self.script.lock().unwrap());
    }

    /// Claims a well-behaved OP would sign for `nonce`.
    pub fn claims(&self, nonce: &str) -> IdTokenClaims<Extra, CoreGenderClaim> {
        let now = chrono::Utc::now();
        let mut extra = Map::new();
        extra.insert("groups".into(), json!(["portal-operators"]));
        IdTokenClaims::new(
            IssuerUrl::new(self.issuer.clone()).unwrap(),
            vec![Audience::new(CLIENT_ID.into())],
            now + chrono::Duration::seconds(300),
            now,
            StandardClaims::new(SubjectIdentifier::new("user-1".into()))
                .set_email(Some(EndUserEmail::new("ada@example.com".into())))
                .set_email_verified(Some(true)),
            Extra { map: extra },
        )
        .set_nonce(Some(Nonce::new(nonce.into())))
    }
}

pub fn sign(
    claims: &IdTokenClaims<Extra, CoreGenderClaim>,
    k: &CoreRsaPrivateSigningKey,
) -> String {
    IdToken::<Extra, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, _>::new(
        claims.clone(),
        k,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .unwrap()
    .to_string()
}

/// A token with `alg: none` and no signature (built by hand: no library makes one).
pub fn unsigned(claims: &IdTokenClaims<Extra, CoreGenderClaim>) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = b64.encode(serde_json::to_vec(claims).unwrap());
    format!("{header}.{body}.")
}
