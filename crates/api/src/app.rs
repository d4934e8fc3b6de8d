//! The API's router: feature routes merged in one place, the OpenAPI document,
//! the docs UI and MCP (the pipeline and fallbacks are `portal_http::pipeline`'s).

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::middleware::caller;
use crate::routes::{
    activity, advisor, advisor_schedules, ai_providers, approvals, audit, auth, chat, chat_sdk,
    compartments, events, graph, health, idp, invitations, keys, mcp, mcp_servers, ops, org,
    portal_settings, search, sessions, setup, tools, webhooks, workflow_runs, workflow_stream,
    workflows,
};
use crate::state::AppState;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
/// Where the documentation UI is served.
pub const DOCS_PATH: &str = "/api/docs";

/// Every feature route with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .routes(routes!(health::healthz))
        .routes(routes!(advisor::start, advisor::runs))
        .routes(routes!(advisor::run))
        .routes(routes!(advisor::stream))
        .routes(routes!(advisor::findings))
        .routes(routes!(advisor::finding))
        .routes(routes!(advisor::acknowledge))
        .routes(routes!(advisor::dismiss))
        .routes(routes!(advisor_schedules::create, advisor_schedules::list))
        .routes(routes!(
            advisor_schedules::get,
            advisor_schedules::update,
            advisor_schedules::delete
        ))
        .routes(routes!(health::health))
        .routes(routes!(health::health_stream))
        .routes(routes!(ops::metrics))
        .routes(routes!(auth::sign_in))
        .routes(routes!(auth::sign_out))
        .routes(routes!(auth::get_session))
        .routes(routes!(auth::change_password))
        .routes(routes!(auth::set_active))
        .routes(routes!(setup::status))
        .routes(routes!(setup::admin))
        .routes(routes!(org::list, org::add))
        .routes(routes!(org::set_role, org::remove))
        .routes(routes!(invitations::mine))
        .routes(routes!(invitations::accept))
        .routes(routes!(invitations::decline))
        .routes(routes!(org::list_orgs, org::create_org))
        .routes(routes!(org::get_settings, org::settings))
        .routes(routes!(compartments::assign))
        .routes(routes!(idp::list, idp::create))
        .routes(routes!(idp::get_one, idp::update, idp::delete))
        .routes(routes!(idp::test))
        .routes(routes!(keys::list, keys::create))
        .routes(routes!(keys::revoke))
        .routes(routes!(sessions::list, sessions::create))
        .routes(routes!(sessions::get, sessions::rename, sessions::delete))
        .routes(routes!(search::search))
        .routes(routes!(activity::list))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
        .routes(routes!(graph::query))
        .routes(routes!(events::list))
        .routes(routes!(tools::list))
        .routes(routes!(tools::get))
        .routes(routes!(tools::execute))
        .routes(routes!(approvals::requirements, approvals::execute))
        .routes(routes!(approvals::pending, approvals::decide))
        .routes(routes!(approvals::review))
        .routes(routes!(chat::chat))
        .routes(routes!(chat::follow))
        .routes(routes!(chat_sdk::stop))
        .routes(routes!(chat::messages))
        .routes(routes!(chat::models))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(
            webhooks::get_one,
            webhooks::update,
            webhooks::delete
        ))
        .routes(routes!(webhooks::rotate))
        .routes(routes!(webhooks::test))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::delivery))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(webhooks::redeliver_since))
        .routes(routes!(workflows::list, workflows::create))
        .routes(routes!(workflows::validate))
        .routes(routes!(
            workflows::get,
            workflows::update,
            workflows::delete
        ))
        .routes(routes!(workflows::export))
        .routes(routes!(workflows::publish))
        .routes(routes!(workflows::archive))
        .routes(routes!(workflows::versions))
        .routes(routes!(workflow_runs::start))
        .routes(routes!(workflow_runs::list_of))
        .routes(routes!(workflow_runs::list))
        .routes(routes!(workflow_runs::get))
        .routes(routes!(workflow_runs::cancel))
        .routes(routes!(workflow_runs::retry))
        .routes(routes!(workflow_runs::approve))
        .routes(routes!(workflow_runs::reject))
        .routes(routes!(workflow_stream::stream))
        .routes(routes!(ai_providers::list, ai_providers::create))
        .routes(routes!(
            ai_providers::get_one,
            ai_providers::update,
            ai_providers::delete
        ))
        .routes(routes!(ai_providers::test))
        .routes(routes!(mcp_servers::list, mcp_servers::create))
        .routes(routes!(
            mcp_servers::get_one,
            mcp_servers::update,
            mcp_servers::delete
        ))
        .routes(routes!(mcp_servers::refresh))
        .routes(routes!(mcp_servers::set_risk))
        .routes(routes!(portal_settings::get, portal_settings::update))
        .routes(routes!(
            portal_settings::get_alias,
            portal_settings::update_alias
        ))
}

/// The API's production router (routes, docs and MCP), without the pipeline:
/// the server merges it with the web UI's and wraps both in [`portal_http::pipeline`].
pub fn router(state: &AppState) -> Router<AppState> {
    with_routes(state, routes())
}

/// The given routes with the OpenAPI document, the docs UI and MCP (tests add
/// probe routes; the server merges the result with the web UI's).
pub fn with_routes(state: &AppState, routes: OpenApiRouter<AppState>) -> Router<AppState> {
    let (router, mut doc) = routes.split_for_parts();
    mcp::document(&mut doc);
    webhooks::alias(&mut doc);
    crate::openapi::finish(&mut doc);
    chat::document_models(&mut doc, &state.settings.ai);
    crate::openapi::require_one_of(
        &mut doc,
        "SetActive",
        &[&["organizationId"], &["organizationSlug"]],
    );
    crate::openapi::require_one_of(
        &mut doc,
        "Decision",
        &[&["approvalId"], &["toolCallId", "requester"]],
    );
    let docs: Router<AppState> = Router::from(SwaggerUi::new(DOCS_PATH).url(OPENAPI_PATH, doc))
        .layer(from_fn_with_state(state.clone(), docs_guard));
    let aliases = workflows::alias(router.clone(), state);
    router
        .merge(aliases)
        .merge(docs)
        .merge(mcp::router(state))
        .merge(webhooks::alias_router())
}

/// The documentation UI: its own CSP (Swagger UI sets inline styles and uses
/// data: images; every asset is served from the binary), and in production it
/// needs `admin:all`.
async fn docs_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_ui = req.uri().path().starts_with(DOCS_PATH);
    if is_ui && state.settings.is_production() {
        let caller = req.extensions().get::<caller::Caller>();
        match caller {
            Some(c) if c.can(portal_core::rbac::Permission::AdminAll) => {}
            Some(c) if c.principal.is_some() => {
                return ApiError::Forbidden("Permission admin:all is required".into())
                    .into_response()
            }
            _ => return ApiError::AuthRequired.into_response(),
        }
    }
    let mut res = next.run(req).await;
    if is_ui {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                 connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
    }
    res
}
