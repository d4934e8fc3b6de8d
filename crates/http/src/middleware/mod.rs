//! The middleware of the HTTP pipeline (assembled in [`crate::pipeline`]),
//! outermost first: edge (request id → metrics and access log → panic catcher
//! → security headers) → error pages → CORS → maintenance → caller → rate limit → limits
//! (body limit → load shedding → timeout) → routes.

pub mod caller;
pub mod cors;
pub mod edge;
pub mod limits;
pub mod maintenance;
pub mod observe;
pub mod panic;
pub mod rate_limit;
pub mod request_id;
pub mod security;
