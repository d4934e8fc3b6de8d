//! Anthropic's Messages API (`POST {base}/v1/messages`, streamed).
//!
//! Its conversation shape differs from ours: the system prompt is a top-level field, tool
//! calls are `tool_use` content blocks of the assistant, and tool results are `tool_result`
//! blocks of a *user* message. Roles must alternate, so consecutive messages that map to the
//! same role (several tool results, or results followed by the user's next words) are merged
//! into one message.

use std::collections::VecDeque;

use bytes::Bytes;
use portal_core::secret::Secret;
use serde_json::{json, Map, Value};

use super::http::{self, Decoder, Flow, HttpOptions, ToolCalls};
use super::sse::SseEvent;
use super::{
    ChatRequest, EventStream, FinishReason, Message, ProviderError, Role, SetupError, StreamEvent,
    Usage,
};

/// Anthropic's API base.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The API version we speak.
pub const API_VERSION: &str = "2023-06-01";

/// How to reach the Messages API.
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    /// Base URL without `/v1`; `None` for Anthropic itself.
    pub base_url: Option<String>,
    /// `x-api-key`.
    pub api_key: Secret<String>,
    /// Timeouts and retries.
    pub http: HttpOptions,
}

/// An Anthropic Messages API backend.
#[derive(Debug)]
pub struct AnthropicProvider {
    client: reqwest::Client,
    url: reqwest::Url,
    api_key: Secret<String>,
    http: HttpOptions,
}

impl AnthropicProvider {
    /// A provider for `config`.
    pub fn new(config: AnthropicConfig) -> Result<Self, SetupError> {
        let base = config
            .base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/');
        // Accept a base given with `/v1`, as OpenAI-style bases are.
        let base = base.strip_suffix("/v1").unwrap_or(base);
        let url = reqwest::Url::parse(&format!("{base}/v1/messages"))
            .map_err(|e| SetupError::InvalidUrl(format!("{base}: {e}")))?;
        let client = config
            .http
            .client()
            .map_err(|e| SetupError::HttpClient(e.to_string()))?;
        Ok(AnthropicProvider {
            client,
            url,
            api_key: config.api_key,
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

    /// The JSON body for `request`.
    pub fn request_body(&self, request: &ChatRequest) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), request.model.clone().into());
        body.insert("max_tokens".into(), request.max_tokens.into());
        body.insert("stream".into(), true.into());
        if !request.system.is_empty() {
            body.insert("system".into(), request.system.clone().into());
        }
        body.insert("messages".into(), wire_messages(&request.messages).into());
        if !request.tools.is_empty() {
            let tools: Vec<Value> = request
                .tools
                .iter()
                .map(|t| {
                    json!({"name": t.name, "description": t.description, "input_schema": t.parameters})
                })
                .collect();
            body.insert("tools".into(), tools.into());
        }
        Value::Object(body)
    }
}

/// Our messages as alternating Anthropic messages of content blocks.
fn wire_messages(messages: &[Message]) -> Vec<Value> {
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in messages {
        let (role, blocks) = match m.role {
            Role::User => ("user", text_block(&m.content).into_iter().collect()),
            Role::Assistant => {
                let mut blocks: Vec<Value> = text_block(&m.content).into_iter().collect();
                for c in &m.tool_calls {
                    // `input` must be an object; a call whose arguments were not valid JSON
                    // was answered with an error result, so an empty input is honest enough.
                    let input = serde_json::from_str::<Value>(&c.arguments)
                        .ok()
                        .filter(Value::is_object)
                        .unwrap_or_else(|| json!({}));
                    blocks.push(
                        json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}),
                    );
                }
                ("assistant", blocks)
            }
            Role::Tool => (
                "user",
                vec![json!({
                    "type": "tool_result",
                    "tool_use_id": m.tool_call_id.as_deref().unwrap_or_default(),
                    "content": m.content,
                })],
            ),
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last, existing)) if *last == role => {
                // Tool results go first in a user message, as the API expects.
                if role == "user" && blocks.iter().all(|b| b["type"] == "tool_result") {
                    let at = existing
                        .iter()
                        .position(|b| b["type"] != "tool_result")
                        .unwrap_or(existing.len());
                    existing.splice(at..at, blocks);
                } else {
                    existing.extend(blocks);
                }
            }
            _ => out.push((role, blocks)),
        }
    }
    out.into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
}

fn text_block(text: &str) -> Option<Value> {
    // The API rejects empty text blocks.
    (!text.trim().is_empty()).then(|| json!({"type": "text", "text": text}))
}

#[async_trait::async_trait]
impl super::Provider for AnthropicProvider {
    fn kind(&self) -> &'static str {
        "anthropic"
    }

    async fn stream(&self, request: ChatRequest) -> Result<EventStream, ProviderError> {
        let body = Bytes::from(
            serde_json::to_vec(&self.request_body(&request))
                .map_err(|e| ProviderError::Protocol(e.to_string()))?,
        );
        let key = self.api_key.expose().as_str();
        let build = || {
            self.client
                .post(self.url.clone())
                .header("content-type", "application/json")
                .header("accept", "text/event-stream")
                .header("anthropic-version", API_VERSION)
                .header("x-api-key", key)
                .body(body.clone())
                .build()
                .map_err(|e| ProviderError::Transport(e.without_url().to_string()))
        };
        let resp = http::send(&self.client, &self.http, "anthropic", &[key], &build).await?;
        Ok(http::event_stream(
            resp,
            self.http.timeout,
            AnthropicDecoder::default(),
        ))
    }
}

/// Messages API events → stream events.
#[derive(Debug, Default)]
pub(crate) struct AnthropicDecoder {
    calls: ToolCalls,
    stop: Option<FinishReason>,
    usage: Usage,
}

fn stop_reason(raw: &str) -> FinishReason {
    match raw {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "tool_use" => FinishReason::ToolCalls,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "refusal" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

/// An `error` event, mapped like the HTTP status its type stands for.
fn error_event(v: &Value) -> ProviderError {
    let message = http::clean_message(&http::json_message(v).unwrap_or_default(), &[]);
    match v.pointer("/error/type").and_then(Value::as_str) {
        Some("rate_limit_error") => ProviderError::RateLimited { retry_after: None },
        Some("authentication_error" | "permission_error") => ProviderError::Unauthorized,
        Some("invalid_request_error" | "not_found_error" | "request_too_large") => {
            ProviderError::BadRequest(message)
        }
        _ => ProviderError::Unavailable(message),
    }
}

impl Decoder for AnthropicDecoder {
    fn event(
        &mut self,
        event: SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<Flow, ProviderError> {
        let v: Value = serde_json::from_str(&event.data)
            .map_err(|e| ProviderError::Protocol(format!("event is not JSON: {e}")))?;
        // The `type` field repeats the event name; prefer it (some proxies drop `event:`).
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(event.event.as_str());
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        match kind {
            "message_start" => {
                let usage = v.pointer("/message/usage");
                let n = |k: &str| usage.and_then(|u| u.get(k)).and_then(Value::as_u64);
                // Cached prompt tokens are prompt tokens too.
                self.usage.input_tokens = n("input_tokens").unwrap_or(0)
                    + n("cache_creation_input_tokens").unwrap_or(0)
                    + n("cache_read_input_tokens").unwrap_or(0);
                self.usage.output_tokens = n("output_tokens").unwrap_or(0);
            }
            "content_block_start" => {
                let block = v.get("content_block");
                match block.and_then(|b| b.get("type")).and_then(Value::as_str) {
                    Some("tool_use") => {
                        let s = |k: &str| block.and_then(|b| b.get(k)).and_then(Value::as_str);
                        self.calls.start(index, s("id"), s("name"), out);
                    }
                    Some("text") => {
                        if let Some(t) = block.and_then(|b| b.get("text")).and_then(Value::as_str) {
                            if !t.is_empty() {
                                out.push_back(StreamEvent::TextDelta(t.to_string()));
                            }
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = v.get("delta");
                let s = |k: &str| delta.and_then(|d| d.get(k)).and_then(Value::as_str);
                match s("type") {
                    Some("text_delta") => {
                        if let Some(t) = s("text").filter(|t| !t.is_empty()) {
                            out.push_back(StreamEvent::TextDelta(t.to_string()));
                        }
                    }
                    Some("input_json_delta") => {
                        if !self.calls.contains(index) {
                            return Err(ProviderError::Protocol(
                                "tool input for a block that is not a tool call".into(),
                            ));
                        }
                        let call = self.calls.start(index, None, None, out);
                        self.calls
                            .delta(call, s("partial_json").unwrap_or_default(), out);
                    }
                    // Thinking and citations are not shown.
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(r) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop = Some(stop_reason(r));
                }
                if let Some(n) = v.pointer("/usage/output_tokens").and_then(Value::as_u64) {
                    self.usage.output_tokens = n;
                }
                if let Some(n) = v.pointer("/usage/input_tokens").and_then(Value::as_u64) {
                    self.usage.input_tokens = self.usage.input_tokens.max(n);
                }
            }
            "message_stop" => {
                self.calls.close(out);
                let reason = self.stop.unwrap_or(if self.calls.any() {
                    FinishReason::ToolCalls
                } else {
                    FinishReason::Stop
                });
                out.push_back(StreamEvent::Finish {
                    reason,
                    usage: self.usage,
                });
                return Ok(Flow::Done);
            }
            "error" => return Err(error_event(&v)),
            // ping, content_block_stop and future event types.
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn eof(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        Err(ProviderError::Transport(
            "the stream ended before the answer was complete".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::http::decode_all;

    #[test]
    fn error_events_map_by_type() {
        let ev = |t: &str| format!(r#"{{"type":"error","error":{{"type":"{t}","message":"m"}}}}"#);
        let run = |t: &str| decode_all(AnthropicDecoder::default(), &[("error", &ev(t))]).1;
        assert!(matches!(
            run("overloaded_error"),
            Some(ProviderError::Unavailable(_))
        ));
        assert!(matches!(
            run("rate_limit_error"),
            Some(ProviderError::RateLimited { .. })
        ));
        assert!(matches!(
            run("invalid_request_error"),
            Some(ProviderError::BadRequest(_))
        ));
        assert!(matches!(
            run("authentication_error"),
            Some(ProviderError::Unauthorized)
        ));
    }

    #[test]
    fn cached_prompt_tokens_count_and_stray_json_is_refused() {
        let start = r#"{"type":"message_start","message":{"usage":{"input_tokens":3,"cache_read_input_tokens":100,"output_tokens":1}}}"#;
        let delta = r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":12}}"#;
        let (out, err) = decode_all(
            AnthropicDecoder::default(),
            &[("", start), ("", delta), ("", r#"{"type":"message_stop"}"#)],
        );
        assert_eq!(err, None);
        assert_eq!(
            out,
            vec![StreamEvent::Finish {
                reason: FinishReason::Stop,
                usage: Usage {
                    input_tokens: 103,
                    output_tokens: 12
                }
            }]
        );
        let stray = r#"{"type":"content_block_delta","index":4,"delta":{"type":"input_json_delta","partial_json":"{"}}"#;
        let (_, err) = decode_all(AnthropicDecoder::default(), &[("", stray)]);
        assert!(matches!(err, Some(ProviderError::Protocol(_))), "{err:?}");
    }
}
