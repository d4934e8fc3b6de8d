//! The pages, one module per area.

pub mod approvals;
pub mod home;
pub mod login;
pub mod setup;
