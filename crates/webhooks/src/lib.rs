//! Outbound HTTP to destinations an admin or user chose: the SSRF-guarded
//! client. Its DNS resolver is the guard: every address a host name resolves
//! to is judged by [`OutboundPolicy`] when the connection is made, and only
//! the judged addresses are connected to, so an answer that changes between
//! a check and the connect (DNS rebinding) cannot reach an internal host. IP
//! literals (which skip DNS) are judged before the request. Redirects are
//! never followed, proxies never used, bodies read to at most 4 KiB.

mod guard;

pub use guard::{GuardedClient, Lookup, SystemLookup};
