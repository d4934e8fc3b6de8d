//! Numeric personal data: payment cards and national identity numbers, found by scanning
//! runs of digit groups and validating each candidate window (lengths, ranges, checksums).

use super::detect::Span;
use super::SecretKind;

/// Luhn (mod 10) checksum over ASCII digits.
pub(super) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Verhoeff checksum over ASCII digits (used by Aadhaar).
pub(super) fn verhoeff(digits: &[u8]) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0usize;
    for (i, d) in digits.iter().rev().enumerate() {
        c = usize::from(D[c][usize::from(P[i % 8][usize::from(d - b'0')])]);
    }
    c == 0
}

/// A run of ASCII digits, as byte offsets.
#[derive(Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
}

impl Group {
    fn len(self) -> usize {
        self.end - self.start
    }
}

/// Whether a number may start at byte `start` (not glued to a word or a decimal).
fn left_ok(b: &[u8], start: usize) -> bool {
    if start == 0 {
        return true;
    }
    let p = b[start - 1];
    if p.is_ascii_alphanumeric() || p == b'_' {
        return false;
    }
    !(matches!(p, b'.' | b',') && start >= 2 && b[start - 2].is_ascii_digit())
}

/// Whether a number may end right before byte `end`.
fn right_ok(b: &[u8], end: usize) -> bool {
    let Some(&n) = b.get(end) else { return true };
    if n.is_ascii_alphanumeric() || n == b'_' {
        return false;
    }
    !(matches!(n, b'.' | b',') && b.get(end + 1).is_some_and(u8::is_ascii_digit))
}

/// Appends the card and national-id spans found in `text`.
pub(super) fn find(text: &str, out: &mut Vec<Span>) {
    let b = text.as_bytes();
    let mut i = 0;
    let mut chain: Vec<Group> = Vec::new();
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A chain: digit groups joined by one consistent separator (space or dash).
        chain.clear();
        let mut sep: Option<u8> = None;
        let mut j = i;
        loop {
            let start = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            chain.push(Group { start, end: j });
            let joins = j + 1 < b.len()
                && matches!(b[j], b' ' | b'-')
                && b[j + 1].is_ascii_digit()
                && sep.is_none_or(|s| s == b[j]);
            if !joins {
                break;
            }
            sep = Some(b[j]);
            j += 1;
        }
        windows(b, &chain, sep.is_some(), out);
        i = j;
    }
}

/// Digits of groups `g[i..=j]`, separators dropped.
fn digits(b: &[u8], g: &[Group]) -> Vec<u8> {
    g.iter()
        .flat_map(|g| b[g.start..g.end].iter().copied())
        .collect()
}

/// Validated windows of consecutive groups in one chain.
fn windows(b: &[u8], g: &[Group], separated: bool, out: &mut Vec<Span>) {
    let n = g.len();
    let lens: Vec<usize> = g.iter().map(|g| g.len()).collect();
    let starts_ok = |i: usize| i > 0 || left_ok(b, g[0].start);
    let ends_ok = |j: usize| j + 1 < n || right_ok(b, g[n - 1].end);
    let mut i = 0;
    while i < n {
        if !starts_ok(i) {
            i += 1;
            continue;
        }
        // Payment card: 13-19 digits, IIN starting 2-6, Luhn; grouped as 4 then 3-6 digits.
        let mut card = None;
        let mut total = 0;
        for j in i..n {
            total += lens[j];
            if total > 19 {
                break;
            }
            let grouped_ok =
                j == i || (lens[i] == 4 && lens[i..=j].iter().all(|l| (3..=6).contains(l)));
            if total >= 13 && grouped_ok && ends_ok(j) {
                let d = digits(b, &g[i..=j]);
                if (b'2'..=b'6').contains(&d[0]) && luhn(&d) {
                    card = Some(j);
                }
            }
        }
        if let Some(j) = card {
            out.push(Span {
                start: g[i].start,
                end: g[j].end,
                kind: SecretKind::Card,
            });
            i = j + 1;
            continue;
        }
        if separated && i + 2 < n && ends_ok(i + 2) {
            let d = digits(b, &g[i..=i + 2]);
            let kind = match &lens[i..=i + 2] {
                [3, 2, 4] if ssn_valid(&d) => Some(SecretKind::UsSsn),
                [3, 3, 3] if d[0] != b'8' && luhn(&d) => Some(SecretKind::CaSin),
                [4, 4, 4] if d[0] >= b'2' && verhoeff(&d) => Some(SecretKind::InAadhaar),
                _ => None,
            };
            if let Some(kind) = kind {
                out.push(Span {
                    start: g[i].start,
                    end: g[i + 2].end,
                    kind,
                });
                i += 3;
                continue;
            }
        }
        i += 1;
    }
}

/// US SSN rules: area not 000, 666 or 9xx; group not 00; serial not 0000.
fn ssn_valid(d: &[u8]) -> bool {
    let area = &d[0..3];
    area != b"000" && area != b"666" && area[0] != b'9' && &d[3..5] != b"00" && &d[5..9] != b"0000"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(String, SecretKind)> {
        let mut v = Vec::new();
        find(text, &mut v);
        v.into_iter()
            .map(|s| (text[s.start..s.end].to_string(), s.kind))
            .collect()
    }

    #[test]
    fn checksums() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert!(luhn(b"046454286")); // Canadian SIN test number
        assert!(verhoeff(b"2363")); // 236 with its Verhoeff check digit 3
        assert!(!verhoeff(b"2364"));
    }

    #[test]
    fn windows_pick_the_card_inside_a_longer_run() {
        assert_eq!(
            kinds("ref 12 4111 1111 1111 1111 2023"),
            [("4111 1111 1111 1111".to_string(), SecretKind::Card)]
        );
        assert!(kinds("x4111111111111111").is_empty());
        assert!(kinds("0.4111111111111111").is_empty());
        assert!(kinds("4111111111111111.5").is_empty());
        assert!(kinds("4111-1111 1111-1111").is_empty());
    }
}
