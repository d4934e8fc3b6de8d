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

/// The message ends: why, and the tokens it took.
pub fn finish(reason: &str, usage: Usage) -> Value {
    json!({"type": "finish", "finishReason": reason, "messageMetadata": {"usage": {
        "inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens,
        "totalTokens": usage.input_tokens + usage.output_tokens}}})
}

/// Whether a stored part ends the stream for good (a finish that is not a pause).
pub fn is_terminal(part: &Value) -> bool {
    part["type"] == "finish" && part["finishReason"] != "awaiting-approval"
}
