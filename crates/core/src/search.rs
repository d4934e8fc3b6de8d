//! Full-text search over the caller's chat messages: the query (words, not
//! the engine's syntax, so no input can break or widen a query), the hits and
//! their snippets.
//!
//! Snippets are plain-text parts with the matches apart, so a renderer
//! escapes text and never parses markup from stored content.

/// At most this many words of a query are used (the rest are dropped).
pub const MAX_TERMS: usize = 16;
/// Longer words are cut to this many characters (still a prefix match).
pub const MAX_TERM_CHARS: usize = 64;

/// Which messages to search, by who said them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// The user's messages.
    User,
    /// The assistant's answers.
    Assistant,
    /// Tool results.
    Tool,
}

impl MessageType {
    /// The stored role.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::User => "user",
            MessageType::Assistant => "assistant",
            MessageType::Tool => "tool",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(MessageType::User),
            "assistant" => Some(MessageType::Assistant),
            "tool" => Some(MessageType::Tool),
            _ => None,
        }
    }
}

/// A validated search: every word must occur (as a word or a word's prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Lower-cased words of letters and digits, 1..=[`MAX_TERMS`].
    pub terms: Vec<String>,
    /// Only messages of this kind.
    pub kind: Option<MessageType>,
    /// Only this session.
    pub session_id: Option<String>,
    /// Created at or after (epoch ms).
    pub from: Option<i64>,
    /// Created before (epoch ms).
    pub to: Option<i64>,
    /// At most this many hits.
    pub limit: i64,
}

/// The words of a query: runs of Unicode letters and digits, lower-cased —
/// the way both databases' tokenizers split text, so every word can match.
pub fn terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .take(MAX_TERM_CHARS)
                .collect::<String>()
                .to_lowercase()
        })
        .take(MAX_TERMS)
        .collect()
}

/// One part of a snippet: plain text, highlighted when it is a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetPart {
    /// The text (not markup).
    pub text: String,
    /// True for a matched word.
    pub mark: bool,
}

/// Words shown around the first match.
pub const SNIPPET_WORDS: usize = 24;

/// The part of `content` around its first matching word, split into plain
/// text and matches (words starting with one of `terms`, compared in lower
/// case), with `…` where text was cut. Built here rather than by the
/// database, so both backends answer the same snippet and no engine drops or
/// rewrites characters of the stored text (PostgreSQL's `ts_headline` drops
/// what its parser takes for HTML tags).
pub fn snippet(content: &str, terms: &[String]) -> Vec<SnippetPart> {
    let words: Vec<(usize, usize)> = word_spans(content);
    let matches = |&(a, b): &(usize, usize)| {
        let w = content[a..b].to_lowercase();
        terms.iter().any(|t| w.starts_with(t.as_str()))
    };
    let first = words.iter().position(matches).unwrap_or(0);
    let start = first.saturating_sub(SNIPPET_WORDS / 4);
    let end = (start + SNIPPET_WORDS).min(words.len());
    let from = if start == 0 { 0 } else { words[start].0 };
    let to = if end == words.len() {
        content.len()
    } else {
        words[end - 1].1
    };
    let mut parts = Vec::new();
    let mut push = |text: &str, mark: bool| {
        let text = text.replace(['\n', '\r', '\t'], " ");
        match parts.last_mut() {
            Some(SnippetPart { text: t, mark: m }) if *m == mark => t.push_str(&text),
            _ if text.is_empty() => {}
            _ => parts.push(SnippetPart { text, mark }),
        }
    };
    if from > 0 {
        push("…", false);
    }
    let mut at = from;
    for w in words[start..end].iter().filter(|w| matches(w)) {
        push(&content[at..w.0], false);
        push(&content[w.0..w.1], true);
        at = w.1;
    }
    push(&content[at..to], false);
    if to < content.len() {
        push("…", false);
    }
    parts
}

/// Byte ranges of the runs of letters and digits in `s`.
fn word_spans(s: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut open: Option<usize> = None;
    for (i, c) in s.char_indices() {
        match (c.is_alphanumeric(), open) {
            (true, None) => open = Some(i),
            (false, Some(a)) => {
                spans.push((a, i));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(a) = open {
        spans.push((a, s.len()));
    }
    spans
}

/// One matching message.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// Its session.
    pub session_id: String,
    /// The message.
    pub message_id: String,
    /// `user`, `assistant` or `tool`.
    pub role: String,
    /// Where the words matched.
    pub snippet: Vec<SnippetPart>,
    /// Relevance, higher is better (comparable within one answer only).
    pub score: f64,
    /// When it was said (epoch ms).
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_words_never_syntax() {
        assert_eq!(
            terms(r#"  Disk-FULL "on" prod* OR (x) NEAR:y ü"#),
            vec!["disk", "full", "on", "prod", "or", "x", "near", "y", "ü"]
        );
        assert!(terms(r#"*" -:()&|! "#).is_empty());
        assert_eq!(terms(&"a ".repeat(40)).len(), MAX_TERMS);
        assert_eq!(terms(&"x".repeat(100))[0].len(), MAX_TERM_CHARS);
    }

    #[test]
    fn snippets_mark_matches_in_plain_text() {
        let part = |t: &str, mark| SnippetPart {
            text: t.into(),
            mark,
        };
        let q = terms("disk FULL");
        assert_eq!(
            snippet("a <b>\nDisk</b> is fully used", &q),
            vec![
                part("a <b> ", false),
                part("Disk", true),
                part("</b> is ", false),
                part("fully", true),
                part(" used", false),
            ]
        );
        let long: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        let mut text = long.join(" ");
        text.push_str(" disk and then some");
        let s = snippet(&text, &q);
        assert!(s[0].text.starts_with("…w94 ") && !s[0].mark, "{s:?}");
        assert!(s.iter().any(|p| p.mark && p.text == "disk"));
        assert!(s.last().is_some_and(|p| p.text.ends_with("some")));
        let words: usize = s.iter().map(|p| p.text.split_whitespace().count()).sum();
        assert!(words <= SNIPPET_WORDS + 1, "{s:?}");
        let s = snippet(&format!("disk {text}"), &q);
        assert_eq!(s[0], part("disk", true));
        assert!(s.last().is_some_and(|p| p.text.ends_with('…')));
        assert!(snippet("", &q).is_empty());
        assert_eq!(
            MessageType::parse("tool").map(MessageType::as_str),
            Some("tool")
        );
        assert_eq!(MessageType::parse("summary"), None);
    }
}

pub mod embed;
pub mod engine;
pub mod hybrid;
pub mod indexing;
pub mod vector;

/// A message to embed, as the store holds it (content redacted as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSource {
    /// Its row in the full-text index (the backfill's cursor).
    pub index_id: i64,
    /// The message.
    pub message_id: String,
    /// Its organisation.
    pub org_id: crate::ids::OrgId,
    /// The session's owner.
    pub principal_id: String,
    /// Its session.
    pub session_id: String,
    /// `user`, `assistant` or `tool`.
    pub role: String,
    /// The text.
    pub content: String,
    /// When it was said (epoch ms).
    pub created_at: i64,
}

/// One stored chunk vector.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVector {
    /// The organisation's sequence number of the write.
    pub seq: i64,
    /// The session's owner.
    pub principal_id: String,
    /// Its session.
    pub session_id: String,
    /// The message.
    pub message_id: String,
    /// Which chunk of the message.
    pub chunk: i64,
    /// `user`, `assistant` or `tool`.
    pub role: String,
    /// When the message was said (epoch ms).
    pub created_at: i64,
    /// Unit length.
    pub vector: Vec<f32>,
}
