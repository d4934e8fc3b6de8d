//! Scripted fake model servers for tests and benchmarks: never a dependency of the `portal`
//! binary.
//!
//! A [`FakeLlm`] is a real HTTP server on `127.0.0.1:0` that speaks one provider's wire
//! protocol ([`Protocol::OpenAi`] Chat Completions, [`Protocol::Anthropic`] Messages,
//! [`Protocol::Oci`] Generative AI chat) so provider code is exercised end to end: request
//! shape, headers, signing, SSE framing, errors, timeouts and cancellation. It answers from
//! a queue of [`Turn`]s, records every request it received ([`Recorded`]), checks requests
//! the way the real service would (a malformed conversation gets the real 400), and counts
//! clients that went away before a stream ended.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use portal_fake_llm::{FakeLlm, Protocol, Turn};
//! let fake = FakeLlm::start(Protocol::OpenAi).await?;
//! fake.push(Turn::tool_call("listInstances", ["{\"compartment", "Id\":\"ocid1.x\"}"]));
//! fake.push(Turn::text(["Hel", "lo"]));
//! // point the provider at fake.base_url(), run it, then:
//! let seen = fake.requests();
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use portal_oci::{PublicKey, VerifyOptions};
use serde_json::{json, Value};

/// Prose for instant answers.
const WORDS: &[&str] = &[
    "the",
    "instance",
    "web",
    "is",
    "running",
    "in",
    "the",
    "production",
    "compartment",
    "and",
    "costs",
    "little",
];

/// The wire protocol a fake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OpenAI Chat Completions: `POST /v1/chat/completions`.
    OpenAi,
    /// Anthropic Messages: `POST /v1/messages`.
    Anthropic,
    /// OCI Generative AI inference: `POST /20231130/actions/chat`.
    Oci,
}

impl Protocol {
    /// The path the protocol's chat endpoint lives at.
    pub fn path(self) -> &'static str {
        match self {
            Protocol::OpenAi => "/v1/chat/completions",
            Protocol::Anthropic => "/v1/messages",
            Protocol::Oci => "/20231130/actions/chat",
        }
    }
}

/// A tool call a scripted turn makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeToolCall {
    /// Call id the model gives.
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Argument JSON text, in the pieces it is streamed in.
    pub args_chunks: Vec<String>,
}

/// One scripted answer.
#[derive(Debug, Clone, Default)]
pub struct Turn {
    text: Vec<String>,
    tool_calls: Vec<FakeToolCall>,
    error: Option<(u16, String)>,
    raw_error_body: Option<String>,
    headers: Vec<(String, String)>,
    chunk_delay: Duration,
    head_delay: Duration,
    split_bytes: Option<usize>,
    fail_after: Option<(usize, String)>,
    cut_after: Option<usize>,
    usage: Option<(u64, u64)>,
    finish: Option<String>,
    instant: bool,
}

impl Turn {
    /// A text answer streamed in the given pieces.
    pub fn text<I, S>(chunks: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Turn {
            text: chunks.into_iter().map(Into::into).collect(),
            ..Turn::default()
        }
    }

    /// A call of `name` whose argument JSON is streamed in the given pieces.
    pub fn tool_call<I, S>(name: &str, args_chunks: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Turn::default().and_tool_call(name, args_chunks)
    }

    /// Adds another tool call (ids are `call_<n>` in order, unless set with [`Turn::call_id`]).
    pub fn and_tool_call<I, S>(mut self, name: &str, args_chunks: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let id = format!("call_{}", self.tool_calls.len() + 1);
        self.tool_calls.push(FakeToolCall {
            id,
            name: name.into(),
            args_chunks: args_chunks.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// Sets the id of the last tool call.
    pub fn call_id(mut self, id: &str) -> Self {
        if let Some(c) = self.tool_calls.last_mut() {
            c.id = id.into();
        }
        self
    }

    /// An HTTP error with `message` in the protocol's error body shape.
    pub fn error(status: u16, message: &str) -> Self {
        Turn {
            error: Some((status, message.into())),
            ..Turn::default()
        }
    }

    /// An HTTP error with exactly this body.
    pub fn error_body(status: u16, body: &str) -> Self {
        Turn {
            error: Some((status, String::new())),
            raw_error_body: Some(body.into()),
            ..Turn::default()
        }
    }

    /// `n` tokens in one write, for benchmarks (`instant-<n>` as the model name overrides `n`).
    pub fn instant(n: usize) -> Self {
        Turn {
            // Words, like a model's prose (digits would make the redactor hold text back).
            text: (0..n)
                .map(|i| format!("{} ", WORDS[i % WORDS.len()]))
                .collect(),
            instant: true,
            ..Turn::default()
        }
    }

    /// Adds a response header (e.g. `retry-after`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits this long between stream chunks (a slow model).
    pub fn delay(mut self, between_chunks: Duration) -> Self {
        self.chunk_delay = between_chunks;
        self
    }

    /// Waits this long before sending the response head (a model that never starts).
    pub fn head_delay(mut self, delay: Duration) -> Self {
        self.head_delay = delay;
        self
    }

    /// Re-cuts the streamed bytes into `n`-byte writes, ignoring event (and UTF-8) boundaries.
    pub fn split_bytes(mut self, n: usize) -> Self {
        self.split_bytes = Some(n.max(1));
        self
    }

    /// After `pieces` text/argument pieces, sends the protocol's in-band server error event
    /// (HTTP status already 200) and ends the stream.
    pub fn fail_after(mut self, pieces: usize, message: &str) -> Self {
        self.fail_after = Some((pieces, message.into()));
        self
    }

    /// After `pieces` text/argument pieces, drops the connection without ending the body.
    pub fn cut_after(mut self, pieces: usize) -> Self {
        self.cut_after = Some(pieces);
        self
    }

    /// Token counts reported (default: 10 prompt tokens, one per piece).
    pub fn usage(mut self, input: u64, output: u64) -> Self {
        self.usage = Some((input, output));
        self
    }

    /// Overrides the wire finish reason (e.g. `length` / `max_tokens`).
    pub fn finish(mut self, reason: &str) -> Self {
        self.finish = Some(reason.into());
        self
    }

    fn pieces(&self) -> usize {
        self.text.len()
            + self
                .tool_calls
                .iter()
                .map(|c| c.args_chunks.len())
                .sum::<usize>()
    }
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, lower-case names (repeated ones joined with `, `).
    pub headers: BTreeMap<String, String>,
    /// The JSON body (`Null` when it was not JSON).
    pub body: Value,
    /// OCI only, with keys registered: `Ok(keyId)` or why the signature was refused.
    pub signature: Option<Result<String, String>>,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Turn>>,
    fallback: Mutex<Option<Turn>>,
    requests: Mutex<Vec<Recorded>>,
    oci_keys: Mutex<Option<HashMap<String, PublicKey>>>,
    disconnects: AtomicUsize,
    completed: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running fake model server; stops when dropped.
pub struct FakeLlm {
    protocol: Protocol,
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeLlm {
    /// Starts a fake on `127.0.0.1:0` with an empty script.
    pub async fn start(protocol: Protocol) -> std::io::Result<FakeLlm> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .fallback(handle)
            .with_state((protocol, shared.clone()));
        let task = tokio::spawn(async move {
            // Small streamed frames must not wait for delayed ACKs (Nagle).
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeLlm {
            protocol,
            addr,
            shared,
            task,
        })
    }

    /// A fake that answers every request with `n` tokens at once (benchmarks).
    pub async fn instant(protocol: Protocol, n: usize) -> std::io::Result<FakeLlm> {
        let fake = FakeLlm::start(protocol).await?;
        fake.set_fallback(Some(Turn::instant(n)));
        Ok(fake)
    }

    /// The protocol it speaks.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Its socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to configure a provider with (`…/v1` for OpenAI, as its clients expect).
    pub fn base_url(&self) -> String {
        match self.protocol {
            Protocol::OpenAi => format!("http://{}/v1", self.addr),
            Protocol::Anthropic | Protocol::Oci => format!("http://{}", self.addr),
        }
    }

    /// Queues a turn; requests take turns in order.
    pub fn push(&self, turn: Turn) -> &Self {
        lock(&self.shared.script).push_back(turn);
        self
    }

    /// The answer when the queue is empty; `None` (the default) answers 500 "script exhausted".
    pub fn set_fallback(&self, turn: Option<Turn>) {
        *lock(&self.shared.fallback) = turn;
    }

    /// Turns not yet used.
    pub fn remaining(&self) -> usize {
        lock(&self.shared.script).len()
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// Streams whose client went away before the stream ended.
    pub fn disconnects(&self) -> usize {
        self.shared.disconnects.load(Ordering::SeqCst)
    }

    /// Streams sent to their end.
    pub fn completed(&self) -> usize {
        self.shared.completed.load(Ordering::SeqCst)
    }

    /// Waits until at least one client disconnected mid-stream; false if none did in time.
    pub async fn wait_for_disconnect(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            if self.disconnects() > 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.disconnects() > 0
    }

    /// OCI: verify request signatures against these keys (by `keyId`) and answer 401
    /// `NotAuthenticated` to any request that fails, as OCI does.
    pub fn verify_oci_signatures(&self, keys: HashMap<String, PublicKey>) {
        *lock(&self.shared.oci_keys) = Some(keys);
    }
}

async fn handle(
    State((protocol, shared)): State<(Protocol, Arc<Shared>)>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 32 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let mut headers = BTreeMap::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).to_string();
        headers
            .entry(name.as_str().to_string())
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string());
    let signature = match (protocol, lock(&shared.oci_keys).as_ref()) {
        (Protocol::Oci, Some(keys)) => Some(
            portal_oci::verify_request(
                parts.method.as_str(),
                &path,
                &parts.headers,
                &bytes,
                keys,
                &VerifyOptions::default(),
            )
            .map(|v| v.key_id)
            .map_err(|e| e.to_string()),
        ),
        _ => None,
    };
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    lock(&shared.requests).push(Recorded {
        method: parts.method.to_string(),
        path: path.clone(),
        headers: headers.clone(),
        body: body.clone(),
        signature: signature.clone(),
    });

    if parts.method != http::Method::POST || parts.uri.path() != protocol.path() {
        return error_response(protocol, 404, "no such operation", None);
    }
    if let Some(Err(_)) = signature {
        return error_response(
            protocol,
            401,
            "The required information to complete authentication was not provided or was incorrect.",
            None,
        );
    }
    if let Err((status, why)) = validate(protocol, &headers, &body) {
        return error_response(protocol, status, &why, None);
    }
    let turn = lock(&shared.script).pop_front();
    let Some(turn) = turn.or_else(|| lock(&shared.fallback).clone()) else {
        return error_response(protocol, 500, "fake-llm script exhausted", None);
    };
    // Benchmarks pick the answer's length with the model name: `instant-<n>`.
    let turn = match body["model"]
        .as_str()
        .and_then(|m| m.strip_prefix("instant-"))
        .and_then(|n| n.parse::<usize>().ok())
    {
        Some(n) if turn.instant => Turn::instant(n),
        _ => turn,
    };
    if !turn.head_delay.is_zero() {
        tokio::time::sleep(turn.head_delay).await;
    }
    if let Some((status, message)) = &turn.error {
        let mut resp = error_response(protocol, *status, message, turn.raw_error_body.as_deref());
        add_headers(&mut resp, &turn.headers);
        return resp;
    }
    let mut resp = stream_response(protocol, &turn, &body, shared);
    add_headers(&mut resp, &turn.headers);
    resp
}

fn add_headers(resp: &mut Response, headers: &[(String, String)]) {
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().insert(name, value);
        }
    }
}

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The protocol's error body for `status`.
fn error_json(protocol: Protocol, status: u16, message: &str) -> Value {
    match protocol {
        Protocol::OpenAi => {
            let (kind, code) = match status {
                401 => ("invalid_request_error", json!("invalid_api_key")),
                429 => ("requests", json!("rate_limit_exceeded")),
                400..=499 => ("invalid_request_error", Value::Null),
                _ => ("server_error", Value::Null),
            };
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
        }
        Protocol::Anthropic => {
            let kind = match status {
                401 => "authentication_error",
                403 => "permission_error",
                404 => "not_found_error",
                413 => "request_too_large",
                429 => "rate_limit_error",
                400..=499 => "invalid_request_error",
                529 => "overloaded_error",
                _ => "api_error",
            };
            json!({"type": "error", "error": {"type": kind, "message": message}})
        }
        Protocol::Oci => {
            let code = match status {
                401 => "NotAuthenticated",
                404 => "NotAuthorizedOrNotFound",
                409 => "Conflict",
                429 => "TooManyRequests",
                400..=499 => "InvalidParameter",
                503 => "ServiceUnavailable",
                _ => "InternalServerError",
            };
            json!({"code": code, "message": message})
        }
    }
}

fn error_response(protocol: Protocol, status: u16, message: &str, raw: Option<&str>) -> Response {
    let body = raw.map_or_else(
        || error_json(protocol, status, message).to_string(),
        str::to_string,
    );
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status_of(status);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

// ---------------------------------------------------------------------------------------
// Request checks: what the real services refuse with a 400.

type Check = Result<(), (u16, String)>;

fn bad(why: impl Into<String>) -> Check {
    Err((400, why.into()))
}

fn validate(protocol: Protocol, headers: &BTreeMap<String, String>, body: &Value) -> Check {
    if body.is_null() {
        return bad("the body is not JSON");
    }
    match protocol {
        Protocol::OpenAi => validate_openai(body),
        Protocol::Anthropic => validate_anthropic(headers, body),
        Protocol::Oci => validate_oci(headers, body),
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn validate_openai(body: &Value) -> Check {
    if str_of(body, "model").is_none_or(str::is_empty) {
        return bad("you must provide a model parameter");
    }
    if body.get("stream") != Some(&Value::Bool(true)) {
        return bad("this fake only streams: set stream to true");
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return bad("'messages' is a required property");
    };
    if messages.is_empty() {
        return bad("'messages' must not be empty");
    }
    let mut open_calls: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        match str_of(m, "role") {
            Some("system" | "developer" | "user") => {
                if !open_calls.is_empty() {
                    return bad(format!(
                        "messages[{i}]: an assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'"
                    ));
                }
                if m.get("content").is_none_or(Value::is_null) {
                    return bad(format!("messages[{i}]: content is required"));
                }
            }
            Some("assistant") => {
                if !open_calls.is_empty() {
                    return bad(format!("messages[{i}]: tool calls left unanswered"));
                }
                for c in m
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let ok = str_of(c, "type") == Some("function")
                        && c.pointer("/function/name").is_some_and(Value::is_string)
                        && c.pointer("/function/arguments")
                            .is_some_and(Value::is_string);
                    let Some(id) = str_of(c, "id").filter(|_| ok) else {
                        return bad(format!("messages[{i}]: malformed tool call"));
                    };
                    open_calls.push(id.to_string());
                }
            }
            Some("tool") => {
                let id = str_of(m, "tool_call_id").unwrap_or_default();
                let Some(pos) = open_calls.iter().position(|c| c == id) else {
                    return bad(format!(
                        "messages[{i}]: messages with role 'tool' must be a response to a preceding message with 'tool_calls'"
                    ));
                };
                open_calls.remove(pos);
            }
            _ => return bad(format!("messages[{i}]: invalid role")),
        }
    }
    for t in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if str_of(t, "type") != Some("function") || t.pointer("/function/name").is_none() {
            return bad("tools: each tool must be {type: function, function: {name, ...}}");
        }
    }
    Ok(())
}

fn validate_anthropic(headers: &BTreeMap<String, String>, body: &Value) -> Check {
    if headers.get("x-api-key").is_none_or(String::is_empty) {
        return Err((401, "x-api-key header is required".into()));
    }
    if !headers.contains_key("anthropic-version") {
        return bad("anthropic-version: header is required");
    }
    if str_of(body, "model").is_none_or(str::is_empty) {
        return bad("model: Field required");
    }
    if !body.get("max_tokens").is_some_and(Value::is_u64) {
        return bad("max_tokens: Field required");
    }
    if body.get("stream") != Some(&Value::Bool(true)) {
        return bad("this fake only streams: set stream to true");
    }
    if body
        .get("system")
        .is_some_and(|s| !s.is_string() && !s.is_array())
    {
        return bad("system: Input should be a valid string");
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return bad("messages: Field required");
    };
    let mut expected = "user";
    let mut open_calls: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = str_of(m, "role").unwrap_or_default();
        if role != expected {
            return bad(format!(
                "messages.{i}: roles must alternate between \"user\" and \"assistant\", starting with \"user\""
            ));
        }
        let blocks: Vec<Value> = match m.get("content") {
            Some(Value::String(s)) if !s.is_empty() => vec![json!({"type": "text", "text": s})],
            Some(Value::Array(a)) if !a.is_empty() => a.clone(),
            _ => return bad(format!("messages.{i}: content must be non-empty")),
        };
        let mut answered: Vec<String> = Vec::new();
        for b in &blocks {
            match str_of(b, "type") {
                Some("text") => {
                    if str_of(b, "text").is_none_or(|t| t.trim().is_empty()) {
                        return bad(format!(
                            "messages.{i}: text content blocks must be non-empty"
                        ));
                    }
                }
                Some("tool_use") if role == "assistant" => {
                    let ok =
                        str_of(b, "name").is_some() && b.get("input").is_some_and(Value::is_object);
                    let Some(id) = str_of(b, "id").filter(|_| ok) else {
                        return bad(format!("messages.{i}: malformed tool_use block"));
                    };
                    open_calls.push(id.to_string());
                }
                Some("tool_result") if role == "user" => {
                    let id = str_of(b, "tool_use_id").unwrap_or_default();
                    if !open_calls.iter().any(|c| c == id) {
                        return bad(format!(
                            "messages.{i}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                        ));
                    }
                    answered.push(id.to_string());
                }
                _ => return bad(format!("messages.{i}: unexpected content block")),
            }
        }
        if role == "user" {
            if let Some(missing) = open_calls.iter().find(|c| !answered.contains(c)) {
                return bad(format!(
                    "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {missing}"
                ));
            }
            open_calls.clear();
        }
        expected = if role == "user" { "assistant" } else { "user" };
    }
    if messages.is_empty() || !open_calls.is_empty() {
        return bad("messages: must end with an answered user turn");
    }
    for t in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if str_of(t, "name").is_none() || !t.get("input_schema").is_some_and(Value::is_object) {
            return bad("tools: each tool needs name and input_schema");
        }
    }
    Ok(())
}

fn validate_oci(headers: &BTreeMap<String, String>, body: &Value) -> Check {
    if !headers
        .get("authorization")
        .is_some_and(|a| a.starts_with("Signature "))
    {
        return Err((
            401,
            "The required information to complete authentication was not provided.".into(),
        ));
    }
    if str_of(body, "compartmentId").is_none_or(str::is_empty) {
        return bad("compartmentId is required");
    }
    let serving = body.get("servingMode").cloned().unwrap_or(Value::Null);
    let serving_ok = match str_of(&serving, "servingType") {
        Some("ON_DEMAND") => str_of(&serving, "modelId").is_some(),
        Some("DEDICATED") => str_of(&serving, "endpointId").is_some(),
        _ => false,
    };
    if !serving_ok {
        return bad("servingMode must be ON_DEMAND with modelId or DEDICATED with endpointId");
    }
    let Some(chat) = body.get("chatRequest") else {
        return bad("chatRequest is required");
    };
    if str_of(chat, "apiFormat") != Some("GENERIC") {
        return bad("this fake speaks apiFormat GENERIC only");
    }
    if chat.get("isStream") != Some(&Value::Bool(true)) {
        return bad("this fake only streams: set isStream to true");
    }
    let Some(messages) = chat.get("messages").and_then(Value::as_array) else {
        return bad("chatRequest.messages is required");
    };
    for (i, m) in messages.iter().enumerate() {
        let role = str_of(m, "role").unwrap_or_default();
        if !matches!(role, "SYSTEM" | "USER" | "ASSISTANT" | "TOOL" | "DEVELOPER") {
            return bad(format!("messages[{i}].role is invalid"));
        }
        for c in m
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if str_of(c, "type") != Some("TEXT") || str_of(c, "text").is_none() {
                return bad(format!("messages[{i}].content must be TEXT items"));
            }
        }
        if role != "ASSISTANT" && !m.get("content").is_some_and(Value::is_array) {
            return bad(format!("messages[{i}].content is required"));
        }
        if role == "TOOL" && str_of(m, "toolCallId").is_none() {
            return bad(format!("messages[{i}].toolCallId is required"));
        }
        for c in m
            .get("toolCalls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if str_of(c, "type") != Some("FUNCTION")
                || str_of(c, "id").is_none()
                || str_of(c, "name").is_none()
                || str_of(c, "arguments").is_none()
            {
                return bad(format!("messages[{i}].toolCalls must be FUNCTION calls"));
            }
        }
    }
    for t in chat
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if str_of(t, "type") != Some("FUNCTION") || str_of(t, "name").is_none() {
            return bad("tools must be FUNCTION definitions");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Streams.

/// The events of one answer: before, during (one per text/argument piece, plus uncounted
/// framing) and after the content.
struct Plan {
    head: Vec<String>,
    body: Vec<(String, bool)>,
    tail: Vec<String>,
    error: String,
}

fn sse(data: &Value) -> String {
    format!("data: {data}\n\n")
}

fn named(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

fn usage_of(turn: &Turn) -> (u64, u64) {
    turn.usage.unwrap_or((10, turn.pieces() as u64))
}

fn openai_plan(turn: &Turn, request: &Value) -> Plan {
    let model = str_of(request, "model").unwrap_or("fake");
    let include_usage =
        request.pointer("/stream_options/include_usage") == Some(&Value::Bool(true));
    let chunk = |delta: Value, finish: Value| {
        let mut c = json!({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": model, "system_fingerprint": null,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if include_usage {
            c["usage"] = Value::Null;
        }
        sse(&c)
    };
    let head = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    let mut body = Vec::new();
    for t in &turn.text {
        body.push((chunk(json!({"content": t}), Value::Null), true));
    }
    for (k, c) in turn.tool_calls.iter().enumerate() {
        let first = json!({"tool_calls": [{"index": k, "id": c.id, "type": "function",
                                           "function": {"name": c.name, "arguments": ""}}]});
        body.push((chunk(first, Value::Null), false));
        for a in &c.args_chunks {
            let piece = json!({"tool_calls": [{"index": k, "function": {"arguments": a}}]});
            body.push((chunk(piece, Value::Null), true));
        }
    }
    let finish = turn.finish.clone().unwrap_or_else(|| {
        if turn.tool_calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        }
        .into()
    });
    let mut tail = vec![chunk(json!({}), finish.into())];
    if include_usage {
        let (i, o) = usage_of(turn);
        tail.push(sse(&json!({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": model, "choices": [],
            "usage": {"prompt_tokens": i, "completion_tokens": o, "total_tokens": i + o},
        })));
    }
    tail.push("data: [DONE]\n\n".into());
    let error = sse(
        &json!({"error": {"message": "", "type": "server_error", "param": null, "code": null}}),
    );
    Plan {
        head,
        body,
        tail,
        error,
    }
}

fn anthropic_plan(turn: &Turn, request: &Value) -> Plan {
    let model = str_of(request, "model").unwrap_or("fake");
    let (input, output) = usage_of(turn);
    let head = vec![
        named(
            "message_start",
            &json!({"type": "message_start", "message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "content": [],
            "model": model, "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": input, "output_tokens": 1}}}),
        ),
        named("ping", &json!({"type": "ping"})),
    ];
    let mut body = Vec::new();
    let mut index = 0;
    if !turn.text.is_empty() {
        body.push((
            named(
                "content_block_start",
                &json!({"type": "content_block_start",
            "index": index, "content_block": {"type": "text", "text": ""}}),
            ),
            false,
        ));
        for t in &turn.text {
            body.push((
                named(
                    "content_block_delta",
                    &json!({"type": "content_block_delta",
                "index": index, "delta": {"type": "text_delta", "text": t}}),
                ),
                true,
            ));
        }
        body.push((
            named(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            ),
            false,
        ));
        index += 1;
    }
    for c in &turn.tool_calls {
        body.push((
            named(
                "content_block_start",
                &json!({"type": "content_block_start",
            "index": index, "content_block": {"type": "tool_use", "id": c.id, "name": c.name,
            "input": {}}}),
            ),
            false,
        ));
        for a in &c.args_chunks {
            body.push((
                named(
                    "content_block_delta",
                    &json!({"type": "content_block_delta",
                "index": index, "delta": {"type": "input_json_delta", "partial_json": a}}),
                ),
                true,
            ));
        }
        body.push((
            named(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            ),
            false,
        ));
        index += 1;
    }
    let stop = turn.finish.clone().unwrap_or_else(|| {
        if turn.tool_calls.is_empty() {
            "end_turn"
        } else {
            "tool_use"
        }
        .into()
    });
    let tail = vec![
        named(
            "message_delta",
            &json!({"type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": null},
            "usage": {"output_tokens": output}}),
        ),
        named("message_stop", &json!({"type": "message_stop"})),
    ];
    let error = named(
        "error",
        &json!({"type": "error", "error": {"type": "api_error", "message": ""}}),
    );
    Plan {
        head,
        body,
        tail,
        error,
    }
}

fn oci_plan(turn: &Turn, request: &Value) -> Plan {
    let include_usage =
        request.pointer("/chatRequest/streamOptions/isIncludeUsage") == Some(&Value::Bool(true));
    let mut body = Vec::new();
    for t in &turn.text {
        body.push((
            sse(&json!({"index": 0, "message": {"role": "ASSISTANT",
            "content": [{"type": "TEXT", "text": t}]}, "pad": "aaaaaaaa"})),
            true,
        ));
    }
    for c in &turn.tool_calls {
        body.push((
            sse(
                &json!({"index": 0, "message": {"role": "ASSISTANT", "toolCalls": [
            {"type": "FUNCTION", "id": c.id, "name": c.name, "arguments": ""}]}}),
            ),
            false,
        ));
        for a in &c.args_chunks {
            body.push((
                sse(
                    &json!({"index": 0, "message": {"role": "ASSISTANT", "toolCalls": [
                {"type": "FUNCTION", "arguments": a}]}}),
                ),
                true,
            ));
        }
    }
    let finish = turn.finish.clone().unwrap_or_else(|| {
        if turn.tool_calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        }
        .into()
    });
    let mut tail = vec![sse(&json!({"index": 0, "message": {"role": "ASSISTANT"},
        "finishReason": finish, "pad": "aaaa"}))];
    if include_usage {
        let (i, o) = usage_of(turn);
        tail.push(sse(
            &json!({"usage": {"promptTokens": i, "completionTokens": o,
            "totalTokens": i + o}}),
        ));
    }
    let error = sse(&json!({"code": "InternalServerError", "message": ""}));
    Plan {
        head: Vec::new(),
        body,
        tail,
        error,
    }
}

/// Counts the stream as completed or, when dropped early, as a client disconnect.
struct Guard {
    shared: Arc<Shared>,
    finished: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.shared.completed
        } else {
            &self.shared.disconnects
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

struct Streamer {
    frames: VecDeque<Bytes>,
    delay: Duration,
    first: bool,
    abort: bool,
    guard: Guard,
}

fn stream_response(
    protocol: Protocol,
    turn: &Turn,
    request: &Value,
    shared: Arc<Shared>,
) -> Response {
    let plan = match protocol {
        Protocol::OpenAi => openai_plan(turn, request),
        Protocol::Anthropic => anthropic_plan(turn, request),
        Protocol::Oci => oci_plan(turn, request),
    };
    let stop_at = turn.fail_after.as_ref().map(|(n, _)| *n).or(turn.cut_after);
    let mut events: Vec<String> = plan.head;
    let mut counted = 0;
    let mut stopped = false;
    for (ev, counts) in plan.body {
        if stop_at.is_some_and(|n| counted >= n) {
            stopped = true;
            break;
        }
        events.push(ev);
        counted += usize::from(counts);
    }
    let stopped = stopped || stop_at.is_some_and(|n| counted >= n);
    let mut abort = false;
    if stopped {
        if let Some((_, message)) = &turn.fail_after {
            events.push(plan.error.replace(
                "\"message\":\"\"",
                &format!("\"message\":{}", json!(message)),
            ));
        } else {
            abort = true;
        }
    } else {
        events.extend(plan.tail);
    }
    let frames: VecDeque<Bytes> = if turn.instant {
        VecDeque::from([Bytes::from(events.concat())])
    } else if let Some(n) = turn.split_bytes {
        let all = events.concat().into_bytes();
        all.chunks(n).map(Bytes::copy_from_slice).collect()
    } else {
        events.into_iter().map(Bytes::from).collect()
    };
    let streamer = Streamer {
        frames,
        delay: turn.chunk_delay,
        first: true,
        abort,
        guard: Guard {
            shared,
            finished: false,
        },
    };
    let stream = futures_util::stream::unfold(streamer, |mut s| async move {
        let Some(frame) = s.frames.pop_front() else {
            s.guard.finished = true;
            if s.abort {
                s.abort = false;
                // Let what was written reach the client before the connection drops.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let err = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "cut");
                return Some((Err(err), s));
            }
            return None;
        };
        // The whole answer is out once its last frame is handed to the connection.
        if s.frames.is_empty() && !s.abort {
            s.guard.finished = true;
        }
        if !s.first && !s.delay.is_zero() {
            tokio::time::sleep(s.delay).await;
        }
        s.first = false;
        // Separate writes for separate frames: let the connection flush between them.
        tokio::task::yield_now().await;
        Some((Ok(frame), s))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    if protocol == Protocol::Oci {
        h.insert("opc-request-id", HeaderValue::from_static("FAKEREQUESTID"));
    }
    resp
}
