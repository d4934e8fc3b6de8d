//! The inline approval card a chat's tool call shows while it waits
//! (`GET /approvals/{id}/card`, an HTML fragment the page's module inserts):
//! the risk and the redacted arguments; Approve/Reject (posting to the
//! approval page's own form) only for someone who may decide it; for anyone
//! else "waiting for approval" with a link to copy for an approver. The
//! server decides who sees the controls, and refuses anyone else anyway.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::model::Approval;
use portal_core::rbac::Permission;
use portal_core::service::approvals;
use portal_http::AppState;

use super::approvals::{risk, status};
use crate::form::args_list;
use crate::people::People;
use crate::shell::page_response;
use crate::visit::{Member, PageError};

fn link(url: &str) -> Markup {
    html! {
        div.copy-link {
            label { span.sr-only { "Approval link" } input type="text" readonly value=(url) data-copy; }
            button.secondary type="button" data-copy-button { "Copy link" }
        }
    }
}

fn card(m: &Member, a: &Approval, people: &People, blocker: Option<&str>, url: &str) -> Markup {
    let pending = a.status == "pending";
    let decides = pending && blocker.is_none();
    html! {
        div.approval-card data-approval=(a.id) data-status=(a.status) tabindex=[decides.then_some("0")]
            aria-label={ "Approval for " (a.tool_name) }
        {
            p {
                @if pending { strong.waiting { "Waiting for approval" } } @else { "Approval: " (status(a.status)) }
                " · risk " (risk(a.risk)) " · asked by " (people.show(&a.requester))
            }
            (args_list(&a.args_redacted))
            @if pending {
                @if let Some(why) = blocker { p.muted { (why) } }
                p.muted { "An approver can decide here or at this link; the answer continues on this page once they do." }
                (link(url))
            }
            @if decides {
                form.decide method="post" action={ "/approvals/" (a.id) } {
                    input type="hidden" name="csrf" value=(m.csrf);
                    div.actions {
                        button type="submit" name="decision" value="approve" { "Approve" }
                        button.danger type="submit" name="decision" value="reject" { "Reject" }
                    }
                    p.hint { "With this card focused, Y approves and N rejects." }
                }
            }
        }
    }
}

/// `GET /approvals/{id}/card`: the card, as a fragment.
pub async fn fragment(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<portal_core::ids::ApprovalId>,
) -> Result<Response, PageError> {
    let url = approvals::approve_url(&state.settings.http.public_url, &id);
    let body = if m.principal.can(Permission::ToolsApprove) {
        let ctx = state.ctx(&m.caller);
        let (a, _) = approvals::review(&ctx, &m.principal, &id).await?;
        let blocker = if a.status == "pending" {
            approvals::decision_blocker(&ctx, &m.principal, &a).await?
        } else {
            None
        };
        let people = People::load(&ctx, &m).await?;
        card(&m, &a, &people, blocker.as_deref(), &url)
    } else {
        // Who cannot approve learns nothing from the id but what the chat showed.
        html! {
            div.approval-card data-approval=(id) data-status="pending" {
                p { strong.waiting { "Waiting for approval" } }
                p.muted { "Your role cannot approve tool calls. An approver can decide at this link; the answer continues here once they do." }
                (link(&url))
            }
        }
    };
    Ok(page_response(
        StatusCode::OK,
        m.nonce.get(),
        body.into_string(),
    ))
}
