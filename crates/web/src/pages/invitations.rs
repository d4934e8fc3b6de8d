//! My pending invitations, on the account page: accept (the organisation
//! then shows in the switcher) or decline. Only the invited person answers;
//! another person's invitation is "not found".

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};
use portal_core::service::invitations;
use portal_http::{AppState, HttpError};

use super::login::TokenOnly;
use crate::form::{when, PageForm};
use crate::visit::{encode, see_other, Member, PageError};

/// The card listing the member's pending invitations (nothing when none).
pub async fn card(state: &AppState, m: &Member) -> Result<Markup, PageError> {
    let pending = invitations::mine(&state.ctx(&m.caller), &m.principal).await?;
    Ok(html! {
        @if !pending.is_empty() {
            section.card aria-labelledby="invitations-h" #invitations {
                h2 #invitations-h { "Invitations" }
                ul.links {
                    @for (inv, org) in &pending {
                        li {
                            p { "Join " strong { (org.name) } " as " span class={ "badge " (inv.role.as_str()) } { (inv.role.as_str()) }
                                span.muted { " · until " (when(inv.expires_at)) } }
                            div.actions {
                                @for (answer, label, class) in [("accept", "Accept", ""), ("decline", "Decline", "secondary")] {
                                    form method="post" action={ "/account/invitations/" (encode(&inv.id)) "/" (answer) } {
                                        input type="hidden" name="csrf" value=(m.csrf);
                                        button class=(class) type="submit" { (label) span.sr-only { " the invitation to " (org.name) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// `POST /account/invitations/{id}/{accept|decline}`.
pub async fn decide(
    State(state): State<AppState>,
    m: Member,
    Path((id, answer)): Path<(String, String)>,
    PageForm(f): PageForm<TokenOnly>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let accept = match answer.as_str() {
        "accept" => true,
        "decline" => false,
        _ => return Err(HttpError::NotFound("No such answer".into()).into()),
    };
    invitations::decide(&state.ctx(&m.caller), &m.principal, &id, accept).await?;
    Ok(see_other(if accept {
        "/account?done=joined"
    } else {
        "/account?done=declined"
    }))
}
