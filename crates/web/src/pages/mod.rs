//! The pages, one module per area.

pub mod account;
pub mod activity;
pub mod admin;
pub mod advisor;
pub mod approvals;
pub mod audit;
pub mod chat;
pub mod chat_approval;
mod chat_markdown;
mod chat_messages;
pub mod home;
pub mod invitations;
pub mod login;
pub mod setup;
pub mod sso;
pub mod tools;

use axum::routing::{get, post};
use axum::Router;
use portal_http::AppState;

/// The account, admin, audit and tools pages (one merge into the crate's router).
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(account::page))
        .route("/account/password", post(account::change_password))
        .route("/account/sessions/{id}/revoke", post(account::revoke))
        .route(
            "/account/invitations/{id}/{answer}",
            post(invitations::decide),
        )
        .route("/audit", get(audit::page))
        .route("/tools", get(tools::catalogue))
        .route("/tools/{name}", get(tools::playground).post(tools::run))
        .route("/admin", get(admin::index))
        .route("/org/switch", post(admin::switch))
        .route(
            "/admin/members",
            get(admin::members::page).post(admin::members::add),
        )
        .route("/admin/members/{id}/role", post(admin::members::set_role))
        .route("/admin/members/{id}/remove", post(admin::members::remove))
        .route(
            "/admin/keys",
            get(admin::keys::page).post(admin::keys::create),
        )
        .route("/admin/keys/{id}/revoke", post(admin::keys::revoke))
        .route("/admin/settings", get(admin::settings::page))
        .route("/admin/idp", get(admin::idp::page).post(admin::idp::create))
        .route("/admin/idp/{id}", post(admin::idp::update))
        .route("/admin/idp/{id}/test", post(admin::idp::test))
        .route("/admin/idp/{id}/delete", post(admin::idp::delete))
        .route(
            "/admin/ai-providers",
            get(admin::ai_providers::page).post(admin::ai_providers::create),
        )
        .route(
            "/admin/ai-providers/{id}",
            post(admin::ai_providers::update),
        )
        .route(
            "/admin/ai-providers/{id}/test",
            post(admin::ai_providers::test),
        )
        .route(
            "/admin/ai-providers/{id}/enabled",
            post(admin::ai_providers::set_enabled),
        )
        .route(
            "/admin/ai-providers/{id}/delete",
            post(admin::ai_providers::delete),
        )
        .route(
            "/admin/mcp-servers",
            get(admin::mcp_servers::page).post(admin::mcp_servers::create),
        )
        .route(
            "/admin/mcp-servers/{id}/refresh",
            post(admin::mcp_servers::refresh),
        )
        .route(
            "/admin/mcp-servers/{id}/enabled",
            post(admin::mcp_servers::set_enabled),
        )
        .route(
            "/admin/mcp-servers/{id}/edit",
            post(admin::mcp_servers::edit),
        )
        .route(
            "/admin/mcp-servers/{id}/delete",
            post(admin::mcp_servers::delete),
        )
        .route(
            "/admin/mcp-servers/{id}/risk",
            post(admin::mcp_servers::set_risk),
        )
        .route(
            "/admin/settings/four-eyes",
            post(admin::settings::four_eyes),
        )
        .route(
            "/admin/settings/password-sign-in",
            post(admin::settings::password_sign_in),
        )
        .route(
            "/admin/settings/compartments",
            post(admin::settings::assign),
        )
        .route(
            "/admin/orgs",
            get(admin::orgs::page).post(admin::orgs::create),
        )
        .route(
            "/admin/portal",
            get(admin::portal::page).post(admin::portal::save),
        )
}

/// These pages' paths: each prefix and what is below it (their errors are always pages).
pub const ADMIN_PREFIXES: &[&str] = &["/account", "/admin", "/audit", "/org", "/tools"];

/// Whether `path` is one of these pages.
pub fn is_admin_page(path: &str) -> bool {
    ADMIN_PREFIXES.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}
