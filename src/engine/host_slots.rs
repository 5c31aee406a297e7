//! One action at a time per host, across the concurrent runs of one `RunContext`: a host task
//! takes its host's slot before anything else and gives it back when the host is done.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// Per-host slots shared by the runs of one `RunContext`.
#[derive(Clone, Default)]
pub struct HostSlots {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Host name → the run holding it.
    held: Mutex<HashMap<String, String>>,
    /// Woken when any slot is given back.
    freed: Notify,
}

/// A held slot; dropping it gives the slot back.
pub struct SlotGuard {
    inner: Arc<Inner>,
    host: String,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.inner.lock().remove(&self.host);
        self.inner.freed.notify_waiters();
    }
}

/// The outcome of [`HostSlots::try_take`].
pub enum Take {
    Taken(SlotGuard),
    /// The run id holding the host.
    Busy(String),
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl HostSlots {
    /// Takes `host`'s slot for `run` if it is free.
    pub fn try_take(&self, host: &str, run: &str) -> Take {
        let mut held = self.inner.lock();
        if let Some(holder) = held.get(host) {
            return Take::Busy(holder.clone());
        }
        held.insert(host.to_string(), run.to_string());
        Take::Taken(SlotGuard {
            inner: Arc::clone(&self.inner),
            host: host.to_string(),
        })
    }

    /// Takes `host`'s slot for `run`, waiting for it to be free. Cancel by dropping the
    /// future.
    pub async fn take(&self, host: &str, run: &str) -> SlotGuard {
        loop {
            // Registered before looking, so a release between the look and the wait is seen.
            let freed = self.inner.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Take::Taken(guard) = self.try_take(host, run) {
                return guard;
            }
            freed.await;
        }
    }

    /// The run holding `host`, if any.
    pub fn holder(&self, host: &str) -> Option<String> {
        self.inner.lock().get(host).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_run_per_host() {
        let slots = HostSlots::default();
        let Take::Taken(a) = slots.try_take("web1", "run-a") else {
            panic!("free slot")
        };
        assert!(matches!(slots.try_take("web1", "run-b"), Take::Busy(r) if r == "run-a"));
        // Another host is independent.
        let Take::Taken(_other) = slots.try_take("web2", "run-b") else {
            panic!("free slot")
        };
        let waiter = {
            let slots = slots.clone();
            tokio::spawn(async move { slots.take("web1", "run-b").await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        assert_eq!(slots.holder("web1").as_deref(), Some("run-a"));
        drop(a);
        let b = tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(slots.holder("web1").as_deref(), Some("run-b"));
        drop(b);
        assert_eq!(slots.holder("web1"), None);
    }
}
