//! What the model is shown of the conversation: the last K messages (cut so that
//! it starts with a user message and no tool result is orphaned), tool results
//! fenced as data, and a running summary of what came before.

use portal_core::model::ChatMessage;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::guard::fence;
use crate::provider::{Message, Role, ToolCall};

/// Details stored with an assistant message or a tool result.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// The calls an assistant message made (arguments with secrets redacted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The call a tool result answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The tool a result came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// A user message the guardrails refused, or the refusal itself: never shown to the model.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
    /// A summary: the last message it covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through_seq: Option<i64>,
}

impl Meta {
    /// Parses a stored message's details.
    pub fn of(m: &ChatMessage) -> Meta {
        m.meta
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }

    /// As stored (`None` when empty).
    pub fn to_column(&self) -> Option<String> {
        let v = serde_json::to_value(self).ok()?;
        match v.as_object() {
            Some(o) if o.is_empty() => None,
            _ => Some(v.to_string()),
        }
    }
}

/// The conversation as the model sees it, and the latest summary of older messages.
pub struct History {
    /// Messages, oldest first.
    pub messages: Vec<Message>,
    /// Summary of what came before `messages`, when the conversation is longer.
    pub summary: Option<String>,
    /// Messages older than the window that no summary covers yet.
    pub unsummarised_before: Option<i64>,
}

/// Builds the model's view from the most recent stored messages (oldest first).
pub fn history(stored: &[ChatMessage], window: usize) -> History {
    let summary = stored
        .iter()
        .rev()
        .find(|m| m.role == "summary")
        .map(|m| (m.content.clone(), Meta::of(m).through_seq.unwrap_or(0)));
    let visible: Vec<&ChatMessage> = stored
        .iter()
        .filter(|m| m.role != "summary" && !Meta::of(m).refused)
        .collect();
    let start = visible.len().saturating_sub(window);
    let mut slice = &visible[start..];
    // Begin at a user message, so no tool result or tool call is cut from its pair.
    while let Some(first) = slice.first() {
        if first.role == "user" {
            break;
        }
        slice = &slice[1..];
    }
    let first_seq = slice.first().map(|m| m.seq);
    let covered = summary.as_ref().map(|(_, through)| *through).unwrap_or(0);
    let unsummarised_before = match first_seq {
        Some(seq) if seq > 1 && covered < seq - 1 && start > 0 => Some(seq),
        _ => None,
    };
    History {
        messages: slice.iter().map(|m| to_model(m)).collect(),
        summary: summary.map(|(s, _)| s),
        unsummarised_before,
    }
}

/// One stored message as the model reads it.
pub fn to_model(m: &ChatMessage) -> Message {
    let meta = Meta::of(m);
    match m.role.as_str() {
        "assistant" => Message::assistant(m.content.clone(), meta.tool_calls),
        "tool" => {
            let name = meta.tool_name.as_deref().unwrap_or("tool");
            Message::tool(
                meta.tool_call_id.unwrap_or_default(),
                fence::tool_output(name, &m.content),
            )
        }
        _ => Message {
            role: Role::User,
            content: m.content.clone(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        },
    }
}

/// A title from the first message: its first line, cut at a word near 60 characters.
pub fn title_from(message: &str) -> String {
    let line = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let line = line.strip_prefix("/tool ").unwrap_or(line);
    if line.chars().count() <= 60 {
        return line.to_string();
    }
    let cut: String = line.chars().take(60).collect();
    match cut.rfind(' ') {
        Some(i) if i > 30 => format!("{}…", &cut[..i]),
        _ => format!("{cut}…"),
    }
}

/// A tool result as stored and shown: its JSON text.
pub fn result_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: i64, role: &str, meta: Option<&str>) -> ChatMessage {
        ChatMessage {
            id: seq.to_string(),
            session_id: "s".into(),
            seq,
            role: role.into(),
            content: format!("m{seq}"),
            meta: meta.map(String::from),
            created_at: 0,
        }
    }

    #[test]
    fn window_starts_at_a_user_message_and_skips_refusals() {
        let stored = vec![
            msg(1, "user", None),
            msg(
                2,
                "assistant",
                Some(r#"{"toolCalls":[{"id":"c","name":"t","arguments":"{}"}]}"#),
            ),
            msg(3, "tool", Some(r#"{"toolCallId":"c","toolName":"t"}"#)),
            msg(4, "assistant", None),
            msg(5, "user", Some(r#"{"refused":true}"#)),
            msg(6, "assistant", Some(r#"{"refused":true}"#)),
            msg(7, "user", None),
        ];
        let h = history(&stored, 3);
        // The last 3 visible are 3 (tool), 4, 7: cut to start at the user message 7.
        assert_eq!(h.messages.len(), 1);
        assert_eq!(h.messages[0].content, "m7");
        assert_eq!(h.unsummarised_before, Some(7));
        let all = history(&stored, 10);
        assert_eq!(all.messages.len(), 5);
        assert!(all.messages[2].content.contains("m3"), "tool output fenced");
        assert_ne!(all.messages[2].content, "m3");
        assert_eq!(all.unsummarised_before, None);
    }

    #[test]
    fn titles_are_short_first_lines() {
        assert_eq!(
            title_from("\n  list my instances \nplease"),
            "list my instances"
        );
        let long = "show me every stopped instance in the production compartment and their costs";
        let t = title_from(long);
        assert!(t.ends_with('…') && t.chars().count() <= 61, "{t}");
        assert_eq!(title_from("/tool listInstances {}"), "listInstances {}");
    }
}
