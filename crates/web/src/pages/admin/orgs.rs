//! Every organisation (`/admin/orgs`, platform admins): the list, and creating
//! one (the creator becomes its admin; it has no cloud compartments until
//! assigned).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use portal_core::service::{compartments, members};
use portal_http::{AppState, HttpError};
use serde::Deserialize;

use super::{subnav, switcher};
use crate::fields::{form_problem, unplaced, Field, Problem};
use crate::form::{when, PageForm};
use crate::shell::Section;
use crate::visit::{Member, PageError};

fn require(m: &Member) -> Result<(), PageError> {
    if m.principal.is_platform_admin() {
        Ok(())
    } else {
        Err(HttpError::Forbidden("Only platform admins manage organisations".into()).into())
    }
}

#[derive(Default)]
struct Outcome<'a> {
    problem: Option<Problem>,
    name: &'a str,
    slug: &'a str,
    created: Option<String>,
}

async fn render(
    state: &AppState,
    m: &Member,
    status: StatusCode,
    out: Outcome<'_>,
) -> Result<Response, PageError> {
    let ctx = state.ctx(&m.caller);
    let orgs = members::list_orgs(&ctx, &m.principal).await?;
    let switch = switcher(state, m, "/admin/orgs").await?;
    let problem = out.problem.as_ref();
    let body = html! {
        h1 { "Organisations" }
        (subnav(&m.principal, "/admin/orgs"))
        @if let Some(name) = &out.created {
            div.notice.ok role="status" #created { "Organisation " strong { (name) } " is created, with you as its admin. Assign its compartments from its settings once you switch to it." }
        }
        (switch)
        section.card aria-labelledby="orgs-h" {
            h2 #orgs-h { (orgs.len()) " organisation" @if orgs.len() != 1 { "s" } }
            div.table-wrap {
                table.stack #orgs {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Slug" } th scope="col" { "Four-eyes" } th scope="col" { "Compartments" } th scope="col" { "Created" } } }
                    tbody {
                        @for o in &orgs {
                            tr {
                                td data-label="Name" { (o.name) }
                                td data-label="Slug" { code { (o.slug) } }
                                td data-label="Four-eyes" { (if o.four_eyes { "on" } else { "off" }) }
                                td data-label="Compartments" {
                                    @if compartments::whole_tenancy(&o.allowed_compartments) { "whole tenancy" }
                                    @else if o.allowed_compartments.is_empty() { span.muted { "none" } }
                                    @else { (o.allowed_compartments.len()) }
                                }
                                td data-label="Created" { (when(o.created_at)) }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="new-org-h" {
            h2 #new-org-h { "Create an organisation" }
            (unplaced(problem, &["name", "slug"]))
            form method="post" action="/admin/orgs" #create-org {
                input type="hidden" name="csrf" value=(m.csrf);
                div.grid.two {
                    (Field { name: "name", label: "Name", kind: "text", value: out.name, hint: None, autocomplete: Some("off"), required: true }.render(problem))
                    (Field { name: "slug", label: "Slug", kind: "text", value: out.slug, hint: Some("Lower-case letters, digits and dashes; from the name when empty."), autocomplete: Some("off"), required: false }.render(problem))
                }
                button type="submit" { "Create organisation" }
            }
        }
    };
    Ok(m.shell("Organisations", Section::Admin)
        .render(status, body))
}

/// `GET /admin/orgs`.
pub async fn page(State(state): State<AppState>, m: Member) -> Result<Response, PageError> {
    require(&m)?;
    render(&state, &m, StatusCode::OK, Outcome::default()).await
}

/// The create form.
#[derive(Deserialize)]
pub struct Create {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
}

/// `POST /admin/orgs`.
pub async fn create(
    State(state): State<AppState>,
    m: Member,
    PageForm(f): PageForm<Create>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let slug = Some(f.slug.trim()).filter(|s| !s.is_empty());
    match members::create_org(&state.ctx(&m.caller), &m.principal, slug, &f.name).await {
        Ok(org) => {
            let out = Outcome {
                created: Some(org.name),
                ..Outcome::default()
            };
            render(&state, &m, StatusCode::CREATED, out).await
        }
        Err(e) => {
            let problem = form_problem(e)?;
            let out = Outcome {
                problem: Some(problem),
                name: &f.name,
                slug: &f.slug,
                created: None,
            };
            render(&state, &m, StatusCode::BAD_REQUEST, out).await
        }
    }
}
