//! Home: what waits for me, what happened lately, and where to go next.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use portal_core::model::ActivityFilter;
use portal_core::rbac::Permission;
use portal_core::service::{activity, approvals};
use portal_http::AppState;

use super::activity::runs_table;
use super::approvals::pending_table;
use crate::people::People;
use crate::shell::Section;
use crate::visit::{Member, PageError};

/// How many items each panel shows.
const PANEL: i64 = 10;

/// `GET /`.
pub async fn page(State(state): State<AppState>, m: Member) -> Result<Response, PageError> {
    let ctx = state.ctx(&m.caller);
    let p = &m.principal;
    let pending = if p.can(Permission::ToolsApprove) {
        Some(approvals::pending(&ctx, p, PANEL, 0).await?)
    } else {
        None
    };
    let recent = if p.can(Permission::ToolsRead) {
        let f = ActivityFilter {
            tool: None,
            principal: None,
            status: None,
            from: None,
            to: None,
            limit: PANEL,
            offset: 0,
        };
        Some(activity::list(&ctx, p, &f).await?.items)
    } else {
        None
    };
    let advisor = if p.can(Permission::ToolsRead) {
        Some(portal_core::advisor::service::summary(&ctx, p).await?)
    } else {
        None
    };
    let people = People::load(&ctx, &m).await?;
    let name = p.user.as_ref().map(|u| u.name.as_str()).unwrap_or("there");
    let body = html! {
        h1 { "Hello, " (name) }
        @if let Some(page) = &pending {
            section.card aria-labelledby="approvals-h" {
                h2 #approvals-h { "Waiting for your approval (" (page.total) ")" }
                @if page.items.is_empty() {
                    p.muted { "Nothing is waiting for you." }
                } @else {
                    (pending_table(&people, &page.items, &[]))
                    p { a href="/approvals" { "All approvals" } }
                }
            }
        }
        @if let Some(s) = &advisor {
            (super::advisor::widget(&m, s))
        }
        div.grid.two {
            @if let Some(items) = &recent {
                section.card aria-labelledby="activity-h" {
                    h2 #activity-h { "Recent activity" }
                    @if items.is_empty() {
                        p.muted { "No tool has run yet." }
                    } @else {
                        (runs_table(&people, items, false))
                    }
                }
            }
            section.card aria-labelledby="links-h" {
                h2 #links-h { "Quick links" }
                ul.links {
                    li { a href="/approvals" { "Approvals" } " — pending requests and decisions" }
                    li { a href="/activity" { "Activity" } " — every tool run in the organisation" }
                    li { a href="/api/docs/" { "API documentation" } " — every endpoint, try it in the browser" }
                    li { a href="/health" { "Health" } " — the portal's checks" }
                }
            }
        }
    };
    Ok(m.shell("Home", Section::Home).render(StatusCode::OK, body))
}
