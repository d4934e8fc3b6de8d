//! Search across the caller's own conversations (issue 16): hybrid when an
//! embedder is configured, else full-text, and the answer says so in `mode`.

use axum::extract::State;
use axum::Json;
use portal_core::search::{SearchHit, SnippetPart};
use portal_core::service::search::{self, SearchInput};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::events::int;
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::views::{parse_ts, ts};

/// What to find. Numbers are taken as text so a malformed one is reported
/// with its parameter's name.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Words to find (at least one letter or digit); every word must occur,
    /// as a word or a word's start.
    #[param(max_length = 500, pattern = "[A-Za-z0-9]")]
    pub q: String,
    /// Only messages of this kind.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<MessageKind>, inline)]
    pub kind: Option<String>,
    /// Only this session.
    #[serde(rename = "sessionId")]
    #[param(
        rename = "sessionId",
        min_length = 1,
        max_length = 100,
        pattern = "\\S"
    )]
    pub session_id: Option<String>,
    /// From (RFC 3339, inclusive).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Until (RFC 3339, exclusive); a range that ends before it starts matches nothing.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// At most this many results, 1–100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

/// Who said the message (documentation only: the handler parses the text to
/// name the parameter in its error).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum MessageKind {
    /// The user.
    User,
    /// The assistant.
    Assistant,
    /// A tool's result.
    Tool,
}

/// A piece of a snippet: plain text (escape it when rendering), `mark` when it
/// is a matched word.
#[derive(Serialize, ToSchema)]
pub struct SnippetPartView {
    /// The text.
    pub text: String,
    /// True for a match.
    pub mark: bool,
}

/// One matching message.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    /// Its session.
    pub session_id: String,
    /// The message.
    pub message_id: String,
    /// `user`, `assistant` or `tool`.
    pub role: String,
    /// Text around the first match, cut with `…`, the matches marked.
    pub snippet: Vec<SnippetPartView>,
    /// Relevance, higher is better (comparable within one answer only).
    pub score: f64,
    /// When it was said.
    pub created_at: String,
}

/// The answer.
#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    /// `hybrid` (full-text and vector rankings fused) when an embedder is
    /// configured, else `fulltext`.
    #[schema(value_type = SearchMode, inline)]
    pub mode: &'static str,
    /// Best first.
    pub results: Vec<SearchResult>,
}

/// How the results were ranked (documentation of `mode`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum SearchMode {
    /// Every word matched (no embedder configured, or it failed).
    Fulltext,
    /// Full-text and vector rankings fused by reciprocal rank.
    Hybrid,
}

fn part(p: &SnippetPart) -> SnippetPartView {
    SnippetPartView {
        text: p.text.clone(),
        mark: p.mark,
    }
}

fn result(h: &SearchHit) -> SearchResult {
    SearchResult {
        session_id: h.session_id.clone(),
        message_id: h.message_id.clone(),
        role: h.role.clone(),
        snippet: h.snippet.iter().map(part).collect(),
        score: h.score,
        created_at: ts(h.created_at),
    }
}

/// Messages of the caller's own conversations in the active organisation,
/// best first (`sessions:read`): every word matching (`fulltext`), or with an
/// embedder also those close in meaning (`hybrid`).
#[utoipa::path(
    get, path = "/api/v1/search", operation_id = "searchMessages", tag = "sessions", params(Query),
    responses(
        (status = 200, description = "Results", body = SearchResults),
        (status = 400, description = "VALIDATION_ERROR (names the parameter)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 503, description = "UNAVAILABLE", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn search(
    State(state): State<AppState>,
    r: Require<perm::SessionsRead>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<SearchResults>, ApiError> {
    let input = SearchInput {
        q: &q.q,
        kind: q.kind.as_deref(),
        session_id: q.session_id.as_deref(),
        from: q.from.as_deref().map(|s| parse_ts("from", s)).transpose()?,
        to: q.to.as_deref().map(|s| parse_ts("to", s)).transpose()?,
        limit: int("limit", q.limit.as_deref())?,
    };
    let found = search::messages(
        &state.ctx(&r.caller),
        &state.app.search,
        &r.principal,
        &input,
    )
    .await?;
    Ok(Json(SearchResults {
        mode: found.mode.as_str(),
        results: found.hits.iter().map(result).collect(),
    }))
}
