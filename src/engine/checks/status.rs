//! What the checks found last, for front ends to show (a later view reads it through
//! `FleetSession::checks`): per check, per host, the last result, since when it has held,
//! and the host's circuit breaker. Written by the runners after each round; readers take a
//! copy (`CheckBoard::snapshot`) and hold no lock while drawing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use serde::Serialize;

use crate::engine::breaker::BreakerState;

/// One host's last result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result", content = "error")]
pub enum HostResult {
    Passed,
    /// The first error, shortened and without control characters.
    Failed(String),
}

/// One host of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostCheck {
    pub result: HostResult,
    /// When `result` began (the first round of a failure streak, or the pass after one).
    pub since: SystemTime,
    /// When the host was last probed (a host skipped by an open breaker keeps its older
    /// result and time).
    pub probed: SystemTime,
    pub breaker: BreakerState,
    /// Consecutive failures the breaker counts.
    pub failures: u32,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckStatus {
    /// `http` or `action`.
    pub kind: &'static str,
    /// When its last round ended; `None` before the first.
    pub last_round: Option<SystemTime>,
    /// Why the last round could not run at all (an action that cannot be built, a queue
    /// that refused it); the hosts keep their older results.
    pub problem: Option<String>,
    pub hosts: BTreeMap<String, HostCheck>,
}

/// Every check's status, shared between the runners and readers. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CheckBoard {
    inner: Arc<Mutex<BTreeMap<String, CheckStatus>>>,
}

impl CheckBoard {
    /// A copy of every check's status, by check name.
    pub fn snapshot(&self) -> BTreeMap<String, CheckStatus> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// One check's status.
    pub fn get(&self, check: &str) -> Option<CheckStatus> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(check)
            .cloned()
    }

    pub(crate) fn set(&self, check: &str, status: CheckStatus) {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(check.to_string(), status);
    }
}
