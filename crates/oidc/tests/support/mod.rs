//! The relying party's side of the fake-OP tests.

pub use portal_testkit::fake_op::*;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use portal_core::outbound::{AllowEntry, OutboundPolicy};
use portal_oidc::{Callback, Pending, Rp, RpConfig};
use portal_webhooks::{GuardedClient, SystemLookup};

/// The relying party's registration at `op`.
pub fn cfg(op: &FakeOp) -> RpConfig {
    RpConfig {
        issuer: op.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: Some("s3cret".into()),
        redirect_uri: "http://127.0.0.1:1/auth/sso/callback".into(),
        scopes: vec!["email".into(), "profile".into()],
    }
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
    let cfg = cfg(op);
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
    rp.finish(&cfg(op), pending, cb, userinfo).await
}
