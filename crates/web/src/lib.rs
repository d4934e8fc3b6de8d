//! The web UI: server-rendered pages (maud: templates are Rust, checked by the
//! compiler, escaped by default, with no template files or build step) over
//! the application and the shared HTTP plumbing, and their embedded assets.
//! Pages call core services with the context the app gives, as the signed-in
//! principal; they never reach the store or the JSON API.

pub mod assets;
pub mod errors;
pub mod fields;
pub mod form;
pub mod gateway;
pub mod pages;
pub mod people;
pub mod schema_form;
pub mod shell;
pub mod visit;

use axum::routing::{get, post};
use axum::Router;
use portal_http::AppState;

pub use errors::error_page;

/// The pages and assets, to merge with the API's routes inside [`portal_http::pipeline`]
/// (with [`error_page`] as its error pages).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home::page))
        .route("/login", get(pages::login::page).post(pages::login::submit))
        .route(
            "/logout",
            get(pages::login::confirm).post(pages::login::sign_out),
        )
        .route("/setup", get(pages::setup::page).post(pages::setup::submit))
        .route("/auth/sso/{id}/start", get(pages::sso::start))
        .route("/auth/sso/callback", get(pages::sso::callback))
        .route("/approvals", get(pages::approvals::list))
        .route("/activity", get(pages::activity::page))
        .route("/advisor", get(pages::advisor::list))
        .route("/advisor/run", post(pages::advisor::run))
        .route("/advisor/findings/{id}", get(pages::advisor::finding))
        .route(
            "/advisor/findings/{id}/{decision}",
            post(pages::advisor::decide),
        )
        .route(
            "/approvals/{id}",
            get(pages::approvals::detail).post(pages::approvals::decide),
        )
        .route("/approvals/{id}/card", get(pages::chat_approval::fragment))
        .route("/chat", get(pages::chat::index))
        .route("/chat/{id}", get(pages::chat::session))
        .route("/chat/{id}/rename", post(pages::chat::rename))
        .route("/chat/{id}/delete", post(pages::chat::delete))
        .route("/assets/{file}", get(assets::serve))
        .route("/branding/theme.css", get(shell::theme_css))
        .merge(pages::admin_routes())
}
