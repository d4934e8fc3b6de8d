//! A scripted fake OpenID Provider for the relying party's negative cases: a
//! small HTTP server on port 0 serving discovery, a key set, a token endpoint
//! (which checks PKCE) and userinfo, each answering what the test scripted.
//! Tests only; the portal binary never links it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, EndUserEmail, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId, Nonce,
    PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use portal_core::outbound::{AllowEntry, OutboundPolicy};
use portal_oidc::{AllClaims, Callback, Pending, Rp, RpConfig};
use portal_webhooks::{GuardedClient, SystemLookup};
use serde_json::{json, Map, Value};

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
}

#[derive(Clone)]
pub struct FakeOp {
    pub issuer: String,
    pub script: Arc<Mutex<Script>>,
}

async fn discovery(State(op): State<FakeOp>) -> Response {
    let s = op.script.lock().unwrap();
    let iss = s.discovery_issuer.clone().unwrap_or(op.issuer.clone());
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{}/authorize", op.issuer),
        "token_endpoint": format!("{}/token", op.issuer),
        "userinfo_endpoint": format!("{}/userinfo", op.issuer),
        "jwks_uri": format!("{}/jwks", op.issuer),
        "end_session_endpoint": format!("{}/logout", op.issuer),
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

async fn token(State(op): State<FakeOp>, Form(f): Form<HashMap<String, String>>) -> Response {
    let s = op.script.lock().unwrap();
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
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(op.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        op
    }

    pub fn cfg(&self) -> RpConfig {
        RpConfig {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: Some("s3cret".into()),
            redirect_uri: "http://127.0.0.1:1/auth/sso/callback".into(),
            scopes: vec!["email".into(), "profile".into()],
        }
    }

    pub fn set(&self, f: impl FnOnce(&mut Script)) {
        f(&mut self.script.lock().unwrap());
    }

    /// Claims a well-behaved OP would sign for `nonce`.
    pub fn claims(&self, nonce: &str) -> IdTokenClaims<AllClaims, CoreGenderClaim> {
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
            AllClaims { map: extra },
        )
        .set_nonce(Some(Nonce::new(nonce.into())))
    }
}

pub fn sign(
    claims: &IdTokenClaims<AllClaims, CoreGenderClaim>,
    k: &CoreRsaPrivateSigningKey,
) -> String {
    IdToken::<AllClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, _>::new(
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
pub fn unsigned(claims: &IdTokenClaims<AllClaims, CoreGenderClaim>) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = b64.encode(serde_json::to_vec(claims).unwrap());
    format!("{header}.{body}.")
}

/// The relying party, allowed to reach loopback over plain http (as tests set
/// `PORTAL_OUTBOUND_ALLOW`).
pub fn rp() -> Rp {
    let policy = OutboundPolicy {
        allow: vec![AllowEntry::parse("127.0.0.1").unwrap()],
        allow_http: true,
    };
    Rp::new(GuardedClient::new(policy, Duration::from_secs(5), Arc::new(SystemLookup)).unwrap())
}

/// One sign-in: begin, register the PKCE challenge under a code, script the
/// token the OP will return (built from the nonce), finish.
pub async fn sign_in(
    op: &FakeOp,
    rp: &Rp,
    userinfo: bool,
    token: impl FnOnce(&str) -> String,
) -> Result<portal_oidc::Identity, portal_oidc::OidcError> {
    let cfg = op.cfg();
    let started = rp.begin(&cfg).await?;
    let url = reqwest::Url::parse(&started.url).unwrap();
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(
        q.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert_eq!(q.get("state"), Some(&started.pending.state));
    assert_eq!(q.get("nonce"), Some(&started.pending.nonce));
    let code = format!("code-{}", started.pending.state);
    op.set(|s| {
        s.challenges
            .insert(code.clone(), q["code_challenge"].clone());
        s.id_token = Some(token(&started.pending.nonce));
    });
    let cb = Callback {
        code,
        state: started.pending.state.clone(),
        iss: Some(op.issuer.clone()),
    };
    finish(rp, op, &started.pending, &cb, userinfo).await
}

pub async fn finish(
    rp: &Rp,
    op: &FakeOp,
    pending: &Pending,
    cb: &Callback,
    userinfo: bool,
) -> Result<portal_oidc::Identity, portal_oidc::OidcError> {
    rp.finish(&op.cfg(), pending, cb, userinfo).await
}
