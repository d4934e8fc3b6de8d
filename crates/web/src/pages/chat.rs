//! Chat (`/chat`, `/chat/{sessionId}`): the caller's sessions (new, rename,
//! delete, search by title and, through the search service, by message text
//! across all chats) beside one conversation rendered from its stored messages.
//! The page's module (`chat.js`) sends turns to `POST /api/chat` and renders
//! them as they stream; a turn still running or waiting for an approval when
//! the page is rendered is followed live (`GET /api/chat/{id}/stream`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_ai::chat::ChatEngine;
use portal_core::model::ChatSession;
use portal_core::rbac::Permission;
use portal_core::search::SearchHit;
use portal_core::service::chat;
use portal_core::service::search::{self, SearchInput};
use portal_http::{AppState, HttpError};
use serde::Deserialize;

use super::chat_messages::{before_active, conversation};
use crate::form::{when, PageForm};
use crate::shell::Section;
use crate::visit::{encode, see_other, Member, PageError};

/// How many sessions the sidebar lists (newest first).
const SIDEBAR: i64 = 100;
/// How many stored messages a conversation shows.
const MESSAGES: i64 = 500;

/// `?q=` (search the titles) and `?prompt=` (the home page's ask box).
#[derive(Deserialize, Default)]
pub struct ChatQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    prompt: String,
}

fn engine(state: &AppState) -> Result<Arc<ChatEngine>, PageError> {
    state
        .chat
        .get()
        .cloned()
        .ok_or_else(|| HttpError::Internal("chat engine not started".into()).into())
}

fn title(s: &ChatSession) -> &str {
    s.title.as_deref().unwrap_or("New chat")
}

/// Whether `s`'s title matches the search (case-insensitive; empty matches all).
fn matches(s: &ChatSession, q: &str) -> bool {
    q.is_empty() || title(s).to_lowercase().contains(&q.to_lowercase())
}

/// Messages of all the caller's chats matching the search, each linking to
/// the message in its conversation (tool results show inside their call's
/// card, which has no anchor, so they are left out here).
fn message_hits(hits: &[SearchHit]) -> Markup {
    let shown: Vec<&SearchHit> = hits.iter().filter(|h| h.role != "tool").collect();
    html! {
        @if !shown.is_empty() {
            h3 #message-hits-h { "Messages" }
            ul.message-hits #message-hits aria-labelledby="message-hits-h" {
                @for h in shown {
                    li {
                        a href={ "/chat/" (h.session_id) "#message-" (h.message_id) } {
                            span.session-when { (if h.role == "user" { "You" } else { "Assistant" }) " · " (when(h.created_at)) }
                            span.snippet {
                                @for part in &h.snippet {
                                    @if part.mark { mark { (part.text) } } @else { (part.text) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn sidebar(
    m: &Member,
    sessions: &[ChatSession],
    current: Option<&str>,
    q: &str,
    hits: &[SearchHit],
) -> Markup {
    let here = current.map_or("/chat".to_string(), |id| format!("/chat/{id}"));
    let shown: Vec<&ChatSession> = sessions.iter().filter(|s| matches(s, q)).collect();
    html! {
        aside.chat-sessions aria-labelledby="sessions-h" {
            div.sessions-top {
                h2 #sessions-h { "Chats" }
                @if m.principal.can(Permission::SessionsWrite) {
                    a.button #new-chat href="/chat" { "New chat" }
                }
            }
            form.session-search method="get" action=(here) role="search" {
                label for="chat-search" { "Search chats" }
                input #chat-search type="search" name="q" value=(q) autocomplete="off";
            }
            @if shown.is_empty() && hits.is_empty() {
                p.muted #no-sessions { @if q.is_empty() { "No chats yet." } @else { "No chat matches." } }
            }
            ul.session-list #session-list {
                @for s in &shown {
                    li data-title=(title(s).to_lowercase()) {
                        a href={ "/chat/" (s.id) } aria-current=[(Some(s.id.as_str()) == current).then_some("page")] {
                            span.session-title { (title(s)) }
                            span.session-when { (when(s.updated_at)) }
                        }
                    }
                }
            }
            (message_hits(hits))
        }
    }
}

/// The rename and delete controls of the open session.
fn session_controls(m: &Member, s: &ChatSession) -> Markup {
    html! {
        details.session-actions {
            summary { "Rename or delete" }
            form method="post" action={ "/chat/" (s.id) "/rename" } #rename {
                input type="hidden" name="csrf" value=(m.csrf);
                label for="title" { "Title" }
                div.inline {
                    input #title type="text" name="title" value=(s.title.as_deref().unwrap_or("")) maxlength="200" required;
                    button type="submit" { "Rename" }
                }
            }
            form method="post" action={ "/chat/" (s.id) "/delete" } #delete {
                input type="hidden" name="csrf" value=(m.csrf);
                button.danger type="submit" { "Delete this chat" }
            }
        }
    }
}

fn composer(m: &Member, prompt: &str) -> Markup {
    html! {
        // Outside the composer: the palette holds a form of its own.
        div.palette #tool-palette hidden {}
        form.composer #composer {
            label for="prompt" { "Message" }
            textarea #prompt name="message" rows="2" maxlength="32000" aria-describedby="composer-hint"
                placeholder="Ask about your cloud, or type /tool to run one" { (prompt) }
            div.composer-bar {
                span.model-pick #model-pick hidden {
                    label for="model" { "Model" }
                    select #model {}
                }
                span.status #chat-status role="status" aria-live="polite" { "Ready" }
                button.danger #stop type="button" hidden { "Stop" }
                button #send type="submit" { "Send" }
            }
            p.hint #composer-hint {
                "Enter sends, Shift+Enter starts a new line, Esc stops the answer. "
                @if m.principal.can(Permission::ToolsExecute) {
                    "Type " code { "/tool" } " to run a tool directly."
                }
            }
            noscript { p.notice.warn { "Chat needs JavaScript to send messages and stream answers." } }
        }
    }
}

async fn render(
    state: &AppState,
    m: &Member,
    current: Option<&ChatSession>,
    q: &ChatQuery,
) -> Result<Response, PageError> {
    let p = &m.principal;
    if !p.can(Permission::SessionsRead) {
        return Err(HttpError::Forbidden("Permission sessions:read is required".into()).into());
    }
    let ctx = state.ctx(&m.caller);
    let sessions = chat::list(&ctx, p, Some(SIDEBAR), None).await?.items;
    let engine = engine(state)?;
    let (messages, active) = match current {
        Some(s) => {
            let stored = engine.messages(p, &s.id, None, Some(MESSAGES)).await?;
            let active = engine.active_turn(p, &s.id).await?;
            (stored, active)
        }
        None => (Vec::new(), None),
    };
    let shown = if active.is_some() {
        before_active(&messages)
    } else {
        &messages[..]
    };
    let q_text = q.q.trim();
    // A search of symbols only finds nothing rather than failing the page.
    let hits = if q_text.is_empty() {
        Vec::new()
    } else {
        let input = SearchInput {
            q: q_text,
            ..Default::default()
        };
        match search::messages(&ctx, &state.app.search, p, &input).await {
            Ok(found) => found.hits,
            Err(portal_core::CoreError::Validation(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        }
    };
    let heading = current.map_or("New chat", title);
    let body = html! {
        div.chat #chat
            data-session=(current.map_or("", |s| s.id.as_str()))
            data-follow=[active.as_ref().map(|a| a.status.as_str())]
            data-write=[p.can(Permission::SessionsWrite).then_some("1")]
            data-tools=[p.can(Permission::ToolsRead).then_some("1")]
        {
            (sidebar(m, &sessions, current.map(|s| s.id.as_str()), q_text, &hits))
            section.chat-main aria-labelledby="chat-h" {
                div.chat-head {
                    h1 #chat-h { (heading) }
                    @if let (Some(s), true) = (current, p.can(Permission::SessionsWrite)) {
                        (session_controls(m, s))
                    }
                }
                div.messages #messages role="log" aria-label="Conversation" {
                    @if shown.is_empty() && active.is_none() {
                        div.empty #chat-empty {
                            p { "Ask about your cloud: “which instances are running?”, “what did we spend on storage this month?”." }
                            p.muted { "Tools that change something wait for an approval; you see it here, and the answer continues on its own once someone decides." }
                        }
                    }
                    (conversation(shown))
                }
                @if p.can(Permission::SessionsWrite) {
                    (composer(m, q.prompt.trim()))
                } @else {
                    p.notice #read-only { "Your role can read its chats but not send messages (it needs " code { "sessions:write" } ")." }
                }
            }
        }
    };
    let page_title = format!("{heading} · Chat");
    Ok(m.shell(&page_title, Section::Chat)
        .render(StatusCode::OK, body))
}

/// `GET /chat`: a new conversation.
pub async fn index(
    State(state): State<AppState>,
    m: Member,
    Query(q): Query<ChatQuery>,
) -> Result<Response, PageError> {
    render(&state, &m, None, &q).await
}

/// `GET /chat/{id}`: one of the caller's conversations (anyone else's is 404).
pub async fn session(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<portal_core::ids::SessionId>,
    Query(q): Query<ChatQuery>,
) -> Result<Response, PageError> {
    let s = chat::get(&state.ctx(&m.caller), &m.principal, &id).await?;
    render(&state, &m, Some(&s), &q).await
}

/// The rename form.
#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
}

/// `POST /chat/{id}/rename`.
pub async fn rename(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<portal_core::ids::SessionId>,
    PageForm(f): PageForm<RenameForm>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let t = f.title.trim();
    if t.is_empty() {
        return Err(HttpError::Validation("title: must not be empty".into()).into());
    }
    chat::rename(&state.ctx(&m.caller), &m.principal, &id, Some(t)).await?;
    Ok(see_other(&format!("/chat/{}", encode(&id))))
}

/// A form that carries only the token.
#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /chat/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<portal_core::ids::SessionId>,
    PageForm(f): PageForm<TokenForm>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    chat::delete(&state.ctx(&m.caller), &m.principal, &id).await?;
    Ok(see_other("/chat"))
}
