//! Full-text search across the caller's own conversations (issue 16, the
//! full-text half: no embedder yet, so every answer is full-text).

use super::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::rbac::Permission;
use crate::search::{self, MessageType, SearchHit, SearchQuery};

/// Longest query text accepted.
pub const MAX_QUERY_CHARS: usize = 500;
/// Hits per answer by default, and at most.
pub const DEFAULT_LIMIT: i64 = 20;
/// The most hits one answer holds.
pub const MAX_LIMIT: i64 = 100;

/// How the hits were ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Full-text only (bm25 on SQLite, `ts_rank_cd` on PostgreSQL).
    Fulltext,
}

impl Mode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Fulltext => "fulltext",
        }
    }
}

/// A search as an adapter received it (times already parsed).
#[derive(Debug, Clone, Default)]
pub struct SearchInput<'a> {
    /// The words to find.
    pub q: &'a str,
    /// `user`, `assistant` or `tool`.
    pub kind: Option<&'a str>,
    /// Only this session.
    pub session_id: Option<&'a str>,
    /// From (epoch ms, inclusive).
    pub from: Option<i64>,
    /// Until (epoch ms, exclusive).
    pub to: Option<i64>,
    /// Page size.
    pub limit: Option<i64>,
}

/// An answer: the hits, best first, and how they were ranked.
#[derive(Debug, Clone)]
pub struct SearchResults {
    /// Ranking used.
    pub mode: Mode,
    /// Best first.
    pub hits: Vec<SearchHit>,
}

fn bad(field: &str, msg: &str) -> CoreError {
    CoreError::Validation(format!("{field}: {msg}"))
}

/// Checks an adapter's input; errors name the parameter.
pub fn query(input: &SearchInput<'_>) -> CoreResult<SearchQuery> {
    if input.q.chars().count() > MAX_QUERY_CHARS {
        return Err(bad(
            "q",
            &format!("must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let terms = search::terms(input.q);
    if terms.is_empty() {
        return Err(bad("q", "must contain a word (letters or digits)"));
    }
    let kind = input
        .kind
        .map(|k| {
            MessageType::parse(k).ok_or_else(|| bad("type", "must be user, assistant or tool"))
        })
        .transpose()?;
    let session_id = input
        .session_id
        .map(|s| match s.trim() {
            "" => Err(bad("sessionId", "must not be empty")),
            t if t.len() > 100 => Err(bad("sessionId", "must be at most 100 characters")),
            t => Ok(t.to_string()),
        })
        .transpose()?;
    Ok(SearchQuery {
        terms,
        kind,
        session_id,
        from: input.from,
        to: input.to,
        limit: crate::validate::limit("limit", input.limit, DEFAULT_LIMIT, MAX_LIMIT)?,
    })
}

/// The caller's messages matching every word, best first (`sessions:read`):
/// only the caller's own conversations in the active organisation.
pub async fn messages(
    ctx: &Ctx<'_>,
    p: &Principal,
    input: &SearchInput<'_>,
) -> CoreResult<SearchResults> {
    p.require(Permission::SessionsRead)?;
    let org = p.org()?;
    let q = query(input)?;
    let hits = ctx.store.search_messages(&org.id, &p.id, &q).await?;
    Ok(SearchResults {
        mode: Mode::Fulltext,
        hits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: SearchInput<'_>) -> String {
        match query(&input) {
            Err(CoreError::Validation(m)) => m,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn bad_input_names_the_parameter() {
        let ok = SearchInput {
            q: "disk",
            ..Default::default()
        };
        assert_eq!(query(&ok).map(|q| q.limit).ok(), Some(DEFAULT_LIMIT));
        assert!(err(SearchInput {
            q: " *:() ",
            ..ok.clone()
        })
        .starts_with("q:"));
        assert!(err(SearchInput {
            q: &"a".repeat(501),
            ..ok.clone()
        })
        .starts_with("q:"));
        assert!(err(SearchInput {
            kind: Some("summary"),
            ..ok.clone()
        })
        .starts_with("type:"));
        assert!(err(SearchInput {
            session_id: Some(" "),
            ..ok.clone()
        })
        .starts_with("sessionId:"));
        assert!(err(SearchInput {
            limit: Some(0),
            ..ok.clone()
        })
        .starts_with("limit:"));
        assert!(err(SearchInput {
            limit: Some(101),
            ..ok.clone()
        })
        .starts_with("limit:"));
        // An empty or inverted range is not an error: it matches nothing
        // (like the other list filters), so the query stands as given.
        let empty = query(&SearchInput {
            from: Some(5),
            to: Some(5),
            ..ok.clone()
        })
        .expect("an empty range is a valid query");
        assert_eq!((empty.from, empty.to), (Some(5), Some(5)));
    }
}
