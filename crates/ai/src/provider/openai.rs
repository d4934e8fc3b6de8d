//! OpenAI-compatible Chat Completions (`POST {base}/chat/completions`, streamed).
//!
//! Works with OpenAI itself and with the many servers that copy its API (Ollama, vLLM,
//! LiteLLM, ...), which is why the API key is optional.

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

/// OpenAI's own endpoint base.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// How to reach an OpenAI-compatible server.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Base URL up to and including `/v1`; `None` for OpenAI itself.
    pub base_url: Option<String>,
    /// Bearer token; `None` for servers without authentication (e.g. a local Ollama).
    pub api_key: Option<Secret<String>>,
    /// Timeouts and retries.
    pub http: HttpOptions,
}

/// An OpenAI-compatible Chat Completions backend.
#[derive(Debug)]
pub struct OpenAiProvider {
    client: reqwest::Client,
    url: reqwest::Url,
    api_key: Option<Secret<String>>,
    http: HttpOptions,
    /// OpenAI itself wants `max_completion_tokens` (newer models refuse `max_tokens`);
    /// compatible servers mostly know only `max_tokens`.
    completion_tokens_field: bool,
    /// Azure OpenAI takes the key in an `api-key` header, not as a bearer token.
    key_header: bool,
}

impl OpenAiProvider {
    /// A provider for `config`.
    pub fn new(config: OpenAiConfig) -> Result<Self, SetupError> {
        let base = config
            .base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/');
        let url = reqwest::Url::parse(&format!("{base}/chat/completions"))
            .map_err(|e| SetupError::InvalidUrl(format!("{base}: {e}")))?;
        let client = config
            .http
            .client()
            .map_err(|e| SetupError::HttpClient(e.to_string()))?;
        Ok(OpenAiProvider {
            client,
            url,
            api_key: config.api_key,
            http: config.http,
            completion_tokens_field: base == DEFAULT_BASE_URL,
            key_header: false,
        })
    }

    /// Sends its calls through `client` (the portal's SSRF-guarded one, for
    /// providers admins configure at run time).
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    /// Sends the key as Azure OpenAI's `api-key` header.
    pub fn azure(mut self) -> Self {
        self.key_header = true;
        self
    }

    /// The endpoint calls go to.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The JSON body for `request`.
    pub fn request_body(&self, request: &ChatRequest) -> Value {
        let mut messages = Vec::with_capacity(request.messages.len() + 1);
        if !request.system.is_empty() {
            messages.push(json!({"role": "system", "content": request.system}));
        }
        messages.extend(request.messages.iter().map(wire_message));
        let mut body = Map::new();
        body.insert("model".into(), request.model.clone().into());
        body.insert("messages".into(), messages.into());
        body.insert("stream".into(), true.into());
        body.insert("stream_options".into(), json!({"include_usage": true}));
        let cap = if self.completion_tokens_field {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body.insert(cap.into(), request.max_tokens.into());
        if !request.tools.is_empty() {
            let tools: Vec<Value> = request
                .tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "function": {
                        "name": t.name, "description": t.description, "parameters": t.parameters,
                    }})
                })
                .collect();
            body.insert("tools".into(), tools.into());
        }
        Value::Object(body)
    }
}

fn wire_message(m: &Message) -> Value {
    match m.role {
        Role::User => json!({"role": "user", "content": m.content}),
        Role::Assistant => {
            let mut v = Map::new();
            v.insert("role".into(), "assistant".into());
            // `content: null` is how OpenAI writes a message that is only tool calls.
            let content = if m.content.is_empty() && !m.tool_calls.is_empty() {
                Value::Null
            } else {
                m.content.clone().into()
            };
            v.insert("content".into(), content);
            if !m.tool_calls.is_empty() {
                let calls: Vec<Value> = m
                    .tool_calls
                    .iter()
                    .map(|c| {
                        json!({"id": c.id, "type": "function",
                               "function": {"name": c.name, "arguments": c.arguments}})
                    })
                    .collect();
                v.insert("tool_calls".into(), calls.into());
            }
            Value::Object(v)
        }
        Role::Tool => json!({
            "role": "tool",
            "tool_call_id": m.tool_call_id.as_deref().unwrap_or_default(),
            "content": m.content,
        }),
    }
}

#[async_trait::async_trait]
impl super::Provider for OpenAiProvider {
    fn kind(&self) -> &'static str {
        "openai"
    }

    async fn stream(&self, request: ChatRequest) -> Result<EventStream, ProviderError> {
        let body = Bytes::from(
            serde_json::to_vec(&self.request_body(&request))
                .map_err(|e| ProviderError::Protocol(e.to_string()))?,
        );
        let key = self.api_key.as_ref().map(|k| k.expose().as_str());
        let build = || {
            let mut req = self
                .client
                .post(self.url.clone())
                .header("content-type", "application/json")
                .header("accept", "text/event-stream")
                .body(body.clone());
            match key.filter(|k| !k.is_empty()) {
                Some(k) if self.key_header => req = req.header("api-key", k),
                Some(k) => req = req.bearer_auth(k),
                None => {}
            }
            req.build()
                .map_err(|e| ProviderError::Transport(e.without_url().to_string()))
        };
        let secrets: Vec<&str> = key.into_iter().collect();
        let resp = http::send(&self.client, &self.http, "openai", &secrets, &build).await?;
        Ok(http::event_stream(
            resp,
            self.http.timeout,
            OpenAiDecoder::default(),
        ))
    }
}

/// Chat Completions chunks → stream events.
#[derive(Debug, Default)]
pub(crate) struct OpenAiDecoder {
    calls: ToolCalls,
    finish: Option<FinishReason>,
    usage: Usage,
}

impl OpenAiDecoder {
    fn complete(&mut self, out: &mut VecDeque<StreamEvent>) {
        self.calls.close(out);
        let reason = match self.finish {
            Some(r) => r,
            None if self.calls.any() => FinishReason::ToolCalls,
            None => FinishReason::Stop,
        };
        out.push_back(StreamEvent::Finish {
            reason,
            usage: self.usage,
        });
    }
}

fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "stop" => FinishReason::Stop,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "length" => FinishReason::Length,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

/// An in-band error object, mapped like the HTTP status it stands for.
pub(crate) fn in_band_error(v: &Value) -> ProviderError {
    let message = http::clean_message(&http::json_message(v).unwrap_or_default(), &[]);
    let kind = v
        .pointer("/error/type")
        .or_else(|| v.pointer("/error/code"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    match kind {
        "rate_limit_exceeded" | "rate_limit_error" => {
            ProviderError::RateLimited { retry_after: None }
        }
        "invalid_request_error" | "context_length_exceeded" => ProviderError::BadRequest(message),
        "authentication_error" | "invalid_api_key" => ProviderError::Unauthorized,
        _ => ProviderError::Unavailable(message),
    }
}

impl Decoder for OpenAiDecoder {
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
        if event.event == "error" || v.get("error").is_some_and(|e| !e.is_null()) {
            return Err(in_band_error(&v));
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
            self.usage = Usage {
                input_tokens: n("prompt_tokens"),
                output_tokens: n("completion_tokens"),
            };
        }
        let choices = v.get("choices").and_then(Value::as_array);
        // Only the first choice: we never ask for more than one.
        let Some(choice) = choices.and_then(|c| c.first()) else {
            return Ok(Flow::Continue);
        };
        if let Some(delta) = choice.get("delta") {
            if let Some(text) = delta.get("content").and_then(Value::as_str) {
                if !text.is_empty() {
                    out.push_back(StreamEvent::TextDelta(text.to_string()));
                }
            }
            for (pos, call) in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let key = call
                    .get("index")
                    .and_then(Value::as_u64)
                    .unwrap_or(pos as u64);
                let f = call.get("function");
                let index = self.calls.start(
                    key,
                    call.get("id").and_then(Value::as_str),
                    f.and_then(|f| f.get("name")).and_then(Value::as_str),
                    out,
                );
                if let Some(args) = f.and_then(|f| f.get("arguments")).and_then(Value::as_str) {
                    self.calls.delta(index, args, out);
                }
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish = Some(finish_reason(reason));
        }
        Ok(Flow::Continue)
    }

    fn eof(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        // Some compatible servers close without `[DONE]`; a finish reason means the
        // answer itself was complete.
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

    fn chunk(delta: Value, finish: Value) -> String {
        json!({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}).to_string()
    }

    #[test]
    fn interleaved_tool_calls_are_kept_apart_by_index() {
        let events = [
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{\"x\""}}]}),
                Value::Null,
            ),
            chunk(
                json!({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "g", "arguments": "{"}}]}),
                Value::Null,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]}),
                Value::Null,
            ),
            chunk(
                json!({"tool_calls": [{"index": 1, "function": {"arguments": "}"}}]}),
                json!("tool_calls"),
            ),
            json!({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}})
                .to_string(),
            "[DONE]".to_string(),
        ];
        let pairs: Vec<(&str, &str)> = events.iter().map(|e| ("", e.as_str())).collect();
        let (out, err) = decode_all(OpenAiDecoder::default(), &pairs);
        assert_eq!(err, None);
        let mut args = [String::new(), String::new()];
        for ev in &out {
            if let StreamEvent::ToolCallDelta { index, delta } = ev {
                args[*index].push_str(delta);
            }
        }
        assert_eq!(args, ["{\"x\":1}", "{}"]);
        assert_eq!(
            out.last(),
            Some(&StreamEvent::Finish {
                reason: FinishReason::ToolCalls,
                usage: Usage {
                    input_tokens: 7,
                    output_tokens: 3
                }
            })
        );
    }

    #[test]
    fn end_without_done_is_complete_only_after_a_finish_reason() {
        let finished = chunk(json!({"content": "hi"}), json!("stop"));
        let (out, err) = decode_all(OpenAiDecoder::default(), &[("", &finished)]);
        assert_eq!(err, None);
        assert!(matches!(out.last(), Some(StreamEvent::Finish { .. })));
        let partial = chunk(json!({"content": "hi"}), Value::Null);
        let (_, err) = decode_all(OpenAiDecoder::default(), &[("", &partial)]);
        assert!(matches!(err, Some(ProviderError::Transport(_))), "{err:?}");
    }

    #[test]
    fn in_band_errors_and_garbage() {
        let rate = r#"{"error":{"message":"slow","type":"rate_limit_exceeded"}}"#;
        let (_, err) = decode_all(OpenAiDecoder::default(), &[("", rate)]);
        assert!(
            matches!(err, Some(ProviderError::RateLimited { .. })),
            "{err:?}"
        );
        let (_, err) = decode_all(OpenAiDecoder::default(), &[("", "{not json")]);
        assert!(matches!(err, Some(ProviderError::Protocol(_))), "{err:?}");
    }
}
