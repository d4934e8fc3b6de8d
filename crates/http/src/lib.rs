//! The axum plumbing the JSON API (`portal-api`) and the web UI (`portal-web`)
//! share: the HTTP state around the application, caller resolution and route
//! guards (`Require<P>`, the cookie session's Origin rule), request ids, rate
//! limits, load shedding, security headers, the one error type and its
//! rendering (JSON, or a page through [`pipeline::ErrorPages`]), the
//! middleware pipeline and serving. No routes of its own.

pub mod auth;
pub mod error;
pub mod middleware;
pub mod pipeline;
pub mod proxy;
pub mod redact;
pub mod server;
pub mod state;
pub mod streams;

pub use error::{ErrorInfo, HttpError};
pub use pipeline::{json_only, pipeline, BodyLimit, ErrorPages};
pub use server::{serve_router, shutdown_signal};
pub use state::AppState;
