//! A stored conversation as the chat page shows it: the user's words as
//! typed, the assistant's as markdown, and each tool call as a card with its
//! state and result (the page's module turns a list result into a table, for
//! stored and live cards alike). The live stream builds the same markup.

use std::collections::HashMap;

use maud::{html, Markup, PreEscaped};
use portal_ai::chat::Meta;
use portal_core::model::ChatMessage;

use super::chat_markdown::render;
use crate::form::pretty_json;

/// What happened to a tool call, as its card shows it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CallState {
    /// Asked for; its result has not been stored (it waits for an approval, or runs).
    Waiting,
    /// It ran and answered.
    Done,
    /// It failed or was refused.
    Failed,
}

impl CallState {
    /// The card's `data-state` and badge.
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Waiting => "waiting",
            CallState::Done => "done",
            CallState::Failed => "failed",
        }
    }
}

/// Stored tool results start with this when the call failed.
const FAILED: &str = "Error: ";

/// One tool call's card.
fn tool_card(id: &str, name: &str, args: &str, result: Option<&str>) -> Markup {
    let state = match result {
        None => CallState::Waiting,
        Some(r) if r.starts_with(FAILED) || r.starts_with("Not run:") => CallState::Failed,
        Some(_) => CallState::Done,
    };
    html! {
        div.tool-card data-call=(id) data-state=(state.as_str()) {
            div.tool-head {
                code.tool-name { (name) }
                span.tool-state.badge { (state.as_str()) }
            }
            details.tool-args {
                summary { "Arguments" }
                pre { code { (pretty_json(args)) } }
            }
            @match (state, result) {
                (CallState::Failed, Some(r)) => {
                    p.tool-error { (r.strip_prefix(FAILED).unwrap_or(r)) }
                }
                (_, Some(r)) => {
                    div.tool-result {
                        pre.result-json { code { (pretty_json(r)) } }
                    }
                }
                _ => {}
            }
        }
    }
}

/// A message bubble.
fn bubble(role: &str, who: &str, body: Markup) -> Markup {
    html! {
        article class={ "msg " (role) } {
            h2.who { (who) }
            (body)
        }
    }
}

/// The stored messages in order; tool results appear inside their call's card.
pub fn conversation(messages: &[ChatMessage]) -> Markup {
    let metas: Vec<Meta> = messages.iter().map(Meta::of).collect();
    let results: HashMap<&str, &str> = messages
        .iter()
        .zip(&metas)
        .filter(|(m, _)| m.role == "tool")
        .filter_map(|(m, meta)| Some((meta.tool_call_id.as_deref()?, m.content.as_str())))
        .collect();
    html! {
        @for (m, meta) in messages.iter().zip(&metas) {
            @match m.role.as_str() {
                "user" => { (bubble("user", "You", html! { div.body.plain { (m.content) } })) }
                "assistant" => {
                    (bubble("assistant", "Assistant", html! {
                        @if !m.content.trim().is_empty() {
                            div.body.md { (PreEscaped(render(&m.content))) }
                        }
                        @for c in &meta.tool_calls {
                            (tool_card(&c.id, &c.name, &c.arguments, results.get(c.id.as_str()).copied()))
                        }
                    }))
                }
                _ => {}
            }
        }
    }
}

/// The messages up to and including the last user message: the rest belongs
/// to the turn still running (or waiting), which the page follows live.
pub fn before_active(messages: &[ChatMessage]) -> &[ChatMessage] {
    match messages.iter().rposition(|m| m.role == "user") {
        Some(i) => &messages[..=i],
        None => messages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: i64, role: &str, content: &str, meta: Option<&str>) -> ChatMessage {
        ChatMessage {
            id: seq.to_string(),
            session_id: "s".into(),
            seq,
            role: role.into(),
            content: content.into(),
            meta: meta.map(str::to_string),
            created_at: 0,
        }
    }

    #[test]
    fn calls_carry_their_results_and_state() {
        let stored = vec![
            msg(1, "user", "list <b>them</b>", None),
            msg(
                2,
                "assistant",
                "Looking **now**.",
                Some(
                    r#"{"toolCalls":[{"id":"c1","name":"listInstances","arguments":"{}"},{"id":"c2","name":"stopInstance","arguments":"{\"instanceId\":\"i1\"}"},{"id":"c3","name":"getInstance","arguments":"{}"}]}"#,
                ),
            ),
            msg(
                3,
                "tool",
                r#"{"result":{"items":[{"displayName":"web-01"}]}}"#,
                Some(r#"{"toolCallId":"c1","toolName":"listInstances"}"#),
            ),
            msg(
                4,
                "tool",
                "Error: instanceId: required",
                Some(r#"{"toolCallId":"c3","toolName":"getInstance"}"#),
            ),
        ];
        let html = conversation(&stored).into_string();
        assert!(html.contains("list &lt;b&gt;them&lt;/b&gt;"), "{html}");
        assert!(html.contains("<strong>now</strong>"), "{html}");
        assert!(
            html.contains(r#"data-call="c1" data-state="done""#),
            "{html}"
        );
        assert!(html.contains("web-01"), "{html}");
        assert!(
            html.contains(r#"data-call="c2" data-state="waiting""#),
            "{html}"
        );
        assert!(
            html.contains(r#"data-call="c3" data-state="failed""#),
            "{html}"
        );
        assert!(html.contains("instanceId: required"), "{html}");
        assert_eq!(
            html.matches("<article").count(),
            2,
            "tool results are not bubbles"
        );
        assert_eq!(before_active(&stored).len(), 1);
    }
}
