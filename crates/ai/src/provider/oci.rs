//! OCI Generative AI inference (`POST /20231130/actions/chat`, `apiFormat: GENERIC`, streamed).
//!
//! Calls are signed with the portal's OCI API key through `portal-oci`'s
//! [`RequestSigner`](portal_oci::RequestSigner), freshly for every attempt. The endpoint is
//! `inference.generativeai.{region}.oci.{domain}` (the OCI client's endpoint override, if
//! any, applies), unless `PORTAL_AI_BASE_URL` replaces it.
//!
//! The streamed events are JSON objects in `data:` lines: text pieces as
//! `{message: {content: [{type: TEXT, text}]}}`, tool call pieces as
//! `{message: {toolCalls: [{id?, name?, arguments}]}}` (the id and name only on a call's
//! first piece; later pieces continue the last call), then `{finishReason}` and, with
//! `streamOptions.isIncludeUsage`, `{usage: {promptTokens, completionTokens}}`. The body
//! ends with the connection (or `data: [DONE]`).

use std::collections::VecDeque;

use bytes::Bytes;
use portal_oci::{OciClient, Service};
use serde_json::{json, Map, Value};

use super::http::{self, Decoder, Flow, HttpOptions, ToolCalls};
use super::sse::SseEvent;
use super::{
    ChatRequest, EventStream, FinishReason, Message, ProviderError, Role, SetupError, StreamEvent,
    Usage,
};

/// Operation path under the service base path.
const CHAT_PATH: &str = "/actions/chat";

/// How to reach OCI Generative AI.
#[derive(Debug, Clone)]
pub struct OciConfig {
    /// The portal's OCI client: signer, region and endpoint override.
    pub client: OciClient,
    /// Replaces the endpoint (scheme, host, port and an optional path prefix).
    pub base_url: Option<String>,
    /// Compartment billed for the calls; `None` for the tenancy (root compartment).
    pub compartment_id: Option<String>,
    /// Timeouts and retries.
    pub http: HttpOptions,
}

/// An OCI Generative AI backend.
#[derive(Debug)]
pub struct OciProvider {
    oci: OciClient,
    client: reqwest::Client,
    url: reqwest::Url,
    compartment_id: String,
    http: HttpOptions,
}

impl OciProvider {
    /// A provider for `config`.
    pub fn new(config: OciConfig) -> Result<Self, SetupError> {
        let service = Service::GENERATIVE_AI_INFERENCE;
        let url = match config.base_url.as_deref() {
            Some(base) => {
                let trimmed = base.trim_end_matches('/');
                let trimmed = trimmed
                    .strip_suffix(service.base_path.as_ref())
                    .unwrap_or(trimmed);
                let base = reqwest::Url::parse(trimmed)
                    .map_err(|e| SetupError::InvalidUrl(format!("{trimmed}: {e}")))?;
                service.url(config.client.region(), Some(&base), CHAT_PATH, &[])
            }
            None => service.url(
                config.client.region(),
                config.client.options().endpoint_override.as_ref(),
                CHAT_PATH,
                &[],
            ),
        }
        .map_err(|e| SetupError::InvalidUrl(e.to_string()))?;
        // keyId is `<tenancy>/<user>/<fingerprint>`; the tenancy is the root compartment.
        let compartment_id = match config.compartment_id {
            Some(c) => c,
            None => config
                .client
                .signer()
                .key_id()
                .split('/')
                .next()
                .unwrap_or_default()
                .to_string(),
        };
        let client = config
            .http
            .client()
            .map_err(|e| SetupError::HttpClient(e.to_string()))?;
        Ok(OciProvider {
            oci: config.client,
            client,
            url,
            compartment_id,
            http: config.http,
        })
    }

    /// Sends its calls through `client` (the portal's SSRF-guarded one, for
    /// providers admins configure at run time).
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    /// The endpoint calls go to.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The compartment calls are billed to.
    pub fn compartment_id(&self) -> &str {
        &self.compartment_id
    }

    /// The `ChatDetails` body for `request`.
    pub fn request_body(&self, request: &ChatRequest) -> Value {
        let mut messages = Vec::with_capacity(request.messages.len() + 1);
        if !request.system.is_empty() {
            messages.push(json!({"role": "SYSTEM", "content": text_content(&request.system)}));
        }
        messages.extend(request.messages.iter().map(wire_message));
        let mut chat = Map::new();
        chat.insert("apiFormat".into(), "GENERIC".into());
        chat.insert("messages".into(), messages.into());
        chat.insert("isStream".into(), true.into());
        chat.insert("streamOptions".into(), json!({"isIncludeUsage": true}));
        chat.insert("maxTokens".into(), request.max_tokens.into());
        if !request.tools.is_empty() {
            let tools: Vec<Value> = request
                .tools
                .iter()
                .map(|t| {
                    json!({"type": "FUNCTION", "name": t.name, "description": t.description,
                           "parameters": t.parameters})
                })
                .collect();
            chat.insert("tools".into(), tools.into());
        }
        // A dedicated AI cluster endpoint is addressed by its OCID, a base model by name.
        let serving = if request.model.starts_with("ocid1.generativeaiendpoint.") {
            json!({"servingType": "DEDICATED", "endpointId": request.model})
        } else {
            json!({"servingType": "ON_DEMAND", "modelId": request.model})
        };
        json!({
            "compartmentId": self.compartment_id,
            "servingMode": serving,
            "chatRequest": chat,
        })
    }
}

fn text_content(text: &str) -> Value {
    json!([{"type": "TEXT", "text": text}])
}

fn wire_message(m: &Message) -> Value {
    match m.role {
        Role::User => json!({"role": "USER", "content": text_content(&m.content)}),
        Role::Assistant => {
            let mut v = Map::new();
            v.insert("role".into(), "ASSISTANT".into());
            if !m.content.is_empty() || m.tool_calls.is_empty() {
                v.insert("content".into(), text_content(&m.content));
            }
            if !m.tool_calls.is_empty() {
                let calls: Vec<Value> = m
                    .tool_calls
                    .iter()
                    .map(|c| {
                        json!({"type": "FUNCTION", "id": c.id, "name": c.name,
                               "arguments": c.arguments})
                    })
                    .collect();
                v.insert("toolCalls".into(), calls.into());
            }
            Value::Object(v)
        }
        Role::Tool => json!({
            "role": "TOOL",
            "toolCallId": m.tool_call_id.as_deref().unwrap_or_default(),
            "content": text_content(&m.content),
        }),
    }
}

#[async_trait::async_trait]
impl super::Provider for OciProvider {
    fn kind(&self) -> &'static str {
        "oci"
    }

    async fn stream(&self, request: ChatRequest) -> Result<EventStream, ProviderError> {
        let body = Bytes::from(
            serde_json::to_vec(&self.request_body(&request))
                .map_err(|e| ProviderError::Protocol(e.to_string()))?,
        );
        let build = || {
            let mut req = self
                .client
                .post(self.url.clone())
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("opc-request-id", request_id())
                .body(body.clone())
                .build()
                .map_err(|e| ProviderError::Transport(e.without_url().to_string()))?;
            self.oci
                .signer()
                .sign_reqwest(&mut req)
                .map_err(|e| ProviderError::Protocol(format!("cannot sign the request: {e}")))?;
            Ok(req)
        };
        let resp = http::send(&self.client, &self.http, "oci", &[], &build).await?;
        Ok(http::event_stream(
            resp,
            self.http.timeout,
            OciDecoder::default(),
        ))
    }
}

/// 32 upper-case hex digits, as the SDK sends.
fn request_id() -> String {
    format!("{:016X}{:016X}", fastrand::u64(..), fastrand::u64(..))
}

/// OCI Generative AI stream chunks → stream events.
#[derive(Debug, Default)]
pub(crate) struct OciDecoder {
    calls: ToolCalls,
    current: Option<usize>,
    ids: Vec<String>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
}

fn finish_reason(raw: &str) -> FinishReason {
    match raw.to_ascii_lowercase().as_str() {
        "stop" | "complete" | "end_turn" | "stop_sequence" => FinishReason::Stop,
        "tool_calls" | "tool_call" | "tool_use" => FinishReason::ToolCalls,
        "length" | "max_tokens" => FinishReason::Length,
        "content_filter" | "error_toxic" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

impl OciDecoder {
    fn complete(&mut self, out: &mut VecDeque<StreamEvent>) {
        self.calls.close(out);
        let reason = match self.finish {
            // Some hosted models say `stop` after calling tools; the calls are what counts.
            Some(FinishReason::Stop) | None if self.calls.any() => FinishReason::ToolCalls,
            Some(r) => r,
            None => FinishReason::Stop,
        };
        out.push_back(StreamEvent::Finish {
            reason,
            usage: self.usage.unwrap_or_default(),
        });
    }

    fn tool_piece(&mut self, call: &Value, out: &mut VecDeque<StreamEvent>) {
        // Flat `FunctionCall` fields, or nested under `function` as some models send them.
        let f = call.get("function").unwrap_or(call);
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let name = f
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let known = id.and_then(|id| self.ids.iter().position(|k| k == id));
        let index = match (known, self.current) {
            (Some(i), _) => i,
            // A piece without id or name continues the call in progress.
            (None, Some(cur)) if id.is_none() && name.is_none() => cur,
            _ => {
                let key = self.ids.len() as u64;
                self.ids.push(id.map(str::to_string).unwrap_or_default());
                self.calls.start(key, id, name, out)
            }
        };
        self.current = Some(index);
        if let Some(args) = f.get("arguments") {
            match args {
                Value::String(s) => self.calls.delta(index, s, out),
                Value::Null => {}
                // Some models send the arguments as an object already.
                other => self.calls.delta(index, &other.to_string(), out),
            }
        }
    }
}

impl Decoder for OciDecoder {
    fn event(
        &mut self,
        event: SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<Flow, ProviderError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.complete(out);
            return Ok(Flow::Done);
        }
        let v: Value = serde_json::from_str(data)
            .map_err(|e| ProviderError::Protocol(format!("chunk is not JSON: {e}")))?;
        // OCI's error shape `{code, message}` (a chunk's `message` is an object).
        let is_error = event.event == "error"
            || (v.get("code").is_some_and(Value::is_string)
                && v.get("message").is_some_and(Value::is_string));
        if is_error {
            let message = http::clean_message(&http::json_message(&v).unwrap_or_default(), &[]);
            let code = v.get("code").and_then(Value::as_str).unwrap_or_default();
            return Err(match code {
                "TooManyRequests" => ProviderError::RateLimited { retry_after: None },
                "NotAuthenticated" => ProviderError::Unauthorized,
                "InvalidParameter" | "NotAuthorizedOrNotFound" | "LimitExceeded" => {
                    ProviderError::BadRequest(message)
                }
                _ => ProviderError::Unavailable(message),
            });
        }
        if let Some(message) = v.get("message").filter(|m| m.is_object()) {
            for part in message
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let is_text = part
                    .get("type")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t.eq_ignore_ascii_case("TEXT"));
                if let Some(text) = part.get("text").and_then(Value::as_str) {
                    if is_text && !text.is_empty() {
                        out.push_back(StreamEvent::TextDelta(text.to_string()));
                    }
                }
            }
            for call in message
                .get("toolCalls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.tool_piece(call, out);
            }
        }
        if let Some(r) = v.get("finishReason").and_then(Value::as_str) {
            self.finish = Some(finish_reason(r));
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
            self.usage = Some(Usage {
                input_tokens: n("promptTokens"),
                output_tokens: n("completionTokens"),
            });
        }
        Ok(Flow::Continue)
    }

    fn eof(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        if self.finish.is_some() {
            self.complete(out);
            Ok(())
        } else {
            Err(ProviderError::Transport(
                "the stream ended before the answer was complete".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::http::decode_all;

    fn calls(out: &[StreamEvent]) -> Vec<(String, String, String)> {
        let mut calls: Vec<(String, String, String)> = Vec::new();
        for ev in out {
            match ev {
                StreamEvent::ToolCallStart { id, name, .. } => {
                    calls.push((id.clone(), name.clone(), String::new()))
                }
                StreamEvent::ToolCallDelta { index, delta } => calls[*index].2.push_str(delta),
                _ => {}
            }
        }
        calls
    }

    #[test]
    fn whole_and_nested_tool_calls() {
        let events = [
            // A complete call in one chunk, nested as some models send it.
            r#"{"message":{"role":"ASSISTANT","toolCalls":[{"id":"a","type":"FUNCTION","function":{"name":"f","arguments":"{\"x\":1}"}}]}}"#,
            // A second call, flat, with its arguments as an object.
            r#"{"message":{"role":"ASSISTANT","toolCalls":[{"id":"b","type":"FUNCTION","name":"g","arguments":{"y":2}}]}}"#,
            r#"{"message":{"role":"ASSISTANT"},"finishReason":"STOP"}"#,
            r#"{"usage":{"promptTokens":5,"completionTokens":9,"totalTokens":14}}"#,
        ];
        let pairs: Vec<(&str, &str)> = events.iter().map(|e| ("", *e)).collect();
        let (out, err) = decode_all(OciDecoder::default(), &pairs);
        assert_eq!(err, None);
        assert_eq!(
            calls(&out),
            vec![
                ("a".into(), "f".into(), "{\"x\":1}".into()),
                ("b".into(), "g".into(), "{\"y\":2}".into()),
            ]
        );
        assert_eq!(
            out.last(),
            Some(&StreamEvent::Finish {
                reason: FinishReason::ToolCalls,
                usage: Usage {
                    input_tokens: 5,
                    output_tokens: 9
                }
            })
        );
    }

    #[test]
    fn error_chunk_and_early_end() {
        let (_, err) = decode_all(
            OciDecoder::default(),
            &[("", r#"{"code":"TooManyRequests","message":"slow down"}"#)],
        );
        assert!(
            matches!(err, Some(ProviderError::RateLimited { .. })),
            "{err:?}"
        );
        let text =
            r#"{"index":0,"message":{"role":"ASSISTANT","content":[{"type":"TEXT","text":"hi"}]}}"#;
        let (out, err) = decode_all(OciDecoder::default(), &[("", text)]);
        assert_eq!(out, vec![StreamEvent::TextDelta("hi".into())]);
        assert!(matches!(err, Some(ProviderError::Transport(_))), "{err:?}");
        let (out, err) = decode_all(OciDecoder::default(), &[("", text), ("", "[DONE]")]);
        assert_eq!(err, None);
        assert!(matches!(
            out.last(),
            Some(StreamEvent::Finish {
                reason: FinishReason::Stop,
                ..
            })
        ));
    }
}
