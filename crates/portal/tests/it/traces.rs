//! Traces end to end: the real `portal` binary exports its spans over OTLP/HTTP
//! to a receiver on loopback that decodes them with the official protobuf
//! definitions (`opentelemetry-proto`); a W3C `traceparent` sent with a request
//! becomes the request span's parent, tool and model calls are its children,
//! and the OCI emulator and the fake model server see a `traceparent` of the
//! same trace. With no endpoint, nothing is exported and no `traceparent` goes out.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::IntoResponse;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use portal_fake_llm::{FakeLlm, Protocol, Turn};
use portal_oci_emulator::{Emulator, EmulatorConfig};
use portal_testkit::TestApp;
use prost::Message;
use serde_json::{json, Value};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";

fn traceparent(trace: &str, parent: &str) -> String {
    format!("00-{trace}-{parent}-01")
}

/// Spans received, decoded from `ExportTraceServiceRequest` bodies.
#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<Span>>>,
    posts: Arc<Mutex<Vec<String>>>,
}

async fn export(State(r): State<Receiver>, req: Request) -> impl IntoResponse {
    let ct = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = axum::body::to_bytes(req.into_body(), 16 << 20)
        .await
        .unwrap();
    let decoded = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf body");
    r.posts.lock().unwrap().push(ct);
    for rs in decoded.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.clone());
        assert_eq!(service, Some(AnyValue::StringValue("portal".into())));
        for ss in rs.scope_spans {
            r.spans.lock().unwrap().extend(ss.spans);
        }
    }
    (
        [("content-type", "application/x-protobuf")],
        Bytes::from(ExportTraceServiceResponse::default().encode_to_vec()),
    )
}

async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let app = axum::Router::new()
        .route("/v1/traces", axum::routing::post(export))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, url)
}

/// The OCI emulator, recording each request's `traceparent` (or its absence).
struct Cloud {
    config: String,
    endpoint: String,
    seen: Arc<Mutex<Vec<Option<String>>>>,
    _dir: tempfile::TempDir,
}

async fn cloud() -> Cloud {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(EmulatorConfig::new(dir.path())).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let router = emu.router().layer(axum::middleware::from_fn({
        let seen = seen.clone();
        move |req: Request, next: Next| {
            let tp = req
                .headers()
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            seen.lock().unwrap().push(tp);
            next.run(req)
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Cloud {
        config: emu.config_path().display().to_string(),
        endpoint,
        seen,
        _dir: dir,
    }
}

/// The binary serving on its own port; its stdout lines collected; killed on drop.
struct Portal {
    child: std::process::Child,
    base: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn portal(app: &TestApp, cloud: &Cloud, fake: &FakeLlm, env: &[(&str, &str)]) -> Portal {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = app.command(env!("CARGO_BIN_EXE_portal"));
    cmd.arg("serve")
        .env("PORTAL_BIND", format!("127.0.0.1:{port}"))
        .env("PORTAL_LOG_FORMAT", "json")
        .env("PORTAL_LOG", "info")
        .env("PORTAL_CLOUD", "oci")
        .env("PORTAL_OCI_CONFIG_FILE", &cloud.config)
        .env("PORTAL_OCI_ENDPOINT", &cloud.endpoint)
        .env("PORTAL_AI_PROVIDER", "openai")
        .env("PORTAL_AI_BASE_URL", fake.base_url())
        .env("PORTAL_AI_MODEL", "test-model")
        .env("PORTAL_AI_API_KEY", "sk-test-not-a-real-key-000000000000")
        // The batch exporter's delay, short so the test need not wait 5 s.
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = child.stdout.take().unwrap();
    std::thread::spawn({
        let lines = lines.clone();
        move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        }
    });
    let p = Portal {
        child,
        base: format!("http://127.0.0.1:{port}"),
        lines,
    };
    for _ in 0..400 {
        if reqwest::get(format!("{}/healthz", p.base)).await.is_ok() {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the portal never came up");
}

fn attr<'a>(s: &'a Span, key: &str) -> Option<&'a AnyValue> {
    s.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn attr_str<'a>(s: &'a Span, key: &str) -> Option<&'a str> {
    match attr(s, key) {
        Some(AnyValue::StringValue(v)) => Some(v),
        _ => None,
    }
}

fn attr_int(s: &Span, key: &str) -> Option<i64> {
    match attr(s, key) {
        Some(AnyValue::IntValue(v)) => Some(*v),
        _ => None,
    }
}

/// Waits until `pick` finds what it needs among the spans received: up to
/// 30 s, since a job runs and its span is exported only after the runner's
/// poll and the exporter's batch, which a loaded CI machine can stretch.
async fn wait_for<T>(r: &Receiver, what: &str, pick: impl Fn(&[Span]) -> Option<T>) -> T {
    for _ in 0..600 {
        if let Some(t) = pick(&r.spans.lock().unwrap()) {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let names: Vec<String> = r
        .spans
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    panic!("no {what} among the spans received: {names:?}");
}

fn request_span<'a>(spans: &'a [Span], request_id: &str) -> Option<&'a Span> {
    spans
        .iter()
        .find(|s| attr_str(s, "portal.request_id") == Some(request_id))
}

async fn send(
    p: &Portal,
    key: &str,
    method: reqwest::Method,
    path: &str,
    tp: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = reqwest::Client::new()
        .request(method, format!("{}{path}", p.base))
        .bearer_auth(key);
    if let Some(tp) = tp {
        r = r.header("traceparent", tp);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

fn request_id(res: &reqwest::Response) -> String {
    res.headers()["x-request-id"].to_str().unwrap().to_string()
}

/// The JSON log lines inside request `request_id` (its access line among them).
fn log_lines_of(p: &Portal, request_id: &str) -> Vec<Value> {
    p.lines
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| {
            v["request_id"] == request_id
                || v["spans"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s["portal.request_id"] == request_id))
        })
        .collect()
}

async fn setup() -> (TestApp, Cloud, FakeLlm, String) {
    let cloud = cloud().await;
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    // The in-process app only sets up (admin, key) on the database the traced
    // binary uses; with its own job runner it would race the binary for the
    // jobs the test watches (on PostgreSQL both are woken by the enqueue).
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "oci")
        .env("PORTAL_OCI_CONFIG_FILE", &cloud.config)
        .env("PORTAL_OCI_ENDPOINT", &cloud.endpoint)
        .env("PORTAL_JOBS_ENABLED", "false")
        .spawn()
        .await;
    let admin = app.admin().await;
    let (key, _) = admin
        .create_key(
            "tracer",
            &[
                "tools:read",
                "tools:execute",
                "sessions:read",
                "sessions:write",
            ],
        )
        .await;
    (app, cloud, fake, key)
}

#[tokio::test]
async fn spans_arrive_over_otlp_with_the_callers_trace_as_parent() {
    let (receiver, otlp) = receiver().await;
    let (app, cloud, fake, key) = setup().await;
    let p = portal(&app, &cloud, &fake, &[("PORTAL_OTLP_ENDPOINT", &otlp)]).await;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();

    // A read tool through the REST API, under the caller's trace.
    let cloud_before = cloud.seen.lock().unwrap().len();
    let res = send(
        &p,
        &key,
        reqwest::Method::POST,
        "/api/v1/tools/listInstances/execute",
        Some(&traceparent(TRACE, PARENT)),
        Some(json!({"args": {}})),
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let tool_req = request_id(&res);
    let (req_span, tool_span) = wait_for(&receiver, "tool request and tool span", |spans| {
        let req = request_span(spans, &tool_req)?.clone();
        let tool = spans
            .iter()
            .find(|s| s.name == "tool listInstances" && s.parent_span_id == req.span_id)?
            .clone();
        Some((req, tool))
    })
    .await;
    assert_eq!(hex(&req_span.trace_id), TRACE);
    assert_eq!(
        hex(&req_span.parent_span_id),
        PARENT,
        "the caller's span is the parent"
    );
    assert_eq!(req_span.name, "POST /api/v1/tools/{name}/execute");
    assert_eq!(
        attr_str(&req_span, "http.route"),
        Some("/api/v1/tools/{name}/execute")
    );
    assert_eq!(
        attr_int(&req_span, "http.response.status_code"),
        Some(200),
        "{:?}",
        req_span.attributes
    );
    assert_eq!(tool_span.trace_id, req_span.trace_id);
    assert_eq!(attr_str(&tool_span, "tool"), Some("listInstances"));
    assert_eq!(attr_str(&tool_span, "risk"), Some("read"));
    assert_eq!(attr_str(&tool_span, "outcome"), Some("success"));
    assert!(
        matches!(attr(&tool_span, "cloud.latency_ms"), Some(AnyValue::DoubleValue(ms)) if *ms >= 0.0),
        "{:?}",
        tool_span.attributes
    );
    // Its database statements are spans under the request too.
    let spans = receiver.spans.lock().unwrap().clone();
    let by_id: HashMap<Vec<u8>, &Span> = spans.iter().map(|s| (s.span_id.clone(), s)).collect();
    let under_request = |s: &Span| {
        let mut at = s;
        while let Some(parent) = by_id.get(&at.parent_span_id) {
            if parent.span_id == req_span.span_id {
                return true;
            }
            at = parent;
        }
        false
    };
    assert!(
        spans
            .iter()
            .any(|s| attr_str(s, "db.system.name").is_some() && under_request(s)),
        "a db span under the request: {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    // The OCI calls carried this trace, naming a span of ours as their parent.
    let seen: Vec<Option<String>> = cloud.seen.lock().unwrap()[cloud_before..].to_vec();
    assert!(!seen.is_empty());
    for tp in &seen {
        let tp = tp.as_deref().expect("every OCI call carries a traceparent");
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts[1], TRACE, "{tp}");
        assert!(
            by_id.contains_key(&hex_to_bytes(parts[2])) || parts[2] == hex(&tool_span.span_id),
            "{tp}"
        );
    }
    // The log lines of that request carry the trace id.
    let lines = log_lines_of(&p, &tool_req);
    assert!(!lines.is_empty(), "log lines for {tool_req}");
    for l in &lines {
        assert!(l.to_string().contains(TRACE), "{l}");
    }

    // A chat turn: the model call is a child of the request span, its
    // request to the provider carries the trace.
    fake.push(Turn::text(["Hello ", "there."]).usage(12, 2));
    let chat_trace = "0af7651916cd43dd8448eb211c80319c";
    let res = send(
        &p,
        &key,
        reqwest::Method::POST,
        "/api/chat",
        Some(&traceparent(chat_trace, "b7ad6b7169203331")),
        Some(json!({"message": "hi"})),
    )
    .await;
    assert_eq!(res.status(), 200);
    let chat_req = request_id(&res);
    let _ = res.text().await.unwrap();
    let (req_span, model_span) = wait_for(&receiver, "chat request and model span", |spans| {
        let req = request_span(spans, &chat_req)?.clone();
        let model = spans
            .iter()
            .find(|s| s.name == "chat test-model" && s.parent_span_id == req.span_id)?
            .clone();
        Some((req, model))
    })
    .await;
    assert_eq!(hex(&req_span.trace_id), chat_trace);
    assert_eq!(hex(&req_span.parent_span_id), "b7ad6b7169203331");
    assert_eq!(attr_str(&model_span, "gen_ai.system"), Some("openai"));
    assert_eq!(
        attr_str(&model_span, "gen_ai.request.model"),
        Some("test-model")
    );
    assert_eq!(attr_int(&model_span, "gen_ai.usage.input_tokens"), Some(12));
    assert_eq!(attr_int(&model_span, "gen_ai.usage.output_tokens"), Some(2));
    let sent = fake.requests();
    let tp = sent
        .last()
        .and_then(|r| r.header("traceparent"))
        .expect("the model request carries a traceparent")
        .to_string();
    assert_eq!(tp, traceparent(chat_trace, &hex(&model_span.span_id)));

    // An error: the body's request id is the request span's, in the caller's trace.
    let res = send(
        &p,
        &key,
        reqwest::Method::GET,
        "/api/v1/tools/noSuchTool",
        Some(&traceparent(TRACE, PARENT)),
        None,
    )
    .await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    let rid = body["requestId"].as_str().expect("requestId").to_string();
    let span = wait_for(&receiver, "the failed request's span", |spans| {
        request_span(spans, &rid).cloned()
    })
    .await;
    assert_eq!(hex(&span.trace_id), TRACE);
    assert_eq!(attr_int(&span, "http.response.status_code"), Some(404));
    assert!(log_lines_of(&p, &rid)
        .iter()
        .any(|l| l.to_string().contains(TRACE)));

    // A request without a traceparent starts a trace of its own.
    let res = send(&p, &key, reqwest::Method::GET, "/api/v1/tools", None, None).await;
    assert_eq!(res.status(), 200);
    let rid = request_id(&res);
    let span = wait_for(&receiver, "an untraced request's span", |spans| {
        request_span(spans, &rid).cloned()
    })
    .await;
    assert!(span.parent_span_id.is_empty(), "a root span");
    assert_ne!(hex(&span.trace_id), TRACE);
    // Background work the requests queued runs as jobs, each a root span.
    let job = wait_for(&receiver, "a job span", |spans| {
        spans
            .iter()
            .find(|s| s.name.starts_with("job ") && attr_str(s, "outcome").is_some())
            .cloned()
    })
    .await;
    assert!(
        job.parent_span_id.is_empty(),
        "a job's trace starts with it"
    );
    assert!(attr_str(&job, "job.kind").is_some(), "{:?}", job.attributes);
    assert_eq!(
        attr_str(&job, "outcome"),
        Some("done"),
        "{:?}",
        job.attributes
    );
    assert!(receiver
        .posts
        .lock()
        .unwrap()
        .iter()
        .all(|ct| ct == "application/x-protobuf"));
    drop(p);
    app.shutdown().await.unwrap();
}

fn hex_to_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[tokio::test]
async fn without_an_endpoint_nothing_is_exported_and_no_traceparent_goes_out() {
    let (receiver, otlp) = receiver().await;
    let (app, cloud, fake, key) = setup().await;
    // The SDK's own variable alone does not turn tracing on: only PORTAL_OTLP_ENDPOINT does.
    let p = portal(
        &app,
        &cloud,
        &fake,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp)],
    )
    .await;
    let res = send(
        &p,
        &key,
        reqwest::Method::POST,
        "/api/v1/tools/listInstances/execute",
        Some(&traceparent(TRACE, PARENT)),
        Some(json!({"args": {}})),
    )
    .await;
    assert_eq!(res.status(), 200);
    let rid = request_id(&res);
    fake.push(Turn::text(["Hi."]));
    let res = send(
        &p,
        &key,
        reqwest::Method::POST,
        "/api/chat",
        Some(&traceparent(TRACE, PARENT)),
        Some(json!({"message": "hi"})),
    )
    .await;
    assert_eq!(res.status(), 200);
    let _ = res.text().await.unwrap();
    let res = send(
        &p,
        &key,
        reqwest::Method::POST,
        "/api/v1/tools/listInstances/execute",
        None,
        Some(json!({"args": {}})),
    )
    .await;
    assert_eq!(res.status(), 200);
    // Longer than the exporter's delay would be, were it running.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        receiver.posts.lock().unwrap().is_empty(),
        "nothing exported"
    );
    let seen = cloud.seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(Option::is_none),
        "no traceparent to OCI: {seen:?}"
    );
    let sent = fake.requests();
    assert!(!sent.is_empty());
    assert!(
        sent.iter().all(|r| r.header("traceparent").is_none()),
        "no traceparent to the model"
    );
    let lines = log_lines_of(&p, &rid);
    assert!(!lines.is_empty(), "the access line is logged");
    for l in &lines {
        assert!(!l.to_string().contains(TRACE), "{l}");
        assert!(l.get("spans").is_none(), "{l}");
    }
    drop(p);
    app.shutdown().await.unwrap();
}
