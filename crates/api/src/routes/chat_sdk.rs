//! What `POST /api/chat` means when an AI SDK client sends it: the SDK's
//! default body (`{id, messages, trigger, messageId}`) read as a new message
//! or as approvals answered with `addToolApprovalResponse`; and stopping a
//! turn (`POST /api/chat/{id}/stop`).

use axum::extract::State;
use axum::Json;
use portal_ai::chat::{ApprovalAnswer, SessionRef, StopOutcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiPath;
use crate::routes::chat::{engine, ChatBody};
use crate::state::AppState;

/// What a chat request asks for.
pub enum Intent {
    /// A new message from the user.
    Say {
        /// The session.
        session: SessionRef,
        /// The text.
        message: String,
    },
    /// Approvals answered in the chat; the paused turn resumes.
    Answer {
        /// The session.
        session_id: portal_core::ids::SessionId,
        /// The answers.
        answers: Vec<ApprovalAnswer>,
    },
}

/// The AI SDK's request trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// A new message, or an answer to approvals.
    SubmitMessage,
    /// Regenerate the last answer (not supported: stored turns are not replaced).
    RegenerateMessage,
}

/// Stream options, on `POST /api/chat` and `GET /api/chat/{id}/stream`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreamOptions {
    /// `false` for AI SDK v5 clients, which reject the v6 approval chunks:
    /// `tool-approval-request` is left out and `tool-output-denied` becomes
    /// `tool-output-error` (`data-approval-required` still says what waits). Default `true`.
    pub approval_chunks: Option<bool>,
}

const MAX_ID: usize = 128;

/// A client-chosen chat id: 1–128 of `A-Z a-z 0-9 _ -`.
fn chat_id(id: &str) -> Result<String, ApiError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(id.to_string())
    } else {
        Err(ApiError::Validation(format!(
            "body/id: must be 1 to {MAX_ID} characters of A-Z, a-z, 0-9, _ and -"
        )))
    }
}

fn invalid(msg: &str) -> ApiError {
    ApiError::Validation(format!("body/messages: {msg}"))
}

/// Reads the request: today's `{sessionId, message}` or the AI SDK's body.
pub fn intent(b: &ChatBody) -> Result<Intent, ApiError> {
    match (&b.message, &b.messages) {
        (Some(_), Some(_)) => Err(ApiError::Validation(
            "body: send either message (with sessionId) or messages (with id), not both".into(),
        )),
        (None, None) => Err(ApiError::Validation(
            "body/message: required (or the AI SDK's messages with id)".into(),
        )),
        (Some(message), None) => {
            if b.id.is_some() || b.trigger.is_some() || b.message_id.is_some() {
                return Err(ApiError::Validation(
                    "body: id, trigger and messageId go with messages, not with message".into(),
                ));
            }
            let session = match &b.session_id {
                Some(id) => SessionRef::Existing(id.into()),
                None => SessionRef::New,
            };
            Ok(Intent::Say {
                session,
                message: message.clone(),
            })
        }
        (None, Some(messages)) => sdk_intent(b, messages),
    }
}

fn sdk_intent(b: &ChatBody, messages: &[Value]) -> Result<Intent, ApiError> {
    if b.session_id.is_some() {
        return Err(ApiError::Validation(
            "body: with messages, name the chat by id, not sessionId".into(),
        ));
    }
    if b.trigger == Some(Trigger::RegenerateMessage) {
        return Err(ApiError::Validation(
            "body/trigger: regenerate-message is not supported; send the message again".into(),
        ));
    }
    let id = chat_id(
        b.id.as_deref()
            .ok_or_else(|| ApiError::Validation("body/id: required with messages".into()))?,
    )?;
    let last = messages
        .last()
        .ok_or_else(|| invalid("must not be empty"))?;
    let parts = last["parts"]
        .as_array()
        .ok_or_else(|| invalid("the last message has no parts array"))?;
    match last["role"].as_str() {
        Some("user") => {
            let mut text = Vec::new();
            for p in parts {
                match (p["type"].as_str(), p["text"].as_str()) {
                    (Some("text"), Some(t)) => text.push(t),
                    (Some("text"), None) => return Err(invalid("a text part has no text")),
                    (Some(other), _) => {
                        return Err(invalid(&format!(
                            "only text parts can be sent; not {other:?}"
                        )))
                    }
                    (None, _) => return Err(invalid("a part has no type")),
                }
            }
            Ok(Intent::Say {
                session: SessionRef::Client(id.into()),
                message: text.join("\n"),
            })
        }
        Some("assistant") => {
            let answers = answers(parts)?;
            if answers.is_empty() {
                return Err(invalid(
                    "the last message is the assistant's and answers no approval",
                ));
            }
            Ok(Intent::Answer {
                session_id: id.into(),
                answers,
            })
        }
        _ => Err(invalid(
            "the last message must be the user's, or the assistant's with approval responses",
        )),
    }
}

/// The tool parts whose approval the user answered (`approval-responded`).
fn answers(parts: &[Value]) -> Result<Vec<ApprovalAnswer>, ApiError> {
    let mut out = Vec::new();
    for p in parts {
        let is_tool = p["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("tool-") || t == "dynamic-tool");
        if !is_tool || p["state"] != "approval-responded" {
            continue;
        }
        let a = &p["approval"];
        let (Some(id), Some(approved)) = (a["id"].as_str(), a["approved"].as_bool()) else {
            return Err(invalid(
                "an approval-responded part needs approval.id and approval.approved",
            ));
        };
        out.push(ApprovalAnswer {
            approval_id: id.into(),
            approved,
            reason: a["reason"].as_str().map(str::to_string),
        });
    }
    Ok(out)
}

/// What a stop did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stopped {
    /// Whether a turn was running or waiting (and is now stopped).
    pub stopped: bool,
    /// `stopped` (a running turn ends with `abort` and `finish`), `ended` (a
    /// turn waiting for an approval was ended), or `idle` (nothing ran).
    pub outcome: &'static str,
}

/// Stops the chat's turn (`sessions:write`): a running one on whichever replica
/// runs it (its stream ends with `abort` then `finish` with
/// `messageMetadata.reason: "stopped"`, and the model request is cancelled),
/// or one waiting for an approval. Disconnecting does not stop a turn; this does.
#[utoipa::path(
    post, path = "/api/chat/{sessionId}/stop", operation_id = "stopChatTurn", tag = "chat",
    params(("sessionId" = String, Path, description = "Session (chat) id")),
    responses(
        (status = 200, description = "What was stopped", body = Stopped),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Unknown session", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn stop(
    State(state): State<AppState>,
    r: Require<perm::SessionsWrite>,
    ApiPath(session_id): ApiPath<portal_core::ids::SessionId>,
) -> Result<Json<Stopped>, ApiError> {
    let outcome = engine(&state)?.stop(&r.principal, &session_id).await?;
    Ok(Json(match outcome {
        StopOutcome::Stopped => Stopped {
            stopped: true,
            outcome: "stopped",
        },
        StopOutcome::Ended => Stopped {
            stopped: true,
            outcome: "ended",
        },
        StopOutcome::Idle => Stopped {
            stopped: false,
            outcome: "idle",
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> ChatBody {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_sdk_default_body_is_a_message_to_a_client_chosen_chat() {
        let b = body(
            json!({"id": "abc_DEF-1", "trigger": "submit-message", "messageId": "m1",
            "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": "hi"}, {"type": "text", "text": "there"}]}]}),
        );
        let Ok(Intent::Say { session, message }) = intent(&b) else {
            panic!("a message")
        };
        assert_eq!(session, SessionRef::Client("abc_DEF-1".into()));
        assert_eq!(message, "hi\nthere");
    }

    #[test]
    fn approval_responses_are_answers() {
        let b = body(json!({"id": "c1", "messages": [
            {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "stop it"}]},
            {"id": "a1", "role": "assistant", "parts": [
                {"type": "step-start"},
                {"type": "tool-stopInstance", "toolCallId": "t1", "state": "approval-responded",
                 "approval": {"id": "ap1", "approved": false, "reason": "not now"}}]}]}));
        let Ok(Intent::Answer {
            session_id,
            answers,
        }) = intent(&b)
        else {
            panic!("answers")
        };
        assert_eq!(session_id, "c1");
        assert_eq!(
            answers,
            vec![ApprovalAnswer {
                approval_id: "ap1".into(),
                approved: false,
                reason: Some("not now".into())
            }]
        );
    }

    #[test]
    fn malformed_sdk_bodies_name_what_is_wrong() {
        for (v, needle) in [
            (
                json!({"id": "../x", "messages": [{"role": "user", "parts": []}]}),
                "body/id",
            ),
            (
                json!({"messages": [{"role": "user", "parts": []}]}),
                "body/id: required",
            ),
            (json!({"id": "c", "messages": []}), "must not be empty"),
            (
                json!({"id": "c", "messages": [{"role": "user"}]}),
                "parts array",
            ),
            (
                json!({"id": "c", "messages": [{"role": "user", "parts": [{"type": "file", "url": "x"}]}]}),
                "only text parts",
            ),
            (
                json!({"id": "c", "messages": [{"role": "assistant", "parts": [{"type": "text", "text": "x"}]}]}),
                "answers no approval",
            ),
            (
                json!({"id": "c", "messages": [{"role": "system", "parts": []}]}),
                "must be the user's",
            ),
            (
                json!({"id": "c", "trigger": "regenerate-message", "messages": [{"role": "user", "parts": []}]}),
                "regenerate-message",
            ),
            (json!({"message": "x", "messages": []}), "not both"),
            (json!({"message": "x", "id": "c"}), "go with messages"),
            (json!({}), "body/message: required"),
        ] {
            let err = intent(&body(v.clone()))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(needle), "{v}: {err}");
        }
    }
}
