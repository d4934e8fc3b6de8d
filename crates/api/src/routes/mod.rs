//! Feature routers, merged in one place ([`crate::app`]).

pub mod health;
pub mod ops;
