//! Portal-wide settings (`/admin/portal`, platform admins): name, logo and
//! accent colours of the page shell, sign-in (JIT provisioning, session
//! lifetime), maintenance mode and its banner, terms and privacy links. The
//! organisation's own settings stay at `/admin/settings`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use portal_core::portal_settings::{self as svc, PortalSettings, SettingsChange};
use portal_http::{AppState, HttpError};

use super::settings::Done;
use super::subnav;
use crate::fields::{form_problem, unplaced, Field, Pairs, Problem};
use crate::form::PageForm;
use crate::shell::Section;
use crate::visit::{see_other, Member, PageError};

const FIELDS: [&str; 9] = [
    "name",
    "logo",
    "accentColor",
    "accentColorDark",
    "sessionHours",
    "maintenanceMessage",
    "termsUrl",
    "privacyUrl",
    "jitProvisioning",
];

fn require(m: &Member) -> Result<(), PageError> {
    if m.principal.is_platform_admin() {
        Ok(())
    } else {
        Err(HttpError::Forbidden("Only platform admins change the portal settings".into()).into())
    }
}

fn render(
    m: &Member,
    status: StatusCode,
    s: &PortalSettings,
    problem: Option<&Problem>,
    done: bool,
) -> Response {
    let hours = s.session_hours.to_string();
    let text =
        |name: &'static str, label: &'static str, value: &str, hint: Option<&'static str>| {
            Field {
                name,
                label,
                kind: "text",
                value,
                hint,
                autocomplete: Some("off"),
                required: false,
            }
            .render(problem)
        };
    let body = html! {
        h1 { "Portal settings" }
        (subnav(&m.principal, "/admin/portal"))
        @if done { div.notice.ok role="status" #done { "The portal settings are saved; every replica applies them within seconds." } }
        (unplaced(problem, &FIELDS))
        form.card method="post" action="/admin/portal" #portal-form {
            input type="hidden" name="csrf" value=(m.csrf);
            fieldset {
                legend { "Branding" }
                (text("name", "Portal name", &s.name, None))
                (text("logo", "Logo", &s.logo, Some("A data:image/png;base64,… (or svg+xml, jpeg, gif, webp) URL of at most 48 KB; empty for none.")))
                (text("accentColor", "Accent colour (light theme)", &s.accent_color, Some("#rrggbb; empty for the default.")))
                (text("accentColorDark", "Accent colour (dark theme)", &s.accent_color_dark, Some("#rrggbb; empty for the default.")))
            }
            fieldset {
                legend { "Sign-in" }
                label.check {
                    input #jitProvisioning type="checkbox" name="jitProvisioning" value="on" checked[s.jit_provisioning];
                    " Single sign-on creates an account on first sign-in"
                }
                (Field { name: "sessionHours", label: "Session lifetime (hours)", kind: "number", value: &hours,
                    hint: Some("1 to 720; applies to new sign-ins and to sessions when next used."), autocomplete: None, required: true }.render(problem))
            }
            fieldset {
                legend { "Maintenance" }
                label.check {
                    input #maintenance type="checkbox" name="maintenance" value="on" checked[s.maintenance];
                    " Maintenance mode: changes are refused (503) everywhere, reading still works"
                }
                (text("maintenanceMessage", "Banner message", &s.maintenance_message, Some("Shown on every page while maintenance is on; empty for a default message.")))
            }
            fieldset {
                legend { "Links" }
                (text("termsUrl", "Terms of use", &s.terms_url, Some("An http(s) URL shown in the footer; empty for none.")))
                (text("privacyUrl", "Privacy notice", &s.privacy_url, Some("An http(s) URL shown in the footer; empty for none.")))
            }
            button type="submit" { "Save" }
        }
    };
    m.shell("Portal settings", Section::Admin)
        .render(status, body)
}

/// `GET /admin/portal`.
pub async fn page(
    State(state): State<AppState>,
    m: Member,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    require(&m)?;
    let s = svc::get(&state.ctx(&m.caller)).await?;
    Ok(render(&m, StatusCode::OK, &s, None, q.is("saved")))
}

/// `POST /admin/portal` (an unticked box sends nothing: off). Open during
/// maintenance, so it can be ended here.
pub async fn save(
    State(state): State<AppState>,
    m: Member,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Pairs(pairs);
    m.check_form(f.get("csrf"))?;
    require(&m)?;
    let hours = f.get("sessionHours").trim().parse::<i64>().unwrap_or(0);
    let change = SettingsChange {
        name: Some(f.get("name").to_string()),
        logo: Some(f.get("logo").to_string()),
        accent_color: Some(f.get("accentColor").to_string()),
        accent_color_dark: Some(f.get("accentColorDark").to_string()),
        jit_provisioning: Some(f.get("jitProvisioning") == "on"),
        session_hours: Some(hours),
        maintenance: Some(f.get("maintenance") == "on"),
        maintenance_message: Some(f.get("maintenanceMessage").to_string()),
        terms_url: Some(f.get("termsUrl").to_string()),
        privacy_url: Some(f.get("privacyUrl").to_string()),
    };
    let ctx = state.ctx(&m.caller);
    match state
        .app
        .change_portal_settings(&ctx, &m.principal, change.clone())
        .await
    {
        Ok(_) => Ok(see_other("/admin/portal?done=saved")),
        Err(e) => {
            let problem = form_problem(e)?;
            // Show what was typed, not what is stored.
            let current = svc::get(&ctx).await?;
            let typed = change.apply_unchecked(current);
            Ok(render(
                &m,
                StatusCode::BAD_REQUEST,
                &typed,
                Some(&problem),
                false,
            ))
        }
    }
}
