//! AI providers (`/admin/ai-providers`, `admin:all`): the list (the
//! bootstrap provider of `PORTAL_AI_*` read-only), add, edit, test (a
//! one-token completion), enable/disable and delete. The API key is
//! write-only: the form never shows it, only whether one is set.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::ai_providers::{AiProvider, ProviderType, TestStatus};
use portal_core::rbac::Permission;
use portal_core::service::ai_providers::{self as svc, Fields};
use portal_core::Secret;
use portal_http::{AppState, HttpError};
use serde::Deserialize;

use super::{post_button, subnav};
use crate::fields::{form_problem, unplaced, Field, Problem};
use crate::form::PageForm;
use crate::shell::Section;
use crate::visit::{see_other, Member, PageError};

const PATH: &str = "/admin/ai-providers";
const FIELDS: [&str; 6] = [
    "name",
    "type",
    "baseUrl",
    "apiKey",
    "defaultModel",
    "models",
];

fn require(m: &Member) -> Result<(), PageError> {
    if m.principal.can(Permission::AdminAll) {
        Ok(())
    } else {
        Err(HttpError::Forbidden("AI providers need admin:all".into()).into())
    }
}

/// The add/edit form's fields (models as text: comma or one per line).
#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ProviderForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    api_key: String,
    remove_key: Option<String>,
    #[serde(default)]
    default_model: String,
    #[serde(default)]
    models: String,
    enabled: Option<String>,
}

impl ProviderForm {
    fn of(p: &AiProvider) -> Self {
        Self {
            name: p.name.clone(),
            kind: p.kind.as_str().into(),
            base_url: p.base_url.clone(),
            default_model: p.default_model.clone(),
            models: p.models.join(", "),
            enabled: p.enabled.then(|| "on".into()),
            ..Self::default()
        }
    }

    fn fields(&self) -> Fields {
        let api_key = if self.remove_key.is_some() {
            Some(None)
        } else if self.api_key.is_empty() {
            None
        } else {
            Some(Some(Secret::new(self.api_key.clone())))
        };
        Fields {
            name: Some(self.name.clone()),
            kind: Some(self.kind.clone()),
            base_url: Some(self.base_url.clone()),
            api_key,
            models: Some(
                self.models
                    .split([',', '\n', ' '])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            default_model: Some(self.default_model.clone()),
            enabled: Some(self.enabled.is_some()),
        }
    }
}

/// What the page shows besides the list.
#[derive(Default)]
struct View {
    editing: Option<AiProvider>,
    form: ProviderForm,
    problem: Option<Problem>,
    notice: Option<(bool, String)>,
}

fn status(p: &AiProvider) -> String {
    match (p.enabled, p.test_status) {
        (false, _) => "disabled".into(),
        (true, TestStatus::Failed) => format!(
            "failing (hidden): {}",
            p.test_error.as_deref().unwrap_or("test failed")
        ),
        (true, TestStatus::Ok) => "enabled, test passed".into(),
        (true, TestStatus::Untested) => "enabled, untested".into(),
    }
}

fn environment_row(state: &AppState) -> Option<Markup> {
    let ai = &state.settings.ai;
    let kind = ProviderType::of_environment(ai.provider)?;
    Some(html! {
        tr.read-only {
            td data-label="Name" { (portal_ai::provider::ENVIRONMENT_NAME) }
            td data-label="Type" { (kind.as_str()) }
            td data-label="Models" { (ai.model.clone().unwrap_or_default()) @for x in &ai.extra_models { ", " (x) } }
            td data-label="Key" { (if ai.api_key.is_some() { "set" } else { "none" }) }
            td data-label="State" { "environment (read-only)" }
            td data-label="Actions" { "—" }
        }
    })
}

async fn render(
    state: &AppState,
    m: &Member,
    code: StatusCode,
    v: View,
) -> Result<Response, PageError> {
    let all = svc::list(&state.ctx(&m.caller), &m.principal).await?;
    let p = v.problem.as_ref();
    let f = &v.form;
    let action = match &v.editing {
        Some(e) => format!("{PATH}/{}", e.id),
        None => PATH.into(),
    };
    let has_key = v
        .editing
        .as_ref()
        .is_some_and(|e| e.api_key_sealed.is_some());
    let kind = if f.kind.is_empty() {
        ProviderType::OpenAiCompatible.as_str()
    } else {
        f.kind.as_str()
    };
    let body = html! {
        h1 { "AI providers" }
        (subnav(&m.principal, PATH))
        @if let Some((ok, msg)) = &v.notice {
            div.notice.ok[*ok].error[!*ok] role="status" #ai-notice { (msg) }
        }
        section.card aria-labelledby="ai-h" {
            h2 #ai-h { "Providers" }
            p { "Changes reach every replica within seconds. A provider whose test fails is hidden from model pickers until a test passes or its connection changes." }
            div.table-wrap {
                table.stack #ai-providers {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Type" } th scope="col" { "Models" } th scope="col" { "Key" } th scope="col" { "State" } th scope="col" { "Actions" } } }
                    tbody {
                        @if let Some(row) = environment_row(state) { (row) }
                        @for x in all.iter() {
                            tr {
                                td data-label="Name" { (x.name) }
                                td data-label="Type" { (x.kind.as_str()) }
                                td data-label="Models" { (x.model_ids().join(", ")) }
                                td data-label="Key" { (if x.api_key_sealed.is_some() { "set" } else { "none" }) }
                                td data-label="State" { (status(x)) }
                                td data-label="Actions" {
                                    div.actions {
                                        a.button.secondary href={ (PATH) "?edit=" (x.id) } { "Edit" }
                                        (post_button(m, &format!("{PATH}/{}/test", x.id), "Test", "secondary", None))
                                        @if x.enabled {
                                            (post_button(m, &format!("{PATH}/{}/enabled", x.id), "Disable", "secondary", Some(("enabled", "false"))))
                                        } @else {
                                            (post_button(m, &format!("{PATH}/{}/enabled", x.id), "Enable", "secondary", Some(("enabled", "true"))))
                                        }
                                        (post_button(m, &format!("{PATH}/{}/delete", x.id), "Delete", "danger", None))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="ai-form-h" {
            h2 #ai-form-h { @if let Some(e) = &v.editing { "Edit " (e.name) } @else { "Add a provider" } }
            (unplaced(p, &FIELDS))
            form method="post" action=(action) #ai-form {
                input type="hidden" name="csrf" value=(m.csrf);
                div.grid.two {
                    (Field { name: "name", label: "Name", kind: "text", value: &f.name, hint: None, autocomplete: Some("off"), required: true }.render(p))
                    div.field.invalid[p.and_then(|p| p.on("type")).is_some()] {
                        label for="type" { "Type" }
                        select #type name="type" {
                            @for t in ProviderType::ALL {
                                option value=(t.as_str()) selected[kind == t.as_str()] { (t.as_str()) }
                            }
                        }
                        @if let Some(e) = p.and_then(|p| p.on("type")) { p.field-error { (e) } }
                    }
                    (Field { name: "baseUrl", label: "Base URL", kind: "text", value: &f.base_url, hint: Some("https://…; OpenAI-compatible up to /v1; Azure: https://<resource>.openai.azure.com/openai/v1; empty: the provider's own"), autocomplete: Some("off"), required: false }.render(p))
                    (Field { name: "apiKey", label: "API key", kind: "password", value: "", hint: Some(if has_key { "A key is set; leave empty to keep it." } else { "Write-only; required for anthropic and azure-openai." }), autocomplete: Some("new-password"), required: false }.render(p))
                    (Field { name: "defaultModel", label: "Default model", kind: "text", value: &f.default_model, hint: None, autocomplete: Some("off"), required: true }.render(p))
                    (Field { name: "models", label: "Other models", kind: "text", value: &f.models, hint: Some("Comma separated"), autocomplete: Some("off"), required: false }.render(p))
                }
                label.check { input #enabled type="checkbox" name="enabled" value="on" checked[f.enabled.is_some() || v.editing.is_none() && f.name.is_empty()]; " Offer it to chat" }
                @if has_key {
                    label.check { input #removeKey type="checkbox" name="removeKey" value="on"; " Remove the API key" }
                }
                div.actions {
                    button type="submit" { @if v.editing.is_some() { "Save" } @else { "Add provider" } }
                    @if v.editing.is_some() { a.button.secondary href=(PATH) { "Cancel" } }
                }
            }
        }
    };
    Ok(m.shell("AI providers", Section::Admin).render(code, body))
}

/// `?edit=` of the page.
#[derive(Deserialize)]
pub struct Edit {
    edit: Option<String>,
}

/// `GET /admin/ai-providers`.
pub async fn page(
    State(state): State<AppState>,
    m: Member,
    Query(q): Query<Edit>,
) -> Result<Response, PageError> {
    require(&m)?;
    let mut v = View::default();
    if let Some(id) = q.edit {
        let p = svc::get(&state.ctx(&m.caller), &m.principal, &id).await?;
        v.form = ProviderForm::of(&p);
        v.editing = Some(p);
    }
    render(&state, &m, StatusCode::OK, v).await
}

async fn save(
    state: &AppState,
    m: &Member,
    id: Option<&str>,
    f: ProviderForm,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let ctx = state.ctx(&m.caller);
    let editing = match id {
        Some(id) => Some(svc::get(&ctx, &m.principal, id).await?),
        None => None,
    };
    let done = match &editing {
        Some(e) => {
            state
                .app
                .update_ai_provider(&ctx, &m.principal, &e.id, f.fields())
                .await
        }
        None => {
            state
                .app
                .create_ai_provider(&ctx, &m.principal, f.fields())
                .await
        }
    };
    match done {
        Ok(p) => {
            let notice = Some((true, format!("{} is saved.", p.name)));
            let code = if editing.is_some() {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            render(
                state,
                m,
                code,
                View {
                    notice,
                    ..View::default()
                },
            )
            .await
        }
        Err(e) => {
            let v = View {
                editing,
                form: f,
                problem: Some(form_problem(e)?),
                notice: None,
            };
            render(state, m, StatusCode::BAD_REQUEST, v).await
        }
    }
}

/// `POST /admin/ai-providers`: adds a provider.
pub async fn create(
    State(state): State<AppState>,
    m: Member,
    PageForm(f): PageForm<ProviderForm>,
) -> Result<Response, PageError> {
    save(&state, &m, None, f).await
}

/// `POST /admin/ai-providers/{id}`: saves a provider.
pub async fn update(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<ProviderForm>,
) -> Result<Response, PageError> {
    save(&state, &m, Some(&id), f).await
}

/// A form holding the session's token and, for enable/disable, the new state.
#[derive(Deserialize)]
pub struct Action {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    enabled: String,
}

/// `POST /admin/ai-providers/{id}/test`: the page says what the test found.
pub async fn test(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<Action>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let ctx = state.ctx(&m.caller);
    let t = state.app.test_ai_provider(&ctx, &m.principal, &id).await?;
    let notice = match t.error {
        None => (
            true,
            format!("{} answered: the test passed.", t.provider.name),
        ),
        Some(e) => (
            false,
            format!(
                "{} failed the test and is hidden from pickers: {e}",
                t.provider.name
            ),
        ),
    };
    render(
        &state,
        &m,
        StatusCode::OK,
        View {
            notice: Some(notice),
            ..View::default()
        },
    )
    .await
}

/// `POST /admin/ai-providers/{id}/enabled`: enables or disables a provider.
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
        .update_ai_provider(&state.ctx(&m.caller), &m.principal, &id, fields)
        .await?;
    Ok(see_other(PATH))
}

/// `POST /admin/ai-providers/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<Action>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    state
        .app
        .delete_ai_provider(&state.ctx(&m.caller), &m.principal, &id)
        .await?;
    Ok(see_other(PATH))
}
