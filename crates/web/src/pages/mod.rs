//! The pages, one module per area.

pub mod account;
pub mod activity;
pub mod approvals;
pub mod home;
pub mod login;
pub mod setup;

use axum::routing::{get, post};
use axum::Router;
use portal_http::AppState;

/// The account, admin, audit and tools pages (one merge into the crate's router).
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(account::page))
        .route("/account/password", post(account::change_password))
        .route("/account/sessions/{id}/revoke", post(account::revoke))
}

/// These pages' paths: each prefix and what is below it (their errors are always pages).
pub const ADMIN_PREFIXES: &[&str] = &["/account", "/admin", "/audit", "/tools", "/org"];

/// Whether `path` is one of these pages.
pub fn is_admin_page(path: &str) -> bool {
    ADMIN_PREFIXES.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}
