//! The tool catalogue (`/tools`, `tools:read`): search by name, area and risk;
//! and one tool's playground (`/tools/{name}`): a form generated from its JSON
//! Schema, run through the gateway as the signed-in member, the server's
//! validation message on the field it names, the result, or the approval the
//! call needs (with a link for the approver and a run button once approved).
//! Only those who may run a tool get the form; the gateway refuses anyone else.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::model::Approval;
use portal_core::rbac::Permission;
use portal_core::service::tools::{find, may_run, Executed};
use portal_core::tools::ToolSpec;
use portal_core::CoreError;
use portal_http::{AppState, HttpError};
use serde::Deserialize;
use serde_json::Value;

use super::approvals::risk;
use crate::fields::{unplaced, Pairs, Problem};
use crate::form::PageForm;
use crate::gateway;
use crate::schema_form::{self, Slots};
use crate::shell::Section;
use crate::visit::{encode, Member, PageError};

const RISKS: [&str; 3] = ["read", "confirm", "danger"];

fn require(m: &Member) -> Result<(), PageError> {
    if m.principal.can(Permission::ToolsRead) {
        Ok(())
    } else {
        Err(HttpError::Forbidden("Permission tools:read is required".into()).into())
    }
}

/// The catalogue's search.
#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    risk: String,
}

/// `GET /tools`.
pub async fn catalogue(
    State(state): State<AppState>,
    m: Member,
    Query(s): Query<Search>,
) -> Result<Response, PageError> {
    require(&m)?;
    let runner = gateway::runner(&state, &m).await?;
    let specs = runner.specs();
    let mut areas: Vec<&str> = specs.iter().map(|t| t.category).collect();
    areas.sort_unstable();
    areas.dedup();
    let q = s.q.trim().to_lowercase();
    let shown: Vec<&ToolSpec> = specs
        .iter()
        .filter(|t| {
            q.is_empty()
                || t.name.to_lowercase().contains(&q)
                || t.description.to_lowercase().contains(&q)
        })
        .filter(|t| s.area.is_empty() || t.category == s.area)
        .filter(|t| s.risk.is_empty() || t.risk.as_str() == s.risk)
        .collect();
    let body = html! {
        h1 { "Tools" }
        p.muted { (specs.len()) " tools acting on the " strong { (runner.cloud()) } " cloud. Every run goes through the gateway as you: permission, argument checks, the organisation's compartments, approval." }
        form.card.filters method="get" action="/tools" role="search" {
            div.grid.three {
                div.field {
                    label for="q" { "Name or description" }
                    input #q type="text" name="q" value=(s.q) placeholder="e.g. instance";
                }
                div.field {
                    label for="area" { "Area" }
                    select #area name="area" {
                        option value="" selected[s.area.is_empty()] { "any" }
                        @for a in &areas { option value=(a) selected[s.area == *a] { (a) } }
                    }
                }
                div.field {
                    label for="risk" { "Risk" }
                    select #risk name="risk" {
                        option value="" selected[s.risk.is_empty()] { "any" }
                        @for r in RISKS { option value=(r) selected[s.risk == r] { (r) } }
                    }
                }
            }
            button type="submit" { "Search" }
        }
        section.card aria-labelledby="tools-h" {
            h2 #tools-h { (shown.len()) " tool" @if shown.len() != 1 { "s" } }
            @if shown.is_empty() {
                p.muted #no-tools { "Nothing matches." }
            } @else {
                div.table-wrap {
                    table.stack #tools {
                        thead { tr { th scope="col" { "Tool" } th scope="col" { "Area" } th scope="col" { "Risk" } th scope="col" { "What it does" } th scope="col" { "You" } } }
                        tbody {
                            @for t in &shown {
                                tr {
                                    td data-label="Tool" { a href={ "/tools/" (t.name) } { code { (t.name) } } }
                                    td data-label="Area" { (t.category) }
                                    td data-label="Risk" { (risk(t.risk.as_str())) }
                                    td data-label="What it does" { (t.description) }
                                    td data-label="You" { @if may_run(&m.principal, t) { "can run" } @else { span.muted { "read only" } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(m.shell("Tools", Section::Tools)
        .render(StatusCode::OK, body))
}

/// What a run produced.
enum Outcome {
    None,
    Problem(Problem),
    Ran(Executed),
    Approval(Box<Approval>),
}

fn result_card(done: &Executed) -> Markup {
    html! {
        section.card #result aria-labelledby="result-h" {
            h2 #result-h { "Result" }
            p.muted { "From the " (done.cloud) " cloud in " (done.duration_ms) " ms." }
            @if let Some(table) = items_table(&done.result) {
                (table)
                details {
                    summary { "The whole result as JSON" }
                    pre { code { (serde_json::to_string_pretty(&done.result).unwrap_or_default()) } }
                }
            } @else {
                pre { code { (serde_json::to_string_pretty(&done.result).unwrap_or_default()) } }
            }
        }
    }
}

/// A list result (`items`: objects) as a table of its first item's plain fields.
fn items_table(result: &Value) -> Option<Markup> {
    let items = result["items"].as_array().filter(|i| !i.is_empty())?;
    let cols: Vec<&String> = items[0]
        .as_object()?
        .iter()
        .filter(|(_, v)| !v.is_object() && !v.is_array())
        .map(|(k, _)| k)
        .take(7)
        .collect();
    let cell = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    Some(html! {
        div.table-wrap {
            table.stack #result-table {
                thead { tr { @for c in &cols { th scope="col" { (c) } } } }
                tbody {
                    @for it in items {
                        tr { @for c in &cols { td data-label=(c) { (cell(&it[c.as_str()])) } } }
                    }
                }
            }
        }
    })
}

fn approval_card(a: &Approval) -> Markup {
    html! {
        section.card #approval role="status" aria-labelledby="approval-h" {
            h2 #approval-h { "Waiting for approval" }
            p { "This " (risk(a.risk)) " call needs an approval before it runs. An approver decides at "
                a href={ "/approvals/" (encode(&a.id)) } #approval-link { "/approvals/" (a.id) } "." }
            @if a.four_eyes { p { "Four-eyes: someone other than you must approve it." } }
            p.muted { "Once it is approved, run it here with the same arguments; it runs once." }
            input type="hidden" name="approvalId" value=(a.id) form="run-form";
        }
    }
}

async fn render(
    state: &AppState,
    m: &Member,
    name: &str,
    status: StatusCode,
    pairs: Option<&Pairs>,
    op: &str,
    outcome: &Outcome,
) -> Result<Response, PageError> {
    let runner = gateway::runner(state, m).await?;
    let spec = find(runner.as_ref(), name)?;
    let schema = spec.schema();
    let can = may_run(&m.principal, spec);
    let problem = match outcome {
        Outcome::Problem(p) => Some(p),
        _ => None,
    };
    let slots = Slots::new(pairs, op);
    let placed =
        problem.is_some_and(|p| p.field.as_deref().is_some_and(|f| f.starts_with("args/")));
    let body = html! {
        p { a href="/tools" { "← All tools" } }
        h1 { code { (spec.name) } " " (risk(spec.risk.as_str())) }
        p { (spec.description) }
        @if let Outcome::Ran(done) = outcome { (result_card(done)) }
        @if let Outcome::Approval(a) = outcome { (approval_card(a)) }
        @if can {
            form.card method="post" action={ "/tools/" (spec.name) } #run-form novalidate {
                h2 { "Arguments" }
                input type="hidden" name="csrf" value=(m.csrf);
                @if !placed { (unplaced(problem, &[])) }
                @if schema["properties"].as_object().is_none_or(|p| p.is_empty()) {
                    p.muted { "This tool takes no arguments." }
                }
                (schema_form::inputs(&schema, "args", &slots, pairs, problem))
                div.actions {
                    button type="submit" name="op" value="run" #run { "Run " (spec.name) }
                }
            }
        } @else {
            div.notice role="status" #cannot-run {
                "Your role cannot run this tool (it needs " code { "tools:execute" }
                @if spec.risk.as_str() == "danger" { " and " code { "tools:danger" } }
                "). You can read what it does and its arguments."
            }
        }
        details.card {
            summary { "JSON Schema of the arguments" }
            pre { code { (serde_json::to_string_pretty(&schema).unwrap_or_default()) } }
        }
    };
    Ok(m.shell(spec.name, Section::Tools).render(status, body))
}

/// `GET /tools/{name}`.
pub async fn playground(
    State(state): State<AppState>,
    m: Member,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    require(&m)?;
    render(&state, &m, &name, StatusCode::OK, None, "", &Outcome::None).await
}

/// `POST /tools/{name}`: a list button re-renders the form; `run` runs.
pub async fn run(
    State(state): State<AppState>,
    m: Member,
    Path(name): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Pairs(pairs);
    m.check_form(f.get("csrf"))?;
    let runner = gateway::runner(&state, &m).await?;
    let spec = find(runner.as_ref(), &name)?;
    let op = f.get("op").to_string();
    if op != "run" {
        if !may_run(&m.principal, spec) {
            return Err(HttpError::Forbidden("Permission tools:execute is required".into()).into());
        }
        return render(
            &state,
            &m,
            &name,
            StatusCode::OK,
            Some(&f),
            &op,
            &Outcome::None,
        )
        .await;
    }
    let args =
        schema_form::read(&spec.schema(), "args", &f).unwrap_or(Value::Object(Default::default()));
    let approval = Some(f.get("approvalId"))
        .filter(|a| !a.is_empty())
        .map(portal_core::ids::ApprovalId::from);
    let (status, outcome) =
        match gateway::run(&state, &m, runner.as_ref(), &name, &args, approval.as_ref()).await {
            Ok(done) => (StatusCode::OK, Outcome::Ran(done)),
            Err(CoreError::Validation(msg)) => {
                (StatusCode::BAD_REQUEST, Outcome::Problem(Problem::of(&msg)))
            }
            Err(CoreError::ApprovalRequired(a)) => (StatusCode::ACCEPTED, Outcome::Approval(a)),
            Err(CoreError::Upstream(msg)) => (
                StatusCode::BAD_GATEWAY,
                Outcome::Problem(Problem {
                    field: None,
                    message: msg,
                }),
            ),
            Err(e) => return Err(e.into()),
        };
    render(&state, &m, &name, status, Some(&f), &op, &outcome).await
}
