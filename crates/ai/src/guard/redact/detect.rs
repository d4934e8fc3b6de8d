//! Detection of secrets and personal data in one segment of text.

use std::sync::LazyLock;

use regex::Regex;

use super::segment::{self, Pem, PEM_CAP};
use super::{numbers, Hit, SecretKind};

/// A detected secret, as byte offsets in the segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: SecretKind,
}

/// Cheap pre-filter: a segment with none of these (and fewer than six digits) has no secret.
static TRIGGER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)akia|asia|gh[pousr]_|github_pat_|xox[a-z]-|sk-|bearer|authoriz|eyj|-----begin|portal_|pass|pwd|secret|token|api[_ -]?key|private[_ -]?key",
    )
    .expect("trigger pattern compiles")
});

/// The value after `key:` or `key =`: quoted (without the quotes) or up to whitespace.
const VALUE: &str =
    r#"\s*(?:=>|[:=])\s*(?:"([^"\r\n]{1,256})"|'([^'\r\n]{1,256})'|([^\s"'`]{1,256}))"#;

/// How a rule's match is accepted.
#[derive(Clone, Copy)]
enum Check {
    /// Any match.
    Any,
    /// Mixed case and a digit after the prefix (API keys).
    MixedWithDigit,
    /// A token: contains a digit or a symbol, or is long.
    TokenLike,
    /// `TokenLike`, unless the rule's first group (a scheme word) matched.
    SchemeOrTokenLike,
    /// At least three characters.
    Min3,
}

struct Rule {
    kind: SecretKind,
    re: Regex,
    check: Check,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    use Check::*;
    use SecretKind::*;
    let specs: Vec<(SecretKind, String, Check)> = vec![
        (Jwt, r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*".into(), Any),
        (PortalApiKey, r"(?i)\bportal_[0-9a-f]{64}\b".into(), Any),
        (AnthropicKey, r"\bsk-ant-[A-Za-z0-9_-]{20,}".into(), Any),
        (OpenAiKey, r"\bsk-[A-Za-z0-9_-]{20,}".into(), MixedWithDigit),
        (GithubToken, r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b".into(), Any),
        (SlackToken, r"\bxox[abposre]-[A-Za-z0-9-]{10,}".into(), Any),
        (AwsAccessKeyId, r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b".into(), Any),
        (
            AwsSecretKey,
            r#"(?i)secret[_ -]?access[_ -]?key["']?\s*(?:=>|[:=])\s*["']?([A-Za-z0-9/+=]{30,})"#.into(),
            Any,
        ),
        (BearerToken, r"(?i)\bbearer\s+([A-Za-z0-9._~+/=_-]{8,})".into(), TokenLike),
        (
            AuthHeader,
            r#"(?i)\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(basic|digest|token|apikey|api-key|negotiate|ntlm|bearer)\s+)?([A-Za-z0-9._~+/=:_-]{6,})"#.into(),
            SchemeOrTokenLike,
        ),
        (AuthToken, format!(r#"(?i)auth[_ -]?token["']?{VALUE}"#), Min3),
        (SecretKey, format!(r#"(?i)(?:customer[_ -]?)?secret[_ -]?key["']?{VALUE}"#), Min3),
        (Password, format!(r#"(?i)(?:password|passwd|passphrase|pwd)["']?{VALUE}"#), Min3),
        (
            GenericSecret,
            format!(
                r#"(?i)(?:client[_ -]?secret|api[_ -]?key|apikey|access[_ -]?token|refresh[_ -]?token|id[_ -]?token|session[_ -]?token|private[_ -]?key|secret)["']?{VALUE}"#
            ),
            TokenLike,
        ),
        (
            UkNino,
            r"\b(?:[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b".into(),
            Any,
        ),
    ];
    specs
        .into_iter()
        .map(|(kind, pattern, check)| Rule {
            kind,
            re: Regex::new(&pattern).expect("secret pattern compiles"),
            check,
        })
        .collect()
});

/// NINO prefixes that are never issued.
const NINO_BAD_PREFIX: [&str; 7] = ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"];

fn token_like(v: &str) -> bool {
    let symbol = v.chars().any(|c| !c.is_alphanumeric());
    let digit = v.chars().any(|c| c.is_ascii_digit());
    v.len() >= 8 && (symbol || digit || v.len() >= 24)
}

fn mixed_with_digit(v: &str) -> bool {
    v.chars().any(|c| c.is_ascii_digit())
        && v.chars().any(|c| c.is_ascii_uppercase())
        && v.chars().any(|c| c.is_ascii_lowercase())
}

/// Appends every span of a secret in `text` (possibly overlapping).
pub(super) fn find(text: &str, out: &mut Vec<Span>) {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let triggered = TRIGGER.is_match(text);
    if digits < 6 && !triggered {
        return;
    }
    if digits >= 9 {
        numbers::find(text, out);
    }
    for rule in RULES.iter() {
        if !triggered && rule.kind != SecretKind::UkNino {
            continue;
        }
        for caps in rule.re.captures_iter(text) {
            // The secret is the last group that took part (the value), or the whole match.
            let Some(m) = (1..caps.len())
                .rev()
                .find_map(|i| caps.get(i))
                .or_else(|| caps.get(0))
            else {
                continue;
            };
            let mut end = m.end();
            let value = m.as_str();
            let accept = match rule.check {
                Check::Any => true,
                Check::MixedWithDigit => mixed_with_digit(value.trim_start_matches("sk-")),
                Check::TokenLike => token_like(value),
                Check::SchemeOrTokenLike => caps.get(1).is_some() || token_like(value),
                Check::Min3 => value.chars().count() >= 3,
            };
            if !accept {
                continue;
            }
            if rule.kind == SecretKind::UkNino && NINO_BAD_PREFIX.contains(&&value[..2]) {
                continue;
            }
            // An unquoted value does not take a trailing full stop or comma with it.
            if caps.len() > 3 && caps.get(caps.len() - 1).is_some() {
                let trimmed = value.trim_end_matches(['.', ',']);
                if !trimmed.is_empty() {
                    end = m.start() + trimmed.len();
                }
            }
            out.push(Span {
                start: m.start(),
                end,
                kind: rule.kind,
            });
        }
    }
    if triggered {
        private_keys(text, out);
    }
}

/// Private-key blocks: from the header to the END line, or to the end of the segment (or
/// [`PEM_CAP`]) when the END line is missing.
fn private_keys(text: &str, out: &mut Vec<Span>) {
    let mut from = 0;
    while let Some(i) = text[from..].find("-----BEGIN") {
        let p = from + i;
        match segment::private_header(text, p, true) {
            Pem::Found(h) => {
                let end = match segment::pem_end(text, h, p + PEM_CAP, true) {
                    Pem::Found(e) => e,
                    _ => segment::floor(text, p + PEM_CAP),
                };
                out.push(Span {
                    start: p,
                    end,
                    kind: SecretKind::PrivateKey,
                });
                from = end;
            }
            _ => from = p + "-----BEGIN".len(),
        }
    }
}

/// Redacts one segment into `out`, recording a hit per redacted span.
pub(super) fn redact_into(segment: &str, out: &mut String, hits: &mut Vec<Hit>) {
    let mut spans = Vec::new();
    find(segment, &mut spans);
    if spans.is_empty() {
        out.push_str(segment);
        return;
    }
    spans.sort_by_key(|s| (s.start, s.end));
    // Merge overlapping spans; the merged span takes the most specific kind.
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match merged.last_mut() {
            Some(m) if s.start < m.end => {
                m.end = m.end.max(s.end);
                m.kind = m.kind.min(s.kind);
            }
            _ => merged.push(s),
        }
    }
    let mut last = 0;
    for s in merged {
        out.push_str(&segment[last..s.start]);
        out.push_str("[REDACTED:");
        out.push_str(s.kind.as_str());
        out.push(']');
        hits.push(Hit { kind: s.kind });
        last = s.end;
    }
    out.push_str(&segment[last..]);
}
