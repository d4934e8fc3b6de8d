//! Chat over the AI SDK UI message stream protocol: `POST /api/chat` starts a
//! turn and streams it; `GET /api/chat/{sessionId}/stream` replays and follows a
//! session's stored events (a turn resumed after an approval, on any replica);
//! `GET /api/sessions/{id}/messages` is the conversation; `GET /api/models`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::{Stream, StreamExt};
use portal_ai::chat::{parts, ChatEngine, FollowFrom, Followed, Frame, Meta, NewTurn};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::chat_sdk::{intent, Intent, StreamOptions, Trigger};
use crate::state::AppState;
use crate::streams::{Pool, Slot};

pub(crate) fn engine(state: &AppState) -> Result<Arc<ChatEngine>, ApiError> {
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
                .interval(state.settings.http.sse_heartbeat)
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

/// One stored or live part as an SSE event; `None` when this client is not
/// to see it (see [`StreamOptions::approval_chunks`]).
fn event(f: Frame, opts: &StreamOptions) -> Option<Event> {
    if opts.approval_chunks == Some(false) {
        let data = parts::without_approval_chunks(&f.data)?;
        return Some(Event::default().id(f.id.to_string()).data(data));
    }
    Some(Event::default().id(f.id.to_string()).data(f.data))
}

fn done() -> Event {
    Event::default().data("[DONE]")
}

/// A chat message: `{sessionId?, message, model?}`, or the AI SDK's default
/// body `{id, messages, trigger, messageId}` (`DefaultChatTransport`, `useChat`).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatBody {
    /// The session to continue; a new session is created when absent.
    pub session_id: Option<String>,
    /// What the user says. `/tool NAME {json}` runs a tool directly.
    #[schema(pattern = r"\S")]
    pub message: Option<String>,
    /// One of `GET /api/models`; the default model when absent.
    pub model: Option<String>,
    /// AI SDK: the chat (session) id, which the client may choose (1–128 of
    /// `A-Z a-z 0-9 _ -`); the session is created on first use.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,128}$")]
    pub id: Option<String>,
    /// AI SDK: the UI messages. The last one is read: the user's text parts
    /// (a new turn), or the assistant's tool parts in `approval-responded`
    /// (answers to the approvals the turn waits for, decided under the same
    /// rules as `POST /api/tools/approve`). The rest of the history is the server's.
    #[schema(value_type = Option<Vec<Object>>)]
    pub messages: Option<Vec<Value>>,
    /// AI SDK: `submit-message` (`regenerate-message` is refused).
    pub trigger: Option<Trigger>,
    /// AI SDK: the message the request is about (not needed here).
    pub message_id: Option<String>,
}

/// Sends a message, or answers approvals, and streams the turn (`sessions:write`;
/// the chat rate-limit class).
///
/// The response is an AI SDK UI message stream (`x-vercel-ai-ui-message-stream: v1`):
/// `start` (its metadata names the session and turn), `text-start`/`text-delta`/`text-end`,
/// `tool-input-start`/`tool-input-delta`/`tool-input-available`,
/// `tool-output-available`/`tool-output-error`/`tool-output-denied`, the AI SDK's
/// `tool-approval-request` and the portal's `data-approval-required`
/// (`{approvalId, toolCallId, toolName, args, approveUrl}`), `error`, `abort`, and
/// `finish` (`finishReason` from the SDK's set; `messageMetadata` holds `reason` —
/// `stop`, `awaiting-approval`, `round-limit`, `time-limit`, `stopped`, … —,
/// `awaitingApproval`/`approvalIds` on a pause, and token usage), each with an id, then
/// `[DONE]`. A turn paused on an approval resumes once decided (here, through
/// `addToolApprovalResponse`, or anywhere else); the client follows it at
/// `GET /api/chat/{sessionId}/stream`. Disconnecting does not stop the turn: it
/// finishes and is stored; `POST /api/chat/{sessionId}/stop` stops it.
#[utoipa::path(
    post, path = "/api/chat", operation_id = "sendChatMessage", tag = "chat", request_body = ChatBody,
    params(StreamOptions),
    responses(
        (status = 200, description = "The turn as server-sent events", content_type = "text/event-stream", body = crate::views::SseEvent),
        (status = 400, description = "VALIDATION_ERROR: empty or too long message, unknown model, malformed AI SDK messages, an approval this chat is not waiting for", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (also: answering an approval without `tools:approve`, or one that four-eyes keeps from the requester)", body = ErrorBody),
        (status = 404, description = "Unknown session", body = ErrorBody),
        (status = 409, description = "A turn is still in progress in this session; the chat id is taken; no turn waits for an approval; the approval was decided otherwise", body = ErrorBody),
        (status = 429, description = "RATE_LIMITED: the chat rate limit, or this principal or address already holds its share of open streams (`PORTAL_STREAMS_PER_PRINCIPAL`, `PORTAL_STREAMS_PER_IP`)", body = ErrorBody),
        (status = 503, description = "OVERLOADED: every streaming slot is in use (`PORTAL_MAX_STREAMS`)", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn chat(
    State(state): State<AppState>,
    r: Require<perm::SessionsWrite>,
    ApiQuery(opts): ApiQuery<StreamOptions>,
    ApiJson(b): ApiJson<ChatBody>,
) -> Result<Response, ApiError> {
    let engine = engine(&state)?;
    let intent = intent(&b)?;
    let slot = Slot::take(&state, Pool::Chat, Some(&r.principal.id), r.caller.ip)?;
    let (session, frames) = match intent {
        Intent::Say { session, message } => {
            let started = engine
                .start(
                    r.principal.clone(),
                    NewTurn {
                        session,
                        message,
                        model: b.model,
                        ip: Some(r.caller.ip),
                    },
                )
                .await?;
            let frames = tokio_stream::wrappers::ReceiverStream::new(started.frames);
            let live = frames
                .map(Followed::Frame)
                .chain(futures_util::stream::once(async { Followed::Done }));
            (started.session_id, live.boxed())
        }
        Intent::Answer {
            session_id,
            answers,
        } => {
            let after = engine
                .answer(&state.ctx(&r.caller), &r.principal, &session_id, &answers)
                .await?;
            let rx = engine
                .follow(
                    &r.principal,
                    &session_id,
                    FollowFrom::Resumed(after),
                    state.shutdown.clone(),
                )
                .await?
                .ok_or_else(|| ApiError::Internal("no stream to follow".into()))?;
            let frames = tokio_stream::wrappers::ReceiverStream::new(rx);
            (session_id, frames.boxed())
        }
    };
    let mut res = sse(&state, followed(frames, opts, slot));
    if let Ok(v) = HeaderValue::from_str(&session) {
        res.headers_mut().insert("x-chat-session-id", v);
    }
    Ok(res)
}

/// A live or followed stream as SSE events; holds its streaming slot.
fn followed(
    frames: impl Stream<Item = Followed> + Send + 'static,
    opts: StreamOptions,
    slot: Slot,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    frames.filter_map(move |f| {
        let _hold = &slot;
        let ev = match f {
            Followed::Frame(f) => event(f, &opts),
            Followed::Failed(why) => Some(Event::default().data(parts::error(&why).to_string())),
            Followed::Done => Some(done()),
        };
        futures_util::future::ready(ev.map(Ok))
    })
}

/// Where to resume a stream.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct After {
    /// Replay events after this id (the `Last-Event-ID` header works too; 0
    /// replays the whole session) and follow until a turn finishes. Without
    /// either, the active turn's stream (the AI SDK's `resumeStream()`).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// See `POST /api/chat`.
    pub approval_chunks: Option<bool>,
}

/// Resumes a chat's stream (`sessions:read`), as the AI SDK's `resumeStream()`
/// expects: the active turn from its first event, followed until it finishes
/// (or pauses on an approval nobody has decided), and 204 when no turn is
/// active. With `after` (or `Last-Event-ID`), the session's stored events after
/// that id, followed until a turn finishes: how a client picks up exactly where
/// it left off, on any replica.
#[utoipa::path(
    get, path = "/api/chat/{sessionId}/stream", operation_id = "followChatStream", tag = "chat",
    params(("sessionId" = String, Path, description = "Session id"), After),
    responses(
        (status = 200, description = "Stored and new events as server-sent events", content_type = "text/event-stream", body = crate::views::SseEvent),
        (status = 204, description = "No turn is active (without `after`)"),
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
    ApiPath(session_id): ApiPath<portal_core::ids::SessionId>,
    ApiQuery(q): ApiQuery<After>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let from = match q.after.or(last_event_id) {
        Some(after) => FollowFrom::After(after),
        None => FollowFrom::Active,
    };
    let engine = engine(&state)?;
    let Some(rx) = engine
        .follow(&r.principal, &session_id, from, state.shutdown.clone())
        .await?
    else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let slot = Slot::take(&state, Pool::Chat, Some(&r.principal.id), r.caller.ip)?;
    let opts = StreamOptions {
        approval_chunks: q.approval_chunks,
    };
    let frames = tokio_stream::wrappers::ReceiverStream::new(rx);
    Ok(sse(&state, followed(frames, opts, slot)))
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
    ApiPath(id): ApiPath<portal_core::ids::SessionId>,
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
    /// The default model's provider kind (`none` when no model is configured).
    pub provider: String,
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
    let models = engine(&state)?.models().await;
    let default = models.iter().find(|m| m.default);
    Ok(Json(Models {
        default_model: default.map(|m| m.id.clone()),
        provider: default.map_or_else(|| "none".into(), |m| m.provider.clone()),
        models,
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
    // `string` stays in the type even when only null is allowed: generators
    // (openapi-generator) cannot type a property whose only type is `null`.
    let types = SchemaType::from_iter([Type::String, Type::Null]);
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
