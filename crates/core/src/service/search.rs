//! Search across the caller's own conversations (issue 16): full-text, and
//! with an embedder configured hybrid — the full-text and the vector ranking
//! fused by reciprocal rank. Both halves are scoped to the caller's own
//! sessions in the organisation inside their queries.

use super::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::rbac::Permission;
use crate::search::engine::SearchEngine;
use crate::search::vector::Filter;
use crate::search::{self, embed::Purpose, hybrid, MessageType, SearchHit, SearchQuery};
use crate::store::Store;

/// Longest query text accepted.
pub const MAX_QUERY_CHARS: usize = 500;
/// Hits per answer by default, and at most.
pub const DEFAULT_LIMIT: i64 = 20;
/// The most hits one answer holds.
pub const MAX_LIMIT: i64 = 100;
/// Candidates each half of a hybrid search ranks before they are fused.
pub const CANDIDATES: i64 = 50;
/// Vector hits less similar than this (cosine) are left out: every message
/// has a nearest neighbour, but an unrelated one is no answer. Sentence
/// models put unrelated English at about 0–0.15 and paraphrases well above.
pub const MIN_SIMILARITY: f32 = 0.25;

/// How the hits were ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Full-text only (bm25 on SQLite, `ts_rank_cd` on PostgreSQL).
    Fulltext,
    /// Full-text and vector rankings fused (reciprocal rank fusion).
    Hybrid,
}

impl Mode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Fulltext => "fulltext",
            Mode::Hybrid => "hybrid",
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

/// The caller's messages matching the query, best first (`sessions:read`):
/// only the caller's own conversations in the active organisation. With no
/// embedder, or when it fails, every word must match (full-text); else the
/// full-text and the vector rankings are fused, so a message found by
/// meaning alone is found too.
pub async fn messages(
    ctx: &Ctx<'_>,
    engine: &SearchEngine,
    p: &Principal,
    input: &SearchInput<'_>,
) -> CoreResult<SearchResults> {
    p.require(Permission::SessionsRead)?;
    let org = p.org()?;
    let q = query(input)?;
    ranked(ctx.store, engine, &org.id, &p.id, input.q, &q).await
}

/// The ranking behind [`messages`], for a caller already checked: `text` is
/// the query as typed (what is embedded), `q` its validated form.
pub async fn ranked(
    store: &dyn Store,
    engine: &SearchEngine,
    org_id: &crate::ids::OrgId,
    principal_id: &str,
    text: &str,
    q: &SearchQuery,
) -> CoreResult<SearchResults> {
    let Some(embedder) = engine.embedder() else {
        return fulltext(store, org_id, principal_id, q).await;
    };
    let vector = match embedder.embed(&[text.to_string()], Purpose::Query).await {
        Ok(mut v) if v.len() == 1 => v.remove(0),
        Ok(_) => return fulltext(store, org_id, principal_id, q).await,
        Err(e) => {
            tracing::warn!(error = %e, "query embedding failed; answering full-text");
            return fulltext(store, org_id, principal_id, q).await;
        }
    };
    let wide = SearchQuery {
        limit: CANDIDATES,
        ..q.clone()
    };
    let text_hits = store.search_messages(org_id, principal_id, &wide).await?;
    let index = engine.index();
    index
        .catch_up(store, org_id, embedder.model_id(), embedder.dims())
        .await?;
    let filter = Filter {
        session_id: q.session_id.as_deref(),
        role: q.kind.map(MessageType::as_str),
        from: q.from,
        to: q.to,
    };
    let near = index
        .nearest(org_id, principal_id, &vector, filter, CANDIDATES as usize)
        .await;
    let fused = hybrid::fuse(&[
        text_hits.iter().map(|h| h.message_id.clone()).collect(),
        near.into_iter()
            .filter(|(_, sim)| *sim >= MIN_SIMILARITY)
            .map(|(id, _)| id)
            .collect(),
    ]);
    // Vector hits may be gone (a deleted session) or outside the filters:
    // the store makes them whole only when they are still the caller's.
    let missing: Vec<String> = fused
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !text_hits.iter().any(|h| &h.message_id == *id))
        .cloned()
        .collect();
    let more = if missing.is_empty() {
        Vec::new()
    } else {
        store
            .search_hits_by_id(org_id, principal_id, q, &missing)
            .await?
    };
    let mut hits = Vec::with_capacity(q.limit as usize);
    for (id, score) in fused {
        let found = text_hits
            .iter()
            .chain(more.iter())
            .find(|h| h.message_id == id);
        if let Some(h) = found {
            hits.push(SearchHit { score, ..h.clone() });
            if hits.len() as i64 == q.limit {
                break;
            }
        }
    }
    Ok(SearchResults {
        mode: Mode::Hybrid,
        hits,
    })
}

async fn fulltext(
    store: &dyn Store,
    org_id: &crate::ids::OrgId,
    principal_id: &str,
    q: &SearchQuery,
) -> CoreResult<SearchResults> {
    let hits = store.search_messages(org_id, principal_id, q).await?;
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
