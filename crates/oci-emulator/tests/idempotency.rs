//! `opc-retry-token` on POST creates over real HTTP: the same token and body
//! give the first result again without a duplicate, another body is 409
//! `InvalidatedRetryToken`, tokens are per principal and expire.

mod common;

use std::time::Duration;

use common::{client_for, config, serve, service_error, start, TestEmu};
use portal_oci::signer::{PrivateKey, RequestSigner};
use portal_oci::{ClientOptions, OciClient, RequestOptions, Service};
use portal_oci_emulator::Emulator;
use serde_json::{json, Value};

const NET: Service = Service::VIRTUAL_NETWORK;

fn token(t: &str) -> RequestOptions {
    RequestOptions::default().retry_token(t)
}

async fn create_vcn(
    client: &OciClient,
    body: &Value,
    opts: &RequestOptions,
) -> Result<Value, portal_oci::OciError> {
    client
        .send(
            http::Method::POST,
            &NET,
            "/vcns",
            &[],
            Some(body.clone()),
            opts,
        )
        .await
        .map(|r| r.body)
}

async fn vcns_named(t: &TestEmu, compartment: &str, name: &str) -> usize {
    t.list_all(
        &NET,
        "/vcns",
        &[("compartmentId", compartment), ("displayName", name)],
    )
    .await
    .len()
}

#[tokio::test]
async fn same_token_same_body_replays_and_other_body_conflicts() {
    let t = start(0).await;
    let prod = t.compartment("Production").await;
    let body = json!({"compartmentId": prod, "cidrBlock": "10.60.0.0/16", "displayName": "idem"});

    let first = create_vcn(&t.client, &body, &token("tok-1")).await.unwrap();
    let again = create_vcn(&t.client, &body, &token("tok-1")).await.unwrap();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(vcns_named(&t, &prod, "idem").await, 1);

    // Same token, different body: 409, nothing created.
    let other = json!({"compartmentId": prod, "cidrBlock": "10.61.0.0/16", "displayName": "idem"});
    let e = create_vcn(&t.client, &other, &token("tok-1"))
        .await
        .unwrap_err();
    let (status, code, _) = service_error(e);
    assert_eq!((status, code.as_str()), (409, "InvalidatedRetryToken"));
    assert_eq!(vcns_named(&t, &prod, "idem").await, 1);

    // A new token, or none, creates another VCN.
    let second = create_vcn(&t.client, &other, &token("tok-2"))
        .await
        .unwrap();
    assert_ne!(second["id"], first["id"]);
    let third = create_vcn(
        &t.client,
        &json!({"compartmentId": prod, "cidrBlock": "10.62.0.0/16", "displayName": "idem"}),
        &RequestOptions::default(),
    )
    .await
    .unwrap();
    assert_ne!(third["id"], second["id"]);
    assert_eq!(vcns_named(&t, &prod, "idem").await, 3);

    // A failed request does not use the token up: after fixing the body it runs.
    let bad = json!({"compartmentId": prod, "cidrBlock": "not-a-cidr", "displayName": "idem-late"});
    assert_eq!(
        service_error(
            create_vcn(&t.client, &bad, &token("tok-3"))
                .await
                .unwrap_err()
        )
        .0,
        400
    );
    let good =
        json!({"compartmentId": prod, "cidrBlock": "10.63.0.0/16", "displayName": "idem-late"});
    create_vcn(&t.client, &good, &token("tok-3")).await.unwrap();
    assert_eq!(vcns_named(&t, &prod, "idem-late").await, 1);

    // Over-long tokens are refused.
    let e = create_vcn(&t.client, &good, &token(&"x".repeat(65)))
        .await
        .unwrap_err();
    assert_eq!(service_error(e).0, 400);
}

#[tokio::test]
async fn tokens_are_per_principal_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), 0);
    cfg.retry_token_ttl = Duration::from_millis(1500);
    let emu = Emulator::open(cfg).unwrap();
    let (base, _stop) = serve(&emu).await;
    let client = client_for(&emu, &base, 1);

    // A second user of the same tenancy (the demo key registered under another keyId).
    let public = std::fs::read_to_string(emu.dir().join("demo_user_key_public.pem")).unwrap();
    let other_id = format!("{}/ocid1.user.oc1..otheruser/aa:bb", emu.tenancy_id());
    emu.add_api_key(&other_id, &public).unwrap();
    let key =
        PrivateKey::from_pem(&std::fs::read_to_string(emu.key_path()).unwrap(), None).unwrap();
    let other = OciClient::new(
        RequestSigner::new(other_id, key),
        emu.region().to_string(),
        ClientOptions {
            endpoint_override: Some(base.clone()),
            ..ClientOptions::default()
        },
    )
    .unwrap();

    let tenancy = emu.tenancy_id().to_string();
    let body =
        json!({"compartmentId": tenancy, "cidrBlock": "10.70.0.0/16", "displayName": "per-user"});
    let mine = create_vcn(&client, &body, &token("shared")).await.unwrap();
    let theirs = create_vcn(&other, &body, &token("shared")).await.unwrap();
    assert_ne!(mine["id"], theirs["id"], "tokens are scoped per principal");
    let mine_again = create_vcn(&client, &body, &token("shared")).await.unwrap();
    assert_eq!(mine_again["id"], mine["id"]);

    // After the TTL the token is forgotten: the same request creates again.
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let later = create_vcn(&client, &body, &token("shared")).await.unwrap();
    assert_ne!(later["id"], mine["id"]);
}
