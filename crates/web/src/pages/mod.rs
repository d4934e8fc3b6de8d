//! The pages, one module per area.

pub mod activity;
pub mod approvals;
pub mod chat;
pub mod chat_approval;
mod chat_markdown;
mod chat_messages;
pub mod home;
pub mod login;
pub mod setup;
