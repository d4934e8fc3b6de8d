//! Resource Search structured query language subset used by SearchResources.
//!
//! # Supported grammar
//!
//! ```text
//! query    := "query" types "resources" ("where" expr)? ("sorted by" FIELD ("asc" | "desc")?)?
//! types    := "all" | TYPE ("," TYPE)*                 -- e.g. instance, vcn, bucket
//! expr     := term ("||" term)*                        -- "&&" binds tighter than "||"
//! term     := cond ("&&" cond)*
//! cond     := FIELD OP VALUE
//! OP       := "=" | "!=" | "=~" | ">" | ">=" | "<" | "<="
//! VALUE    := '...'                                    -- '' inside is a literal quote
//! FIELD    := a ResourceSummary field (displayName, lifecycleState, compartmentId,
//!             availabilityDomain, timeCreated, identifier), freeformTags.<key>,
//!             or any top-level attribute of the resource (shape, cidrBlock, dbWorkload...)
//! ```
//!
//! Keywords, type names and field names are case-insensitive; `=`/`!=` compare
//! case-insensitively, `=~` is a case-insensitive "contains", and the ordering
//! operators compare text (RFC 3339 timestamps order correctly). Anything else
//! is a 400 `InvalidParameter` naming the position of the problem. Example:
//! `query instance resources where lifecycleState = 'RUNNING' && displayName =~ 'web'`.

/// Comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `=~` (contains)
    Contains,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// One condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    /// Field name as written.
    pub field: String,
    /// Operator.
    pub op: Op,
    /// Value.
    pub value: String,
}

/// A parsed structured query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Lower-cased resource types; empty means all.
    pub types: Vec<String>,
    /// Disjunction of conjunctions.
    pub filter: Vec<Vec<Cond>>,
    /// Sort field and descending flag.
    pub sort: Option<(String, bool)>,
}

struct P<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> P<'a> {
    fn ws(&mut self) {
        while self.s[self.pos..].starts_with(char::is_whitespace) {
            self.pos += self.s[self.pos..].chars().next().map_or(1, char::len_utf8);
        }
    }
    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!(
            "Invalid search query at position {}: {what}",
            self.pos
        ))
    }
    fn word(&mut self) -> Option<&'a str> {
        self.ws();
        let rest = &self.s[self.pos..];
        let len = rest
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 {
            return None;
        }
        self.pos += len;
        Some(&rest[..len])
    }
    fn keyword(&mut self, kw: &str) -> bool {
        let save = self.pos;
        match self.word() {
            Some(w) if w.eq_ignore_ascii_case(kw) => true,
            _ => {
                self.pos = save;
                false
            }
        }
    }
    fn sym(&mut self, sym: &str) -> bool {
        self.ws();
        if self.s[self.pos..].starts_with(sym) {
            self.pos += sym.len();
            true
        } else {
            false
        }
    }
    fn value(&mut self) -> Result<String, String> {
        self.ws();
        if !self.s[self.pos..].starts_with('\'') {
            return self.err("expected a single-quoted value");
        }
        let mut out = String::new();
        let mut i = self.pos + 1;
        let bytes = self.s.as_bytes();
        loop {
            let Some(c) = self.s[i..].chars().next() else {
                return self.err("unterminated quoted value");
            };
            if c == '\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    out.push('\'');
                    i += 2;
                    continue;
                }
                self.pos = i + 1;
                return Ok(out);
            }
            out.push(c);
            i += c.len_utf8();
        }
    }
    fn cond(&mut self) -> Result<Cond, String> {
        let Some(field) = self.word() else {
            return self.err("expected a field name");
        };
        let field = field.to_string();
        let op = if self.sym("=~") {
            Op::Contains
        } else if self.sym("!=") {
            Op::Ne
        } else if self.sym(">=") {
            Op::Ge
        } else if self.sym("<=") {
            Op::Le
        } else if self.sym("=") {
            Op::Eq
        } else if self.sym(">") {
            Op::Gt
        } else if self.sym("<") {
            Op::Lt
        } else {
            return self.err("expected an operator (=, !=, =~, >, >=, <, <=)");
        };
        let value = self.value()?;
        Ok(Cond { field, op, value })
    }
}

/// Parse a structured query (see the module docs for the grammar).
pub fn parse(text: &str) -> Result<SearchQuery, String> {
    let mut p = P { s: text, pos: 0 };
    if !p.keyword("query") {
        return p.err("a query must start with `query`");
    }
    let mut types = Vec::new();
    loop {
        let Some(t) = p.word() else {
            return p.err("expected a resource type or `all`");
        };
        if t.eq_ignore_ascii_case("resources") {
            return p.err("expected a resource type or `all` before `resources`");
        }
        types.push(t.to_ascii_lowercase());
        if !p.sym(",") {
            break;
        }
    }
    if types.iter().any(|t| t == "all") {
        if types.len() > 1 {
            return p.err("`all` cannot be combined with other types");
        }
        types.clear();
    }
    if !p.keyword("resources") {
        return p.err("expected `resources`");
    }
    let mut filter = Vec::new();
    if p.keyword("where") {
        loop {
            let mut term = vec![p.cond()?];
            while p.sym("&&") {
                term.push(p.cond()?);
            }
            filter.push(term);
            if !p.sym("||") {
                break;
            }
        }
    }
    let mut sort = None;
    if p.keyword("sorted") {
        if !p.keyword("by") {
            return p.err("expected `by` after `sorted`");
        }
        let Some(f) = p.word() else {
            return p.err("expected a field to sort by");
        };
        let f = f.to_string();
        let desc = if p.keyword("asc") {
            false
        } else {
            p.keyword("desc");
            true
        };
        sort = Some((f, desc));
    }
    p.ws();
    if p.pos != text.len() {
        return p.err("unexpected trailing text");
    }
    Ok(SearchQuery {
        types,
        filter,
        sort,
    })
}

impl Cond {
    /// Evaluate against a field value (None when the field is absent).
    pub fn holds(&self, actual: Option<&str>) -> bool {
        let Some(a) = actual else {
            return self.op == Op::Ne;
        };
        let (a, v) = (a.to_lowercase(), self.value.to_lowercase());
        match self.op {
            Op::Eq => a == v,
            Op::Ne => a != v,
            Op::Contains => a.contains(&v),
            Op::Gt => a > v,
            Op::Ge => a >= v,
            Op::Lt => a < v,
            Op::Le => a <= v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_queries() {
        let q = parse("query instance, vcn resources where displayName = 'it''s' && lifecycleState != 'TERMINATED' || shape =~ 'flex' sorted by timeCreated asc").unwrap();
        assert_eq!(q.types, vec!["instance", "vcn"]);
        assert_eq!(q.filter.len(), 2);
        assert_eq!(q.filter[0][0].value, "it's");
        assert_eq!(q.sort, Some(("timeCreated".into(), false)));
        assert!(parse("query all resources").unwrap().types.is_empty());
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "select * from x",
            "query resources",
            "query instance",
            "query instance resources where x",
            "query instance resources where a = b",
            "query instance resources where a = 'b' junk",
            "query all, vcn resources",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
