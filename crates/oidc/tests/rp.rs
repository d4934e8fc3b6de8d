//! The relying party against a scripted fake OP: the happy path and every
//! negative case the issue lists, each failing for its own reason.

mod support;

use portal_oidc::{Callback, OidcError, Step};
use serde_json::json;
use support::*;

fn id_token_error(r: Result<portal_oidc::Identity, OidcError>, needle: &str) {
    match r {
        Err(OidcError::IdToken(m)) => assert!(
            m.to_lowercase().contains(&needle.to_lowercase()),
            "expected {needle:?} in {m:?}"
        ),
        other => panic!("expected an ID-token error ({needle}), got {other:?}"),
    }
}

#[tokio::test]
async fn signs_in_with_pkce_and_reads_groups() {
    let op = FakeOp::start().await;
    let rp = rp();
    let k = key(KEY_A, Some("k1"));
    let id = sign_in(&op, &rp, false, |n| sign(&op.claims(n), &k))
        .await
        .unwrap();
    assert_eq!(id.subject, "user-1");
    assert_eq!(id.issuer, op.issuer);
    assert_eq!(id.email.as_deref(), Some("ada@example.com"));
    assert!(id.email_verified);
    assert_eq!(id.id_token_claims["groups"], json!(["portal-operators"]));
    assert!(id.userinfo_claims.is_none());
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_refused_by_the_op() {
    let op = FakeOp::start().await;
    let rp = rp();
    let k = key(KEY_A, Some("k1"));
    let started = rp.begin(&cfg(&op)).await.unwrap();
    op.set(|s| {
        s.challenges.insert("c".into(), "not-the-challenge".into());
        s.id_token = Some(sign(&op.claims(&started.pending.nonce), &k));
    });
    let cb = Callback {
        code: "c".into(),
        state: started.pending.state.clone(),
        iss: None,
    };
    let r = finish(&rp, &op, &started.pending, &cb, false).await;
    assert!(matches!(r, Err(OidcError::Token(_))), "{r:?}");
}

#[tokio::test]
async fn wrong_iss_claim() {
    let op = FakeOp::start().await;
    let rp = rp();
    let k = key(KEY_A, Some("k1"));
    let r = sign_in(&op, &rp, false, |n| {
        let mut c = op.claims(n);
        c = c.set_issuer(openidconnect::IssuerUrl::new("http://127.0.0.1:9/other".into()).unwrap());
        sign(&c, &k)
    })
    .await;
    id_token_error(r, "issuer");
}

#[tokio::test]
async fn wrong_aud() {
    let op = FakeOp::start().await;
    let rp = rp();
    let k = key(KEY_A, Some("k1"));
    let r = sign_in(&op, &rp, false, |n| {
        let c = op
            .claims(n)
            .set_audiences(vec![openidconnect::Audience::new("someone-else".into())]);
        sign(&c, &k)
    })
    .await;
    id_token_error(r, "audience");
}

#[tokio::test]
async fn bad_nonce() {
    let op = FakeOp::start().await;
    let rp = rp();
    let k = key(KEY_A, Some("k1"));
    let r = sign_in(&op, &rp, false, |_| sign(&op.claims("another-nonce"), &k)).await;
    id_token_error(r, "nonce");
}

#[tokio::test]
async fn bad_signature() {
    let op = FakeOp::start().await;
    let rp = rp();
    // Signed by key B under key A's id.
    let forged = key(KEY_B, Some("k1"));
    let r = sign_in(&op, &rp, false, |n| sign(&op.claims(n), &forged)).await;
    id_token_error(r, "signature");
}

#[tokio::test]
async fn alg_none_is_refused() {
    let op = FakeOp::start().await;
    let rp = rp();
    let r = sign_in(&op, &rp, false, |n| unsigned(&op.claims(n))).await;
    assert!(matches!(r, Err(OidcError::IdToken(_))), "{r:?}");
}

#[tokio::test]
async fn expiry_has_sixty_seconds_of_leeway() {
    let op = FakeOp::start().await;
    let rp = rp();
    let k = key(KEY_A, Some("k1"));
    let ago = |secs| chrono::Utc::now() - chrono::Duration::seconds(secs);
    let within = sign_in(&op, &rp, false, |n| {
        sign(&op.claims(n).set_expiration(ago(30)), &k)
    })
    .await;
    assert!(within.is_ok(), "{within:?}");
    let past = sign_in(&op, &rp, false, |n| {
        sign(&op.claims(n).set_expiration(ago(90)), &k)
    })
    .await;
    id_token_error(past, "expired");
}

#[tokio::test]
async fn a_missing_kid_with_several_keys_is_refused() {
    let op = FakeOp::start().await;
    let rp = rp();
    op.set(|s| {
        s.keys = vec![
            public(&key(KEY_A, Some("k1"))),
            public(&key(KEY_B, Some("k2"))),
        ]
    });
    let no_kid = key(KEY_A, None);
    let r = sign_in(&op, &rp, false, |n| sign(&op.claims(n), &no_kid)).await;
    id_token_error(r, "ambiguous");
}

#[tokio::test]
async fn key_rotation_refetches_once_and_is_rate_limited() {
    let op = FakeOp::start().await;
    let rp = rp();
    let a = key(KEY_A, Some("k1"));
    sign_in(&op, &rp, false, |n| sign(&op.claims(n), &a))
        .await
        .unwrap();
    let fetched = op.script.lock().unwrap().jwks_fetches;
    // The OP rotates to key B; the cached set knows only A.
    let b = key(KEY_B, Some("k2"));
    op.set(|s| s.keys = vec![public(&b)]);
    let id = sign_in(&op, &rp, false, |n| sign(&op.claims(n), &b))
        .await
        .unwrap();
    assert_eq!(id.subject, "user-1");
    assert_eq!(op.script.lock().unwrap().jwks_fetches, fetched + 1);
    // Another unknown key right away: no second refetch, refused.
    let c = key(KEY_A, Some("k3"));
    let r = sign_in(&op, &rp, false, |n| sign(&op.claims(n), &c)).await;
    id_token_error(r, "does not publish");
    assert_eq!(op.script.lock().unwrap().jwks_fetches, fetched + 1);
}

#[tokio::test]
async fn userinfo_with_another_sub_is_refused() {
    let op = FakeOp::start().await;
    let rp = rp();
    let k = key(KEY_A, Some("k1"));
    op.set(|s| s.userinfo = json!({"sub": "user-2", "groups": ["portal-admins"]}));
    let r = sign_in(&op, &rp, true, |n| sign(&op.claims(n), &k)).await;
    assert!(matches!(r, Err(OidcError::Userinfo(_))), "{r:?}");
    op.set(|s| s.userinfo = json!({"sub": "user-1", "groups": ["portal-admins"]}));
    let id = sign_in(&op, &rp, true, |n| sign(&op.claims(n), &k))
        .await
        .unwrap();
    assert_eq!(
        id.userinfo_claims.unwrap()["groups"],
        json!(["portal-admins"])
    );
}

#[tokio::test]
async fn discovery_naming_another_issuer_is_refused() {
    let op = FakeOp::start().await;
    let rp = rp();
    op.set(|s| s.discovery_issuer = Some("https://evil.example".into()));
    let r = rp.begin(&cfg(&op)).await;
    assert!(matches!(r, Err(OidcError::Discovery(_))), "{r:?}");
    let t = rp.test(&op.issuer).await;
    assert!(matches!(t, Err((Step::Discovery, _))), "{t:?}");
}

#[tokio::test]
async fn test_connection_names_the_failing_step() {
    let op = FakeOp::start().await;
    let rp = rp();
    let ok = rp.test(&op.issuer).await.unwrap();
    assert_eq!(ok.keys, 1);
    assert!(ok.end_session);
    op.set(|s| s.jwks_missing = true);
    let t = rp.test(&op.issuer).await;
    assert!(matches!(t, Err((Step::Jwks, _))), "{t:?}");
    let t = rp.test("http://127.0.0.1:1/nothing-here").await;
    assert!(matches!(t, Err((Step::Discovery, _))), "{t:?}");
}

#[tokio::test]
async fn rfc9207_iss_parameter_is_checked() {
    let op = FakeOp::start().await;
    let rp = rp();
    let k = key(KEY_A, Some("k1"));
    let started = rp.begin(&cfg(&op)).await.unwrap();
    op.set(|s| s.id_token = Some(sign(&op.claims(&started.pending.nonce), &k)));
    let cb = Callback {
        code: "c".into(),
        state: started.pending.state.clone(),
        iss: Some("https://mix-up.example".into()),
    };
    let r = finish(&rp, &op, &started.pending, &cb, false).await;
    assert!(matches!(r, Err(OidcError::Issuer(_))), "{r:?}");
    // An OP that promises `iss` must send it.
    let op2 = FakeOp::start().await;
    op2.set(|s| s.promises_iss = true);
    let started = rp.begin(&cfg(&op2)).await.unwrap();
    let cb = Callback {
        code: "c".into(),
        state: started.pending.state.clone(),
        iss: None,
    };
    let r = finish(&rp, &op2, &started.pending, &cb, false).await;
    assert!(matches!(r, Err(OidcError::Issuer(_))), "{r:?}");
}

#[tokio::test]
async fn a_state_that_is_not_this_browsers_is_refused() {
    let op = FakeOp::start().await;
    let rp = rp();
    let started = rp.begin(&cfg(&op)).await.unwrap();
    let cb = Callback {
        code: "c".into(),
        state: "forged".into(),
        iss: Some(op.issuer.clone()),
    };
    let r = finish(&rp, &op, &started.pending, &cb, false).await;
    assert!(matches!(r, Err(OidcError::State)), "{r:?}");
}

#[tokio::test]
async fn the_outbound_guard_applies_to_every_op_url() {
    let op = FakeOp::start().await;
    let policy = portal_core::outbound::OutboundPolicy {
        allow: vec![],
        allow_http: true,
    };
    let guarded = portal_webhooks::GuardedClient::new(
        policy,
        std::time::Duration::from_secs(5),
        std::sync::Arc::new(portal_webhooks::SystemLookup),
    )
    .unwrap();
    let rp = portal_oidc::Rp::new(guarded);
    let t = rp.test(&op.issuer).await;
    match t {
        Err((Step::Discovery, m)) => assert!(m.contains("outbound guard"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn hs256_signed_with_the_client_secret_is_refused() {
    use openidconnect::core::{CoreHmacKey, CoreJweContentEncryptionAlgorithm};
    use openidconnect::IdToken;
    let op = FakeOp::start().await;
    let rp = rp();
    // The client secret is what an HS256 token would be keyed with: anyone
    // holding it could mint identities, so the allowlist has no HS*.
    let hmac = CoreHmacKey::new(b"s3cret".to_vec());
    let r = sign_in(&op, &rp, false, |n| {
        IdToken::<_, _, CoreJweContentEncryptionAlgorithm, _>::new(
            op.claims(n),
            &hmac,
            openidconnect::core::CoreJwsSigningAlgorithm::HmacSha256,
            None,
            None,
        )
        .unwrap()
        .to_string()
    })
    .await;
    id_token_error(r, "algorithm");
}

#[tokio::test]
async fn logout_url_carries_the_id_token_hint_and_the_way_back() {
    let op = FakeOp::start().await;
    let rp = rp();
    let k = key(KEY_A, Some("k1"));
    let id = sign_in(&op, &rp, false, |n| sign(&op.claims(n), &k))
        .await
        .unwrap();
    let url = rp
        .logout_url(&cfg(&op), Some(&id.id_token), "http://127.0.0.1:1/login")
        .await
        .unwrap()
        .expect("the OP offers logout");
    let url = reqwest::Url::parse(&url).unwrap();
    assert_eq!(url.path(), "/logout");
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["id_token_hint"], id.id_token);
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["post_logout_redirect_uri"], "http://127.0.0.1:1/login");
    assert!(rp
        .logout_url(&cfg(&op), Some("not.a.token"), "http://127.0.0.1:1/login")
        .await
        .is_err());
    // An OP without `end_session_endpoint`: none.
    let plain = FakeOp::start().await;
    plain.set(|s| s.no_end_session = true);
    assert_eq!(
        rp.logout_url(&cfg(&plain), None, "http://127.0.0.1:1/login")
            .await
            .unwrap(),
        None
    );
}
