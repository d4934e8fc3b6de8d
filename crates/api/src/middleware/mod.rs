//! The HTTP pipeline, outermost first: request id → observe (metrics, access
//! log) → security headers → CORS → caller → rate limit → body limit → timeout
//! → load shedding → routes.

pub mod caller;
pub mod cors;
pub mod limits;
pub mod observe;
pub mod panic;
pub mod rate_limit;
pub mod request_id;
pub mod security;
