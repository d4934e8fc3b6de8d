//! Input rules ("parse, don't validate"): each function turns raw input into a
//! checked value or a message naming the field.

use crate::error::{CoreError, CoreResult};

fn bad(field: &str, msg: &str) -> CoreError {
    CoreError::Validation(format!("{field}: {msg}"))
}

/// A normalised (trimmed, lower-cased) email address.
pub fn email(field: &str, raw: &str) -> CoreResult<String> {
    let e = raw.trim().to_ascii_lowercase();
    let ok = e.len() >= 3
        && e.len() <= 254
        && !e.contains(char::is_whitespace)
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        });
    if ok {
        Ok(e)
    } else {
        Err(bad(field, "must be an email address"))
    }
}

/// A new password: 12 to 256 characters.
pub fn new_password(field: &str, raw: &str) -> CoreResult<String> {
    let n = raw.chars().count();
    if n < 12 {
        return Err(bad(field, "must be at least 12 characters"));
    }
    if n > 256 {
        return Err(bad(field, "must be at most 256 characters"));
    }
    Ok(raw.to_string())
}

/// A display name or title: trimmed, 1 to `max` characters (counted as sent,
/// as the API documents them), no control characters.
pub fn text(field: &str, raw: &str, max: usize) -> CoreResult<String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(bad(field, "must not be empty"));
    }
    if raw.chars().count() > max {
        return Err(bad(field, &format!("must be at most {max} characters")));
    }
    if t.chars().any(char::is_control) {
        return Err(bad(field, "must not contain control characters"));
    }
    Ok(t.to_string())
}

/// An organisation slug: 2–63 of `a-z`, `0-9`, `-`, not starting or ending with `-`.
pub fn slug(field: &str, raw: &str) -> CoreResult<String> {
    let s = raw.trim();
    let ok = (2..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(bad(
            field,
            "must be 2-63 characters of a-z, 0-9 and '-', not starting or ending with '-'",
        ))
    }
}

/// A slug made from a display name (for orgs created without one).
pub fn slug_from(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().to_ascii_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out
        .trim_end_matches('-')
        .chars()
        .take(63)
        .collect::<String>();
    let out = out.trim_end_matches('-').to_string();
    if out.len() < 2 {
        format!("org-{out}")
    } else {
        out
    }
}

/// A page size within 1..=max (default when absent).
pub fn limit(field: &str, raw: Option<i64>, default: i64, max: i64) -> CoreResult<i64> {
    match raw {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(bad(field, &format!("must be between 1 and {max}"))),
    }
}

/// A non-negative offset.
pub fn offset(field: &str, raw: Option<i64>) -> CoreResult<i64> {
    match raw {
        None => Ok(0),
        Some(n) if n >= 0 => Ok(n),
        Some(_) => Err(bad(field, "must be 0 or more")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(email("e", " Ada@Example.COM ").unwrap(), "ada@example.com");
        assert!(email("e", "nope").is_err());
        assert!(email("e", "a@b").is_err());
        assert!(new_password("p", "short")
            .unwrap_err()
            .to_string()
            .starts_with("p:"));
        assert!(slug("s", "acme-corp").is_ok());
        assert!(slug("s", "-acme").is_err());
        assert!(slug("s", "Acme").is_err());
        assert_eq!(slug_from("Acme Corp!"), "acme-corp");
        assert_eq!(slug_from("A"), "org-a");
        assert!(text("t", "  ", 10).is_err());
        assert!(limit("limit", Some(0), 20, 100).is_err());
    }
}
