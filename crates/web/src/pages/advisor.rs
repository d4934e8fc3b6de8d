//! CloudAdvisor pages: the findings list with the summary and "run now",
//! a finding's detail with its evidence, fix plan ("fix with the agent"
//! opens the chat with the plan; every call then goes through the gateway
//! and its approvals), acknowledge and dismiss; the home page's widget.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::advisor::model::{Finding, FindingFilter, FindingStatus, Severity};
use portal_core::advisor::service::{self as advisor, Decision, Summary};
use portal_core::rbac::Permission;
use portal_http::AppState;
use serde::Deserialize;

use crate::form::{when, PageForm};
use crate::shell::Section;
use crate::visit::{see_other, Member, PageError};

/// Dollars of a cents amount.
fn usd(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn severity_badge(s: Severity) -> Markup {
    let class = match s {
        Severity::Critical | Severity::High => "badge danger",
        Severity::Medium => "badge confirm",
        Severity::Low => "badge",
    };
    html! { span class=(class) { (s.as_str()) } }
}

/// The summary and "run now" (home page widget and the list's head).
pub fn widget(m: &Member, s: &Summary) -> Markup {
    html! {
        section.card aria-labelledby="advisor-h" #advisor-widget {
            h2 #advisor-h { "Cloud advisor" }
            ul.links {
                @for (sev, n) in &s.by_severity {
                    li { (severity_badge(*sev)) " " span data-severity=(sev.as_str()) { (n) } }
                }
            }
            p { "Estimated savings: " strong #advisor-savings { (usd(s.savings_cents)) } " a month" }
            @match &s.last_run {
                Some(r) => p.muted #advisor-last-run { "Last run " (when(r.created_at)) ": " (r.status.as_str()) },
                None => p.muted #advisor-last-run { "The advisor has not run yet." },
            }
            div.actions {
                @if m.principal.can(Permission::ToolsExecute) {
                    form method="post" action="/advisor/run" {
                        input type="hidden" name="csrf" value=(m.csrf);
                        button type="submit" #advisor-run { "Run now" }
                    }
                }
                a href="/advisor" { "All findings" }
            }
        }
    }
}

/// `?status=` of the list.
#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
}

/// `GET /advisor`.
pub async fn list(
    State(state): State<AppState>,
    m: Member,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let ctx = state.ctx(&m.caller);
    let p = &m.principal;
    let summary = advisor::summary(&ctx, p).await?;
    let status = match q.status.as_str() {
        "" => vec![FindingStatus::Open, FindingStatus::Acknowledged],
        "all" => Vec::new(),
        s => vec![FindingStatus::parse(s).ok_or_else(|| {
            PageError::from(portal_http::HttpError::Validation(
                "status: unknown value".into(),
            ))
        })?],
    };
    let f = FindingFilter {
        status,
        limit: 100,
        ..FindingFilter::default()
    };
    let page = advisor::list_findings(&ctx, p, &f).await?;
    let body = html! {
        h1 { "Cloud advisor" }
        (widget(&m, &summary))
        section.card aria-labelledby="findings-h" {
            h2 #findings-h { "Findings (" (page.total) ")" }
            p {
                a href="/advisor" { "Open" } " · "
                a href="/advisor?status=dismissed" { "Dismissed" } " · "
                a href="/advisor?status=resolved" { "Resolved" } " · "
                a href="/advisor?status=all" { "All" }
            }
            @if page.items.is_empty() {
                p.muted { "No findings here." }
            } @else {
                table #findings {
                    thead { tr { th { "Severity" } th { "Finding" } th { "Check" } th { "Savings / month" } th { "Status" } } }
                    tbody {
                        @for f in &page.items {
                            tr {
                                td { (severity_badge(f.severity)) }
                                td { a href={ "/advisor/findings/" (f.id) } { (f.title) } }
                                td { code { (f.check_id) } }
                                td { @if let Some(c) = f.savings_cents { (usd(c)) } @else { "—" } }
                                td { span.badge { (f.status.as_str()) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(m.shell("Cloud advisor", Section::Advisor)
        .render(StatusCode::OK, body))
}

/// A form with only its token.
#[derive(Deserialize)]
pub struct Plain {
    #[serde(default)]
    csrf: String,
}

/// `POST /advisor/run`: starts a run, back to the list.
pub async fn run(
    State(state): State<AppState>,
    m: Member,
    PageForm(f): PageForm<Plain>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    advisor::start(&state.ctx(&m.caller), &m.principal).await?;
    Ok(see_other("/advisor"))
}

fn detail(m: &Member, f: &Finding) -> Markup {
    let check = portal_core::advisor::checks::find(&f.check_id);
    let prompt = advisor::fix_prompt(f);
    let open = f.status != FindingStatus::Resolved;
    let value = serde_json::to_string_pretty(&f.evidence.value).unwrap_or_default();
    html! {
        h1 { (f.title) }
        p {
            (severity_badge(f.severity)) " "
            span.badge #finding-status { (f.status.as_str()) } " "
            span.badge { (f.category.as_str()) }
            @if let Some(cis) = check.and_then(|c| c.cis) { " " span.badge { "CIS OCI " (cis) } }
        }
        section.card aria-labelledby="what-h" {
            h2 #what-h { "What to do" }
            p { (check.map(|c| c.remediation).unwrap_or_default()) }
            p { "Resource: " code { (f.resource_id) } " (" (f.resource_name) ")" }
            @if let Some(c) = f.savings_cents { p { "Estimated savings: " strong { (usd(c)) } " a month (shipped price list)" } }
            p.muted { "First seen " (when(f.first_seen_at)) ", last seen " (when(f.last_seen_at)) }
            @if let Some(r) = f.resolved_at { p.muted { "Resolved " (when(r)) } }
            @if let Some(n) = &f.note { p { "Note: " (n) } }
            @if let Some(u) = f.dismissed_until { p { "Dismissed until " (when(u)) } }
        }
        section.card aria-labelledby="evidence-h" {
            h2 #evidence-h { "Evidence" }
            dl {
                dt { "Tool" } dd { code #evidence-tool { (f.evidence.tool) } }
                dt { "Arguments (hash)" } dd { code { (f.evidence.args_hash) } }
                dt { "Field" } dd { code #evidence-path { (f.evidence.path) } }
                dt { "Value" } dd { pre { (value) } }
            }
        }
        section.card aria-labelledby="fix-h" {
            h2 #fix-h { "Fix" }
            @if f.fix.is_empty() {
                p.muted { "No tool in the catalogue fixes this; the agent can explain the manual steps." }
            } @else {
                ol #fix-plan {
                    @for s in &f.fix {
                        li { code { (s.tool) } pre { (serde_json::to_string_pretty(&s.args).unwrap_or_default()) } }
                    }
                }
                p.muted { "Each step runs through the gateway and asks for approval like any other change." }
            }
            @if open && m.principal.can(Permission::SessionsWrite) {
                p { a.button href={ "/chat?prompt=" (encode(&prompt)) } #fix-with-agent { "Fix with the agent" } }
            }
        }
        @if open && m.principal.can(Permission::ToolsExecute) {
            div.grid.two {
                form.card method="post" action={ "/advisor/findings/" (f.id) "/acknowledge" } {
                    h2 { "Acknowledge" }
                    input type="hidden" name="csrf" value=(m.csrf);
                    div.field { label for="ack-note" { "Note" } textarea #ack-note name="note" maxlength="2000" {} }
                    button type="submit" { "Acknowledge" }
                }
                form.card method="post" action={ "/advisor/findings/" (f.id) "/dismiss" } {
                    h2 { "Dismiss" }
                    input type="hidden" name="csrf" value=(m.csrf);
                    div.field { label for="dismiss-note" { "Why (required)" } textarea #dismiss-note name="note" maxlength="2000" required {} }
                    div.field { label for="dismiss-days" { "For how many days" } input #dismiss-days type="number" name="days" min="1" max="365" value="30" required; }
                    button type="submit" { "Dismiss" }
                }
            }
        }
        p { a href="/advisor" { "All findings" } }
    }
}

/// `GET /advisor/findings/{id}`.
pub async fn finding(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let f = advisor::get_finding(&state.ctx(&m.caller), &m.principal, &id).await?;
    let body = detail(&m, &f);
    Ok(m.shell("Finding", Section::Advisor)
        .render(StatusCode::OK, body))
}

/// The decision forms' fields.
#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    days: String,
}

/// `POST /advisor/findings/{id}/{acknowledge|dismiss}`.
pub async fn decide(
    State(state): State<AppState>,
    m: Member,
    Path((id, what)): Path<(String, String)>,
    PageForm(f): PageForm<DecisionForm>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let ctx = state.ctx(&m.caller);
    let note = Some(f.note.trim().to_string()).filter(|n| !n.is_empty());
    let decision = match what.as_str() {
        "acknowledge" => Decision::Acknowledge,
        "dismiss" => {
            let days: i64 = f.days.trim().parse().map_err(|_| {
                PageError::from(portal_http::HttpError::Validation(
                    "days: a whole number of days".into(),
                ))
            })?;
            Decision::Dismiss {
                until: ctx.now + days.clamp(0, 365) * 86_400_000,
            }
        }
        _ => {
            return Err(PageError::from(portal_http::HttpError::NotFound(
                "No such page".into(),
            )))
        }
    };
    advisor::decide(&ctx, &m.principal, &id, decision, note).await?;
    Ok(see_other(&format!("/advisor/findings/{id}")))
}
