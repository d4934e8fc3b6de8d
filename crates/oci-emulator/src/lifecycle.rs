//! Lazily evaluated lifecycle states.
//!
//! A resource's lifecycle is a short timeline of `(state, effective_from)` steps,
//! e.g. `[(STOPPING, t), (STOPPED, t + delay)]`. The effective state is the last
//! step whose time has passed, so transitions need no background task and stay
//! correct across restarts: they are computed from timestamps whenever the
//! resource is read.

use serde::{Deserialize, Serialize};

use crate::wire::Millis;

/// One step of a lifecycle timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The lifecycle state (`RUNNING`, `AVAILABLE`, ...).
    pub state: String,
    /// When the state takes effect (ms since epoch).
    pub at: Millis,
}

/// A resource's lifecycle timeline; empty for resources without a state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Steps in time order.
    #[serde(default)]
    pub steps: Vec<Step>,
}

impl Lifecycle {
    /// A lifecycle that has been in `state` since `at`.
    pub fn fixed(state: &str, at: Millis) -> Self {
        Self {
            steps: vec![Step {
                state: state.to_string(),
                at,
            }],
        }
    }

    /// A lifecycle walking through `path`, one state every `delay` ms from `now`.
    pub fn path(path: &[&str], now: Millis, delay: Millis) -> Self {
        let mut lc = Self::default();
        lc.transition(path, now, delay);
        lc
    }

    /// True when the resource has no lifecycle at all.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    fn current_index(&self, now: Millis) -> Option<usize> {
        if self.steps.is_empty() {
            return None;
        }
        let idx = self.steps.iter().rposition(|s| s.at <= now).unwrap_or(0);
        Some(idx)
    }

    /// The effective state at `now`.
    pub fn state(&self, now: Millis) -> Option<&str> {
        self.current_index(now)
            .and_then(|i| self.steps.get(i))
            .map(|s| s.state.as_str())
    }

    /// When the effective state at `now` was entered.
    pub fn since(&self, now: Millis) -> Option<Millis> {
        self.current_index(now)
            .and_then(|i| self.steps.get(i))
            .map(|s| s.at)
    }

    /// True when no further transition is scheduled after `now`.
    pub fn is_settled(&self, now: Millis) -> bool {
        self.steps.last().is_none_or(|s| s.at <= now)
    }

    /// When the last scheduled step takes effect (`None` without a lifecycle).
    pub fn settles_at(&self) -> Option<Millis> {
        self.steps.last().map(|s| s.at)
    }

    /// When the resource entered `state` most recently (settled steps only count
    /// once their time has passed).
    pub fn entered(&self, state: &str, now: Millis) -> Option<Millis> {
        self.steps
            .iter()
            .rev()
            .find(|s| s.state == state && s.at <= now)
            .map(|s| s.at)
    }

    /// Replace any pending steps with a walk through `path` starting at `now`.
    /// Past steps stay as history (bounded to [`MAX_HISTORY`] entries), so metrics
    /// and usage can tell when a resource was running.
    pub fn transition(&mut self, path: &[&str], now: Millis, delay: Millis) {
        if let Some(i) = self.current_index(now) {
            self.steps.truncate(i + 1);
        }
        for (n, state) in path.iter().enumerate() {
            let offset = delay.saturating_mul(i64::try_from(n).unwrap_or(i64::MAX));
            self.steps.push(Step {
                state: (*state).to_string(),
                at: now.saturating_add(offset),
            });
        }
        // Steps sharing an instant: only the last one is ever visible.
        let mut collapsed: Vec<Step> = Vec::with_capacity(self.steps.len());
        for step in self.steps.drain(..) {
            match collapsed.last_mut() {
                Some(last) if last.at == step.at => *last = step,
                _ => collapsed.push(step),
            }
        }
        if collapsed.len() > MAX_HISTORY {
            let excess = collapsed.len() - MAX_HISTORY;
            collapsed.drain(..excess);
        }
        self.steps = collapsed;
    }

    /// Time ranges `[from, to)` within `[start, end)` during which the state was
    /// one of `states`.
    pub fn periods_in(&self, states: &[&str], start: Millis, end: Millis) -> Vec<(Millis, Millis)> {
        let mut out = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            if !states.contains(&step.state.as_str()) {
                continue;
            }
            let until = self.steps.get(i + 1).map_or(end, |n| n.at.min(end));
            let from = step.at.max(start);
            if from < until {
                out.push((from, until));
            }
        }
        out
    }
}

/// Most lifecycle steps kept per resource.
pub const MAX_HISTORY: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_path_over_time() {
        let lc = Lifecycle::path(&["PROVISIONING", "RUNNING"], 1000, 500);
        assert_eq!(lc.state(1000), Some("PROVISIONING"));
        assert_eq!(lc.state(1499), Some("PROVISIONING"));
        assert_eq!(lc.state(1500), Some("RUNNING"));
        assert!(!lc.is_settled(1200));
        assert!(lc.is_settled(1500));
        assert_eq!(lc.since(2000), Some(1500));
    }

    #[test]
    fn zero_delay_settles_immediately() {
        let mut lc = Lifecycle::fixed("RUNNING", 0);
        lc.transition(&["STOPPING", "STOPPED"], 100, 0);
        assert_eq!(lc.state(100), Some("STOPPED"));
        assert_eq!(lc.entered("RUNNING", 100), Some(0));
    }

    #[test]
    fn transition_keeps_current_as_history() {
        let mut lc = Lifecycle::path(&["PROVISIONING", "RUNNING"], 0, 10);
        lc.transition(&["STOPPING", "STOPPED"], 50, 10);
        assert_eq!(lc.state(49), Some("RUNNING"));
        assert_eq!(lc.state(55), Some("STOPPING"));
        assert_eq!(lc.state(60), Some("STOPPED"));
        assert_eq!(lc.entered("RUNNING", 60), Some(10));
        assert_eq!(lc.periods_in(&["RUNNING"], 0, 100), vec![(10, 50)]);
    }
}
