//! Approvals: the pending list and decided history (`/approvals`), and one
//! approval with approve/reject (`/approvals/{id}`, where every `approveUrl`
//! points). Controls show only to someone who may decide; the core service
//! refuses anyone else anyway (403), and another organisation's approval is 404.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::graph::impact::Impact;
use portal_core::model::Approval;
use portal_core::rbac::Permission;
use portal_core::service::approvals;
use portal_http::{AppState, HttpError};
use serde::Deserialize;

use crate::form::{args_list, pretty_json, when, PageForm};
use crate::gateway;
use crate::people::People;
use crate::shell::Section;
use crate::visit::{see_other, Member, PageError};

/// How many pending approvals the list shows.
const PENDING_PAGE: i64 = 50;
/// How many decisions the history shows.
const HISTORY: i64 = 20;

/// A risk badge.
pub fn risk(r: impl AsRef<str>) -> Markup {
    let r = r.as_ref();
    html! { span class={ "badge " (r) } { (r) } }
}

/// A status badge.
pub fn status(s: impl AsRef<str>) -> Markup {
    let s = s.as_ref();
    html! { span class={ "badge " (s) } { (s) } }
}

/// What a destructive call would affect, or why that is unknown.
fn affects(i: Option<&Impact>) -> Markup {
    html! {
        @if let Some(i) = i {
            span.blast-radius title={ "Blast radius of " (i.label) } { (i.text) }
        } @else {
            span.muted title="Only destructive calls are traced" { "—" }
        }
    }
}

/// The pending table (also used on the home page); `impacts` (by position,
/// possibly fewer) says what destructive calls would affect.
pub fn pending_table(people: &People, items: &[Approval], impacts: &[Option<Impact>]) -> Markup {
    html! {
        div.table-wrap {
            table.stack {
                caption.muted { "Waiting for a decision" }
                thead { tr { th scope="col" { "Tool" } th scope="col" { "Risk" } th scope="col" { "Requested by" } th scope="col" { "Arguments" } th scope="col" { "Affects" } th scope="col" { "Expires" } th scope="col" { "Review" } } }
                tbody {
                    @for (n, a) in items.iter().enumerate() {
                        tr {
                            td data-label="Tool" { code { (a.tool_name) } }
                            td data-label="Risk" { (risk(a.risk)) }
                            td data-label="Requested by" { (people.show(&a.requester)) }
                            td.args data-label="Arguments" { (args_list(&a.args_redacted)) }
                            td data-label="Affects" { (affects(impacts.get(n).and_then(Option::as_ref))) }
                            td data-label="Expires" { time datetime=(when(a.expires_at)) data-expires=(a.expires_at) { (when(a.expires_at)) } }
                            td data-label="" { a href={ "/approvals/" (a.id) } { "Review" span.sr-only { " " (a.tool_name) } } }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /approvals`.
pub async fn list(State(state): State<AppState>, m: Member) -> Result<Response, PageError> {
    let shell = m.shell("Approvals", Section::Approvals);
    if !m.principal.can(Permission::ToolsApprove) {
        let body = html! {
            h1 { "Approvals" }
            div.notice role="status" #no-approve {
                "Your role cannot approve tool calls (it needs the " code { "tools:approve" } " permission). "
                "When a tool you ask for needs an approval, an operator or admin of your organisation decides it here."
            }
        };
        return Ok(shell.render(StatusCode::OK, body));
    }
    let ctx = state.ctx(&m.caller);
    let pending = approvals::pending(&ctx, &m.principal, PENDING_PAGE, 0).await?;
    let decided = approvals::decided(&ctx, &m.principal, HISTORY).await?;
    let people = People::load(&ctx, &m).await?;
    let impacts = gateway::impacts(&state, &m, &pending.items).await;
    let body = html! {
        h1 { "Approvals" }
        section.card aria-labelledby="pending-h" {
            h2 #pending-h { "Pending (" (pending.total) ")" }
            @if pending.items.is_empty() {
                p.muted #no-pending { "Nothing is waiting for a decision." }
            } @else {
                @if let Err(why) = &impacts {
                    p.notice.warn role="status" #blast-unavailable { "Blast radius unavailable: " (why) }
                }
                (pending_table(&people, &pending.items, impacts.as_deref().unwrap_or_default()))
            }
        }
        section.card aria-labelledby="history-h" {
            h2 #history-h { "Decided" }
            @if decided.is_empty() {
                p.muted { "No decisions yet." }
            } @else {
                div.table-wrap {
                    table.stack {
                        thead { tr { th scope="col" { "Tool" } th scope="col" { "Decision" } th scope="col" { "By" } th scope="col" { "When" } th scope="col" { "Reason" } } }
                        tbody {
                            @for a in &decided {
                                tr {
                                    td data-label="Tool" { a href={ "/approvals/" (a.id) } { code { (a.tool_name) } } }
                                    td data-label="Decision" { (status(a.status)) }
                                    td data-label="By" { (a.decided_by.as_deref().map(|d| people.show(d)).unwrap_or_default()) }
                                    td data-label="When" { (a.decided_at.map(when).unwrap_or_default()) }
                                    td data-label="Reason" { (a.reason.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(shell.render(StatusCode::OK, body))
}

/// `GET /approvals/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<portal_core::ids::ApprovalId>,
) -> Result<Response, PageError> {
    if !m.principal.can(Permission::ToolsApprove) {
        return Err(HttpError::Forbidden("Permission tools:approve is required".into()).into());
    }
    let ctx = state.ctx(&m.caller);
    let (a, full) = approvals::review(&ctx, &m.principal, &id).await?;
    let people = People::load(&ctx, &m).await?;
    let blocker = if a.status == "pending" {
        approvals::decision_blocker(&ctx, &m.principal, &a).await?
    } else {
        None
    };
    let impact = match a.status == "pending" {
        true => gateway::impacts(&state, &m, std::slice::from_ref(&a))
            .await
            .map(|mut v| v.pop().flatten()),
        false => Ok(None),
    };
    let args = match &full {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        None => pretty_json(&a.args_redacted),
    };
    let body = html! {
        p { a href="/approvals" { "← All approvals" } }
        h1 { "Approve " code { (a.tool_name) } "?" }
        div.card {
            dl.facts {
                dt { "Status" } dd #approval-status { (status(a.status)) }
                dt { "Risk" } dd { (risk(a.risk)) }
                dt { "Requested by" } dd { (people.show(&a.requester)) }
                dt { "Requested" } dd { (when(a.created_at)) }
                @if a.status == "pending" {
                    dt { "Expires" } dd { time datetime=(when(a.expires_at)) data-expires=(a.expires_at) { (when(a.expires_at)) } }
                }
                @if let Some(by) = &a.decided_by {
                    dt { "Decided by" } dd { (people.show(by)) }
                }
                @if let Some(at) = a.decided_at {
                    dt { "Decided" } dd { (when(at)) }
                }
                @if let Some(r) = &a.reason {
                    dt { "Reason" } dd { (r) }
                }
                @match &impact {
                    Ok(Some(i)) => { dt { "Affects" } dd #blast-radius { (affects(Some(i))) } }
                    Err(why) => { dt { "Affects" } dd #blast-radius.muted { "Blast radius unavailable: " (why) } }
                    Ok(None) => {}
                }
            }
            h2 { "Arguments" }
            @if full.is_some() {
                p.muted { "Including the secret arguments, shown only to you as an eligible approver." }
            } @else {
                p.muted { "Secret arguments are redacted." }
            }
            pre { code { (args) } }
        }
        @if a.status == "pending" {
            @match &blocker {
                Some(why) => {
                    div.notice.warn role="status" #blocked {
                        strong { "You cannot decide this one. " } (why)
                        @if a.four_eyes || a.risk == "danger" {
                            p { "Four-eyes: a second person checks calls that run code, change access or can do lasting damage, so nobody approves their own." }
                        }
                    }
                }
                None => { (decision_form(&m, &a)) }
            }
        }
    };
    Ok(m.shell("Approval", Section::Approvals)
        .render(StatusCode::OK, body))
}

fn decision_form(m: &Member, a: &Approval) -> Markup {
    html! {
        form.card method="post" action={ "/approvals/" (a.id) } #decide {
            h2 { "Your decision" }
            input type="hidden" name="csrf" value=(m.csrf);
            div.field {
                label for="reason" { "Reason " span.hint { "Optional; recorded in the audit ledger." } }
                textarea #reason name="reason" maxlength="500" {}
            }
            div.actions {
                button type="submit" name="decision" value="approve" { "Approve" }
                button.danger type="submit" name="decision" value="reject" { "Reject" }
            }
        }
    }
}

/// The decision form's fields.
#[derive(Deserialize)]
pub struct Decision {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// `POST /approvals/{id}`: records the decision, then shows the approval.
pub async fn decide(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<portal_core::ids::ApprovalId>,
    PageForm(f): PageForm<Decision>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let approved = match f.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(HttpError::Validation("decision: must be approve or reject".into()).into())
        }
    };
    let reason = Some(f.reason.trim()).filter(|r| !r.is_empty());
    let target = approvals::Target {
        approval_id: Some(&id),
        tool_call_id: None,
        requester: None,
    };
    approvals::decide(
        &state.ctx(&m.caller),
        &m.principal,
        target,
        approved,
        reason,
    )
    .await?;
    Ok(see_other(&format!(
        "/approvals/{}",
        crate::visit::encode(&id)
    )))
}
