//! Cutting text into segments that are redacted independently.
//!
//! Redaction is defined segment by segment, and where a segment ends depends only on the
//! text (never on how it arrived), with a bounded look-ahead. So a stream can emit each
//! segment as soon as its end is known and produce exactly what redacting the whole text at
//! once produces, whatever the chunking.
//!
//! A segment ends before a word when the whitespace in front of it cannot be inside a
//! secret: the word before ends with a letter (or sentence punctuation after one) and is not
//! a keyword that introduces a credential (`Bearer`, `password`, `auth`, …), and the next
//! word starts with a letter. Digit groups (`4111 1111 …`), `key: value` and `key = value`
//! therefore stay together, and so does a quoted value after `:` or `=`. A private-key
//! block stays in one segment up to its END line, at most [`PEM_CAP`] bytes; past that
//! the segment is cut and everything up to the END line is dropped. Text with no such
//! break is cut after [`HARD_MAX`] bytes, moved past any secret found across the cut within
//! [`LOOKAHEAD`] bytes.

use super::detect;

/// Bytes of text without a break after which a segment is cut anyway.
pub(super) const HARD_MAX: usize = 1024;
/// Bytes past [`HARD_MAX`] examined so a forced cut does not split a secret.
pub(super) const LOOKAHEAD: usize = 1024;
/// Largest private-key block held back waiting for its END line.
pub(super) const PEM_CAP: usize = 16 * 1024;
/// Longest header line looked at after `-----BEGIN`.
const HEADER_MAX: usize = 90;
/// Longest END line looked at after `-----END`.
const END_LINE_MAX: usize = 100;

const BEGIN: &[u8] = b"-----BEGIN";
const END: &[u8] = b"-----END";
const DASHES: &[u8] = b"-----";

/// Words after which whitespace may lead to a credential.
const KEYWORDS: &[&str] = &[
    "auth",
    "authorization",
    "bearer",
    "basic",
    "digest",
    "token",
    "negotiate",
    "ntlm",
    "apikey",
    "secret",
    "customer",
    "access",
    "refresh",
    "id",
    "session",
    "client",
    "api",
    "private",
    "aws",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "key",
];

/// Where the current segment ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cut {
    /// Redact `start..end` and emit it.
    Redact(usize),
    /// Drop `start..end` (the rest of an oversized private-key block).
    Drop(usize),
}

/// An answer that may need more text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pem {
    /// Found, ending at this offset.
    Found(usize),
    /// Not there (within the limits).
    Missing,
    /// Undecided; text before this offset can no longer change the answer.
    More(usize),
}

/// Position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)
        {
            None => return None,
            Some(k) => {
                i += k;
                if hay[i..].starts_with(needle) {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

/// The largest char boundary at or below `at`.
pub(super) fn floor(text: &str, mut at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// At `p`, where `-----BEGIN` starts: whether a private-key header line starts, and where
/// it ends.
pub(super) fn private_header(text: &str, p: usize, at_end: bool) -> Pem {
    let b = text.as_bytes();
    let from = p + BEGIN.len();
    let to = b.len().min(p + HEADER_MAX);
    match find(&b[from.min(to)..to], DASHES) {
        Some(i) => {
            let end = from + i + DASHES.len();
            let label = &b[from..from + i];
            // " [WORD ]*PRIVATE KEY[ BLOCK]" in capitals and digits.
            let ok = label.first() == Some(&b' ')
                && (label.ends_with(b"PRIVATE KEY") || label.ends_with(b"PRIVATE KEY BLOCK"))
                && label
                    .iter()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b' ');
            if ok {
                Pem::Found(end)
            } else {
                Pem::Missing
            }
        }
        None if at_end || b.len() >= p + HEADER_MAX => Pem::Missing,
        None => Pem::More(p),
    }
}

/// The end of the first `-----END …-----` line starting at or after `from` and before
/// `limit`.
pub(super) fn pem_end(text: &str, from: usize, limit: usize, at_end: bool) -> Pem {
    let b = text.as_bytes();
    let to = b.len().min(limit);
    match find(&b[from.min(to)..to], END) {
        Some(i) => {
            let after = from + i + END.len();
            let line_to = b.len().min(after + END_LINE_MAX);
            match find(&b[after..line_to], DASHES) {
                Some(j) => Pem::Found(after + j + DASHES.len()),
                None if at_end || b.len() >= after + END_LINE_MAX => Pem::Found(after),
                None => Pem::More(from + i),
            }
        }
        None if at_end || b.len() >= limit => Pem::Missing,
        // A marker may straddle the end of the text.
        None => Pem::More(floor(text, b.len().saturating_sub(END.len() - 1).max(from))),
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// Whether the word before a whitespace run cannot be the start of a secret.
fn safe_left(word: &str) -> bool {
    let core = word.trim_end_matches(['.', ',', ';', '!', '?', ')', '"', '\'']);
    let Some(last) = core.chars().next_back() else {
        return false;
    };
    if !last.is_alphabetic() {
        return false;
    }
    let bare = core.trim_start_matches(|c: char| !c.is_alphanumeric());
    !KEYWORDS.iter().any(|k| bare.eq_ignore_ascii_case(k))
}

/// Whether a word starting with this byte may begin a new segment.
fn safe_right(first: u8) -> bool {
    first.is_ascii_alphabetic() || first >= 0x80
}

/// Where the scan of an undecided segment stopped, relative to the segment start, so the
/// next call resumes there instead of rescanning.
#[derive(Debug, Default, Clone, Copy)]
struct Scan {
    /// Next byte to look at.
    p: usize,
    /// Where the forced-cut budget counts from.
    base: usize,
    /// Start of the current word.
    word: usize,
    /// A quote opened right after `:`, `=` or `=>`: it holds a value, no break until closed.
    quote: Option<u8>,
    /// Last byte that was not whitespace.
    last_sig: u8,
}

/// Cuts text into segments. Carries whether an oversized private-key block is being
/// dropped, and where the scan of the pending segment stopped.
#[derive(Debug, Default)]
pub(super) struct Segmenter {
    in_oversized_key: bool,
    resume: Option<Scan>,
}

impl Segmenter {
    /// The cut for the segment starting at `start`, or `None` when more text is needed.
    /// With `at_end` the text is complete, and the answer is always `Some` while
    /// `start < text.len()`. After `None`, the next call must be for the same segment (with
    /// text appended, possibly rebased so that the segment starts at another offset).
    pub(super) fn next(&mut self, text: &str, start: usize, at_end: bool) -> Option<Cut> {
        let len = text.len();
        if start >= len {
            return None;
        }
        if self.in_oversized_key {
            return match pem_end(text, start, usize::MAX, at_end) {
                Pem::Found(e) => {
                    self.in_oversized_key = false;
                    Some(Cut::Drop(e))
                }
                Pem::Missing => Some(Cut::Drop(len)),
                Pem::More(keep) => (keep > start).then_some(Cut::Drop(keep)),
            };
        }
        let saved = self.resume.take().unwrap_or_default();
        let mut st = Scan {
            p: start + saved.p,
            base: start + saved.base,
            word: start + saved.word,
            ..saved
        };
        match self.scan(text, &mut st, at_end) {
            Some(cut) => Some(cut),
            None => {
                self.resume = Some(Scan {
                    p: st.p - start,
                    base: st.base - start,
                    word: st.word - start,
                    ..st
                });
                None
            }
        }
    }

    /// Scans from `st.p`; on `None`, `st.p` is where the scan must resume.
    fn scan(&mut self, text: &str, st: &mut Scan, at_end: bool) -> Option<Cut> {
        let len = text.len();
        let b = text.as_bytes();
        while st.p < len {
            let p = st.p;
            if p - st.base >= HARD_MAX {
                return forced(text, st.base, at_end).map(Cut::Redact);
            }
            let c = b[p];
            if c == b'-' && !at_end && b.len() - p < BEGIN.len() && BEGIN.starts_with(&b[p..]) {
                // Perhaps the start of `-----BEGIN`: wait for it.
                return None;
            }
            if c == b'-' && b[p..].starts_with(BEGIN) {
                match private_header(text, p, at_end) {
                    Pem::More(_) => return None,
                    Pem::Missing => {
                        st.p += BEGIN.len();
                        st.last_sig = b'N';
                        continue;
                    }
                    Pem::Found(h) => {
                        let limit = p + PEM_CAP;
                        match pem_end(text, h, limit, at_end) {
                            Pem::More(_) => return None,
                            Pem::Found(e) => {
                                *st = Scan {
                                    p: e,
                                    base: e,
                                    word: e,
                                    quote: None,
                                    last_sig: b'-',
                                };
                                continue;
                            }
                            Pem::Missing if len >= limit => {
                                self.in_oversized_key = true;
                                return Some(Cut::Redact(floor(text, limit)));
                            }
                            Pem::Missing => return Some(Cut::Redact(len)),
                        }
                    }
                }
            }
            if is_ws(c) {
                let mut q = p;
                while q < len && is_ws(b[q]) {
                    q += 1;
                }
                if q == len {
                    // The next word is not there yet: resume at this whitespace.
                    return at_end.then_some(Cut::Redact(len));
                }
                if st.quote.is_none()
                    && st.word < p
                    && safe_left(&text[st.word..p])
                    && safe_right(b[q])
                {
                    return Some(Cut::Redact(q));
                }
                st.word = q;
                st.p = q;
                continue;
            }
            if matches!(c, b'"' | b'\'') {
                if st.quote == Some(c) {
                    st.quote = None;
                } else if st.quote.is_none() && matches!(st.last_sig, b':' | b'=' | b'>') {
                    st.quote = Some(c);
                }
            }
            st.last_sig = c;
            st.p += 1;
        }
        at_end.then_some(Cut::Redact(len))
    }
}

/// A cut for text with no break within [`HARD_MAX`] bytes of `base`: at `base + HARD_MAX`,
/// or past the end of a secret found across that point.
fn forced(text: &str, base: usize, at_end: bool) -> Option<usize> {
    let cut = base + HARD_MAX;
    if text.len() < cut + LOOKAHEAD && !at_end {
        return None;
    }
    let window = &text[base..floor(text, cut + LOOKAHEAD)];
    let mut spans = Vec::new();
    detect::find(window, &mut spans);
    spans.sort_by_key(|s| s.start);
    let mut rel = HARD_MAX;
    for s in &spans {
        if s.start < rel && s.end > rel {
            rel = s.end;
        }
    }
    Some(floor(text, base + rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cuts(text: &str) -> Vec<&str> {
        let mut seg = Segmenter::default();
        let mut start = 0;
        let mut out = Vec::new();
        while let Some(cut) = seg.next(text, start, true) {
            let (Cut::Redact(e) | Cut::Drop(e)) = cut;
            out.push(&text[start..e]);
            start = e;
        }
        out
    }

    #[test]
    fn breaks_only_where_no_secret_can_span() {
        assert_eq!(
            cuts("List the instances. Card 4111 1111 1111 1111 now"),
            [
                "List ",
                "the ",
                "instances. ",
                "Card 4111 1111 1111 1111 now"
            ]
        );
        assert_eq!(
            cuts("use Bearer abc.def please"),
            ["use ", "Bearer abc.def ", "please"]
        );
        assert_eq!(cuts("my password = x y"), ["my ", "password = x ", "y"]);
        assert_eq!(cuts("NI AB 12 34 56 C ok"), ["NI ", "AB 12 34 56 C ", "ok"]);
        assert_eq!(cuts("pass = 'a b c' done"), ["pass = 'a b c' ", "done"]);
    }

    #[test]
    fn private_key_blocks_stay_whole() {
        let text = "key\n-----BEGIN RSA PRIVATE KEY-----\nMIIB\nabc\n-----END RSA PRIVATE KEY-----\nok then";
        assert_eq!(
            cuts(text),
            ["key\n-----BEGIN RSA PRIVATE KEY-----\nMIIB\nabc\n-----END RSA PRIVATE KEY-----\nok ", "then"]
        );
    }

    #[test]
    fn long_runs_are_cut() {
        let text = "9".repeat(3000);
        let parts = cuts(&text);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].len(), HARD_MAX);
    }

    #[test]
    fn search_finds_needles() {
        assert_eq!(find(b"ab-----c", DASHES), Some(2));
        assert_eq!(find(b"ab----", DASHES), None);
        assert_eq!(find(b"--x-----", DASHES), Some(3));
    }
}
