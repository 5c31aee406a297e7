//! What runs share while they run side by side: the transports, one fan-out budget, the
//! per-host slots (a host runs one action at a time), the circuit breaker and the lock
//! manager. `fleetdeck run` makes one for its one run; the console's queue keeps one for its
//! life, so concurrent runs see each other.

use std::sync::Arc;

use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;

use super::breaker::Breaker;
use super::host_slots::HostSlots;
use super::locks::LockManager;
use super::transports::Transports;
use crate::config::Settings;

/// Shared by every run started through it.
#[derive(Clone)]
pub struct RunContext {
    pub transports: Transports,
    /// Hosts worked on at once across all runs (`[queue] fanout_budget`); each host holds a
    /// permit while it connects and runs.
    pub budget: Arc<Semaphore>,
    pub host_slots: HostSlots,
    pub breaker: Breaker,
    /// `None`: runs with `requires_lock` are refused (nothing to take the locks with).
    pub locks: Option<Arc<LockManager>>,
}

impl RunContext {
    /// A context over `transports` with the limits of `settings`.
    pub fn new(
        transports: Transports,
        settings: &Settings,
        locks: Option<Arc<LockManager>>,
    ) -> Self {
        Self {
            transports,
            budget: Arc::new(Semaphore::new(settings.queue.fanout_budget.max(1) as usize)),
            host_slots: HostSlots::default(),
            breaker: Breaker::new(&settings.breaker),
            locks,
        }
    }

    /// The budget raised to at least `hosts` (for a context that carries one run, like
    /// `fleetdeck run`: its `--fanout` is the only limit the user asked for). Only before
    /// any run started: the budget is replaced, not resized.
    pub fn with_budget_at_least(mut self, hosts: usize) -> Self {
        let current = self.budget.available_permits();
        if hosts > current {
            self.budget = Arc::new(Semaphore::new(hosts.min(Semaphore::MAX_PERMITS)));
        }
        self
    }

    /// Transports only, default limits: for tests and one-off runs without guard rails.
    pub fn plain(transports: Transports) -> Self {
        Self::new(transports, &Settings::default(), None)
    }
}

/// How a front end steers one run: cancel it, or pause it between batches.
#[derive(Clone)]
pub struct RunControl {
    pub cancel: CancellationToken,
    /// `true`: finish the hosts already started, start no new host (so no new batch) until
    /// it is `false`. A dropped sender counts as `false` for good.
    pub pause: watch::Receiver<bool>,
}

impl RunControl {
    /// A control with a pause that never changes, and its sender.
    pub fn new(cancel: CancellationToken) -> (Self, watch::Sender<bool>) {
        let (tx, rx) = watch::channel(false);
        (Self { cancel, pause: rx }, tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_run_context_widens_its_budget_to_the_fanout() {
        let mut settings = Settings::default();
        settings.queue.fanout_budget = 4;
        let ctx = RunContext::new(Transports::new(), &settings, None);
        assert_eq!(ctx.budget.available_permits(), 4);
        assert_eq!(
            ctx.clone()
                .with_budget_at_least(2)
                .budget
                .available_permits(),
            4
        );
        assert_eq!(
            ctx.with_budget_at_least(500).budget.available_permits(),
            500
        );
    }
}
