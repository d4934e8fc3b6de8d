//! Organisation settings (`/admin/settings`, `admin:orgs`): four-eyes for
//! `danger` tools, password sign-in (off only once single sign-on works), and the cloud compartments the organisation's tools may act
//! in. Org admins read the compartment policy; platform admins assign it with
//! a tree of the tenancy's compartments (read through the gateway, as them).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::rbac::Permission;
use portal_core::service::{compartments, members};
use portal_http::{AppState, HttpError};
use serde::Deserialize;
use serde_json::{json, Value};

use super::subnav;
use crate::fields::{form_problem, unplaced, Pairs, Problem};
use crate::form::PageForm;
use crate::gateway;
use crate::shell::Section;
use crate::visit::{see_other, Member, PageError};

fn require(m: &Member) -> Result<(), PageError> {
    if m.principal.can(Permission::AdminOrgs) {
        Ok(())
    } else {
        Err(HttpError::Forbidden("Permission admin:orgs is required".into()).into())
    }
}

/// Notices after a redirect.
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

impl Done {
    /// Whether the notice is `what`.
    pub fn is(&self, what: &str) -> bool {
        self.done == what
    }
}

/// One compartment of the tenancy.
struct Node {
    id: String,
    name: String,
    parent: Option<String>,
}

/// The tenancy's compartments, as the platform admin's `listCompartments` sees them.
async fn tenancy_tree(state: &AppState, m: &Member) -> Result<Vec<Node>, String> {
    let runner = gateway::runner(state, m)
        .await
        .map_err(|_| "No cloud is configured.".to_string())?;
    let done = gateway::run(
        state,
        m,
        runner.as_ref(),
        "listCompartments",
        &json!({"limit": 1000}),
        None,
    )
    .await
    .map_err(|e| e.to_string())?;
    let items = done.result["items"].as_array().cloned().unwrap_or_default();
    Ok(items
        .iter()
        .filter(|c| c["lifecycleState"].as_str().is_none_or(|s| s == "ACTIVE"))
        .filter_map(|c: &Value| {
            Some(Node {
                id: c["id"].as_str()?.to_string(),
                name: c["name"].as_str().unwrap_or("?").to_string(),
                parent: c["compartmentId"].as_str().map(str::to_string),
            })
        })
        .collect())
}

fn tree_under(nodes: &[Node], parent: &str, chosen: &[String], depth: usize) -> Markup {
    let children: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.parent.as_deref() == Some(parent))
        .collect();
    html! {
        @if !children.is_empty() && depth < 12 {
            ul.tree {
                @for n in children {
                    li {
                        label.check {
                            input type="checkbox" name="compartment" value=(n.id) checked[chosen.contains(&n.id)];
                            " " (n.name) " " code.muted { (short(&n.id)) }
                        }
                        (tree_under(nodes, &n.id, chosen, depth + 1))
                    }
                }
            }
        }
    }
}

/// An OCID's last part shortened, to tell compartments apart at a glance.
fn short(ocid: &str) -> String {
    let last = ocid.rsplit('.').next().unwrap_or(ocid);
    format!("…{}", &last[last.len().saturating_sub(6)..])
}

async fn render(
    state: &AppState,
    m: &Member,
    status: StatusCode,
    problem: Option<&Problem>,
    done: &str,
) -> Result<Response, PageError> {
    let ctx = state.ctx(&m.caller);
    let org = members::current_org(&ctx, &m.principal).await?;
    let tenancy = state.cloud.get().map(|c| c.tenancy.clone());
    let whole = compartments::whole_tenancy(&org.allowed_compartments);
    let platform = m.principal.is_platform_admin();
    let tree = if platform {
        Some(tenancy_tree(state, m).await)
    } else {
        None
    };
    let body = html! {
        h1 { "Settings of " (org.name) }
        (subnav(&m.principal, "/admin/settings"))
        @match done {
            "four-eyes" => { div.notice.ok role="status" #done { "Four-eyes is " (if org.four_eyes { "on" } else { "off" }) "." } }
            "compartments" => { div.notice.ok role="status" #done { "The compartment policy is saved." } }
            "password" => { div.notice.ok role="status" #done { "Password sign-in is " (if org.password_sign_in { "on" } else { "off: members sign in with single sign-on" }) "." } }
            _ => {}
        }
        (unplaced(problem, &[]))
        section.card aria-labelledby="four-eyes-h" {
            h2 #four-eyes-h { "Four-eyes approval" }
            p { "With four-eyes on, a " span.badge.danger { "danger" } " tool call must be approved by someone other than the person who asked. "
                "Running commands on instances, creating IAM policies and launching instances with user data always need a second person, whatever this says." }
            form method="post" action="/admin/settings/four-eyes" #four-eyes-form {
                input type="hidden" name="csrf" value=(m.csrf);
                label.check {
                    input #four-eyes type="checkbox" name="fourEyes" value="on" checked[org.four_eyes];
                    " Require a second person for danger tools"
                }
                button type="submit" { "Save" }
            }
        }
        section.card aria-labelledby="password-h" {
            h2 #password-h { "Password sign-in" }
            p { "Turn it off once single sign-on works for this organisation (a provider that reaches it has signed a member in and passes its connection test): members then sign in only through the identity provider. "
                "Platform admins keep their password as the break-glass path." }
            form method="post" action="/admin/settings/password-sign-in" #password-form {
                input type="hidden" name="csrf" value=(m.csrf);
                label.check {
                    input #password-sign-in type="checkbox" name="passwordSignIn" value="on" checked[org.password_sign_in];
                    " Members may sign in with a password"
                }
                button type="submit" { "Save" }
            }
        }
        section.card aria-labelledby="compartments-h" {
            h2 #compartments-h { "Compartment policy" }
            p { "Tool calls of this organisation act only in these compartments and their sub-compartments." }
            @if whole {
                p #policy { strong { "The whole tenancy." } }
            } @else if org.allowed_compartments.is_empty() {
                p #policy { strong { "None yet:" } " tool calls that touch the cloud are refused until a platform admin assigns compartments." }
            } @else {
                ul #policy { @for c in &org.allowed_compartments { li { code { (c) } } } }
            }
            @match (&tree, &tenancy) {
                (Some(Ok(nodes)), Some(t)) => {
                    form method="post" action="/admin/settings/compartments" #compartments-form {
                        input type="hidden" name="csrf" value=(m.csrf);
                        fieldset {
                            legend { "Assign (as platform admin)" }
                            label.check {
                                input type="checkbox" name="compartment" value=(t) checked[whole];
                                " " strong { "The whole tenancy" }
                            }
                            (tree_under(nodes, t, &org.allowed_compartments, 0))
                        }
                        button type="submit" { "Save compartments" }
                    }
                }
                (Some(Err(why)), _) => { div.notice.warn role="status" { "The tenancy's compartments cannot be listed: " (why) } }
                _ => { p.muted { "Only platform admins change it." } }
            }
        }
    };
    Ok(m.shell("Settings", Section::Admin).render(status, body))
}

/// `GET /admin/settings`.
pub async fn page(
    State(state): State<AppState>,
    m: Member,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    require(&m)?;
    render(&state, &m, StatusCode::OK, None, &q.done).await
}

/// `POST /admin/settings/four-eyes` (an unticked box sends nothing: off).
pub async fn four_eyes(
    State(state): State<AppState>,
    m: Member,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Pairs(pairs);
    m.check_form(f.get("csrf"))?;
    let on = f.get("fourEyes") == "on";
    members::set_four_eyes(&state.ctx(&m.caller), &m.principal, on).await?;
    Ok(see_other("/admin/settings?done=four-eyes"))
}

/// `POST /admin/settings/password-sign-in` (an unticked box: off, refused
/// with the reason unless single sign-on works).
pub async fn password_sign_in(
    State(state): State<AppState>,
    m: Member,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Pairs(pairs);
    m.check_form(f.get("csrf"))?;
    let on = f.get("passwordSignIn") == "on";
    let ctx = state.ctx(&m.caller);
    match state.app.set_password_sign_in(&ctx, &m.principal, on).await {
        Ok(()) => Ok(see_other("/admin/settings?done=password")),
        Err(e) => {
            let problem = form_problem(e)?;
            render(&state, &m, StatusCode::BAD_REQUEST, Some(&problem), "").await
        }
    }
}

/// `POST /admin/settings/compartments` (platform admins).
pub async fn assign(
    State(state): State<AppState>,
    m: Member,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Pairs(pairs);
    m.check_form(f.get("csrf"))?;
    let org = m.principal.org()?.id.clone();
    let tenancy = state.cloud.get().map(|c| c.tenancy.as_str());
    let chosen = f.all("compartment");
    match compartments::assign(&state.ctx(&m.caller), &m.principal, &org, &chosen, tenancy).await {
        Ok(_) => Ok(see_other("/admin/settings?done=compartments")),
        Err(e) => {
            let problem = form_problem(e)?;
            render(&state, &m, StatusCode::BAD_REQUEST, Some(&problem), "").await
        }
    }
}
