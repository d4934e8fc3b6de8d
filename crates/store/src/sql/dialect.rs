//! The real differences between SQLite and PostgreSQL, applied to statements
//! written once in PostgreSQL's text.
//!
//! A statement uses `$N` placeholders (SQLite would number a bare `$N` by
//! first appearance, so it gets `?N`), `::TYPE` casts (dropped for SQLite)
//! and these markers:
//!
//! - `{C}`: byte-order collation of a text sort key (`COLLATE "C"`; SQLite
//!   compares bytes already), so listings come back in the same order;
//! - `{GREATEST}`: the two-argument maximum (`GREATEST` / `MAX`);
//! - `{SKIP_LOCKED}`: `FOR UPDATE SKIP LOCKED` (SQLite's single writer needs none);
//! - `{ANY $N}`: membership in a list parameter (`= ANY($N)`, an array, on
//!   PostgreSQL; a JSON array read with `json_each` on SQLite);
//! - `{PREFIX $N}`: a case-sensitive prefix match against a pattern made by
//!   [`Dialect::prefix_pattern`] (`LIKE … ESCAPE` / `GLOB`: SQLite's `LIKE`
//!   ignores case).

use std::borrow::Cow;
use std::sync::OnceLock;

/// Which SQL dialect a statement is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The `LIMIT`/`OFFSET` values to bind: SQLite reads a negative `LIMIT`
    /// as "no limit" and a negative `OFFSET` as zero; PostgreSQL refuses both,
    /// and its "no limit" is `LIMIT NULL`.
    pub(crate) fn page(self, limit: i64, offset: i64) -> (Option<i64>, i64) {
        match self {
            Dialect::Sqlite => (Some(limit), offset),
            Dialect::Postgres => ((limit >= 0).then_some(limit), offset.max(0)),
        }
    }
}

impl Dialect {
    /// The `{PREFIX $N}` pattern matching text that starts with `prefix`.
    pub(crate) fn prefix_pattern(self, prefix: &str) -> String {
        let mut p = String::with_capacity(prefix.len() + 2);
        for ch in prefix.chars() {
            match (self, ch) {
                (Dialect::Sqlite, '*' | '?' | '[') => {
                    p.push('[');
                    p.push(ch);
                    p.push(']');
                }
                (Dialect::Postgres, '\\' | '%' | '_') => {
                    p.push('\\');
                    p.push(ch);
                }
                _ => p.push(ch),
            }
        }
        p.push(match self {
            Dialect::Sqlite => '*',
            Dialect::Postgres => '%',
        });
        p
    }
}

impl Dialect {
    /// The full-text match expression requiring every term, each as a word
    /// or a word's prefix: FTS5's query syntax (`"disk"* AND "full"*`) or a
    /// `tsquery` (`disk:* & full:*`). Terms are letters and digits only
    /// ([`portal_core::search::terms`]); quotes are escaped all the same.
    pub(crate) fn fulltext_query(self, terms: &[String]) -> String {
        let parts: Vec<String> = match self {
            Dialect::Sqlite => terms
                .iter()
                .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
                .collect(),
            Dialect::Postgres => terms
                .iter()
                .map(|t| format!("'{}':*", t.replace('\'', "''")))
                .collect(),
        };
        parts.join(match self {
            Dialect::Sqlite => " AND ",
            Dialect::Postgres => " & ",
        })
    }
}

/// One statement: its source text and its rendering per dialect (made once).
pub(crate) struct Sql {
    src: Cow<'static, str>,
    sqlite: OnceLock<String>,
    postgres: OnceLock<String>,
}

impl Sql {
    /// A statement known at compile time (rendered on first use).
    pub(crate) const fn new(src: &'static str) -> Self {
        Self {
            src: Cow::Borrowed(src),
            sqlite: OnceLock::new(),
            postgres: OnceLock::new(),
        }
    }

    /// A statement assembled at run time (a filter or page shape).
    pub(crate) fn dynamic(src: String) -> Self {
        Self {
            src: Cow::Owned(src),
            sqlite: OnceLock::new(),
            postgres: OnceLock::new(),
        }
    }

    /// The statement's span when tracing is on (a disabled span otherwise, at
    /// no cost): the backend and the statement with its placeholders (never
    /// the arguments, which may be secrets). Only under a request's or a
    /// job's span: the idle polls of background loops would otherwise flood
    /// the exporter with root spans nobody asked about (and crowd out the
    /// spans that matter when its queue is full).
    pub(crate) fn span(&self, d: Dialect) -> tracing::Span {
        if !portal_telemetry::enabled() || tracing::Span::current().is_none() {
            return tracing::Span::none();
        }
        let system = match d {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgresql",
        };
        let text = self.src.trim();
        let operation = text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        tracing::info_span!(
            target: "otel",
            "db",
            otel.name = %format_args!("{operation} {system}"),
            otel.kind = "client",
            db.system.name = system,
            db.operation.name = %operation,
            db.query.text = text,
        )
    }

    /// The text to run on `d`.
    pub(crate) fn get(&self, d: Dialect) -> &str {
        let cell = match d {
            Dialect::Sqlite => &self.sqlite,
            Dialect::Postgres => &self.postgres,
        };
        cell.get_or_init(|| render(&self.src, d))
    }
}

/// Renders PostgreSQL-style source text for `d`.
pub(crate) fn render(src: &str, d: Dialect) -> String {
    let mut s = String::with_capacity(src.len() + 16);
    let mut rest = src;
    while let Some(at) = rest.find('{') {
        s.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(end) = after.find('}') else {
            s.push_str(after);
            rest = "";
            break;
        };
        let marker = &after[1..end];
        match (marker, d) {
            ("C", Dialect::Postgres) => s.push_str(" COLLATE \"C\""),
            ("C", Dialect::Sqlite) => {}
            ("GREATEST", Dialect::Postgres) => s.push_str("GREATEST"),
            ("GREATEST", Dialect::Sqlite) => s.push_str("MAX"),
            ("SKIP_LOCKED", Dialect::Postgres) => s.push_str("FOR UPDATE SKIP LOCKED"),
            ("SKIP_LOCKED", Dialect::Sqlite) => {}
            (m, Dialect::Postgres) if m.starts_with("ANY ") => {
                s.push_str("= ANY(");
                s.push_str(&m[4..]);
                s.push(')');
            }
            (m, Dialect::Sqlite) if m.starts_with("ANY ") => {
                s.push_str("IN (SELECT value FROM json_each(");
                s.push_str(&m[4..]);
                s.push_str("))");
            }
            (m, Dialect::Postgres) if m.starts_with("PREFIX ") => {
                s.push_str("LIKE ");
                s.push_str(&m[7..]);
                s.push_str(" ESCAPE '\\'");
            }
            (m, Dialect::Sqlite) if m.starts_with("PREFIX ") => {
                s.push_str("GLOB ");
                s.push_str(&m[7..]);
            }
            _ => s.push_str(&after[..=end]),
        }
        rest = &after[end + 1..];
    }
    s.push_str(rest);
    match d {
        Dialect::Postgres => s,
        Dialect::Sqlite => sqlite_text(&s),
    }
}

/// `$N` → `?N`, and `::TYPE` / `::TYPE[]` casts dropped (outside quotes).
fn sqlite_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices().peekable();
    let mut quoted = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '$' if !quoted => out.push('?'),
            ':' if !quoted && s[i + 1..].starts_with(':') => {
                chars.next();
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' || n == '[' || n == ']' {
                        chars.next();
                    } else {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_differ_only_where_they_must() {
        let src = "SELECT a FROM t WHERE k {ANY $2} AND x = $1 AND y = $1::BIGINT \
                   AND z = '$1::x' ORDER BY n{C} LIMIT 1 {SKIP_LOCKED}";
        assert_eq!(
            render(src, Dialect::Sqlite),
            "SELECT a FROM t WHERE k IN (SELECT value FROM json_each(?2)) AND x = ?1 \
             AND y = ?1 AND z = '$1::x' ORDER BY n LIMIT 1 "
        );
        assert_eq!(
            render(src, Dialect::Postgres),
            "SELECT a FROM t WHERE k = ANY($2) AND x = $1 AND y = $1::BIGINT \
             AND z = '$1::x' ORDER BY n COLLATE \"C\" LIMIT 1 FOR UPDATE SKIP LOCKED"
        );
        assert_eq!(
            render("SET v = {GREATEST}(a, $2::TEXT[])", Dialect::Sqlite),
            "SET v = MAX(a, ?2)"
        );
        assert_eq!(
            render("action {PREFIX $2}", Dialect::Postgres),
            "action LIKE $2 ESCAPE '\\'"
        );
        assert_eq!(
            render("action {PREFIX $2}", Dialect::Sqlite),
            "action GLOB ?2"
        );
        assert_eq!(Dialect::Sqlite.prefix_pattern("a*b?[c"), "a[*]b[?][[]c*");
        assert_eq!(
            Dialect::Postgres.prefix_pattern("a%b_c\\"),
            "a\\%b\\_c\\\\%"
        );
        assert_eq!(Dialect::Postgres.page(-1, -5), (None, 0));
        let terms = ["disk".to_string(), "fu\"l'l".to_string()];
        assert_eq!(
            Dialect::Sqlite.fulltext_query(&terms),
            r#""disk"* AND "fu""l'l"*"#
        );
        assert_eq!(
            Dialect::Postgres.fulltext_query(&terms),
            r#"'disk':* & 'fu"l''l':*"#
        );
        assert_eq!(Dialect::Sqlite.page(-1, -5), (Some(-1), -5));
    }
}
