//! The admin console of the active organisation: members, API keys, settings,
//! and (platform admins) every organisation; plus the organisation switcher.
//! Each page needs its own permission and shows only the controls the
//! principal may use; the core services refuse anything else (403).

pub mod ai_providers;
pub mod idp;
pub mod keys;
pub mod mcp_servers;
pub mod members;
pub mod orgs;
pub mod portal;
pub mod settings;

use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::identity::Principal;
use portal_core::rbac::Permission;
use portal_core::service::{auth, members as svc};
use portal_http::{AppState, HttpError};
use serde::Deserialize;

use crate::form::PageForm;
use crate::visit::{safe_next, see_other, Member, PageError};

/// The console's pages, in order: path, title, whether `p` may see it.
/// (A list, so adding a page is one line.)
fn tabs(p: &Principal) -> Vec<(&'static str, &'static str, bool)> {
    vec![
        ("/admin/members", "Members", p.can(Permission::AdminUsers)),
        ("/admin/keys", "API keys", p.can(Permission::AdminAll)),
        ("/admin/settings", "Settings", p.can(Permission::AdminOrgs)),
        ("/admin/orgs", "Organisations", p.is_platform_admin()),
        ("/admin/portal", "Portal", p.is_platform_admin()),
        ("/admin/idp", "Identity providers", p.is_platform_admin()),
        (
            "/admin/ai-providers",
            "AI providers",
            p.can(Permission::AdminAll),
        ),
        (
            "/admin/mcp-servers",
            "MCP servers",
            p.can(Permission::AdminAll),
        ),
    ]
}

/// A one-button form posting the session's token (and one more field).
pub(crate) fn post_button(
    m: &Member,
    action: &str,
    label: &str,
    class: &str,
    extra: Option<(&str, &str)>,
) -> Markup {
    html! {
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(m.csrf);
            @if let Some((k, v)) = extra { input type="hidden" name=(k) value=(v); }
            button class=(class) type="submit" { (label) }
        }
    }
}

/// The console's own navigation, `current` marked.
pub fn subnav(p: &Principal, current: &str) -> Markup {
    html! {
        nav.subnav aria-label="Admin" {
            ul.nav {
                @for (href, title, shown) in tabs(p) {
                    @if shown {
                        li { a href=(href) aria-current=[(href == current).then_some("page")] { (title) } }
                    }
                }
            }
        }
    }
}

/// `GET /admin`: the first page the principal may use.
pub async fn index(m: Member) -> Result<Response, PageError> {
    match tabs(&m.principal).iter().find(|t| t.2) {
        Some((href, _, _)) => Ok(see_other(href)),
        None => Err(HttpError::Forbidden(
            "The admin console needs admin:users, admin:orgs or a platform admin".into(),
        )
        .into()),
    }
}

/// The switcher's form.
#[derive(Deserialize)]
pub struct Switch {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    next: Option<String>,
}

/// The organisation switcher (shown when the user belongs to more than one).
pub async fn switcher(state: &AppState, m: &Member, next: &str) -> Result<Markup, PageError> {
    let orgs = svc::my_orgs(&state.ctx(&m.caller), &m.principal).await?;
    let active = m.principal.org.as_ref().map(|o| o.id.as_str());
    Ok(html! {
        @if orgs.len() > 1 {
            form.card.switcher method="post" action="/org/switch" {
                input type="hidden" name="csrf" value=(m.csrf);
                input type="hidden" name="next" value=(next);
                div.field {
                    label for="switch-org" { "Organisation" }
                    select #switch-org name="org" {
                        @for (o, r) in &orgs {
                            option value=(o.id) selected[active == Some(o.id.as_str())] { (o.name) " (" (r.as_str()) ")" }
                        }
                    }
                }
                button.secondary type="submit" { "Switch" }
            }
        }
    })
}

/// `POST /org/switch`: the session works in another of the user's organisations.
pub async fn switch(
    State(state): State<AppState>,
    m: Member,
    PageForm(f): PageForm<Switch>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    auth::set_active_org(&state.ctx(&m.caller), &m.principal, &f.org).await?;
    Ok(see_other(&safe_next(f.next.as_deref())))
}
