//! Streaming (SSE) slots: two pools, so anonymous health feeds can never take
//! the slots chat needs, and per-principal and per-address caps, so one caller
//! cannot hold a whole pool.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::HttpError;
use crate::state::AppState;

/// Which pool a stream draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pool {
    /// Authenticated streams (chat turns, following a session).
    Chat,
    /// The anonymous `/api/health/stream` feed (small pool).
    Health,
}

/// Who holds open streams, for the per-caller caps. Addresses are counted per
/// pool: an address's anonymous health feeds never cost it its chat streams.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    Principal(String),
    Ip(Pool, IpAddr),
}

/// The pools and the per-caller counts.
pub struct StreamLimits {
    chat: Arc<Semaphore>,
    health: Arc<Semaphore>,
    per_principal: usize,
    per_ip: usize,
    held: Arc<Mutex<HashMap<Holder, usize>>>,
}

/// Why a slot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The pool is full (503 `OVERLOADED`).
    PoolFull,
    /// This caller already holds its share (429 `RATE_LIMITED`).
    CallerCap,
}

impl From<Refusal> for HttpError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::PoolFull => HttpError::Overloaded,
            Refusal::CallerCap => HttpError::RateLimited(1),
        }
    }
}

impl StreamLimits {
    /// Pools of `chat` and `health` slots; caps per principal and per address.
    pub fn new(chat: usize, health: usize, per_principal: usize, per_ip: usize) -> Self {
        Self {
            chat: Arc::new(Semaphore::new(chat)),
            health: Arc::new(Semaphore::new(health)),
            per_principal,
            per_ip,
            held: Arc::default(),
        }
    }

    /// Slots still free in `pool`.
    pub fn available(&self, pool: Pool) -> usize {
        self.pool(pool).available_permits()
    }

    fn pool(&self, pool: Pool) -> &Arc<Semaphore> {
        match pool {
            Pool::Chat => &self.chat,
            Pool::Health => &self.health,
        }
    }

    /// Takes a slot for a stream of `principal` (if any) from `ip`, or says why not.
    /// The caller caps are checked first, so a capped caller does not touch the pool.
    pub fn acquire(
        &self,
        pool: Pool,
        principal: Option<&str>,
        ip: IpAddr,
    ) -> Result<Lease, Refusal> {
        let mut holders = vec![(Holder::Ip(pool, ip), self.per_ip)];
        if let Some(p) = principal {
            holders.push((Holder::Principal(p.to_string()), self.per_principal));
        }
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if holders
            .iter()
            .any(|(h, cap)| held.get(h).copied().unwrap_or(0) >= *cap)
        {
            return Err(Refusal::CallerCap);
        }
        let permit = self
            .pool(pool)
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::PoolFull)?;
        let holders: Vec<Holder> = holders.into_iter().map(|(h, _)| h).collect();
        for h in &holders {
            *held.entry(h.clone()).or_insert(0) += 1;
        }
        Ok(Lease {
            held: self.held.clone(),
            holders,
            _permit: permit,
        })
    }
}

/// A pool permit and the caller counts it raised; dropping it gives both back.
pub struct Lease {
    held: Arc<Mutex<HashMap<Holder, usize>>>,
    holders: Vec<Holder>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        for h in &self.holders {
            if let Some(n) = held.get_mut(h) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    held.remove(h);
                }
            }
        }
    }
}

/// Holds a streaming slot (and the open-streams gauge) while a stream is open.
pub struct Slot {
    state: AppState,
    _lease: Lease,
}

impl Slot {
    /// Takes a slot or answers 503 (pool full) / 429 (caller cap), counted in
    /// `requests_shed_total{reason="streams"|"stream_cap"}`.
    pub fn take(
        state: &AppState,
        pool: Pool,
        principal: Option<&str>,
        ip: IpAddr,
    ) -> Result<Self, HttpError> {
        let lease = state.streams.acquire(pool, principal, ip).map_err(|r| {
            let reason = match r {
                Refusal::PoolFull => "streams",
                Refusal::CallerCap => "stream_cap",
            };
            state.metrics.shed.with_label_values(&[reason]).inc();
            HttpError::from(r)
        })?;
        state.metrics.streams_open.inc();
        Ok(Slot {
            state: state.clone(),
            _lease: lease,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.state.metrics.streams_open.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_caller_and_pools_apart() {
        let l = StreamLimits::new(4, 2, 2, 3);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 2].into();
        let h1 = l.acquire(Pool::Health, None, ip).unwrap();
        let _h2 = l.acquire(Pool::Health, None, other).unwrap();
        assert_eq!(
            l.acquire(Pool::Health, None, other).err(),
            Some(Refusal::PoolFull)
        );
        // The chat pool is untouched by a full health pool.
        let c1 = l.acquire(Pool::Chat, Some("p"), ip).unwrap();
        let _c2 = l
            .acquire(Pool::Chat, Some("p"), [10, 0, 0, 3].into())
            .unwrap();
        assert_eq!(
            l.acquire(Pool::Chat, Some("p"), [10, 0, 0, 4].into()).err(),
            Some(Refusal::CallerCap),
            "per principal"
        );
        let _c3 = l.acquire(Pool::Chat, Some("q"), ip).unwrap();
        let c4 = l.acquire(Pool::Chat, Some("r"), ip).unwrap();
        assert_eq!(
            l.acquire(Pool::Chat, Some("s"), ip).err(),
            Some(Refusal::CallerCap),
            "per address, in the chat pool"
        );
        drop(c1);
        drop(c4);
        drop(h1);
        assert!(l.acquire(Pool::Chat, Some("s"), ip).is_ok());
        assert_eq!(l.available(Pool::Health), 1);
    }
}
