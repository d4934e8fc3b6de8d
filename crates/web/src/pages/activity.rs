//! The activity feed (`/activity`, `tools:read`): what tools ran in the
//! organisation, for whom, with what outcome, filtered as the API allows.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::model::{Activity, ActivityFilter};
use portal_core::rbac::Permission;
use portal_core::service::activity;
use portal_http::{AppState, HttpError};
use serde::Deserialize;

use super::approvals::{risk, status};
use crate::form::{args_list, when};
use crate::people::People;
use crate::shell::Section;
use crate::visit::{encode, Member, PageError};

/// Rows per page.
const PAGE: i64 = 50;

/// The filters (empty fields mean "any").
#[derive(Deserialize)]
pub struct Filters {
    #[serde(default)]
    tool: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: u32,
}

/// A table of tool runs; `full` adds their arguments and durations.
pub fn runs_table(people: &People, items: &[Activity], full: bool) -> Markup {
    html! {
        div.table-wrap {
            table.stack {
                thead {
                    tr {
                        th scope="col" { "Tool" } th scope="col" { "Risk" } th scope="col" { "Outcome" } th scope="col" { "By" }
                        @if full { th scope="col" { "Arguments" } }
                        th scope="col" { "When" }
                        @if full { th scope="col" { "Took" } }
                    }
                }
                tbody {
                    @for a in items {
                        tr {
                            td data-label="Tool" { code { (a.tool_name) } }
                            td data-label="Risk" { (risk(a.risk)) }
                            td data-label="Outcome" {
                                (status(a.status))
                                @if let (true, Some(e)) = (full, &a.error) { " " span.muted { (e) } }
                            }
                            td data-label="By" { (people.show(&a.principal_id)) }
                            @if full { td.args data-label="Arguments" { (args_list(&a.args)) } }
                            td data-label="When" { (when(a.created_at)) }
                            @if full { td data-label="Took" { @if let Some(ms) = a.duration_ms { (ms) " ms" } } }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /activity`.
pub async fn page(
    State(state): State<AppState>,
    m: Member,
    Query(q): Query<Filters>,
) -> Result<Response, PageError> {
    if !m.principal.can(Permission::ToolsRead) {
        return Err(HttpError::Forbidden("Permission tools:read is required".into()).into());
    }
    let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let f = ActivityFilter {
        tool: some(&q.tool),
        principal: None,
        status: some(&q.status),
        from: None,
        to: None,
        limit: PAGE,
        offset: i64::from(q.page.min(10_000)) * PAGE,
    };
    let ctx = state.ctx(&m.caller);
    let found = activity::list(&ctx, &m.principal, &f).await?;
    let people = People::load(&ctx, &m).await?;
    let link = |page: u32| {
        format!(
            "/activity?tool={}&status={}&page={page}",
            encode(q.tool.trim()),
            encode(q.status.trim())
        )
    };
    let shown_to = i64::from(q.page) * PAGE + found.items.len() as i64;
    let body = html! {
        h1 { "Activity" }
        form.card.filters method="get" action="/activity" role="search" {
            div.grid.two {
                div.field {
                    label for="tool" { "Tool" }
                    input #tool type="text" name="tool" value=(q.tool) placeholder="e.g. listInstances";
                }
                div.field {
                    label for="status" { "Outcome" }
                    select #status name="status" {
                        option value="" selected[q.status.is_empty()] { "any" }
                        @for s in activity::STATUSES {
                            option value=(s) selected[q.status == s] { (s) }
                        }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        section.card aria-labelledby="runs-h" {
            h2 #runs-h { (found.total) " tool run" @if found.total != 1 { "s" } }
            @if found.items.is_empty() {
                p.muted #no-activity { "Nothing matches." }
            } @else {
                (runs_table(&people, &found.items, true))
                nav.actions aria-label="Pages" {
                    @if q.page > 0 { a.button.secondary href=(link(q.page - 1)) rel="prev" { "Newer" } }
                    @if shown_to < found.total { a.button.secondary href=(link(q.page + 1)) rel="next" { "Older" } }
                }
            }
        }
    };
    Ok(m.shell("Activity", Section::Activity)
        .render(StatusCode::OK, body))
}
