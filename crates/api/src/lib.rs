//! HTTP adapters of the portal: the axum application, its middleware pipeline,
//! error model, OpenAPI document and streaming endpoints. Business rules live in
//! `portal-core`; handlers here parse, call, and map.

pub mod app;
pub mod auth;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod redact;
pub mod routes;
pub mod server;
pub mod state;
pub mod streams;
pub mod time;
pub mod views;

pub use app::{app, build, routes};
pub use error::ApiError;
pub use portal_app::{chat, cloud, metrics};
pub use server::{serve, serve_router, shutdown_signal};
pub use state::AppState;
