//! Remote MCP servers (`/admin/mcp-servers`, `admin:all`): the
//! organisation's servers with their health and tools, each tool's risk
//! (default `confirm`), add (connected at once), refresh, connect/disconnect
//! and delete. Credentials are write-only: the page says only whether some
//! are stored. Only Streamable HTTP servers can be added here; stdio servers
//! (from the configuration file) are shown read-only, with a refresh.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use portal_core::mcp::{remote_spec, Health, McpServer, Transport};
use portal_core::rbac::Permission;
use portal_core::service::mcp_servers::Fields;
use portal_core::tools::Risk;
use portal_core::{CoreError, Secret};
use portal_http::{AppState, HttpError};
use serde::Deserialize;

use super::{post_button, subnav};
use crate::fields::{form_problem, unplaced, Field, Problem};
use crate::form::PageForm;
use crate::shell::Section;
use crate::visit::{see_other, Member, PageError};

const PATH: &str = "/admin/mcp-servers";
const FIELDS: [&str; 4] = ["name", "url", "bearer", "headers"];

fn require(m: &Member) -> Result<(), PageError> {
    if m.principal.can(Permission::AdminAll) {
        Ok(())
    } else {
        Err(HttpError::Forbidden("MCP servers need admin:all".into()).into())
    }
}

/// The add form (headers as `Name: value`, one per line).
#[derive(Deserialize, Default, Clone)]
pub struct ServerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    bearer: String,
    #[serde(default)]
    headers: String,
}

impl ServerForm {
    /// What an edit changes: the URL, and the credentials only when typed
    /// (blank keeps the sealed ones, which the page never shows).
    fn edits(&self) -> Result<Fields, CoreError> {
        let mut f = self.fields()?;
        f.name = None;
        f.enabled = None;
        if self.url.trim().is_empty() {
            f.url = None;
        }
        Ok(f)
    }

    fn fields(&self) -> Result<Fields, CoreError> {
        let mut headers = BTreeMap::new();
        for line in self
            .headers
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let (k, v) = line.split_once(':').ok_or_else(|| {
                CoreError::Validation("headers: one `Name: value` per line".into())
            })?;
            headers.insert(k.trim().to_string(), Secret::new(v.trim().to_string()));
        }
        Ok(Fields {
            name: Some(self.name.clone()),
            url: Some(self.url.clone()),
            bearer: (!self.bearer.trim().is_empty())
                .then(|| Some(Secret::new(self.bearer.clone()))),
            headers: (!headers.is_empty()).then_some(headers),
            enabled: Some(true),
        })
    }
}

fn state_of(s: &McpServer) -> String {
    match (s.enabled, s.health) {
        (false, _) => "disconnected".into(),
        (true, Health::Ok) => format!("connected, {} tool(s)", s.tools.len()),
        (true, Health::Unknown) => "not connected yet".into(),
        (true, Health::Failed) => format!(
            "failing (tools unavailable): {}",
            s.last_error.as_deref().unwrap_or("the connection failed")
        ),
    }
}

fn tools_table(m: &Member, s: &McpServer) -> maud::Markup {
    html! {
        table.stack.mcp-tools {
            thead { tr { th scope="col" { "Tool" } th scope="col" { "Description" } th scope="col" { "Risk" } } }
            tbody {
                @for t in &s.tools {
                    @let risk = s.risk_of(&t.name);
                    tr {
                        td data-label="Tool" {
                            code { (remote_spec(&s.name, t, risk).map(|x| x.name.to_string()).unwrap_or_else(|| format!("{} (not offered)", t.name))) }
                        }
                        td data-label="Description" { (t.description) }
                        td data-label="Risk" {
                            @if s.transport == Transport::Stdio {
                                (risk.as_str())
                            } @else {
                            form.inline method="post" action={ (PATH) "/" (s.id) "/risk" } {
                                input type="hidden" name="csrf" value=(m.csrf);
                                input type="hidden" name="tool" value=(t.name);
                                select name="risk" aria-label={ "Risk of " (t.name) } {
                                    @for r in [Risk::Read, Risk::Confirm, Risk::Danger] {
                                        option value=(r.as_str()) selected[r == risk] { (r.as_str()) }
                                    }
                                }
                                button.secondary type="submit" { "Set" }
                            }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn render(
    state: &AppState,
    m: &Member,
    code: StatusCode,
    form: &ServerForm,
    problem: Option<&Problem>,
    notice: Option<(bool, String)>,
) -> Result<Response, PageError> {
    let all = state
        .app
        .list_mcp_servers(&state.ctx(&m.caller), &m.principal)
        .await?;
    let p = problem;
    let body = html! {
        h1 { "MCP servers" }
        (subnav(&m.principal, PATH))
        @if let Some((ok, msg)) = &notice {
            div.notice.ok[*ok].error[!*ok] role="status" #mcp-notice { (msg) }
        }
        section.card aria-labelledby="mcp-h" {
            h2 #mcp-h { "Servers" }
            p { "Their tools join this organisation's catalogue as server__tool and run through the same approvals as the cloud tools. A tool needs an approval (confirm) until you choose another risk." }
            @if all.is_empty() { p #mcp-empty { "No MCP server is connected." } }
            @for s in &all {
                article.mcp-server id={ "mcp-" (s.name) } {
                    h3 { (s.name) }
                    @if s.transport == Transport::Stdio {
                        p.mcp-stdio { "stdio · " code { (s.url) } " · from the configuration file (read-only) · " span.mcp-state { (state_of(s)) } }
                        div.actions {
                            (post_button(m, &format!("{PATH}/{}/refresh", s.id), "Restart", "secondary", None))
                        }
                    } @else {
                    p { code { (s.url) } " · credentials: " (if s.credentials_sealed.is_some() { "set" } else { "none" }) " · " span.mcp-state { (state_of(s)) } }
                    div.actions {
                        (post_button(m, &format!("{PATH}/{}/refresh", s.id), "Refresh", "secondary", None))
                        @if s.enabled {
                            (post_button(m, &format!("{PATH}/{}/enabled", s.id), "Disconnect", "secondary", Some(("enabled", "false"))))
                        } @else {
                            (post_button(m, &format!("{PATH}/{}/enabled", s.id), "Connect", "secondary", Some(("enabled", "true"))))
                        }
                        (post_button(m, &format!("{PATH}/{}/delete", s.id), "Delete", "danger", None))
                    }
                    }
                    @if s.transport == Transport::StreamableHttp {
                        details.mcp-edit {
                            summary { "Edit " (s.name) }
                            form method="post" action={ (PATH) "/" (s.id) "/edit" } {
                                input type="hidden" name="csrf" value=(m.csrf);
                                div.grid.two {
                                    div.field {
                                        label for={ "url-" (s.name) } { "URL" }
                                        input type="text" id={ "url-" (s.name) } name="url" value=(s.url) autocomplete="off";
                                    }
                                    div.field {
                                        label for={ "bearer-" (s.name) } { "Bearer token" }
                                        input type="password" id={ "bearer-" (s.name) } name="bearer" value="" autocomplete="new-password";
                                        p.hint { "Blank keeps the stored one (never shown)" }
                                    }
                                }
                                div.field {
                                    label for={ "headers-" (s.name) } { "Headers" }
                                    textarea id={ "headers-" (s.name) } name="headers" rows="2" placeholder="X-Api-Key: …" {}
                                    p.hint { "Blank keeps the stored ones (never shown); typed ones replace them" }
                                }
                                div.actions { button type="submit" { "Save and reconnect" } }
                            }
                        }
                    }
                    @if !s.tools.is_empty() { div.table-wrap { (tools_table(m, s)) } }
                }
            }
        }
        section.card aria-labelledby="mcp-form-h" {
            h2 #mcp-form-h { "Connect a server" }
            p { "Streamable HTTP only; servers spoken to over stdio come from the configuration file." }
            (unplaced(p, &FIELDS))
            form method="post" action=(PATH) #mcp-form {
                input type="hidden" name="csrf" value=(m.csrf);
                div.grid.two {
                    (Field { name: "name", label: "Name", kind: "text", value: &form.name, hint: Some("a-z, 0-9 and '-'; the prefix of its tools"), autocomplete: Some("off"), required: true }.render(p))
                    (Field { name: "url", label: "URL", kind: "text", value: &form.url, hint: Some("https://…/mcp"), autocomplete: Some("off"), required: true }.render(p))
                    (Field { name: "bearer", label: "Bearer token", kind: "password", value: "", hint: Some("Write-only; sent as Authorization: Bearer"), autocomplete: Some("new-password"), required: false }.render(p))
                }
                div.field.invalid[p.and_then(|p| p.on("headers")).is_some()] {
                    label for="headers" { "Headers" }
                    textarea #headers name="headers" rows="2" placeholder="X-Api-Key: …" {}
                    p.hint { "Write-only; one Name: value per line" }
                    @if let Some(e) = p.and_then(|p| p.on("headers")) { p.field-error { (e) } }
                }
                div.actions { button type="submit" { "Connect server" } }
            }
        }
    };
    Ok(m.shell("MCP servers", Section::Admin).render(code, body))
}

/// `GET /admin/mcp-servers`.
pub async fn page(State(state): State<AppState>, m: Member) -> Result<Response, PageError> {
    require(&m)?;
    render(
        &state,
        &m,
        StatusCode::OK,
        &ServerForm::default(),
        None,
        None,
    )
    .await
}

fn connected(s: &McpServer) -> (bool, String) {
    match s.health {
        Health::Ok => (
            true,
            format!("{} is connected: {} tool(s).", s.name, s.tools.len()),
        ),
        _ => (false, format!("{}: {}", s.name, state_of(s))),
    }
}

/// `POST /admin/mcp-servers`: adds a server and connects to it.
pub async fn create(
    State(state): State<AppState>,
    m: Member,
    PageForm(f): PageForm<ServerForm>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let ctx = state.ctx(&m.caller);
    let done = match f.fields() {
        Ok(fields) => {
            state
                .app
                .create_mcp_server(&ctx, &m.principal, fields)
                .await
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(s) => {
            let empty = ServerForm::default();
            render(
                &state,
                &m,
                StatusCode::CREATED,
                &empty,
                None,
                Some(connected(&s)),
            )
            .await
        }
        Err(e) => {
            let problem = form_problem(e)?;
            render(
                &state,
                &m,
                StatusCode::BAD_REQUEST,
                &f,
                Some(&problem),
                None,
            )
            .await
        }
    }
}

/// A form holding the session's token and what the button changes.
#[derive(Deserialize)]
pub struct Action {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    tool: String,
    #[serde(default)]
    risk: String,
}

/// `POST /admin/mcp-servers/{id}/refresh`: the page says what it found.
pub async fn refresh(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<Action>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let s = state
        .app
        .refresh_mcp_server(&state.ctx(&m.caller), &m.principal, &id)
        .await?;
    let empty = ServerForm::default();
    render(
        &state,
        &m,
        StatusCode::OK,
        &empty,
        None,
        Some(connected(&s)),
    )
    .await
}

/// `POST /admin/mcp-servers/{id}/enabled`: connects or disconnects it.
pub async fn set_enabled(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<Action>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let fields = Fields {
        enabled: Some(f.enabled == "true"),
        ..Fields::default()
    };
    state
        .app
        .update_mcp_server(&state.ctx(&m.caller), &m.principal, &id, fields)
        .await?;
    Ok(see_other(PATH))
}

/// `POST /admin/mcp-servers/{id}/edit`: changes an HTTP server's URL or
/// credentials (connected again at once); the page says what it found.
pub async fn edit(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<ServerForm>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let ctx = state.ctx(&m.caller);
    let done = match f.edits() {
        Ok(fields) => {
            state
                .app
                .update_mcp_server(&ctx, &m.principal, &id, fields)
                .await
        }
        Err(e) => Err(e),
    };
    let empty = ServerForm::default();
    match done {
        Ok(s) => {
            render(
                &state,
                &m,
                StatusCode::OK,
                &empty,
                None,
                Some(connected(&s)),
            )
            .await
        }
        Err(e @ (CoreError::Validation(_) | CoreError::Conflict(_))) => {
            let notice = (false, e.to_string());
            render(
                &state,
                &m,
                StatusCode::BAD_REQUEST,
                &empty,
                None,
                Some(notice),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/mcp-servers/{id}/risk`: sets one tool's risk.
pub async fn set_risk(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<Action>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    state
        .app
        .set_mcp_tool_risk(&state.ctx(&m.caller), &m.principal, &id, &f.tool, &f.risk)
        .await?;
    Ok(see_other(PATH))
}

/// `POST /admin/mcp-servers/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<Action>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    state
        .app
        .delete_mcp_server(&state.ctx(&m.caller), &m.principal, &id)
        .await?;
    Ok(see_other(PATH))
}
