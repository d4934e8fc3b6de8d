//! The JSON API of the portal: its routes, OpenAPI document, streaming
//! endpoints and MCP server, as adapters over the application. Business rules
//! live in `portal-core`; the shared HTTP plumbing (state, guards, middleware,
//! the error type) in `portal-http`, re-exported here under its old paths.

pub mod app;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;
pub mod time;
pub mod views;

pub use app::{router, routes, with_routes};
pub use error::ApiError;
pub use portal_app::{chat, cloud, metrics};
pub use portal_http::{auth, middleware, redact, state, streams};
pub use portal_http::{serve_router, shutdown_signal};
pub use state::AppState;
