//! API keys of the active organisation (`/admin/keys`, `admin:all` from a
//! browser session): create one acting as you with the permissions ticked
//! (only those you hold are offered), see its secret once with a copy button,
//! revoke. Revocation reaches every replica within seconds.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use portal_core::rbac::{Permission, ALL_PERMISSIONS};
use portal_core::service::keys;
use portal_http::{AppState, HttpError};
use serde::Deserialize;

use super::subnav;
use crate::fields::{form_problem, unplaced, Field, Pairs, Problem};
use crate::form::{when, PageForm};
use crate::shell::Section;
use crate::visit::{encode, see_other, Member, PageError};

fn require(m: &Member) -> Result<(), PageError> {
    if m.principal.can(Permission::AdminAll) {
        Ok(())
    } else {
        Err(HttpError::Forbidden("Permission admin:all is required".into()).into())
    }
}

/// Notices after a redirect.
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

#[derive(Default)]
struct Outcome<'a> {
    problem: Option<Problem>,
    name: &'a str,
    ticked: &'a [String],
    days: &'a str,
    created: Option<(String, String)>,
}

async fn render(
    state: &AppState,
    m: &Member,
    status: StatusCode,
    out: Outcome<'_>,
    done: &str,
) -> Result<Response, PageError> {
    let ctx = state.ctx(&m.caller);
    let list = keys::list(&ctx, &m.principal).await?;
    let offered: Vec<Permission> = ALL_PERMISSIONS
        .into_iter()
        .filter(|p| m.principal.can(*p))
        .collect();
    let problem = out.problem.as_ref();
    let perm_error = problem.and_then(|p| p.on("permissions"));
    let body = html! {
        h1 { "API keys" }
        (subnav(&m.principal, "/admin/keys"))
        @if done == "revoked" { div.notice.ok role="status" #done { "The key is revoked; it stops working on every replica within seconds." } }
        @if let Some((name, secret)) = &out.created {
            div.notice.ok role="status" #created {
                p { strong { "Key " (name) " is created." } " Copy it now: it is shown only once and cannot be recovered." }
                p { code #new-key { (secret) } " " button.secondary type="button" data-copy="#new-key" hidden { "Copy" } }
            }
        }
        section.card aria-labelledby="keys-h" {
            h2 #keys-h { "Keys" }
            @if list.is_empty() {
                p.muted { "No keys yet." }
            } @else {
                div.table-wrap {
                    table.stack #keys {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Prefix" } th scope="col" { "Permissions" } th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { "Last used" } th scope="col" { "Status" } } }
                        tbody {
                            @for k in &list {
                                @let live = k.revoked_at.is_none() && k.expires_at.is_none_or(|e| e > ctx.now);
                                tr {
                                    td data-label="Name" { (k.name) }
                                    td data-label="Prefix" { code { (k.prefix) "…" } }
                                    td data-label="Permissions" { @for p in &k.permissions { code.perm { (p) } " " } }
                                    td data-label="Created" { (when(k.created_at)) }
                                    td data-label="Expires" { (k.expires_at.map(when).unwrap_or_else(|| "never".into())) }
                                    td data-label="Last used" { (k.last_used_at.map(when).unwrap_or_else(|| "never".into())) }
                                    td data-label="Status" {
                                        @if k.revoked_at.is_some() {
                                            span.badge.rejected { "revoked" }
                                        } @else if !live {
                                            span.badge { "expired" }
                                        } @else {
                                            form method="post" action={ "/admin/keys/" (encode(&k.id)) "/revoke" } {
                                                input type="hidden" name="csrf" value=(m.csrf);
                                                button.danger type="submit" { "Revoke" span.sr-only { " " (k.name) } }
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
        section.card aria-labelledby="new-key-h" {
            h2 #new-key-h { "Create a key" }
            p.muted { "The key acts as you in this organisation: it can never do more than you can, and it stops working if you leave or change your password." }
            (unplaced(problem, &["name", "permissions", "expiresInDays"]))
            form method="post" action="/admin/keys" #create-key {
                input type="hidden" name="csrf" value=(m.csrf);
                (Field { name: "name", label: "Name", kind: "text", value: out.name, hint: Some("Unique in the organisation, e.g. ci-deploy."), autocomplete: Some("off"), required: true }.render(problem))
                fieldset.field.invalid[perm_error.is_some()] aria-describedby=[perm_error.map(|_| "permissions-error")] {
                    legend { "Permissions" }
                    div.checks {
                        @for p in &offered {
                            label.check {
                                input type="checkbox" name="permissions" value=(p.as_str()) checked[out.ticked.iter().any(|t| t == p.as_str())];
                                " " code { (p.as_str()) }
                            }
                        }
                    }
                    @if let Some(e) = perm_error { p.field-error #permissions-error { (e) } }
                }
                (Field { name: "expiresInDays", label: "Expires after (days)", kind: "number", value: out.days, hint: Some("1 to 3650; empty for never."), autocomplete: None, required: false }.render(problem))
                button type="submit" { "Create key" }
            }
        }
    };
    Ok(m.shell("API keys", Section::Admin).render(status, body))
}

/// `GET /admin/keys`.
pub async fn page(
    State(state): State<AppState>,
    m: Member,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    require(&m)?;
    render(&state, &m, StatusCode::OK, Outcome::default(), &q.done).await
}

/// `POST /admin/keys` (`permissions` repeats, one per ticked box): the secret
/// is shown once, in this response.
pub async fn create(
    State(state): State<AppState>,
    m: Member,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Pairs(pairs);
    m.check_form(f.get("csrf"))?;
    let (name, permissions, days_text) =
        (f.get("name"), f.all("permissions"), f.get("expiresInDays"));
    let days = match days_text.trim() {
        "" => None,
        d => Some(d.parse::<i64>().map_err(|_| {
            PageError::from(HttpError::Validation(
                "expiresInDays: must be a whole number".into(),
            ))
        })?),
    };
    let ctx = state.ctx(&m.caller);
    let result = if permissions.is_empty() {
        Err(portal_core::CoreError::Validation(
            "permissions: tick at least one".into(),
        ))
    } else {
        keys::create(&ctx, &m.principal, name, &permissions, days).await
    };
    match result {
        Ok(c) => {
            let out = Outcome {
                created: Some((c.record.name, c.key)),
                ..Outcome::default()
            };
            render(&state, &m, StatusCode::CREATED, out, "").await
        }
        Err(e) => {
            let problem = form_problem(e)?;
            let out = Outcome {
                problem: Some(problem),
                name,
                ticked: &permissions,
                days: days_text,
                created: None,
            };
            render(&state, &m, StatusCode::BAD_REQUEST, out, "").await
        }
    }
}

/// `POST /admin/keys/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<super::super::login::TokenOnly>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    keys::revoke(&state.ctx(&m.caller), &m.principal, &id).await?;
    Ok(see_other("/admin/keys?done=revoked"))
}
