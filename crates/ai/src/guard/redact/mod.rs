//! Redaction of secrets and personal data in text before it is streamed, stored or logged.
//!
//! Each secret is replaced by a typed marker, `[REDACTED:<kind>]` (see [`SecretKind::as_str`]).
//! For `key: value` forms only the value is replaced, so the reader still sees what was
//! there. What is covered, and what deliberately is not, is listed in the [`super`] module
//! documentation.
//!
//! [`redact`] and [`StreamRedactor`] give the same text for the same input, however the
//! stream is chunked: the text is cut into segments whose ends depend only on the text
//! (see `segment`), and each segment is redacted on its own.

mod detect;
mod numbers;
mod segment;

use segment::{Cut, Segmenter};

/// What kind of secret was redacted. Declared from most to least specific: when two
/// detections overlap, the merged span is labelled with the earlier kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretKind {
    /// A PEM private-key block (`-----BEGIN … PRIVATE KEY-----` to its END line).
    PrivateKey,
    /// A portal API key (`portal_` and 64 hex digits).
    PortalApiKey,
    /// An Anthropic API key (`sk-ant-…`).
    AnthropicKey,
    /// An OpenAI API key (`sk-…`, `sk-proj-…`).
    OpenAiKey,
    /// A GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`).
    GithubToken,
    /// A Slack token (`xoxb-`, `xoxp-`, …).
    SlackToken,
    /// An AWS access key id (`AKIA…`, `ASIA…`).
    AwsAccessKeyId,
    /// A JSON Web Token.
    Jwt,
    /// An AWS secret access key after its key name.
    AwsSecretKey,
    /// The token after `Bearer`.
    BearerToken,
    /// The credentials of an `Authorization` header.
    AuthHeader,
    /// An auth token after its key name (OCI auth tokens).
    AuthToken,
    /// A secret key after its key name (OCI customer secret keys).
    SecretKey,
    /// A password after its key name.
    Password,
    /// Another credential after its key name (`client_secret`, `api_key`, `access_token`, …).
    GenericSecret,
    /// A payment card number.
    Card,
    /// A US Social Security number.
    UsSsn,
    /// A UK National Insurance number.
    UkNino,
    /// A Canadian Social Insurance Number.
    CaSin,
    /// An Indian Aadhaar number.
    InAadhaar,
}

impl SecretKind {
    /// Every kind, to pre-register metric labels.
    pub const ALL: [SecretKind; 20] = [
        SecretKind::PrivateKey,
        SecretKind::PortalApiKey,
        SecretKind::AnthropicKey,
        SecretKind::OpenAiKey,
        SecretKind::GithubToken,
        SecretKind::SlackToken,
        SecretKind::AwsAccessKeyId,
        SecretKind::Jwt,
        SecretKind::AwsSecretKey,
        SecretKind::BearerToken,
        SecretKind::AuthHeader,
        SecretKind::AuthToken,
        SecretKind::SecretKey,
        SecretKind::Password,
        SecretKind::GenericSecret,
        SecretKind::Card,
        SecretKind::UsSsn,
        SecretKind::UkNino,
        SecretKind::CaSin,
        SecretKind::InAadhaar,
    ];

    /// Stable snake_case label, used in the marker and as a metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::PrivateKey => "private_key",
            SecretKind::PortalApiKey => "portal_api_key",
            SecretKind::AnthropicKey => "anthropic_key",
            SecretKind::OpenAiKey => "openai_key",
            SecretKind::GithubToken => "github_token",
            SecretKind::SlackToken => "slack_token",
            SecretKind::AwsAccessKeyId => "aws_access_key",
            SecretKind::Jwt => "jwt",
            SecretKind::AwsSecretKey => "aws_secret_key",
            SecretKind::BearerToken => "bearer_token",
            SecretKind::AuthHeader => "auth_header",
            SecretKind::AuthToken => "auth_token",
            SecretKind::SecretKey => "secret_key",
            SecretKind::Password => "password",
            SecretKind::GenericSecret => "secret",
            SecretKind::Card => "card",
            SecretKind::UsSsn => "ssn",
            SecretKind::UkNino => "nino",
            SecretKind::CaSin => "sin",
            SecretKind::InAadhaar => "aadhaar",
        }
    }

    /// The marker that replaces a secret of this kind.
    pub fn marker(self) -> String {
        format!("[REDACTED:{}]", self.as_str())
    }
}

/// One redacted secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// What it was.
    pub kind: SecretKind,
}

/// Redacted text and what was taken out of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Redacted {
    /// The text with every secret replaced by its marker.
    pub text: String,
    /// One entry per replaced secret, in text order.
    pub hits: Vec<Hit>,
}

/// Redacts segments of `text` from its start for as long as their ends are known, and
/// returns how many bytes were consumed.
fn drain(
    seg: &mut Segmenter,
    text: &str,
    at_end: bool,
    out: &mut String,
    hits: &mut Vec<Hit>,
) -> usize {
    let mut start = 0;
    while let Some(cut) = seg.next(text, start, at_end) {
        match cut {
            Cut::Redact(end) => {
                detect::redact_into(&text[start..end], out, hits);
                start = end;
            }
            Cut::Drop(end) => start = end,
        }
    }
    start
}

/// Redacts every secret in `text`.
pub fn redact(text: &str) -> Redacted {
    let mut out = Redacted {
        text: String::with_capacity(text.len()),
        hits: Vec::new(),
    };
    drain(
        &mut Segmenter::default(),
        text,
        true,
        &mut out.text,
        &mut out.hits,
    );
    out
}

/// Redacts a stream of text chunks, holding back only what could still turn out to be
/// (part of) a secret.
///
/// For any split of a text into chunks, the concatenation of [`push`](Self::push) results
/// followed by [`finish`](Self::finish) equals [`redact`] of the whole text. Hold-back is
/// bounded: about 2 KiB of text without a word break, or up to 16 KiB for a private-key block
/// waiting for its END line (past that the block is redacted wholesale).
#[derive(Debug, Default)]
pub struct StreamRedactor {
    pending: String,
    segmenter: Segmenter,
    hits: Vec<Hit>,
}

impl StreamRedactor {
    /// A redactor with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a chunk and returns the text that is now safe to emit (possibly empty).
    pub fn push(&mut self, chunk: &str) -> String {
        self.pending.push_str(chunk);
        let mut out = String::new();
        let used = drain(
            &mut self.segmenter,
            &self.pending,
            false,
            &mut out,
            &mut self.hits,
        );
        self.pending.drain(..used);
        out
    }

    /// Ends the stream: returns the redacted remainder and resets the redactor (hits stay).
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        let pending = std::mem::take(&mut self.pending);
        drain(
            &mut self.segmenter,
            &pending,
            true,
            &mut out,
            &mut self.hits,
        );
        self.segmenter = Segmenter::default();
        out
    }

    /// Every secret redacted so far, in text order.
    pub fn hits(&self) -> &[Hit] {
        &self.hits
    }

    /// Bytes received but not yet emitted.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}
