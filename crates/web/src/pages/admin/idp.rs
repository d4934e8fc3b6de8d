//! Identity providers (`/admin/idp`, platform admins): the list, add, edit,
//! test connection (discovery, then the key set) and delete. The client
//! secret is write-only: the form never shows it, only whether one is set.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::service::{members, sso as svc};
use portal_core::sso::{GroupsSource, IdentityProvider};
use portal_core::{CoreError, Secret};
use portal_http::{AppState, HttpError};
use serde::Deserialize;

use super::subnav;
use crate::fields::{form_problem, unplaced, Field, Problem};
use crate::form::PageForm;
use crate::shell::Section;
use crate::visit::{see_other, Member, PageError};

const FIELDS: [&str; 13] = [
    "name",
    "issuer",
    "clientId",
    "clientSecret",
    "scopes",
    "groupsClaim",
    "adminGroups",
    "operatorGroups",
    "orgClaim",
    "orgMap",
    "allowedDomains",
    "orgId",
    "defaultOrgId",
];

fn require(m: &Member) -> Result<(), PageError> {
    if m.principal.is_platform_admin() {
        Ok(())
    } else {
        Err(HttpError::Forbidden("Only platform admins manage identity providers".into()).into())
    }
}

/// The add/edit form's fields (lists as text: one per line or comma).
#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct IdpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    remove_secret: Option<String>,
    #[serde(default)]
    scopes: String,
    #[serde(default)]
    groups_claim: String,
    #[serde(default)]
    groups_source: String,
    #[serde(default)]
    admin_groups: String,
    #[serde(default)]
    operator_groups: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    org_claim: String,
    #[serde(default)]
    org_map: String,
    #[serde(default)]
    default_org_id: String,
    roles_managed: Option<String>,
    jit: Option<String>,
    enabled: Option<String>,
    #[serde(default)]
    allowed_domains: String,
}

fn split(s: &str) -> Vec<String> {
    s.split([',', '\n', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn org_map(s: &str) -> Result<BTreeMap<String, String>, CoreError> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| {
                    CoreError::Validation("orgMap: one `value = organisation id` per line".into())
                })
        })
        .collect()
}

fn opt(s: &str) -> Option<Option<String>> {
    Some(Some(s.trim().to_string()).filter(|v| !v.is_empty()))
}

impl IdpForm {
    fn of(p: &IdentityProvider) -> Self {
        Self {
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            scopes: p.scopes.join(" "),
            groups_claim: p.groups_claim.clone(),
            groups_source: p.groups_source.as_str().into(),
            admin_groups: p.admin_groups.join(", "),
            operator_groups: p.operator_groups.join(", "),
            org_id: p.org_id.clone().map(String::from).unwrap_or_default(),
            org_claim: p.org_claim.clone().unwrap_or_default(),
            org_map: p
                .org_map
                .iter()
                .map(|(k, v)| format!("{k} = {v}\n"))
                .collect(),
            default_org_id: p.default_org_id.clone().unwrap_or_default(),
            roles_managed: p.roles_managed.then(|| "on".into()),
            jit: p.jit.then(|| "on".into()),
            enabled: p.enabled.then(|| "on".into()),
            allowed_domains: p.allowed_domains.join(", "),
            ..Self::default()
        }
    }

    fn fields(&self) -> Result<svc::Fields, CoreError> {
        let secret = if self.remove_secret.is_some() {
            Some(None)
        } else if self.client_secret.is_empty() {
            None
        } else {
            Some(Some(Secret::new(self.client_secret.clone())))
        };
        Ok(svc::Fields {
            org_id: opt(&self.org_id),
            name: Some(self.name.clone()),
            issuer: Some(self.issuer.clone()),
            client_id: Some(self.client_id.clone()),
            client_secret: secret,
            scopes: Some(split(&self.scopes)),
            groups_claim: Some(
                Some(self.groups_claim.trim())
                    .filter(|s| !s.is_empty())
                    .unwrap_or("groups")
                    .to_string(),
            ),
            groups_source: Some(
                Some(self.groups_source.as_str())
                    .filter(|s| !s.is_empty())
                    .unwrap_or("id_token")
                    .to_string(),
            ),
            admin_groups: Some(split(&self.admin_groups)),
            operator_groups: Some(split(&self.operator_groups)),
            org_claim: opt(&self.org_claim),
            org_map: Some(org_map(&self.org_map)?),
            default_org_id: opt(&self.default_org_id),
            roles_managed: Some(self.roles_managed.is_some()),
            jit: Some(self.jit.is_some()),
            allowed_domains: Some(split(&self.allowed_domains)),
            enabled: Some(self.enabled.is_some()),
        })
    }
}

/// What the page shows besides the list.
#[derive(Default)]
struct View {
    /// The provider being edited (`None`: the add form).
    editing: Option<IdentityProvider>,
    form: IdpForm,
    problem: Option<Problem>,
    notice: Option<(bool, String)>,
}

fn org_select(
    id: &str,
    label: &str,
    orgs: &[(String, String)],
    chosen: &str,
    none: &str,
) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(id) {
                option value="" selected[chosen.is_empty()] { (none) }
                @for (oid, name) in orgs { option value=(oid) selected[chosen == oid] { (name) } }
            }
        }
    }
}

fn check(id: &str, label: &str, on: bool) -> Markup {
    html! { label.check { input id=(id) type="checkbox" name=(id) value="on" checked[on]; " " (label) } }
}

fn area(id: &str, label: &str, hint: &str, value: &str, problem: Option<&Problem>) -> Markup {
    let err = problem.and_then(|p| p.on(id));
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            span.hint id={ (id) "-hint" } { (hint) }
            textarea id=(id) name=(id) rows="2" aria-describedby={ (id) "-hint" } { (value) }
            @if let Some(e) = err { p.field-error { (e) } }
        }
    }
}

async fn render(
    state: &AppState,
    m: &Member,
    status: StatusCode,
    v: View,
) -> Result<Response, PageError> {
    let ctx = state.ctx(&m.caller);
    let all = svc::list_all(&ctx, &m.principal).await?;
    let orgs: Vec<(String, String)> = members::list_orgs(&ctx, &m.principal)
        .await?
        .into_iter()
        .map(|o| (o.id.into_string(), o.name))
        .collect();
    let org_name = |id: &Option<portal_core::ids::OrgId>| match id {
        Some(id) => orgs
            .iter()
            .find(|(o, _)| o == id)
            .map_or(id.to_string(), |(_, n)| n.clone()),
        None => "global".into(),
    };
    let p = v.problem.as_ref();
    let f = &v.form;
    let action = match &v.editing {
        Some(e) => format!("/admin/idp/{}", e.id),
        None => "/admin/idp".into(),
    };
    let redirect = portal_app::sso::callback_url(&state.app);
    let after_logout = portal_app::sso::post_logout_url(&state.app);
    let body = html! {
        h1 { "Identity providers" }
        (subnav(&m.principal, "/admin/idp"))
        @if let Some((ok, msg)) = &v.notice {
            div.notice.ok[*ok].error[!*ok] role="status" #idp-notice { (msg) }
        }
        section.card aria-labelledby="idp-h" {
            h2 #idp-h { (all.len()) " provider" @if all.len() != 1 { "s" } }
            p { "Register this redirect URI at each provider: " code #redirect-uri { (redirect) } }
            p { "and this post-logout redirect URI (signing out ends the provider's session too): " code #post-logout-uri { (after_logout) } }
            div.table-wrap {
                table.stack #idps {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Issuer" } th scope="col" { "Organisation" } th scope="col" { "Secret" } th scope="col" { "State" } th scope="col" { "Actions" } } }
                    tbody {
                        @for x in &all {
                            tr {
                                td data-label="Name" { (x.name) }
                                td data-label="Issuer" { code { (x.issuer) } }
                                td data-label="Organisation" { (org_name(&x.org_id)) }
                                td data-label="Secret" { (if x.client_secret_sealed.is_some() { "set" } else { "none" }) }
                                td data-label="State" { (if x.enabled { "enabled" } else { "disabled" }) }
                                td data-label="Actions" {
                                    div.actions {
                                        a.button.secondary href={ "/admin/idp?edit=" (x.id) } { "Edit" }
                                        form method="post" action={ "/admin/idp/" (x.id) "/test" } {
                                            input type="hidden" name="csrf" value=(m.csrf);
                                            button.secondary type="submit" { "Test connection" }
                                        }
                                        form method="post" action={ "/admin/idp/" (x.id) "/delete" } {
                                            input type="hidden" name="csrf" value=(m.csrf);
                                            button.danger type="submit" { "Delete" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="idp-form-h" {
            h2 #idp-form-h { @if let Some(e) = &v.editing { "Edit " (e.name) } @else { "Add a provider" } }
            (unplaced(p, &FIELDS))
            form method="post" action=(action) #idp-form {
                input type="hidden" name="csrf" value=(m.csrf);
                div.grid.two {
                    (Field { name: "name", label: "Name (on the sign-in button)", kind: "text", value: &f.name, hint: None, autocomplete: Some("off"), required: true }.render(p))
                    (Field { name: "issuer", label: "Issuer", kind: "text", value: &f.issuer, hint: Some("Exactly as the provider names itself, e.g. https://idcs-….identity.oraclecloud.com"), autocomplete: Some("off"), required: true }.render(p))
                    (Field { name: "clientId", label: "Client id", kind: "text", value: &f.client_id, hint: None, autocomplete: Some("off"), required: true }.render(p))
                    (Field { name: "clientSecret", label: "Client secret", kind: "password", value: "", hint: Some(if v.editing.as_ref().is_some_and(|e| e.client_secret_sealed.is_some()) { "A secret is set; leave empty to keep it." } else { "Write-only; empty for a public client." }), autocomplete: Some("new-password"), required: false }.render(p))
                    (Field { name: "scopes", label: "Scopes", kind: "text", value: &f.scopes, hint: Some("Besides openid, space separated. OCI IAM: add urn:opc:idm:__myscopes__"), autocomplete: Some("off"), required: false }.render(p))
                    (Field { name: "groupsClaim", label: "Groups claim", kind: "text", value: &f.groups_claim, hint: Some("Default groups"), autocomplete: Some("off"), required: false }.render(p))
                    div.field {
                        label for="groupsSource" { "Groups are read from" }
                        select #groupsSource name="groupsSource" {
                            option value="id_token" selected[f.groups_source != GroupsSource::Userinfo.as_str()] { "the ID token" }
                            option value="userinfo" selected[f.groups_source == GroupsSource::Userinfo.as_str()] { "userinfo" }
                        }
                    }
                    (Field { name: "adminGroups", label: "Admin groups", kind: "text", value: &f.admin_groups, hint: Some("Comma separated"), autocomplete: Some("off"), required: false }.render(p))
                    (Field { name: "operatorGroups", label: "Operator groups", kind: "text", value: &f.operator_groups, hint: Some("Comma separated; anyone else is a viewer"), autocomplete: Some("off"), required: false }.render(p))
                    (org_select("orgId", "Organisation", &orgs, &f.org_id, "Global (map by claim, then the default)"))
                    (Field { name: "orgClaim", label: "Tenant claim", kind: "text", value: &f.org_claim, hint: Some("Global providers: the claim naming the tenant"), autocomplete: Some("off"), required: false }.render(p))
                    (area("orgMap", "Tenant → organisation", "One `claim value = organisation id` per line", &f.org_map, p))
                    (org_select("defaultOrgId", "Default organisation", &orgs, &f.default_org_id, "None"))
                    (Field { name: "allowedDomains", label: "Allowed email domains", kind: "text", value: &f.allowed_domains, hint: Some("Comma separated; empty: any"), autocomplete: Some("off"), required: false }.render(p))
                }
                (check("rolesManaged", "Roles are managed by the provider (manual role changes are refused)", f.roles_managed.is_some()))
                (check("jit", "Create accounts at first sign-in", f.jit.is_some()))
                (check("enabled", "Offer it on the sign-in page", f.enabled.is_some() || v.editing.is_none() && f.name.is_empty()))
                @if v.editing.as_ref().is_some_and(|e| e.client_secret_sealed.is_some()) {
                    (check("removeSecret", "Remove the client secret", false))
                }
                div.actions {
                    button type="submit" { @if v.editing.is_some() { "Save" } @else { "Add provider" } }
                    @if v.editing.is_some() { a.button.secondary href="/admin/idp" { "Cancel" } }
                }
            }
        }
    };
    Ok(m.shell("Identity providers", Section::Admin)
        .render(status, body))
}

/// `?edit=` of the page.
#[derive(Deserialize)]
pub struct Edit {
    edit: Option<String>,
}

/// `GET /admin/idp`.
pub async fn page(
    State(state): State<AppState>,
    m: Member,
    Query(q): Query<Edit>,
) -> Result<Response, PageError> {
    require(&m)?;
    let mut v = View::default();
    if let Some(id) = q.edit {
        let p = svc::get(&state.ctx(&m.caller), &m.principal, &id).await?;
        v.form = IdpForm::of(&p);
        v.editing = Some(p);
    }
    render(&state, &m, StatusCode::OK, v).await
}

async fn save(
    state: &AppState,
    m: &Member,
    id: Option<&str>,
    f: IdpForm,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let ctx = state.ctx(&m.caller);
    let policy = state.settings.outbound.policy();
    let editing = match id {
        Some(id) => Some(svc::get(&ctx, &m.principal, id).await?),
        None => None,
    };
    let done = match (f.fields(), &editing) {
        (Err(e), _) => Err(e),
        (Ok(fields), Some(e)) => svc::update(&ctx, &m.principal, &policy, &e.id, fields).await,
        (Ok(fields), None) => svc::create(&ctx, &m.principal, &policy, fields).await,
    };
    match done {
        Ok(p) => {
            if let Some(e) = &editing {
                state.app.sso_forget(&e.issuer);
            }
            let v = View {
                notice: Some((true, format!("{} is saved.", p.name))),
                ..View::default()
            };
            render(
                state,
                m,
                if editing.is_some() {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                v,
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

/// `POST /admin/idp`: adds a provider.
pub async fn create(
    State(state): State<AppState>,
    m: Member,
    PageForm(f): PageForm<IdpForm>,
) -> Result<Response, PageError> {
    save(&state, &m, None, f).await
}

/// `POST /admin/idp/{id}`: saves a provider.
pub async fn update(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<IdpForm>,
) -> Result<Response, PageError> {
    save(&state, &m, Some(&id), f).await
}

/// A form holding only the session's token.
#[derive(Deserialize)]
pub struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/idp/{id}/test`: discovery, then the keys; the page says which step failed.
pub async fn test(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<TokenOnly>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let ctx = state.ctx(&m.caller);
    let t = state.app.sso_test(&ctx, &m.principal, &id).await?;
    let notice = match t.failed_step {
        None => (true, format!("Connection works: {}.", t.detail)),
        Some(step) => (false, format!("The {step} step failed: {}", t.detail)),
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

/// `POST /admin/idp/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    PageForm(f): PageForm<TokenOnly>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let p = svc::delete(&state.ctx(&m.caller), &m.principal, &id).await?;
    state.app.sso_forget(&p.issuer);
    Ok(see_other("/admin/idp"))
}
