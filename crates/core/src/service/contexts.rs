//! Where service contexts come from. The composition root builds one
//! [`Contexts`] per process and hands it to whatever calls services (the
//! adapters through the app, the chat engine), so every [`Ctx`] carries the
//! same store, keys and principal cache: a credential change made from any of
//! them clears the one cache every adapter reads.

use std::net::IpAddr;
use std::sync::Arc;

use super::Ctx;
use crate::crypto::Keys;
use crate::identity::{now_ms, PrincipalCache};
use crate::store::Store;

/// The makings of every [`Ctx`] of this process.
#[derive(Clone)]
pub struct Contexts {
    store: Arc<dyn Store>,
    keys: Keys,
    principals: Arc<PrincipalCache>,
}

impl Contexts {
    /// The process's contexts over its store, keys and principal cache.
    pub fn new(store: Arc<dyn Store>, keys: Keys, principals: Arc<PrincipalCache>) -> Self {
        Self {
            store,
            keys,
            principals,
        }
    }

    /// The context of a call from `ip` with `user_agent`, now.
    pub fn ctx<'a>(&'a self, ip: Option<IpAddr>, user_agent: Option<&'a str>) -> Ctx<'a> {
        Ctx {
            store: self.store.as_ref(),
            keys: &self.keys,
            ip,
            user_agent,
            now: now_ms(),
            principals: Some(&self.principals),
        }
    }

    /// The store behind the contexts.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The keys behind the contexts.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The principal cache behind the contexts.
    pub fn principals(&self) -> &Arc<PrincipalCache> {
        &self.principals
    }
}
