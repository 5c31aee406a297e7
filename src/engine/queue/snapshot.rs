//! What the queue tells front ends: a snapshot of waiting and running runs, cheap counts for a
//! status bar, and why a submission or a pause was refused.

use std::fmt;
use std::time::SystemTime;

use crate::engine::types::{Priority, RunId, RunRequest};

/// A run waiting its turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRun {
    pub id: RunId,
    /// 1 starts next.
    pub position: usize,
    pub priority: Priority,
    pub command: String,
    pub hosts: usize,
    /// When it was submitted.
    pub since: SystemTime,
}

/// A run the engine is working on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningRun {
    pub id: RunId,
    pub priority: Priority,
    pub command: String,
    pub hosts: usize,
    /// When it started.
    pub since: SystemTime,
    /// Asked to pause: hosts already started finish, no new batch starts.
    pub paused: bool,
}

/// The queue at one moment: waiting runs in the order they will start, running runs in the
/// order they started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueSnapshot {
    pub queued: Vec<QueuedRun>,
    pub running: Vec<RunningRun>,
}

impl QueueSnapshot {
    pub fn queued_run(&self, id: &str) -> Option<&QueuedRun> {
        self.queued.iter().find(|q| q.id == id)
    }

    pub fn running_run(&self, id: &str) -> Option<&RunningRun> {
        self.running.iter().find(|r| r.id == id)
    }

    pub fn counts(&self) -> QueueCounts {
        QueueCounts {
            queued: self.queued.len(),
            running: self.running.len(),
            paused: self.running.iter().filter(|r| r.paused).count(),
        }
    }
}

/// Runs waiting, running and (of those) paused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub queued: usize,
    pub running: usize,
    pub paused: usize,
}

/// Why a run was not accepted. The request comes back whole: nothing is lost, and nothing of
/// it has run or been recorded as run.
#[derive(Debug)]
pub enum SubmitError {
    /// `capacity` runs already wait.
    Full {
        capacity: usize,
        request: Box<RunRequest>,
    },
    /// A run with this id is already waiting or running.
    DuplicateId { request: Box<RunRequest> },
    /// The queue is shutting down (the console is quitting).
    Closed { request: Box<RunRequest> },
    /// The transports its hosts need could not be set up (a broken ssh config: `reason`
    /// names file and line).
    NoTransport {
        reason: String,
        request: Box<RunRequest>,
    },
}

impl SubmitError {
    /// The refused request, to retry later or show.
    pub fn into_request(self) -> RunRequest {
        match self {
            SubmitError::Full { request, .. }
            | SubmitError::DuplicateId { request }
            | SubmitError::Closed { request }
            | SubmitError::NoTransport { request, .. } => *request,
        }
    }
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Full { capacity, .. } => {
                write!(f, "queue full ({capacity} waiting): cancel or wait")
            }
            SubmitError::DuplicateId { request } => write!(
                f,
                "run {} is already queued or running: not submitted twice",
                request.id
            ),
            SubmitError::Closed { .. } => {
                write!(f, "the queue is shutting down: the run was not started")
            }
            SubmitError::NoTransport { reason, .. } => f.write_str(reason),
        }
    }
}

impl std::error::Error for SubmitError {}

/// What a pause or resume did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steer {
    /// Asked: the run pauses before its next batch, or resumes.
    Requested,
    /// The run was already paused (pause) or not paused (resume).
    Unchanged,
    /// The run is still waiting: only running runs pause (a waiting one can be cancelled).
    Queued,
    /// No such run waiting or running (it has finished, or never was submitted here).
    NotFound,
}
