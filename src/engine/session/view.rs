//! What a session knows of the fleet, shared with its readers: each host's link state, the
//! queue, recent runs, the newest heartbeat per agent host, and a change counter. The session
//! (or a standalone reader's collectors) writes it; readers only copy snapshots out of it.
//! Bounded by the host count and `RECENT_RUNS`, never by uptime.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::feed::FeedHub;
use super::incident_feed::IncidentsFrame;
use crate::engine::queue::QueueSnapshot;
use crate::engine::types::RunResult;
use crate::inventory::Host;
use crate::metrics::{Availability, Closed, FleetMetrics, MetricsFrame, Point, Sample, Window};
use crate::transport::ConnState;
use crate::transport::agent::HostMetrics;

/// Finished averages waiting for metrics/*.jsonl at most (an hour of 1,000 hosts' minutes).
const MAX_PENDING_CLOSED: usize = 60_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Finished runs a snapshot carries, newest last.
pub const RECENT_RUNS: usize = 50;

/// The fleet at one moment. Cheap to take: runs are shared, not copied.
#[derive(Debug, Clone, Default)]
pub struct FleetSnapshot {
    /// Each host's link, by name (local hosts `Local`; hosts nobody tracks `NotTracked`).
    pub connections: HashMap<String, ConnState>,
    /// Runs waiting and running (empty for a standalone reader: it runs nothing).
    pub queue: QueueSnapshot,
    /// Finished runs, oldest first, at most `RECENT_RUNS`.
    pub recent: Vec<Arc<RunResult>>,
    /// The newest heartbeat of each agent host that sent one.
    pub heartbeats: HashMap<String, HostMetrics>,
    /// Each host's newest metrics and trend (shared, never copied per snapshot).
    pub metrics: Arc<MetricsFrame>,
    /// Active incidents and the newest resolved ones, as the book last read (shared).
    pub incidents: Arc<IncidentsFrame>,
    /// Why some transport could not be set up (a broken ssh config, with file:line), if so.
    pub problem: Option<String>,
    /// When the newest information arrived.
    pub updated: Option<SystemTime>,
}

#[derive(Default)]
struct State {
    connections: HashMap<String, ConnState>,
    queue: QueueSnapshot,
    recent: VecDeque<Arc<RunResult>>,
    heartbeats: HashMap<String, HostMetrics>,
    metrics: Arc<MetricsFrame>,
    incidents: Arc<IncidentsFrame>,
    problem: Option<String>,
    updated: Option<SystemTime>,
}

/// The shared picture; see the module doc.
pub(crate) struct SharedView {
    hosts: Arc<[Host]>,
    state: Mutex<State>,
    changes: watch::Sender<u64>,
    pub(super) feed: FeedHub,
    /// Tiers and state of every host's metrics; published into `State::metrics` as frames.
    metrics: Mutex<FleetMetrics>,
    /// Averages finished since the last flush, for metrics/*.jsonl.
    closed: Mutex<Vec<(String, Closed)>>,
}

impl SharedView {
    pub fn new(hosts: Vec<Host>) -> Arc<SharedView> {
        let metrics = FleetMetrics::new(hosts.iter().map(|h| h.name.as_str()));
        Arc::new(SharedView {
            metrics: Mutex::new(metrics),
            closed: Mutex::new(Vec::new()),
            hosts: hosts.into(),
            state: Mutex::new(State::default()),
            changes: watch::channel(0).0,
            feed: FeedHub::default(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Plain data: a panic elsewhere leaves it usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn changed(&self, st: &mut State) {
        st.updated = Some(SystemTime::now());
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn hosts(&self) -> &Arc<[Host]> {
        &self.hosts
    }

    pub fn snapshot(&self) -> FleetSnapshot {
        let st = self.state();
        FleetSnapshot {
            connections: st.connections.clone(),
            queue: st.queue.clone(),
            recent: st.recent.iter().cloned().collect(),
            heartbeats: st.heartbeats.clone(),
            metrics: Arc::clone(&st.metrics),
            incidents: Arc::clone(&st.incidents),
            problem: st.problem.clone(),
            updated: st.updated,
        }
    }

    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The newest metrics frame (what `snapshot().metrics` holds, without the rest).
    pub fn metrics(&self) -> Arc<MetricsFrame> {
        Arc::clone(&self.state().metrics)
    }

    /// The incidents now (from the book's follower); a change only if they differ. A frame
    /// read after a problem clears it.
    pub fn set_incidents(&self, frame: IncidentsFrame) {
        let mut st = self.state();
        if *st.incidents != frame {
            st.incidents = Arc::new(frame);
            self.changed(&mut st);
        }
    }

    /// The book could not be read: the incidents shown stay, with why they may be stale.
    pub fn set_incidents_problem(&self, problem: Option<String>) {
        let mut st = self.state();
        if st.incidents.problem != problem {
            let mut frame = (*st.incidents).clone();
            frame.problem = problem;
            st.incidents = Arc::new(frame);
            self.changed(&mut st);
        }
    }

    /// The newest incidents frame (what `snapshot().incidents` holds).
    pub fn incidents(&self) -> Arc<IncidentsFrame> {
        Arc::clone(&self.state().incidents)
    }

    /// New link states; a change only if one differs.
    pub fn set_connections(&self, connections: HashMap<String, ConnState>) {
        let mut st = self.state();
        if st.connections != connections {
            st.connections = connections;
            self.changed(&mut st);
        }
    }

    pub fn set_queue(&self, queue: QueueSnapshot) {
        let mut st = self.state();
        if st.queue != queue {
            st.queue = queue;
            self.changed(&mut st);
        }
    }

    pub fn set_problem(&self, problem: Option<String>) {
        let mut st = self.state();
        if st.problem != problem {
            st.problem = problem;
            self.changed(&mut st);
        }
    }

    /// A run ended (through the session, or seen in history.jsonl by a standalone reader).
    pub fn add_run(&self, run: Arc<RunResult>) {
        let mut st = self.state();
        if st.recent.iter().any(|r| r.id == run.id) {
            return;
        }
        if st.recent.len() == RECENT_RUNS {
            st.recent.pop_front();
        }
        st.recent.push_back(run);
        self.changed(&mut st);
    }

    /// Replaces the recent runs (a standalone reader re-read history.jsonl), oldest first.
    pub fn set_recent(&self, runs: Vec<Arc<RunResult>>) {
        let mut st = self.state();
        let skip = runs.len().saturating_sub(RECENT_RUNS);
        let runs: VecDeque<_> = runs.into_iter().skip(skip).collect();
        let same =
            st.recent.len() == runs.len() && st.recent.iter().zip(&runs).all(|(a, b)| a.id == b.id);
        if !same {
            st.recent = runs;
            self.changed(&mut st);
        }
    }

    /// The newest heartbeat of `host`. No change notice of its own: a thousand agents beat a
    /// thousand times a second, and a notice each would wake every reader as often; the sample
    /// each heartbeat also records is published (one notice) by `publish_metrics`.
    pub fn set_heartbeat(&self, host: String, metrics: HostMetrics) {
        self.state().heartbeats.insert(host, metrics);
    }

    /// A new sample of `host` (not visible until the next `publish_metrics`).
    pub fn record_sample(&self, host: &str, sample: Sample, interval: Option<Duration>) {
        let closed = lock(&self.metrics).record(host, sample, interval);
        if !closed.is_empty() {
            let mut pending = lock(&self.closed);
            // Bounded: a flush that keeps failing drops the oldest rather than growing.
            if pending.len() + closed.len() > MAX_PENDING_CLOSED {
                let excess = pending.len() + closed.len() - MAX_PENDING_CLOSED;
                let cut = excess.min(pending.len());
                pending.drain(..cut);
            }
            pending.extend(closed.into_iter().map(|c| (host.to_string(), c)));
        }
    }

    pub fn set_availability(&self, host: &str, availability: Availability) {
        lock(&self.metrics).set_availability(host, availability);
    }

    pub fn set_metrics_interval(&self, host: &str, interval: Duration) {
        lock(&self.metrics).set_interval(host, interval);
    }

    pub fn metrics_availability(&self, host: &str) -> Option<Availability> {
        lock(&self.metrics).availability(host).cloned()
    }

    /// Restores averages read back from metrics/*.jsonl.
    pub fn restore_metrics(&self, points: impl IntoIterator<Item = (String, Closed)>) {
        let mut m = lock(&self.metrics);
        for (host, c) in points {
            m.restore(&host, c.tier, c.point);
        }
    }

    /// Makes recorded samples visible to readers (one change), if any arrived.
    pub fn publish_metrics(&self) {
        let frame = lock(&self.metrics).frame_if_changed(SystemTime::now());
        if let Some(frame) = frame {
            let mut st = self.state();
            st.metrics = frame;
            self.changed(&mut st);
        }
    }

    /// Averages finished since the last call.
    pub fn take_closed(&self) -> Vec<(String, Closed)> {
        std::mem::take(&mut *lock(&self.closed))
    }

    /// `host`'s points over `window` ending now, oldest first.
    pub fn series(&self, host: &str, window: Window) -> Vec<Point> {
        lock(&self.metrics).window(host, window, SystemTime::now())
    }

    /// Bytes the metrics tiers hold now.
    pub fn metrics_bytes(&self) -> usize {
        lock(&self.metrics).points_bytes()
    }

    /// A change without new data (an alert arrived: readers look at their subscriptions).
    pub fn touch(&self) {
        let mut st = self.state();
        self.changed(&mut st);
    }
}
