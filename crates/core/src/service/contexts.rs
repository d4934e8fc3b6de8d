//! Where service contexts come from. The composition root builds one
//! [`Contexts`] per process and hands it to whatever calls services (the
//! adapters through the app, the chat engine), so every [`Ctx`] carries the
//! same store, keys, principal cache and tenancy snapshots: a credential
//! change (or a tool changing the cloud) made from any of them clears the one
//! cache every adapter reads.

use std::net::IpAddr;
use std::sync::Arc;

use super::Ctx;
use crate::crypto::Keys;
use crate::graph::snapshot::Snapshots;
use crate::identity::{now_ms, PrincipalCache};
use crate::store::Store;

/// The makings of every [`Ctx`] of this process.
#[derive(Clone)]
pub struct Contexts {
    store: Arc<dyn Store>,
    keys: Keys,
    principals: Arc<PrincipalCache>,
    tenancy: Arc<Snapshots>,
}

impl Contexts {
    /// The process's contexts over its store, keys, principal cache and
    /// tenancy snapshots.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Keys,
        principals: Arc<PrincipalCache>,
        tenancy: Arc<Snapshots>,
    ) -> Self {
        Self {
            store,
            keys,
            principals,
            tenancy,
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
            tenancy: Some(&self.tenancy),
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

    /// The tenancy snapshots behind the contexts.
    pub fn tenancy(&self) -> &Arc<Snapshots> {
        &self.tenancy
    }

    /// The principal cache behind the contexts.
    pub fn principals(&self) -> &Arc<PrincipalCache> {
        &self.principals
    }
}
