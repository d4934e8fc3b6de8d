//! OciClient against a local signature-verifying test server on 127.0.0.1:0.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use http::{Method, StatusCode};
use portal_oci::{
    verify_request, ClientOptions, OciClient, OciError, PublicKey, RequestOptions, RequestSigner,
    RetryPolicy, Service, VerifyOptions,
};
use serde_json::{json, Value};
use url::Url;

/// What the server saw.
#[derive(Default)]
struct Seen {
    /// Hits per path (every attempt, verified or not).
    hits: HashMap<String, u32>,
    /// Requests whose signature failed verification.
    auth_failures: Vec<String>,
    /// (path+query, opc-request-id, opc-retry-token) per verified request.
    requests: Vec<(String, Option<String>, Option<String>)>,
    /// (date, authorization) per verified request.
    signatures: Vec<(String, String)>,
}

struct ServerState {
    keys: HashMap<String, PublicKey>,
    seen: Mutex<Seen>,
}

struct TestServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
}

impl TestServer {
    async fn start() -> Self {
        let state = Arc::new(ServerState {
            keys: common::key_map(),
            seen: Mutex::new(Seen::default()),
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, state }
    }

    fn base(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).unwrap()
    }

    fn hits(&self, path: &str) -> u32 {
        self.state
            .seen
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    fn auth_failures(&self) -> Vec<String> {
        self.state.seen.lock().unwrap().auth_failures.clone()
    }

    fn requests(&self) -> Vec<(String, Option<String>, Option<String>)> {
        self.state.seen.lock().unwrap().requests.clone()
    }

    fn client_with(&self, signer: RequestSigner, max_attempts: u32) -> OciClient {
        let options = ClientOptions {
            endpoint_override: Some(self.base()),
            retry: RetryPolicy {
                max_attempts,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
            },
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            ..ClientOptions::default()
        };
        OciClient::new(signer, "us-ashburn-1", options).unwrap()
    }

    fn client(&self) -> OciClient {
        self.client_with(common::signer(), 4)
    }
}

fn json_response(status: u16, body: Value, request_id: &str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("opc-request-id", request_id)
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn handle(State(state): State<Arc<ServerState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let header = |n: &str| {
        parts
            .headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let request_id = header("opc-request-id").unwrap_or_else(|| "server-generated".into());

    let hit = {
        let mut seen = state.seen.lock().unwrap();
        let h = seen.hits.entry(path.clone()).or_insert(0);
        *h += 1;
        *h
    };

    // Verify every attempt with the real clock and skew check on.
    if let Err(e) = verify_request(
        parts.method.as_str(),
        &pq,
        &parts.headers,
        &body,
        &state.keys,
        &VerifyOptions::default(),
    ) {
        state
            .seen
            .lock()
            .unwrap()
            .auth_failures
            .push(format!("{path}: {e}"));
        return json_response(
            401,
            json!({"code": "NotAuthenticated", "message": e.to_string()}),
            &request_id,
        );
    }
    state.seen.lock().unwrap().requests.push((
        pq.clone(),
        header("opc-request-id"),
        header("opc-retry-token"),
    ));
    state.seen.lock().unwrap().signatures.push((
        header("date").unwrap_or_default(),
        header("authorization").unwrap_or_default(),
    ));

    match path.as_str() {
        "/20160918/flaky429" if hit <= 2 => json_response(
            429,
            json!({"code": "TooManyRequests", "message": "slow down"}),
            &request_id,
        ),
        "/20160918/retryafter" if hit == 1 => {
            let mut resp = json_response(
                429,
                json!({"code": "TooManyRequests", "message": "come back in a second"}),
                &request_id,
            );
            resp.headers_mut()
                .insert("retry-after", "1".parse().unwrap());
            resp
        }
        "/20160918/retryafter" => json_response(200, json!({"attempt": hit}), &request_id),
        "/20160918/flaky500" if hit <= 3 => json_response(
            500,
            json!({"code": "InternalError", "message": "boom"}),
            &request_id,
        ),
        "/20160918/flaky429" | "/20160918/flaky500" => {
            let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            json_response(200, json!({"attempt": hit, "sent": sent}), &request_id)
        }
        "/20160918/always500" => json_response(
            500,
            json!({"code": "InternalError", "message": "still broken"}),
            &request_id,
        ),
        "/20160918/notimpl" => json_response(
            501,
            json!({"code": "NotImplemented", "message": "nope"}),
            &request_id,
        ),
        "/20160918/bad" => json_response(
            400,
            json!({"code": "InvalidParameter", "message": "limit must be positive"}),
            "req-bad-1",
        ),
        "/20160918/items" => {
            let (items, next) = match query_param(&query, "page").as_deref() {
                None => (json!([{"id": 1}, {"id": 2}]), Some("p2")),
                Some("p2") => (json!([{"id": 3}, {"id": 4}]), Some("p3")),
                Some("p3") => (json!([{"id": 5}]), None),
                Some(other) => {
                    return json_response(
                        400,
                        json!({"code": "InvalidParameter", "message": format!("bad page {other}")}),
                        &request_id,
                    )
                }
            };
            assert_eq!(query_param(&query, "compartmentId").as_deref(), Some("c1"));
            let mut resp = json_response(200, items, &request_id);
            if let Some(n) = next {
                resp.headers_mut()
                    .insert("opc-next-page", n.parse().unwrap());
            }
            resp
        }
        "/n/ns/b/bkt/o" => {
            let body = match query_param(&query, "start").as_deref() {
                None => {
                    json!({"objects": [{"name": "a"}, {"name": "b"}], "prefixes": [], "nextStartWith": "c"})
                }
                Some("c") => json!({"objects": [{"name": "c"}], "nextStartWith": "d"}),
                Some(_) => json!({"objects": [{"name": "d"}]}),
            };
            json_response(200, body, &request_id)
        }
        "/20160918/echo" => {
            let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let mut resp = json_response(
                200,
                json!({
                    "method": parts.method.as_str(),
                    "sent": sent,
                    "contentLength": header("content-length"),
                    "sha": header("x-content-sha256"),
                }),
                &request_id,
            );
            resp.headers_mut().insert("etag", "\"v1\"".parse().unwrap());
            resp
        }
        "/20160918/slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            json_response(200, json!({}), &request_id)
        }
        "/20160918/text" => Response::builder()
            .status(200)
            .header("content-type", "text/plain")
            .body(Body::from("hello"))
            .unwrap(),
        _ => json_response(
            404,
            json!({"code": "NotAuthorizedOrNotFound", "message": "no such thing"}),
            &request_id,
        ),
    }
}

fn no_opts() -> RequestOptions {
    RequestOptions::default()
}

#[tokio::test]
async fn retries_429_then_succeeds_with_signed_attempts() {
    let srv = TestServer::start().await;
    let resp = srv
        .client()
        .send(
            Method::GET,
            &Service::COMPUTE,
            "/flaky429",
            &[],
            None,
            &no_opts(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.attempts, 3);
    assert_eq!(resp.body["attempt"], 3);
    assert_eq!(srv.hits("/20160918/flaky429"), 3);
    assert!(srv.auth_failures().is_empty(), "{:?}", srv.auth_failures());
    // The same opc-request-id is kept across retries, and echoed back.
    let ids: Vec<_> = srv.requests().into_iter().map(|r| r.1.unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|i| *i == ids[0] && i.len() == 32));
    assert_eq!(resp.opc_request_id.as_deref(), Some(ids[0].as_str()));
}

#[tokio::test]
async fn each_retry_is_re_signed_and_honours_retry_after() {
    let srv = TestServer::start().await;
    let options = ClientOptions {
        endpoint_override: Some(srv.base()),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_secs(2),
        },
        ..ClientOptions::default()
    };
    let client = OciClient::new(common::signer(), "us-ashburn-1", options).unwrap();
    let started = std::time::Instant::now();
    let resp = client
        .send(
            Method::GET,
            &Service::COMPUTE,
            "/retryafter",
            &[],
            None,
            &no_opts(),
        )
        .await
        .unwrap();
    assert_eq!(resp.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After ignored"
    );
    let sigs = srv.state.seen.lock().unwrap().signatures.clone();
    assert_eq!(sigs.len(), 2);
    // A later date, hence a different signature, both accepted by the verifier.
    let d0 = httpdate::parse_http_date(&sigs[0].0).unwrap();
    let d1 = httpdate::parse_http_date(&sigs[1].0).unwrap();
    assert!(d1 > d0, "{sigs:?}");
    assert_ne!(sigs[0].1, sigs[1].1);
    assert!(srv.auth_failures().is_empty(), "{:?}", srv.auth_failures());
}

#[tokio::test]
async fn retries_500_for_put_with_body() {
    let srv = TestServer::start().await;
    let body = json!({"displayName": "vcn-1"});
    let resp = srv
        .client()
        .send(
            Method::PUT,
            &Service::VIRTUAL_NETWORK,
            "/flaky500",
            &[],
            Some(body.clone()),
            &no_opts(),
        )
        .await
        .unwrap();
    assert_eq!(resp.attempts, 4);
    assert_eq!(resp.body["sent"], body);
    assert_eq!(srv.hits("/20160918/flaky500"), 4);
    assert!(srv.auth_failures().is_empty(), "{:?}", srv.auth_failures());
}

#[tokio::test]
async fn gives_up_after_max_attempts_with_typed_error() {
    let srv = TestServer::start().await;
    let err = srv
        .client()
        .send(
            Method::GET,
            &Service::COMPUTE,
            "/always500",
            &[],
            None,
            &no_opts(),
        )
        .await
        .unwrap_err();
    match &err {
        OciError::Service {
            status,
            code,
            message,
            attempts,
            ..
        } => {
            assert_eq!(*status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(code, "InternalError");
            assert_eq!(message, "still broken");
            assert_eq!(*attempts, 4);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(srv.hits("/20160918/always500"), 4);

    // Per-request override of the attempt count.
    let opts = RequestOptions {
        max_attempts: Some(2),
        ..no_opts()
    };
    let _ = srv
        .client()
        .send(
            Method::DELETE,
            &Service::COMPUTE,
            "/always500",
            &[],
            None,
            &opts,
        )
        .await
        .unwrap_err();
    assert_eq!(srv.hits("/20160918/always500"), 6);
}

#[tokio::test]
async fn client_errors_and_501_are_not_retried() {
    let srv = TestServer::start().await;
    let err = srv
        .client()
        .send(
            Method::GET,
            &Service::COMPUTE,
            "/bad",
            &[("limit", "-1")],
            None,
            &no_opts(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(err.code(), Some("InvalidParameter"));
    assert_eq!(err.opc_request_id(), Some("req-bad-1"));
    let msg = err.to_string();
    assert!(
        msg.contains("InvalidParameter")
            && msg.contains("limit must be positive")
            && msg.contains("req-bad-1"),
        "{msg}"
    );
    assert_eq!(srv.hits("/20160918/bad"), 1);

    let err = srv
        .client()
        .send(
            Method::GET,
            &Service::COMPUTE,
            "/notimpl",
            &[],
            None,
            &no_opts(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_IMPLEMENTED));
    assert_eq!(srv.hits("/20160918/notimpl"), 1);

    let err = srv
        .client()
        .send(
            Method::GET,
            &Service::COMPUTE,
            "/missing",
            &[],
            None,
            &no_opts(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NotAuthorizedOrNotFound"));
    assert_eq!(srv.hits("/20160918/missing"), 1);
}

#[tokio::test]
async fn post_is_retried_only_with_a_retry_token() {
    let srv = TestServer::start().await;
    let client = srv.client();
    let err = client
        .send(
            Method::POST,
            &Service::COMPUTE,
            "/always500",
            &[],
            Some(json!({"a": 1})),
            &no_opts(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(
        srv.hits("/20160918/always500"),
        1,
        "POST without retry token was retried"
    );

    let opts = RequestOptions::default().retry_token("tok-123");
    let err = client
        .send(
            Method::POST,
            &Service::COMPUTE,
            "/always500",
            &[],
            Some(json!({"a": 1})),
            &opts,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, OciError::Service { attempts: 4, .. }),
        "{err:?}"
    );
    assert_eq!(srv.hits("/20160918/always500"), 5);
    let tokens: Vec<_> = srv.requests().into_iter().filter_map(|r| r.2).collect();
    assert_eq!(tokens, vec!["tok-123"; 4]);

    // A token given as a plain header counts too.
    let opts = RequestOptions::default()
        .header("opc-retry-token", "tok-456")
        .unwrap();
    let resp = client
        .send(
            Method::POST,
            &Service::COMPUTE,
            "/flaky500",
            &[],
            Some(json!({"b": 2})),
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(resp.attempts, 4);
    assert!(srv.auth_failures().is_empty(), "{:?}", srv.auth_failures());
}

#[tokio::test]
async fn paginates_with_opc_next_page() {
    let srv = TestServer::start().await;
    // Run it on a spawned task: the client and its futures must be Send.
    let client = srv.client();
    let items = tokio::spawn(async move {
        client
            .list_all(
                &Service::COMPUTE,
                "/items",
                &[("compartmentId", "c1")],
                &no_opts(),
            )
            .await
    })
    .await
    .unwrap()
    .unwrap();
    let ids: Vec<i64> = items.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    assert_eq!(srv.hits("/20160918/items"), 3);
    let pages: Vec<String> = srv.requests().into_iter().map(|r| r.0).collect();
    assert_eq!(
        pages,
        vec![
            "/20160918/items?compartmentId=c1",
            "/20160918/items?compartmentId=c1&page=p2",
            "/20160918/items?compartmentId=c1&page=p3",
        ]
    );
    assert!(srv.auth_failures().is_empty());
}

#[tokio::test]
async fn paginates_object_storage_with_next_start_with() {
    let srv = TestServer::start().await;
    let objects = srv
        .client()
        .list_all_start(
            &Service::OBJECT_STORAGE,
            "/n/ns/b/bkt/o",
            &[("limit", "2")],
            "objects",
            &no_opts(),
        )
        .await
        .unwrap();
    let names: Vec<&str> = objects
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["a", "b", "c", "d"]);
    let pages: Vec<String> = srv.requests().into_iter().map(|r| r.0).collect();
    assert_eq!(
        pages,
        vec![
            "/n/ns/b/bkt/o?limit=2",
            "/n/ns/b/bkt/o?limit=2&start=c",
            "/n/ns/b/bkt/o?limit=2&start=d"
        ]
    );
}

#[tokio::test]
async fn json_bodies_and_empty_action_posts_are_signed() {
    let srv = TestServer::start().await;
    let client = srv.client();
    let body = json!({"compartmentId": "c1", "displayName": "demo-vcn"});
    let resp = client
        .send(
            Method::POST,
            &Service::COMPUTE,
            "/echo",
            &[],
            Some(body.clone()),
            &no_opts(),
        )
        .await
        .unwrap();
    assert_eq!(resp.body["sent"], body);
    assert_eq!(resp.body["method"], "POST");
    assert_eq!(resp.etag.as_deref(), Some("\"v1\""));
    let typed: HashMap<String, Value> = resp.json().unwrap();
    assert_eq!(typed["method"], "POST");
    assert!(resp.json::<Vec<String>>().is_err());

    // POST ?action=STOP with no body: content-length 0 and the empty-body hash.
    let resp = client
        .send(
            Method::POST,
            &Service::COMPUTE,
            "/echo",
            &[("action", "STOP")],
            None,
            &no_opts(),
        )
        .await
        .unwrap();
    assert_eq!(resp.body["contentLength"], "0");
    assert_eq!(
        resp.body["sha"],
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    );

    // Non-JSON bodies are kept raw.
    let resp = client
        .send(
            Method::GET,
            &Service::COMPUTE,
            "/text",
            &[],
            None,
            &no_opts(),
        )
        .await
        .unwrap();
    assert_eq!(resp.body, Value::Null);
    assert_eq!(&resp.raw[..], b"hello");
    assert!(srv.auth_failures().is_empty(), "{:?}", srv.auth_failures());
}

#[tokio::test]
async fn bad_credentials_are_rejected_by_the_verifier() {
    let srv = TestServer::start().await;
    let wrong = RequestSigner::new(
        "ocid1.tenancy.oc1..other/ocid1.user.oc1..other/00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00",
        common::private_key(),
    );
    let err = srv
        .client_with(wrong, 4)
        .send(
            Method::GET,
            &Service::COMPUTE,
            "/echo",
            &[],
            None,
            &no_opts(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(err.code(), Some("NotAuthenticated"));
    assert_eq!(srv.hits("/20160918/echo"), 1, "401 must not be retried");
    assert!(srv.auth_failures()[0].contains("unknown keyId"));
}

#[tokio::test]
async fn timeouts_are_typed_and_retried_for_idempotent_requests() {
    let srv = TestServer::start().await;
    let client = srv.client_with(common::signer(), 2);
    let opts = RequestOptions {
        timeout: Some(Duration::from_millis(150)),
        ..no_opts()
    };
    let err = client
        .send(Method::GET, &Service::COMPUTE, "/slow", &[], None, &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, OciError::Timeout { .. }), "{err:?}");
    // Give the server a moment to count the second attempt.
    for _ in 0..50 {
        if srv.hits("/20160918/slow") == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(srv.hits("/20160918/slow"), 2);
}

#[test]
fn client_is_shareable_across_threads() {
    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
    assert_send_sync_clone::<OciClient>();
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RequestSigner>();
    assert_send_sync::<OciError>();
}

#[tokio::test]
async fn connection_errors_are_transport_errors() {
    // Reserve a port, then close it so nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let options = ClientOptions {
        endpoint_override: Some(Url::parse(&format!("http://{addr}")).unwrap()),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        },
        ..ClientOptions::default()
    };
    let client = OciClient::new(common::signer(), "us-ashburn-1", options).unwrap();
    let started = std::time::Instant::now();
    let err = client
        .send(
            Method::GET,
            &Service::COMPUTE,
            "/instances",
            &[],
            None,
            &no_opts(),
        )
        .await
        .unwrap_err();
    match &err {
        OciError::Transport { url, source } => {
            assert!(source.is_connect(), "{source:?}");
            assert_eq!(url, &format!("http://{addr}/20160918/instances"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}
