//! Parts of the AI SDK UI message stream protocol (`x-vercel-ai-ui-message-stream: v1`),
//! which chat clients built on the AI SDK consume, plus the portal's one custom
//! part, `data-approval-required`.

use serde_json::{json, Value};

use crate::provider::Usage;

/// Starts an assistant message; its metadata names the session.
pub fn start(message_id: &str, session_id: &str, turn_id: &str) -> Value {
    json!({"type": "start", "messageId": message_id,
           "messageMetadata": {"sessionId": session_id, "turnId": turn_id}})
}

/// A model call (step) begins.
pub fn start_step() -> Value {
    json!({"type": "start-step"})
}

/// A model call (step) ends.
pub fn finish_step() -> Value {
    json!({"type": "finish-step"})
}

/// A text block begins.
pub fn text_start(id: &str) -> Value {
    json!({"type": "text-start", "id": id})
}

/// More text of a block.
pub fn text_delta(id: &str, delta: &str) -> Value {
    json!({"type": "text-delta", "id": id, "delta": delta})
}

/// A text block ends.
pub fn text_end(id: &str) -> Value {
    json!({"type": "text-end", "id": id})
}

/// The model starts a tool call.
pub fn tool_input_start(call_id: &str, tool: &str) -> Value {
    json!({"type": "tool-input-start", "toolCallId": call_id, "toolName": tool})
}

/// Argument text of a tool call (secret arguments already redacted).
pub fn tool_input_delta(call_id: &str, delta: &str) -> Value {
    json!({"type": "tool-input-delta", "toolCallId": call_id, "inputTextDelta": delta})
}

/// A tool call's complete arguments (secret arguments redacted).
pub fn tool_input_available(call_id: &str, tool: &str, input: &Value) -> Value {
    json!({"type": "tool-input-available", "toolCallId": call_id, "toolName": tool, "input": input})
}

/// A tool call's result.
pub fn tool_output_available(call_id: &str, output: &Value) -> Value {
    json!({"type": "tool-output-available", "toolCallId": call_id, "output": output})
}

/// A tool call failed or was refused.
pub fn tool_output_error(call_id: &str, error: &str) -> Value {
    json!({"type": "tool-output-error", "toolCallId": call_id, "errorText": error})
}

/// A tool call waits for an approver.
pub fn approval_required(
    approval_id: &str,
    call_id: &str,
    tool: &str,
    args: &Value,
    approve_url: &str,
) -> Value {
    json!({"type": "data-approval-required", "id": approval_id, "data": {
        "approvalId": approval_id, "toolCallId": call_id, "toolName": tool,
        "args": args, "approveUrl": approve_url}})
}

/// Something went wrong; the message is safe to show.
pub fn error(text: &str) -> Value {
    json!({"type": "error", "errorText": text})
}

/// How a turn's message ended, as the portal sees it. The wire carries only
/// the AI SDK's own finish reasons (`stop`, `length`, `content-filter`,
/// `tool-calls`, `error`, `other`); the portal's finer reason travels in the
/// finish part's `messageMetadata.reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The model (or a direct tool call) answered.
    Stop,
    /// The model hit its output token limit.
    Length,
    /// The guardrails refused the message.
    ContentFilter,
    /// The turn failed.
    Error,
    /// Paused until these approvals are decided; the turn resumes by itself.
    AwaitingApproval(Vec<portal_core::ids::ApprovalId>),
    /// The turn used up its tool rounds.
    RoundLimit,
    /// The turn used up its time budget.
    TimeLimit,
    /// Someone stopped the turn (`POST /api/chat/{id}/stop`).
    Stopped,
}

impl End {
    /// The AI SDK finish reason.
    pub fn finish_reason(&self) -> &'static str {
        match self {
            End::Stop => "stop",
            End::Length => "length",
            End::ContentFilter => "content-filter",
            End::Error => "error",
            End::AwaitingApproval(_) | End::RoundLimit | End::TimeLimit | End::Stopped => "other",
        }
    }

    /// The portal's own name for it (`messageMetadata.reason`).
    pub fn reason(&self) -> &'static str {
        match self {
            End::AwaitingApproval(_) => "awaiting-approval",
            End::RoundLimit => "round-limit",
            End::TimeLimit => "time-limit",
            End::Stopped => "stopped",
            other => other.finish_reason(),
        }
    }
}

/// The message ends: why, and the tokens it took. A pause names the approvals
/// it waits for (`awaitingApproval`, `approvalIds`), so a client knows the turn
/// is not over.
pub fn finish(end: &End, usage: Usage) -> Value {
    let mut meta = json!({"reason": end.reason(), "usage": {
        "inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens,
        "totalTokens": usage.input_tokens + usage.output_tokens}});
    if let End::AwaitingApproval(ids) = end {
        meta["awaitingApproval"] = Value::Bool(true);
        meta["approvalIds"] = json!(ids);
    }
    json!({"type": "finish", "finishReason": end.finish_reason(), "messageMetadata": meta})
}

/// The AI SDK's own approval request (v6+): the tool part moves to
/// `approval-requested`, answered by `addToolApprovalResponse`.
pub fn tool_approval_request(approval_id: &str, call_id: &str) -> Value {
    json!({"type": "tool-approval-request", "approvalId": approval_id, "toolCallId": call_id})
}

/// The approver said no (v6+). `errorText` says why, for clients that show it
/// and for the rewrite to `tool-output-error` older clients need.
pub fn tool_output_denied(call_id: &str, why: &str) -> Value {
    json!({"type": "tool-output-denied", "toolCallId": call_id, "errorText": why})
}

/// The turn was stopped on purpose.
pub fn abort(reason: &str) -> Value {
    json!({"type": "abort", "reason": reason})
}

/// Whether a stored part is a finish that pauses the turn (it resumes later).
/// Also reads the finish reason that streams stored before it was renamed carry.
pub fn is_pause(part: &Value) -> bool {
    part["type"] == "finish"
        && (part["messageMetadata"]["awaitingApproval"] == true
            || part["finishReason"] == "awaiting-approval")
}

/// Whether a stored part ends the stream for good (a finish that is not a pause).
pub fn is_terminal(part: &Value) -> bool {
    part["type"] == "finish" && !is_pause(part)
}

/// Rewrites a stored part for a client that predates the AI SDK's approval
/// chunks (v5, which rejects unknown chunk types): `None` drops it.
pub fn without_approval_chunks(data: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !data.contains("\"type\":\"tool-") {
        return Some(data.into());
    }
    let Ok(mut v) = serde_json::from_str::<Value>(data) else {
        return Some(data.into());
    };
    match v["type"].as_str() {
        Some("tool-approval-request") => None,
        Some("tool-output-denied") => {
            v["type"] = Value::String("tool-output-error".into());
            if !v["errorText"].is_string() {
                v["errorText"] = Value::String("The request was rejected".into());
            }
            Some(v.to_string().into())
        }
        _ => Some(data.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons_are_the_sdks_and_pauses_are_not_terminal() {
        let sdk = [
            "stop",
            "length",
            "content-filter",
            "tool-calls",
            "error",
            "other",
        ];
        for end in [
            End::Stop,
            End::Length,
            End::ContentFilter,
            End::Error,
            End::AwaitingApproval(vec!["a1".into()]),
            End::RoundLimit,
            End::TimeLimit,
            End::Stopped,
        ] {
            let part = finish(&end, Usage::default());
            assert!(
                sdk.contains(&part["finishReason"].as_str().unwrap_or("")),
                "{part}"
            );
            assert_eq!(part["messageMetadata"]["reason"], end.reason());
            let paused = matches!(end, End::AwaitingApproval(_));
            assert_eq!(is_pause(&part), paused, "{part}");
            assert_eq!(is_terminal(&part), !paused, "{part}");
        }
        let legacy = json!({"type": "finish", "finishReason": "awaiting-approval"});
        assert!(is_pause(&legacy) && !is_terminal(&legacy));
    }

    #[test]
    fn old_clients_get_no_approval_chunks_and_denials_as_errors() {
        let req = tool_approval_request("a1", "c1").to_string();
        assert_eq!(without_approval_chunks(&req), None);
        let denied = tool_output_denied("c1", "The request was rejected: no").to_string();
        let out: Value = serde_json::from_str(&without_approval_chunks(&denied).unwrap()).unwrap();
        assert_eq!(out["type"], "tool-output-error");
        assert_eq!(out["errorText"], "The request was rejected: no");
        let text = text_delta("t1", "\"type\":\"tool-approval-request\"").to_string();
        assert_eq!(
            without_approval_chunks(&text).as_deref(),
            Some(text.as_str())
        );
    }
}
