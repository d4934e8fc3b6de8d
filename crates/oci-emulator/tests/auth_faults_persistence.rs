//! Signature verification (unsigned, tampered, unknown key, SDK vectors, clock
//! skew), fault injection with client retries, and persistence across reopen.

mod common;

use std::time::{Duration, SystemTime};

use axum::body::Body;
use common::{client_for, config, serve, service_error, start};
use http::{HeaderValue, Request, StatusCode};
use portal_oci::{ContentHeaders, PrivateKey, RequestSigner, Service};
use portal_oci_emulator::{Emulator, FaultPlan};
use serde_json::{json, Value};
use tower::ServiceExt;

const VECTORS: &str = include_str!("../../oci/tests/data/oci-signing-vectors.json");

async fn send(emu: &Emulator, req: Request<Body>) -> (StatusCode, http::HeaderMap, Value) {
    let resp = emu.router().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A request signed by `signer` (host `emulator.test`), as parts.
fn signed(
    signer: &RequestSigner,
    method: &str,
    path: &str,
    body: &[u8],
    date: Option<&str>,
) -> (http::HeaderMap, Vec<u8>) {
    let mut headers = http::HeaderMap::new();
    if let Some(d) = date {
        headers.insert("date", HeaderValue::from_str(d).unwrap());
    }
    let has_body = matches!(method, "POST" | "PUT");
    signer
        .sign_parts(
            method,
            "emulator.test",
            path,
            &mut headers,
            has_body.then_some(body),
            ContentHeaders::Enforce,
        )
        .unwrap();
    (headers, body.to_vec())
}

fn build(method: &str, path: &str, headers: http::HeaderMap, body: Vec<u8>) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::from(body))
        .unwrap();
    *req.headers_mut() = headers;
    req
}

#[tokio::test]
async fn unsigned_tampered_and_unknown_key_requests_get_401() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(config(dir.path(), 0)).unwrap();
    let signer = emu.demo_signer();
    let path = format!("/20160918/compartments?compartmentId={}", emu.tenancy_id());

    // Properly signed: 200 and an opc-request-id.
    let (h, b) = signed(&signer, "GET", &path, b"", None);
    let (status, headers, _) = send(&emu, build("GET", &path, h, b)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("opc-request-id").is_some());

    // Unsigned.
    let req = Request::builder()
        .uri(&path)
        .header("host", "emulator.test")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(&emu, req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "NotAuthenticated");
    assert!(headers.get("opc-request-id").is_some());

    // Tampered body on a signed POST.
    let create =
        json!({"compartmentId": emu.tenancy_id(), "displayName": "x", "cidrBlock": "10.9.0.0/16"})
            .to_string();
    let (h, _) = signed(&signer, "POST", "/20160918/vcns", create.as_bytes(), None);
    let tampered = create.replace("10.9.0.0", "10.8.0.0").into_bytes();
    let (status, _, body) = send(&emu, build("POST", "/20160918/vcns", h.clone(), tampered)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "NotAuthenticated");
    // The untampered one is accepted.
    let (status, _, body) = send(
        &emu,
        build("POST", "/20160918/vcns", h, create.into_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Tampered signed header (date) and tampered path.
    let (mut h, b) = signed(&signer, "GET", &path, b"", None);
    h.insert(
        "date",
        HeaderValue::from_str(&httpdate::fmt_http_date(
            SystemTime::now() + Duration::from_secs(1),
        ))
        .unwrap(),
    );
    let (status, _, _) = send(&emu, build("GET", &path, h, b)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (h, b) = signed(&signer, "GET", &path, b"", None);
    let (status, _, _) = send(&emu, build("GET", &format!("{path}&limit=1"), h, b)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A key the emulator does not know.
    let other = PrivateKey::from_pem(
        serde_json::from_str::<Value>(VECTORS).unwrap()["private_key_pem"]
            .as_str()
            .unwrap(),
        None,
    )
    .unwrap();
    let stranger = RequestSigner::new(emu.demo_key_id(), other);
    let (h, b) = signed(&stranger, "GET", &path, b"", None);
    let (status, _, body) = send(&emu, build("GET", &path, h, b)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].as_str().unwrap().contains("signature"),
        "{body}"
    );

    // Clock skew beyond 5 minutes is refused when the check is on.
    let old = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(600));
    let (h, b) = signed(&signer, "GET", &path, b"", Some(&old));
    let (status, _, body) = send(&emu, build("GET", &path, h, b)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].as_str().unwrap().contains("away from now"),
        "{body}"
    );
}

#[tokio::test]
async fn sdk_signing_vectors_are_accepted_and_tampering_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), 0);
    cfg.verify_clock_skew = false;
    let emu = Emulator::open(cfg).unwrap();
    let v: Value = serde_json::from_str(VECTORS).unwrap();
    let key_id = v["keyId"].as_str().unwrap();
    // Before registration the vector key is unknown.
    let first = &v["vectors"][0];
    let to_req = |vec: &Value, tamper: Option<(&str, &str)>, body_override: Option<&str>| {
        let url = url::Url::parse(vec["url"].as_str().unwrap()).unwrap();
        let pq = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let mut builder = Request::builder()
            .method(vec["method"].as_str().unwrap())
            .uri(pq);
        for (k, val) in vec["headers_after_signing"].as_object().unwrap() {
            let val = match tamper {
                Some((name, new)) if name == k => new.to_string(),
                _ => val.as_str().unwrap().to_string(),
            };
            builder = builder.header(k.as_str(), val);
        }
        let body = body_override
            .map(str::to_string)
            .or_else(|| vec["body"].as_str().map(str::to_string))
            .unwrap_or_default();
        builder.body(Body::from(body)).unwrap()
    };
    let (status, _, _) = send(&emu, to_req(first, None, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    emu.add_api_key(key_id, v["public_key_pem"].as_str().unwrap())
        .unwrap();
    for vec in v["vectors"].as_array().unwrap() {
        let (status, _, body) = send(&emu, to_req(vec, None, None)).await;
        assert_ne!(
            status,
            StatusCode::UNAUTHORIZED,
            "{} {}: {body}",
            vec["method"],
            vec["url"]
        );
        // Authenticated, so the emulator answers with its own verdict (the example
        // compartment/VCN/instance do not exist in the demo tenancy).
        assert_ne!(body["code"], "NotAuthenticated");
        // Any altered signed header is refused.
        let (status, _, _) = send(
            &emu,
            to_req(vec, Some(("date", "Tue, 06 Jan 2026 21:31:40 GMT")), None),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        if vec["body"].as_str().is_some_and(|b| !b.is_empty()) {
            let altered = vec["body"].as_str().unwrap().replace('"', "'");
            let (status, _, _) = send(&emu, to_req(vec, None, Some(&altered))).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "tampered body accepted for {}",
                vec["url"]
            );
        }
    }
    // A bad PEM is refused by add_api_key.
    assert!(emu.add_api_key("x/y/z", "not a key").is_err());
}

#[tokio::test]
async fn injected_faults_are_retried_by_the_client() {
    let t = start(0).await;
    let retrying = client_for(&t.emu, &t.base, 4);
    t.emu.inject_faults(FaultPlan {
        status: 429,
        count: 2,
        path_prefix: Some("/20160918/regions".into()),
    });
    let before = t.emu.requests_served();
    let resp = retrying
        .send(
            http::Method::GET,
            &Service::IDENTITY,
            "/regions",
            &[],
            None,
            &Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(resp.attempts, 3);
    assert_eq!(t.emu.faults_served(), 2);
    assert_eq!(t.emu.requests_served() - before, 3);
    assert!(resp
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "us-ashburn-1"));

    // Other paths are unaffected by a prefixed plan; 500s surface when retries run out.
    t.emu.inject_faults(FaultPlan::new(500, 1));
    let err = t
        .get(&Service::IDENTITY, "/regions", &[])
        .await
        .unwrap_err();
    let (s, code, _) = service_error(err);
    assert_eq!((s, code.as_str()), (500, "InternalServerError"));
    t.emu
        .inject_faults(FaultPlan::new(503, 1).with_prefix("/20160918/"));
    let err = t
        .get(&Service::IDENTITY, "/regions", &[])
        .await
        .unwrap_err();
    assert_eq!(service_error(err).0, 503);
    assert_eq!(t.emu.faults_served(), 4);
    // Plans are used up: the next request succeeds.
    assert!(t.get(&Service::IDENTITY, "/regions", &[]).await.is_ok());

    // 429 carries retry-after: 0 on the wire.
    t.emu.inject_faults(FaultPlan::new(429, 1));
    let raw = t
        .emu
        .router()
        .oneshot(
            Request::builder()
                .uri("/anything")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(raw.headers()["retry-after"], "0");
}

#[tokio::test]
async fn state_and_key_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(config(dir.path(), 0)).unwrap();
    let key_pem = std::fs::read_to_string(emu.key_path()).unwrap();
    let key_id = emu.demo_key_id().to_string();
    let tenancy = emu.tenancy_id().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(emu.key_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // The OCI CLI warns about config files others can read, too.
        let mode = std::fs::metadata(emu.config_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    // The label line the OCI CLI looks for ("append an extra line with 'OCI_API_KEY'").
    assert!(
        key_pem.ends_with("-----END PRIVATE KEY-----\nOCI_API_KEY\n"),
        "{key_pem}"
    );
    let config_text = std::fs::read_to_string(emu.config_path()).unwrap();
    assert!(config_text.contains("[DEFAULT]"));
    assert!(config_text.contains(&format!("tenancy={tenancy}")));
    assert!(config_text.contains("region=us-ashburn-1"));
    assert!(config_text.contains(&format!("key_file={}", emu.key_path().display())));
    let parsed = portal_oci::parse_config(&config_text, "DEFAULT").unwrap();
    assert_eq!(parsed.key_id(), key_id);

    let (base, stop) = serve(&emu).await;
    let client = client_for(&emu, &base, 1);
    let ns = emu.namespace();
    let comp = tenancy.clone();
    client
        .send(
            http::Method::POST,
            &Service::OBJECT_STORAGE,
            &format!("/n/{ns}/b"),
            &[],
            Some(json!({"name": "persisted", "compartmentId": comp})),
            &Default::default(),
        )
        .await
        .unwrap();
    let _ = stop.send(());
    drop(client);
    drop(emu);

    let again = Emulator::open(config(dir.path(), 0)).unwrap();
    assert_eq!(again.tenancy_id(), tenancy);
    assert_eq!(again.demo_key_id(), key_id);
    assert_eq!(std::fs::read_to_string(again.key_path()).unwrap(), key_pem);
    let (base, _stop) = serve(&again).await;
    let client = client_for(&again, &base, 1);
    let got = client
        .send(
            http::Method::GET,
            &Service::OBJECT_STORAGE,
            &format!("/n/{ns}/b/persisted"),
            &[],
            None,
            &Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(got.body["name"], "persisted");
    assert!(dir.path().join("oci-emulator/state.json").exists());
}

/// A key file written before the label existed (or made world-readable) is
/// relabelled and made private on the next start, keeping the same key.
#[tokio::test]
async fn unlabelled_key_is_relabelled_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(config(dir.path(), 0)).unwrap();
    let key_id = emu.demo_key_id().to_string();
    let key_path = emu.key_path().to_path_buf();
    let pem = std::fs::read_to_string(&key_path).unwrap();
    let bare = pem
        .trim_end()
        .strip_suffix("OCI_API_KEY")
        .unwrap()
        .to_string();
    std::fs::write(&key_path, &bare).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    drop(emu);

    let again = Emulator::open(config(dir.path(), 0)).unwrap();
    assert_eq!(again.demo_key_id(), key_id);
    let text = std::fs::read_to_string(&key_path).unwrap();
    assert_eq!(text, pem);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The relabelled key still signs requests the emulator accepts.
    let (base, _stop) = serve(&again).await;
    let client = client_for(&again, &base, 1);
    let r = client
        .send(
            http::Method::GET,
            &Service::IDENTITY,
            "/regions",
            &[],
            None,
            &Default::default(),
        )
        .await
        .unwrap();
    assert!(r.body.as_array().is_some_and(|a| !a.is_empty()));
}
