//! Members of the active organisation (`/admin/members`, `admin:users`): add
//! someone by email (a new account gets a one-time password, shown once),
//! change a role, remove. Only roles within the admin's own permissions are
//! offered; the last admin can be neither demoted nor removed (the service
//! refuses with 409 and the page says why).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::identity::Principal;
use portal_core::rbac::{Permission, Role};
use portal_core::service::members;
use portal_http::{AppState, HttpError};
use serde::Deserialize;

use super::subnav;
use crate::fields::{form_problem, unplaced, Field, Problem};
use crate::form::{when, PageForm};
use crate::shell::Section;
use crate::visit::{encode, see_other, Member, PageError};

const ROLES: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

/// The roles `p` may hand out (every permission in them is theirs).
fn grantable(p: &Principal) -> Vec<Role> {
    ROLES
        .into_iter()
        .filter(|r| r.permissions().iter().all(|perm| p.can(perm)))
        .collect()
}

fn require(m: &Member) -> Result<(), PageError> {
    if m.principal.can(Permission::AdminUsers) {
        Ok(())
    } else {
        Err(HttpError::Forbidden("Permission admin:users is required".into()).into())
    }
}

/// Notices after a redirect.
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// What the add form sent, and what happened.
#[derive(Default)]
struct Outcome<'a> {
    problem: Option<Problem>,
    email: &'a str,
    name: &'a str,
    invited: Option<(String, String)>,
}

fn role_options(roles: &[Role], selected: Role) -> Markup {
    html! {
        @for r in roles {
            option value=(r.as_str()) selected[*r == selected] { (r.as_str()) }
        }
    }
}

async fn render(
    state: &AppState,
    m: &Member,
    status: StatusCode,
    out: Outcome<'_>,
    done: &str,
) -> Result<Response, PageError> {
    let ctx = state.ctx(&m.caller);
    let list = members::list(&ctx, &m.principal).await?;
    let roles = grantable(&m.principal);
    let admins = list.iter().filter(|x| x.role == Role::Admin).count();
    let me = m.principal.user.as_ref().map(|u| u.id.as_str());
    let problem = out.problem.as_ref();
    let body = html! {
        h1 { "Members" }
        (subnav(&m.principal, "/admin/members"))
        @match done {
            "role" => { div.notice.ok role="status" #done { "The role is changed." } }
            "removed" => { div.notice.ok role="status" #done { "The member is removed." } }
            _ => {}
        }
        @if let Some((email, otp)) = &out.invited {
            div.notice.ok role="status" #invited {
                p { strong { "Invitation sent to " (email) "." } }
                p { "If the portal created their account, this is its one-time password; they choose their own at first sign-in. People who already had an account sign in as usual and accept the invitation. It is shown only now:" }
                p { code #one-time-password { (otp) } " " button.secondary type="button" data-copy="#one-time-password" hidden { "Copy" } }
            }
        }
        (unplaced(problem, &["email", "name"]))
        section.card aria-labelledby="members-h" {
            h2 #members-h { (list.len()) " member" @if list.len() != 1 { "s" } }
            p.muted #last-admin-rule { "Every organisation keeps at least one admin: the last admin can be neither given another role nor removed. Make someone else admin first." }
            div.table-wrap {
                table.stack #members {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Role" } th scope="col" { "Joined" } th scope="col" { span.sr-only { "Remove" } } } }
                    tbody {
                        @for x in &list {
                            @let last_admin = x.role == Role::Admin && admins <= 1;
                            @let manageable = roles.contains(&x.role) && !last_admin;
                            @let uid = encode(&x.user.id);
                            tr {
                                td data-label="Name" { (x.user.name) @if me == Some(x.user.id.as_str()) { " " span.muted { "(you)" } } }
                                td data-label="Email" { (x.user.email) }
                                td data-label="Role" {
                                    @if manageable {
                                        form.inline method="post" action={ "/admin/members/" (uid) "/role" } {
                                            input type="hidden" name="csrf" value=(m.csrf);
                                            label.sr-only for={ "role-" (x.user.id) } { "Role of " (x.user.email) }
                                            select id={ "role-" (x.user.id) } name="role" { (role_options(&roles, x.role)) }
                                            button.secondary type="submit" { "Change" span.sr-only { " role of " (x.user.email) } }
                                        }
                                    } @else {
                                        span class={ "badge " (x.role.as_str()) } { (x.role.as_str()) }
                                        @if last_admin { " " span.muted { "last admin" } }
                                    }
                                }
                                td data-label="Joined" { (when(x.joined_at)) }
                                td data-label="" {
                                    @if manageable {
                                        form method="post" action={ "/admin/members/" (uid) "/remove" } {
                                            input type="hidden" name="csrf" value=(m.csrf);
                                            button.danger type="submit" { "Remove" span.sr-only { " " (x.user.email) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="add-h" {
            h2 #add-h { "Add a member" }
            p.muted { "Someone without an account gets one with a one-time password; someone with an account gets an invitation to accept. Either way they join once they accept." }
            form method="post" action="/admin/members" #add-member {
                input type="hidden" name="csrf" value=(m.csrf);
                div.grid.two {
                    (Field { name: "email", label: "Email", kind: "email", value: out.email, hint: None, autocomplete: Some("off"), required: true }.render(problem))
                    (Field { name: "name", label: "Name", kind: "text", value: out.name, hint: Some("For a new account; optional."), autocomplete: Some("off"), required: false }.render(problem))
                }
                div.field {
                    label for="add-role" { "Role" }
                    select #add-role name="role" { (role_options(&roles, Role::Viewer)) }
                }
                button type="submit" { "Add member" }
            }
        }
    };
    Ok(m.shell("Members", Section::Admin).render(status, body))
}

/// `GET /admin/members`.
pub async fn page(
    State(state): State<AppState>,
    m: Member,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    require(&m)?;
    render(&state, &m, StatusCode::OK, Outcome::default(), &q.done).await
}

/// The add form.
#[derive(Deserialize)]
pub struct Add {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

fn parse_role(s: &str) -> Result<Role, PageError> {
    s.parse::<Role>()
        .map_err(|e| HttpError::Validation(format!("role: {e}")).into())
}

/// `POST /admin/members`: invites; the one-time password is shown once, here.
pub async fn add(
    State(state): State<AppState>,
    m: Member,
    PageForm(f): PageForm<Add>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let role = parse_role(&f.role)?;
    let name = Some(f.name.trim()).filter(|n| !n.is_empty());
    let ctx = state.ctx(&m.caller);
    match members::add(&ctx, &m.principal, &f.email, name, role).await {
        Ok(invited) => {
            let out = Outcome {
                invited: Some((invited.email, invited.one_time_password)),
                ..Outcome::default()
            };
            render(&state, &m, StatusCode::CREATED, out, "").await
        }
        Err(e) => {
            let problem = form_problem(e)?;
            let status = if problem.field.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::CONFLICT
            };
            let out = Outcome {
                problem: Some(problem),
                email: &f.email,
                name: &f.name,
                invited: None,
            };
            render(&state, &m, status, out, "").await
        }
    }
}

/// The role form.
#[derive(Deserialize)]
pub struct SetRole {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
}

async fn refused(
    state: &AppState,
    m: &Member,
    e: portal_core::CoreError,
) -> Result<Response, PageError> {
    let problem = form_problem(e)?;
    render(
        state,
        m,
        StatusCode::CONFLICT,
        Outcome {
            problem: Some(problem),
            ..Outcome::default()
        },
        "",
    )
    .await
}

/// `POST /admin/members/{userId}/role`.
pub async fn set_role(
    State(state): State<AppState>,
    m: Member,
    Path(user_id): Path<portal_core::ids::UserId>,
    PageForm(f): PageForm<SetRole>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let role = parse_role(&f.role)?;
    match members::set_role(&state.ctx(&m.caller), &m.principal, &user_id, role).await {
        Ok(()) => Ok(see_other("/admin/members?done=role")),
        Err(e) => refused(&state, &m, e).await,
    }
}

/// `POST /admin/members/{userId}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    m: Member,
    Path(user_id): Path<portal_core::ids::UserId>,
    PageForm(f): PageForm<super::super::login::TokenOnly>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    match members::remove(&state.ctx(&m.caller), &m.principal, &user_id).await {
        Ok(()) => Ok(see_other("/admin/members?done=removed")),
        Err(e) => refused(&state, &m, e).await,
    }
}
