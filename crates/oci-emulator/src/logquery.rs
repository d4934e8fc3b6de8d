//! Logging Search query language subset used by SearchLogs.
//!
//! # Supported grammar
//!
//! ```text
//! query   := "search" source ("," source)* ("|" stage)*
//! source  := '"' COMPARTMENT_OCID ("/" LOG_GROUP_OCID ("/" LOG_OCID)?)? '"'
//! stage   := where | sort
//! where   := "where"? expr
//! expr    := term ("or" term)*                     -- "and" binds tighter than "or"
//! term    := cond ("and" cond)*
//! cond    := FIELD ("=" | "!=") VALUE               -- VALUE is '...' or "..."; '*' in it is a wildcard
//!          | VALUE                                   -- free text: the entry contains VALUE
//!          | "(" expr ")"
//! sort    := "sort by" FIELD ("asc" | "desc")?       -- default desc
//! FIELD   := dotted path into the log content, e.g. type, source, subject,
//!            data.level, data.message, oracle.compartmentid; or `datetime`
//! ```
//!
//! Keywords are case-insensitive; string comparison is case-insensitive. A
//! compartment source covers that compartment and every compartment below it
//! (so the tenancy OCID searches everything). Results are newest first unless a
//! `sort by ... asc` stage says otherwise. Anything else is a 400
//! `InvalidParameter` naming the position of the problem. Example:
//! `search "ocid1.compartment.oc1..x" | where data.level = 'ERROR' | sort by datetime desc`.

use serde_json::Value;

/// A log source: compartment plus optional log group and log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Compartment OCID.
    pub compartment: String,
    /// Log group OCID.
    pub log_group: Option<String>,
    /// Log OCID.
    pub log: Option<String>,
}

/// A boolean filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Field equals (or not) a value, `*` wildcards allowed.
    Cmp {
        /// Dotted field path.
        field: String,
        /// `=` when true, `!=` when false.
        eq: bool,
        /// Value.
        value: String,
    },
    /// Entry contains the text anywhere.
    Text(String),
    /// All must hold.
    And(Vec<Expr>),
    /// Any must hold.
    Or(Vec<Expr>),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// Sources.
    pub sources: Vec<Source>,
    /// Filters (all must hold).
    pub filters: Vec<Expr>,
    /// Sort field and whether descending.
    pub sort: (String, bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Sym(&'static str),
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, String> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '"' || c == '\'' {
            let mut j = i + 1;
            let mut s = String::new();
            loop {
                match chars.get(j) {
                    None => {
                        return Err(format!(
                            "Invalid search query at position {pos}: unterminated quoted value"
                        ))
                    }
                    Some((_, ch)) if *ch == c => {
                        // A doubled quote is an escaped quote.
                        if chars.get(j + 1).map(|x| x.1) == Some(c) {
                            s.push(c);
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    Some((_, ch)) => {
                        s.push(*ch);
                        j += 1;
                    }
                }
            }
            out.push((pos, Tok::Quoted(s)));
            i = j + 1;
            continue;
        }
        let two: String = chars[i..chars.len().min(i + 2)]
            .iter()
            .map(|x| x.1)
            .collect();
        if two == "!=" {
            out.push((pos, Tok::Sym("!=")));
            i += 2;
            continue;
        }
        let sym = match c {
            '|' => Some("|"),
            '=' => Some("="),
            ',' => Some(","),
            '(' => Some("("),
            ')' => Some(")"),
            _ => None,
        };
        if let Some(s) = sym {
            out.push((pos, Tok::Sym(s)));
            i += 1;
            continue;
        }
        if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' || c == '$' {
            let mut j = i;
            let mut s = String::new();
            while let Some((_, ch)) = chars.get(j) {
                if ch.is_alphanumeric() || matches!(ch, '_' | '.' | '-' | '$') {
                    s.push(*ch);
                    j += 1;
                } else {
                    break;
                }
            }
            out.push((pos, Tok::Word(s)));
            i = j;
            continue;
        }
        return Err(format!(
            "Invalid search query at position {pos}: unexpected character `{c}`"
        ));
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    len: usize,
}

impl Parser {
    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.len, |t| t.0)
    }
    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!(
            "Invalid search query at position {}: {what}",
            self.pos()
        ))
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.1)
    }
    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw)) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn cond(&mut self) -> Result<Expr, String> {
        if self.sym("(") {
            let e = self.expr()?;
            if !self.sym(")") {
                return self.err("expected `)`");
            }
            return Ok(e);
        }
        match self.peek().cloned() {
            Some(Tok::Quoted(text)) => {
                self.i += 1;
                Ok(Expr::Text(text))
            }
            Some(Tok::Word(field)) if !is_keyword(&field) => {
                self.i += 1;
                let eq = if self.sym("=") {
                    true
                } else if self.sym("!=") {
                    false
                } else {
                    return self.err("expected `=` or `!=` after a field name");
                };
                match self.peek().cloned() {
                    Some(Tok::Quoted(v)) => {
                        self.i += 1;
                        let field = field
                            .strip_prefix("logContent.")
                            .unwrap_or(&field)
                            .to_string();
                        Ok(Expr::Cmp {
                            field,
                            eq,
                            value: v,
                        })
                    }
                    _ => self.err("expected a quoted value"),
                }
            }
            _ => self.err("expected a condition (field = 'value' or 'text')"),
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.cond()?];
        while self.keyword("and") {
            parts.push(self.cond()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.term()?];
        while self.keyword("or") {
            parts.push(self.term()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }
}

fn is_keyword(w: &str) -> bool {
    ["and", "or", "where", "sort", "by", "asc", "desc", "search"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(w))
}

/// Parse a search query (see the module docs for the grammar).
pub fn parse(text: &str) -> Result<LogQuery, String> {
    let toks = lex(text)?;
    let mut p = Parser {
        toks,
        i: 0,
        len: text.len(),
    };
    if !p.keyword("search") {
        return p.err("a query must start with `search \"<compartment OCID>\"`");
    }
    let mut sources = Vec::new();
    loop {
        match p.peek().cloned() {
            Some(Tok::Quoted(s)) => {
                p.i += 1;
                let mut parts = s.split('/');
                let compartment = parts.next().unwrap_or("").trim().to_string();
                if !compartment.starts_with("ocid1.") {
                    return p.err("a search source must be a compartment OCID, optionally followed by /<log group>/<log>");
                }
                let log_group = parts.next().filter(|x| !x.is_empty()).map(str::to_string);
                let log = parts.next().filter(|x| !x.is_empty()).map(str::to_string);
                if parts.next().is_some() {
                    return p.err("a search source has at most three `/`-separated parts");
                }
                sources.push(Source {
                    compartment,
                    log_group,
                    log,
                });
            }
            _ => return p.err("expected a quoted compartment OCID"),
        }
        if !p.sym(",") {
            break;
        }
    }
    let mut filters = Vec::new();
    let mut sort = ("datetime".to_string(), true);
    while p.sym("|") {
        if p.keyword("sort") {
            if !p.keyword("by") {
                return p.err("expected `by` after `sort`");
            }
            let field = match p.peek().cloned() {
                Some(Tok::Word(f)) if !is_keyword(&f) => {
                    p.i += 1;
                    f
                }
                _ => return p.err("expected a field to sort by"),
            };
            let desc = if p.keyword("asc") {
                false
            } else {
                p.keyword("desc");
                true
            };
            sort = (
                field
                    .strip_prefix("logContent.")
                    .unwrap_or(&field)
                    .to_string(),
                desc,
            );
        } else {
            p.keyword("where");
            filters.push(p.expr()?);
        }
    }
    if p.i != p.toks.len() {
        return p.err("unexpected text; stages are separated by `|`");
    }
    Ok(LogQuery {
        sources,
        filters,
        sort,
    })
}

fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.to_lowercase();
    let t = text.to_lowercase();
    if !p.contains('*') {
        return p == t;
    }
    let parts: Vec<&str> = p.split('*').collect();
    let mut rest = t.as_str();
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            if !rest.starts_with(part) {
                return false;
            }
            rest = &rest[part.len()..];
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(idx) = rest.find(part) {
            rest = &rest[idx + part.len()..];
        } else {
            return false;
        }
    }
    true
}

/// A field of a log entry as text (`datetime` is the entry time in ms).
pub fn field_text(content: &Value, datetime: i64, field: &str) -> Option<String> {
    if field.eq_ignore_ascii_case("datetime") {
        return Some(datetime.to_string());
    }
    let mut cur = content;
    for part in field.split('.') {
        cur = cur
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(part))
            .map(|(_, v)| v)?;
    }
    Some(match cur {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

impl Expr {
    /// Evaluate against a log entry.
    pub fn matches(&self, content: &Value, datetime: i64) -> bool {
        match self {
            Expr::Cmp { field, eq, value } => {
                let hit = field_text(content, datetime, field).is_some_and(|t| glob(value, &t));
                hit == *eq
            }
            Expr::Text(t) => content
                .to_string()
                .to_lowercase()
                .contains(&t.to_lowercase()),
            Expr::And(v) => v.iter().all(|e| e.matches(content, datetime)),
            Expr::Or(v) => v.iter().any(|e| e.matches(content, datetime)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_portal_form() {
        let q = parse("search \"ocid1.compartment.oc1..abc\" | where data.level = 'ERROR' and type != 'x*' or 'disk' | sort by datetime asc").unwrap();
        assert_eq!(q.sources[0].compartment, "ocid1.compartment.oc1..abc");
        assert_eq!(q.filters.len(), 1);
        assert_eq!(q.sort, ("datetime".to_string(), false));
        let entry = json!({"data": {"level": "error", "message": "disk full"}, "type": "xyz"});
        // (level = ERROR and type != x*) or 'disk' → true through the free-text branch
        assert!(q.filters[0].matches(&entry, 0));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "find x",
            "search ocid",
            "search \"notanocid\"",
            "search \"ocid1.x\" | where a = ",
            "search \"ocid1.x\" | sort datetime",
            "search \"ocid1.x\" junk",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wildcards() {
        assert!(glob("*err*", "An ERROR here"));
        assert!(glob("abc*", "abcdef"));
        assert!(!glob("abc*", "xabc"));
        assert!(glob("*def", "abcdef"));
    }
}
