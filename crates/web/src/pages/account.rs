//! My account (`/account`): change my password, see where I am signed in and
//! sign other browsers out. Anyone signed in may use it for themselves; it is
//! also where a one-time password must be replaced before anything else.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::model::SessionInfo;
use portal_core::service::auth;
use portal_http::AppState;
use serde::Deserialize;

use super::login::TokenOnly;
use crate::fields::{form_problem, unplaced, Field, Problem};
use crate::form::{when, PageForm};
use crate::shell::Section;
use crate::visit::{encode, see_other, Member, PageError};

/// Notices after a redirect.
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// The password form's fields.
#[derive(Deserialize)]
pub struct PasswordChange {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "currentPassword")]
    current: String,
    #[serde(default, rename = "newPassword")]
    new: String,
}

fn password_form(m: &Member, problem: Option<&Problem>) -> Markup {
    let must = must_change(m);
    html! {
        section.card aria-labelledby="password-h" {
            h2 #password-h { "Change password" }
            @if must {
                div.notice.warn role="status" #must-change {
                    "You signed in with a one-time password. Choose your own password to continue."
                }
            }
            p.muted { "Changing it signs out your other browsers and revokes the API keys that act as you." }
            (unplaced(problem, &["currentPassword", "newPassword"]))
            form method="post" action="/account/password" #password-form {
                input type="hidden" name="csrf" value=(m.csrf);
                (Field { name: "currentPassword", label: if must { "One-time password" } else { "Current password" }, kind: "password", value: "", hint: None, autocomplete: Some("current-password"), required: true }.render(problem))
                (Field { name: "newPassword", label: "New password", kind: "password", value: "", hint: Some("At least 12 characters."), autocomplete: Some("new-password"), required: true }.render(problem))
                button type="submit" { "Change password" }
            }
        }
    }
}

/// The paths someone who must replace a one-time password may still use.
pub fn open_before_password_change(path: &str) -> bool {
    matches!(path, "/account" | "/account/password" | "/logout")
}

fn must_change(m: &Member) -> bool {
    m.principal
        .user
        .as_ref()
        .is_some_and(|u| u.must_change_password)
}

/// A short description of a browser from its user agent.
fn browser(ua: Option<&str>) -> String {
    let ua = ua.unwrap_or("");
    let name = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, n)| *n);
    let os = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, n)| *n);
    match (name, os) {
        (Some(n), Some(o)) => format!("{n} on {o}"),
        (Some(n), None) => n.to_string(),
        (None, Some(o)) => o.to_string(),
        (None, None) if ua.is_empty() => "Unknown browser".into(),
        (None, None) => ua.chars().take(60).collect(),
    }
}

fn sessions_card(m: &Member, sessions: &[SessionInfo]) -> Markup {
    let current = m.principal.session_id.as_deref();
    html! {
        section.card aria-labelledby="sessions-h" {
            h2 #sessions-h { "Where you are signed in" }
            div.table-wrap {
                table.stack #sessions {
                    thead { tr { th scope="col" { "Browser" } th scope="col" { "Address" } th scope="col" { "Signed in" } th scope="col" { "Last used" } th scope="col" { "Expires" } th scope="col" { span.sr-only { "Action" } } } }
                    tbody {
                        @for s in sessions {
                            @let this = current == Some(s.id.as_str());
                            tr {
                                td data-label="Browser" { span { (browser(s.user_agent.as_deref())) @if this { " " span.badge.approved { "this browser" } } } }
                                td data-label="Address" { (s.ip.as_deref().unwrap_or("-")) }
                                td data-label="Signed in" { (when(s.created_at)) }
                                td data-label="Last used" { (when(s.last_seen_at)) }
                                td data-label="Expires" { (when(s.expires_at)) }
                                td data-label="" {
                                    @if this {
                                        a href="/logout" { "Sign out" }
                                    } @else {
                                        form method="post" action={ "/account/sessions/" (encode(&s.id)) "/revoke" } {
                                            input type="hidden" name="csrf" value=(m.csrf);
                                            button.secondary type="submit" { "Sign out" span.sr-only { " " (browser(s.user_agent.as_deref())) " from " (when(s.created_at)) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn render(
    state: &AppState,
    m: &Member,
    status: StatusCode,
    problem: Option<&Problem>,
    done: &str,
) -> Result<Response, PageError> {
    let sessions = if must_change(m) {
        Vec::new()
    } else {
        auth::my_sessions(&state.ctx(&m.caller), &m.principal).await?
    };
    let user = m.principal.user.as_ref();
    let (switch, invited) = if must_change(m) {
        (html! {}, html! {})
    } else {
        (
            super::admin::switcher(state, m, "/").await?,
            super::invitations::card(state, m).await?,
        )
    };
    let body = html! {
        h1 { "My account" }
        @match done {
            "password" => { div.notice.ok role="status" #done { "Your password is changed. Your other browsers are signed out." } }
            "revoked" => { div.notice.ok role="status" #done { "That browser is signed out." } }
            "joined" => { div.notice.ok role="status" #done { "You joined the organisation; switch to it below." } }
            "declined" => { div.notice.ok role="status" #done { "The invitation is declined." } }
            _ => {}
        }
        @if let Some(u) = user {
            section.card aria-labelledby="me-h" {
                h2 #me-h { "You" }
                dl.facts {
                    dt { "Name" } dd { (u.name) }
                    dt { "Email" } dd { (u.email) }
                    @if let (Some(o), Some(r)) = (&m.principal.org, m.principal.role) {
                        dt { "Organisation" } dd { (o.name) " (" (r.as_str()) ")" }
                    }
                    @if u.platform_admin { dt { "Platform" } dd { "platform admin" } }
                }
            }
        }
        (invited)
        (switch)
        (password_form(m, problem))
        @if !must_change(m) { (sessions_card(m, &sessions)) }
    };
    Ok(m.shell("My account", Section::Account).render(status, body))
}

/// `GET /account`.
pub async fn page(
    State(state): State<AppState>,
    m: Member,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    render(&state, &m, StatusCode::OK, None, &q.done).await
}

/// `POST /account/password`.
pub async fn change_password(
    State(state): State<AppState>,
    m: Member,
    PageForm(f): PageForm<PasswordChange>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    match auth::change_password(&state.ctx(&m.caller), &m.principal, &f.current, &f.new).await {
        Ok(()) => Ok(see_other("/account?done=password")),
        Err(e) => {
            let problem = form_problem(e)?;
            render(&state, &m, StatusCode::BAD_REQUEST, Some(&problem), "").await
        }
    }
}

/// `POST /account/sessions/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<TokenOnly>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    auth::revoke_my_session(&state.ctx(&m.caller), &m.principal, &id).await?;
    Ok(see_other("/account?done=revoked"))
}

#[cfg(test)]
mod tests {
    use super::browser;

    #[test]
    fn browsers_in_words() {
        assert_eq!(
            browser(Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")),
            "Chrome on Linux"
        );
        assert_eq!(browser(None), "Unknown browser");
        assert_eq!(browser(Some("reqwest")), "reqwest");
    }
}
