//! Chat: model providers behind one trait, guardrails, and the agent loop.

pub mod chat;
pub mod embed;
pub mod guard;
pub mod provider;
