//! The limits of a chat turn.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::fields;
use super::names::Name;

/// Chat turn limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatSettings {
    /// Tool rounds per turn (1 to 64).
    pub max_rounds: u32,
    /// Wall-clock budget of a turn (waiting for approval excluded).
    #[serde(rename = "turn_secs", with = "fields::secs")]
    pub turn_budget: Duration,
    /// Longest user message.
    #[serde(deserialize_with = "fields::positive")]
    pub max_input_chars: usize,
    /// Output token cap per model call.
    #[serde(deserialize_with = "fields::positive")]
    pub max_output_tokens: u32,
    /// Messages fed back to the model before summarising.
    #[serde(rename = "history", deserialize_with = "fields::positive")]
    pub history_messages: usize,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self {
            max_rounds: 8,
            turn_budget: Duration::from_secs(120),
            max_input_chars: 16_000,
            max_output_tokens: 4096,
            history_messages: 40,
        }
    }
}

impl ChatSettings {
    /// `(path, message)` of the first broken rule.
    pub(super) fn problem(&self) -> Option<(&'static str, String)> {
        (!(1..=64).contains(&self.max_rounds))
            .then(|| ("ai.chat.max_rounds", "must be between 1 and 64".into()))
    }
}

/// The names of the chat limits.
pub(super) const NAMES: &[Name] = &[
    Name::new("max_rounds", "PORTAL_CHAT_MAX_ROUNDS"),
    Name::new("turn_secs", "PORTAL_CHAT_TURN_SECS"),
    Name::new("max_input_chars", "PORTAL_CHAT_MAX_INPUT_CHARS"),
    Name::new("max_output_tokens", "PORTAL_CHAT_MAX_OUTPUT_TOKENS"),
    Name::new("history", "PORTAL_CHAT_HISTORY"),
];
