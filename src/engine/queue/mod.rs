//! The run queue: runs wait in a FIFO per priority (high, then normal, then low; equal
//! priorities in submission order), at most `[queue] capacity` of them, and start while fewer
//! than `[queue] max_running` run. Every run goes through `run_in` over one shared
//! `RunContext` (transports, fan-out budget, host slots, breaker, locks), so concurrent runs
//! see each other. Waiting runs can be cancelled (recorded as cancelled runs by the engine
//! itself), running ones cancelled, paused and resumed; each of those is audited.
//!
//! Dispatching is done inline, on submit and when a run ends (no dispatcher task, no polling).
//! A submitted run is never lost: it ends in exactly one `RunFinished` on its events channel,
//! whether it ran, was cancelled while waiting, or the front end quit through `shutdown` (a
//! runtime dropped without it takes its runs down with it, and the queue must not hang then).

mod guarded;
mod snapshot;

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::guarded::{record_audit, run_guarded};
pub use self::snapshot::{QueueCounts, QueueSnapshot, QueuedRun, RunningRun, Steer, SubmitError};
use super::context::{RunContext, RunControl};
use super::records::{AuditRecord, Records};
use super::transports::Transports;
use super::types::{EngineEvent, Priority, RunId, RunRequest};
use crate::config::settings::QueueSettings;

/// One queue per front end (the console keeps one for its life). Cloning gives another
/// handle on the same queue.
#[derive(Clone)]
pub struct RunQueue {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: RunContext,
    records: Option<Records>,
    capacity: usize,
    max_running: usize,
    runtime: Handle,
    state: Mutex<State>,
    /// Bumped on every change, so a front end redraws when the queue moves.
    changes: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    next_seq: u64,
    /// Start order: highest priority first, then submission order.
    waiting: BTreeMap<(Reverse<Priority>, u64), Waiting>,
    /// Start order.
    running: Vec<Running>,
    /// Tasks of runs on the engine (running, or being recorded as cancelled), for shutdown.
    tasks: Vec<JoinHandle<()>>,
    closed: bool,
}

struct Waiting {
    req: RunRequest,
    transports: Option<Transports>,
    events: mpsc::Sender<EngineEvent>,
    since: SystemTime,
}

/// A run moved to running, to be started once the lock is released.
struct Launch {
    req: RunRequest,
    transports: Option<Transports>,
    events: mpsc::Sender<EngineEvent>,
    control: RunControl,
}

struct Running {
    id: RunId,
    priority: Priority,
    command: String,
    hosts: usize,
    since: SystemTime,
    cancel: CancellationToken,
    pause: watch::Sender<bool>,
    /// Folded node set of the targets, for audit lines about this run.
    targets: String,
}

impl RunQueue {
    /// A queue over `ctx` with the limits of `settings`; runs are recorded through `records`.
    /// Must be called inside the tokio runtime (runs are started on it).
    pub fn new(ctx: RunContext, records: Option<Records>, settings: &QueueSettings) -> Self {
        let (changes, _) = watch::channel(0);
        RunQueue {
            inner: Arc::new(Inner {
                ctx,
                records,
                capacity: settings.capacity.max(1) as usize,
                max_running: settings.max_running.max(1) as usize,
                runtime: Handle::current(),
                state: Mutex::new(State::default()),
                changes,
            }),
        }
    }

    /// Runs that may wait.
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// Runs that run at once.
    pub fn max_running(&self) -> usize {
        self.inner.max_running
    }

    /// Queues `req` over the queue's transports; see [`submit_over`](Self::submit_over).
    pub fn submit(
        &self,
        req: RunRequest,
        events: mpsc::Sender<EngineEvent>,
    ) -> Result<RunId, SubmitError> {
        self.submit_over(req, None, events)
    }

    /// Queues `req`, to run over `transports` if given (a front end whose transports are
    /// built lazily) or the context's. It starts at once when fewer than `max_running` run;
    /// otherwise it waits, unless `capacity` runs already wait: then it is refused and
    /// handed back. An accepted run's events go to `events`, ending with one `RunFinished`.
    pub fn submit_over(
        &self,
        req: RunRequest,
        transports: Option<Transports>,
        events: mpsc::Sender<EngineEvent>,
    ) -> Result<RunId, SubmitError> {
        let id = req.id.clone();
        let launches = {
            let mut st = self.inner.lock();
            if st.closed {
                return Err(SubmitError::Closed {
                    request: Box::new(req),
                });
            }
            let known = st.running.iter().any(|r| r.id == id)
                || st.waiting.values().any(|w| w.req.id == id);
            if known {
                return Err(SubmitError::DuplicateId {
                    request: Box::new(req),
                });
            }
            let can_start = st.running.len() < self.inner.max_running;
            if !can_start && st.waiting.len() >= self.inner.capacity {
                return Err(SubmitError::Full {
                    capacity: self.inner.capacity,
                    request: Box::new(req),
                });
            }
            let seq = st.next_seq;
            st.next_seq += 1;
            st.waiting.insert(
                (Reverse(req.priority), seq),
                Waiting {
                    req,
                    transports,
                    events,
                    since: SystemTime::now(),
                },
            );
            self.inner.dispatch(&mut st)
        };
        self.inner.launch(launches);
        self.inner.changed();
        Ok(id)
    }

    /// Cancels run `id`: a waiting run leaves the queue and is recorded as a cancelled run
    /// (every host skipped, through the engine, so history and audit look like any cancelled
    /// run); a running run's commands are cancelled. False if no such run waits or runs.
    pub fn cancel(&self, id: &str) -> bool {
        self.cancel_noting(id, "requested")
    }

    /// `cancel`, with `how` as the audit line's result for a running run (`requested
    /// (Ctrl-C)`).
    pub fn cancel_noting(&self, id: &str, how: &str) -> bool {
        let audit = {
            let mut st = self.inner.lock();
            if let Some(waiting) = take_waiting(&mut st, id) {
                let audit = AuditRecord::operator("cancel", &waiting.req, "queued run removed");
                self.inner.record_cancelled(&mut st, waiting);
                audit
            } else if let Some(r) = st.running.iter().find(|r| r.id == id) {
                r.cancel.cancel();
                steering("cancel", r, how)
            } else {
                return false;
            }
        };
        record_audit(audit, self.inner.records.as_ref());
        self.inner.changed();
        true
    }

    /// Pauses running run `id` before its next batch (hosts already started finish).
    pub fn pause(&self, id: &str) -> Steer {
        self.steer(id, true)
    }

    /// Lets paused run `id` start its next batch.
    pub fn resume(&self, id: &str) -> Steer {
        self.steer(id, false)
    }

    fn steer(&self, id: &str, pause: bool) -> Steer {
        let audit = {
            let st = self.inner.lock();
            let Some(r) = st.running.iter().find(|r| r.id == id) else {
                return if st.waiting.values().any(|w| w.req.id == id) {
                    Steer::Queued
                } else {
                    Steer::NotFound
                };
            };
            if *r.pause.borrow() == pause {
                return Steer::Unchanged;
            }
            r.pause.send_replace(pause);
            steering(if pause { "pause" } else { "resume" }, r, "requested")
        };
        record_audit(audit, self.inner.records.as_ref());
        self.inner.changed();
        Steer::Requested
    }

    /// Waiting runs in start order and running runs in the order they started.
    pub fn snapshot(&self) -> QueueSnapshot {
        let st = self.inner.lock();
        QueueSnapshot {
            queued: st
                .waiting
                .values()
                .enumerate()
                .map(|(i, w)| QueuedRun {
                    id: w.req.id.clone(),
                    position: i + 1,
                    priority: w.req.priority,
                    command: w.req.display_command.clone(),
                    hosts: w.req.targets.len(),
                    since: w.since,
                })
                .collect(),
            running: st
                .running
                .iter()
                .map(|r| RunningRun {
                    id: r.id.clone(),
                    priority: r.priority,
                    command: r.command.clone(),
                    hosts: r.hosts,
                    since: r.since,
                    paused: *r.pause.borrow(),
                })
                .collect(),
        }
    }

    /// Waiting, running and paused runs, without copying anything.
    pub fn counts(&self) -> QueueCounts {
        let st = self.inner.lock();
        QueueCounts {
            queued: st.waiting.len(),
            running: st.running.len(),
            paused: st.running.iter().filter(|r| *r.pause.borrow()).count(),
        }
    }

    /// Changes whenever a run is queued, starts, ends, is cancelled, paused or resumed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// Refuses new runs, cancels every waiting run (recorded as cancelled) and every running
    /// one, and waits up to `grace` for all of them to be recorded. False if some did not end
    /// in time.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        let audits = {
            let mut st = self.inner.lock();
            st.closed = true;
            let mut audits = Vec::new();
            while let Some((_, waiting)) = st.waiting.pop_first() {
                audits.push(AuditRecord::operator(
                    "cancel",
                    &waiting.req,
                    "queued run removed: the console quit",
                ));
                self.inner.record_cancelled(&mut st, waiting);
            }
            for r in &st.running {
                r.cancel.cancel();
            }
            audits
        };
        for audit in audits {
            record_audit(audit, self.inner.records.as_ref());
        }
        self.inner.changed();
        // A run moved to running just before the close may push its task after this took
        // the list: take it again until it stays empty (nothing new starts once closed).
        let all = async {
            loop {
                let tasks = std::mem::take(&mut self.inner.lock().tasks);
                if tasks.is_empty() {
                    break;
                }
                for task in tasks {
                    if let Err(e) = task.await {
                        tracing::error!(error = %e, "a queued run's task failed");
                    }
                }
            }
        };
        let ended = tokio::time::timeout(grace, all).await.is_ok();
        if !ended {
            tracing::warn!("runs did not stop within {grace:?}");
        }
        ended
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not strand the runs: the state itself stays consistent
        // (every change is a single insert or remove).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Moves waiting runs, best first, to running while fewer than `max_running` run; the
    /// caller starts them with [`launch`](Self::launch) once the lock is released (a task
    /// spawned on a runtime that is shutting down is dropped at once, and its drop comes back
    /// here for the lock).
    fn dispatch(&self, st: &mut State) -> Vec<Launch> {
        st.tasks.retain(|t| !t.is_finished());
        let mut launches = Vec::new();
        while st.running.len() < self.max_running {
            let Some((_, waiting)) = st.waiting.pop_first() else {
                break;
            };
            let Waiting {
                req,
                transports,
                events,
                ..
            } = waiting;
            let (control, pause) = RunControl::new(CancellationToken::new());
            st.running.push(Running {
                id: req.id.clone(),
                priority: req.priority,
                command: req.display_command.clone(),
                hosts: req.targets.len(),
                since: SystemTime::now(),
                cancel: control.cancel.clone(),
                pause,
                targets: req.folded_targets(),
            });
            launches.push(Launch {
                req,
                transports,
                events,
                control,
            });
        }
        launches
    }

    /// Starts the runs `dispatch` moved to running. Never called with the lock held.
    fn launch(self: &Arc<Self>, launches: Vec<Launch>) {
        for Launch {
            req,
            transports,
            events,
            control,
        } in launches
        {
            let ctx = self.context_for(transports);
            let records = self.records.clone();
            let done = Finished {
                inner: Arc::clone(self),
                id: req.id.clone(),
            };
            let (inner, id) = (Arc::clone(self), req.id.clone());
            let task = self.runtime.spawn(async move {
                // Dropped when the task ends, even by a panic: frees the run's place at the
                // latest.
                let _done = done;
                let on_finish = move || inner.finished(&id);
                run_guarded(req, ctx, records, events, control, on_finish).await;
            });
            self.lock().tasks.push(task);
        }
    }

    /// Records `waiting` as a cancelled run: through the engine with a cancelled control, so
    /// every host is skipped before it starts and history and audit have the usual shape.
    fn record_cancelled(&self, st: &mut State, waiting: Waiting) {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let (control, pause) = RunControl::new(cancel);
        let ctx = self.context_for(waiting.transports);
        let records = self.records.clone();
        st.tasks.push(self.runtime.spawn(async move {
            let _pause = pause;
            run_guarded(waiting.req, ctx, records, waiting.events, control, || {}).await;
        }));
    }

    fn context_for(&self, transports: Option<Transports>) -> RunContext {
        match transports {
            Some(transports) => RunContext {
                transports,
                ..self.ctx.clone()
            },
            None => self.ctx.clone(),
        }
    }

    /// Run `id` has ended: its place goes to the next waiting run. Called just before its
    /// `RunFinished` is passed on, and again (doing nothing) when its task ends.
    fn finished(self: &Arc<Self>, id: &str) {
        let launches = {
            let mut st = self.lock();
            let before = st.running.len();
            st.running.retain(|r| r.id != id);
            if st.running.len() == before {
                return;
            }
            if st.closed {
                Vec::new()
            } else {
                self.dispatch(&mut st)
            }
        };
        self.launch(launches);
        self.changed();
    }
}

/// Frees a running run's place when its task ends.
struct Finished {
    inner: Arc<Inner>,
    id: RunId,
}

impl Drop for Finished {
    fn drop(&mut self) {
        self.inner.finished(&self.id);
    }
}

fn take_waiting(st: &mut State, id: &str) -> Option<Waiting> {
    let key = st
        .waiting
        .iter()
        .find(|(_, w)| w.req.id == id)
        .map(|(k, _)| *k)?;
    st.waiting.remove(&key)
}

fn steering(action: &str, r: &Running, result: &str) -> AuditRecord {
    AuditRecord::operator_on(action, &r.id, &r.command, &r.targets, r.hosts, result)
}
