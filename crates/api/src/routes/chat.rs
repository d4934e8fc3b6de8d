//! Chat over the AI SDK UI message stream protocol: `POST /api/chat` starts a
//! turn and streams it; `GET /api/chat/{sessionId}/stream` replays and follows a
//! session's stored events (a turn resumed after an approval, on any replica);
//! `GET /api/sessions/{id}/messages` is the conversation; `GET /api/models`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::{Stream, StreamExt};
use portal_ai::chat::{parts, ChatEngine, Followed, Frame, Meta, NewTurn};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use crate::streams::{Pool, Slot};

fn engine(state: &AppState) -> Result<Arc<ChatEngine>, ApiError> {
    state
        .chat
        .get()
        .cloned()
        .ok_or_else(|| ApiError::Internal("chat engine not started".into()))
}

fn sse(
    state: &AppState,
    stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static,
) -> Response {
    let mut res = Sse::new(stream)
        .keep_alive(
            KeepAlive::new()
                .interval(state.settings.sse_heartbeat)
                .text("heartbeat"),
        )
        .into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-vercel-ai-ui-message-stream",
        HeaderValue::from_static("v1"),
    );
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

fn event(f: Frame) -> Event {
    Event::default().id(f.id.to_string()).data(f.data)
}

fn done() -> Event {
    Event::default().data("[DONE]")
}

/// A chat message.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatBody {
    /// The session to continue; a new session is created when absent.
    pub session_id: Option<String>,
    /// What the user says. `/tool NAME {json}` runs a tool directly.
    #[schema(pattern = r"\S")]
    pub message: String,
    /// One of `GET /api/models`; the default model when absent.
    pub model: Option<String>,
}

/// Sends a message and streams the turn (`sessions:write`; the chat rate-limit class).
///
/// The response is an AI SDK UI message stream (`x-vercel-ai-ui-message-stream: v1`):
/// `start` (its metadata names the session), `text-start`/`text-delta`/`text-end`,
/// `tool-input-start`/`tool-input-delta`/`tool-input-available`,
/// `tool-output-available`/`tool-output-error`, `data-approval-required`
/// (`{approvalId, toolCallId, toolName, args, approveUrl}`), `error`, and `finish`
/// (`finishReason`, token usage), each with an id, then `[DONE]`. A turn paused on an
/// approval finishes with `awaiting-approval` and resumes once decided; follow it at
/// `GET /api/chat/{sessionId}/stream`. Disconnecting cancels the turn.
#[utoipa::path(
    post, path = "/api/chat", operation_id = "sendChatMessage", tag = "chat", request_body = ChatBody,
    responses(
        (status = 200, description = "The turn as server-sent events", content_type = "text/event-stream", body = crate::views::SseEvent),
        (status = 400, description = "VALIDATION_ERROR: empty or too long message, unknown model", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Unknown session", body = ErrorBody),
        (status = 409, description = "A turn is still in progress in this session", body = ErrorBody),
        (status = 429, description = "RATE_LIMITED: the chat rate limit, or this principal or address already holds its share of open streams (`PORTAL_STREAMS_PER_PRINCIPAL`, `PORTAL_STREAMS_PER_IP`)", body = ErrorBody),
        (status = 503, description = "OVERLOADED: every streaming slot is in use (`PORTAL_MAX_STREAMS`)", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn chat(
    State(state): State<AppState>,
    r: Require<perm::SessionsWrite>,
    ApiJson(b): ApiJson<ChatBody>,
) -> Result<Response, ApiError> {
    let engine = engine(&state)?;
    let slot = Slot::take(&state, Pool::Chat, Some(&r.principal.id), r.caller.ip)?;
    let started = engine
        .start(
            r.principal.clone(),
            NewTurn {
                session_id: b.session_id,
                message: b.message,
                model: b.model,
                ip: Some(r.caller.ip),
            },
        )
        .await?;
    let session = started.session_id.clone();
    let frames = tokio_stream::wrappers::ReceiverStream::new(started.frames);
    let stream = frames
        .map(move |f| {
            let _hold = &slot;
            Ok(event(f))
        })
        .chain(futures_util::stream::once(async { Ok(done()) }));
    let mut res = sse(&state, stream);
    if let Ok(v) = HeaderValue::from_str(&session) {
        res.headers_mut().insert("x-chat-session-id", v);
    }
    Ok(res)
}

/// Where to resume a stream.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct After {
    /// Replay events after this id (the `Last-Event-ID` header works too); 0 replays all.
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// Replays a session's stored stream events after an id and follows new ones
/// (`sessions:read`): how a client sees a turn resume after an approval, from any
/// replica. Ends after a final `finish` (not `awaiting-approval`).
#[utoipa::path(
    get, path = "/api/chat/{sessionId}/stream", operation_id = "followChatStream", tag = "chat",
    params(("sessionId" = String, Path, description = "Session id"), After),
    responses(
        (status = 200, description = "Stored and new events as server-sent events", content_type = "text/event-stream", body = crate::views::SseEvent),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Unknown session", body = ErrorBody),
        (status = 429, description = "RATE_LIMITED: this principal or address already holds its share of open streams", body = ErrorBody),
        (status = 503, description = "OVERLOADED: every streaming slot is in use", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn follow(
    State(state): State<AppState>,
    r: Require<perm::SessionsRead>,
    ApiPath(session_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<After>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let after = q.after.or(last_event_id).unwrap_or(0);
    let engine = engine(&state)?;
    let rx = engine
        .follow(&r.principal, &session_id, after, state.shutdown.clone())
        .await?;
    let slot = Slot::take(&state, Pool::Chat, Some(&r.principal.id), r.caller.ip)?;
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx).map(move |f| {
        let _hold = &slot;
        Ok(match f {
            Followed::Frame(f) => event(f),
            Followed::Failed(why) => Event::default().data(parts::error(&why).to_string()),
            Followed::Done => done(),
        })
    });
    Ok(sse(&state, stream))
}

/// Which messages to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Messages after this position (default 0: from the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many (1–500, default 200).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A stored message.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// Id.
    pub id: String,
    /// Position in the session.
    pub seq: i64,
    /// `user`, `assistant`, `tool` or `summary`.
    pub role: String,
    /// Text (secrets and PII redacted).
    pub content: String,
    /// An assistant's tool calls (secret arguments redacted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub tool_calls: Vec<Value>,
    /// The call a tool result answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The tool a result came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// Refused by the guardrails.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
    /// When.
    pub created_at: String,
}

/// The conversation.
#[derive(Serialize, ToSchema)]
pub struct Messages {
    /// Messages in order.
    pub messages: Vec<MessageView>,
}

/// A session's messages, oldest first (`sessions:read`).
#[utoipa::path(
    get, path = "/api/sessions/{id}/messages", operation_id = "listSessionMessages", tag = "sessions",
    params(("id" = String, Path, description = "Session id"), MessagesQuery),
    responses(
        (status = 200, description = "Messages", body = Messages),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Unknown session", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn messages(
    State(state): State<AppState>,
    r: Require<perm::SessionsRead>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> Result<Json<Messages>, ApiError> {
    let stored = engine(&state)?
        .messages(&r.principal, &id, q.after, q.limit)
        .await?;
    Ok(Json(Messages {
        messages: stored
            .into_iter()
            .map(|m| {
                let meta = Meta::of(&m);
                MessageView {
                    tool_calls: meta
                        .tool_calls
                        .iter()
                        .map(|c| {
                            serde_json::json!({"id": c.id, "name": c.name,
                                "arguments": serde_json::from_str::<Value>(&c.arguments).unwrap_or(Value::Null)})
                        })
                        .collect(),
                    tool_call_id: meta.tool_call_id,
                    tool_name: meta.tool_name,
                    refused: meta.refused,
                    created_at: crate::views::ts(m.created_at),
                    id: m.id,
                    seq: m.seq,
                    role: m.role,
                    content: m.content,
                }
            })
            .collect(),
    }))
}

/// The models on offer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Models {
    /// Models callers may pick (`[]` when none is configured).
    #[schema(value_type = Vec<Object>)]
    pub models: Vec<portal_ai::provider::ModelInfo>,
    /// The default model, if any.
    pub default_model: Option<String>,
    /// The provider kind (`none` when no model is configured).
    pub provider: &'static str,
}

/// The models available to the caller (`sessions:read`).
#[utoipa::path(
    get, path = "/api/models", operation_id = "listModels", tag = "chat",
    responses(
        (status = 200, description = "Models", body = Models),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn models(
    State(state): State<AppState>,
    _r: Require<perm::SessionsRead>,
) -> Result<Json<Models>, ApiError> {
    let engine = engine(&state)?;
    Ok(Json(Models {
        models: engine.models(),
        default_model: state.settings.ai.model.clone(),
        provider: state.settings.ai.provider.as_str(),
    }))
}

/// Narrows `ChatBody.model` in the OpenAPI document to the models this
/// process offers (absent or null picks the default), so generated clients
/// and fuzzers send only what `POST /api/chat` accepts.
pub fn document_models(doc: &mut utoipa::openapi::OpenApi, ai: &portal_core::config::AiSettings) {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::RefOr;
    let Some(RefOr::T(Schema::Object(body))) = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("ChatBody"))
    else {
        return;
    };
    let ids: Vec<Value> = portal_ai::provider::models(ai)
        .into_iter()
        .map(|m| Value::String(m.id))
        .chain([Value::Null])
        .collect();
    let types = if ids.len() > 1 {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::Null)
    };
    let model = ObjectBuilder::new()
        .schema_type(types)
        .enum_values(Some(ids))
        .description(Some(
            "One of `GET /api/models`; the default model when absent or null.",
        ))
        .build();
    body.properties
        .insert("model".to_string(), RefOr::T(Schema::Object(model)));
}
