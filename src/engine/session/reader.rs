//! `FleetReader`: read-only *by type*. It can copy a snapshot of the fleet (hosts with their
//! link state, the queue, recent runs, newest heartbeats), wait for a change, and receive
//! alerts and heartbeats; it has no method that can submit, cancel, pause, lock, exec or write
//! a record, and holds nothing that could.
//!
//! Taken from a session (`FleetSession::reader`), it shares the session's picture and feeds.
//! Opened on its own (`FleetReader::open`, the wallboard), it contacts agents with read-scope
//! tokens only (`AgentWatcher`; a host without `read_token_file` is shown as failed with "no
//! read token" and never contacted), samples SSH hosts through the fixed metrics probe only
//! (`ProbeOnly`: a transport that can run nothing else; `--accept-new` is never passed and no
//! passphrase is asked), and follows history.jsonl and incidents.jsonl for what other fleetdeck
//! processes of the same home record.
//!
//! A reader cannot start a run; this does not compile (no such method, E0599):
//!
//! ```compile_fail,E0599
//! fn try_to_run(reader: &fleetdeck::engine::FleetReader, req: fleetdeck::engine::RunRequest) {
//!     let (tx, _rx) = tokio::sync::mpsc::channel(1);
//!     let _ = reader.submit(req, tx);
//! }
//! ```
//!
//! while the same call on a session does:
//!
//! ```
//! fn run(session: &fleetdeck::engine::FleetSession, req: fleetdeck::engine::RunRequest) {
//!     let (tx, _rx) = tokio::sync::mpsc::channel(1);
//!     let _ = session.submit(req, tx);
//! }
//! ```
//!
//! Nor cancel, pause or resume one, nor take or release locks:
//!
//! ```compile_fail,E0599
//! fn try_to_stop(reader: &fleetdeck::engine::FleetReader) {
//!     reader.cancel("01J");
//! }
//! ```
//! ```compile_fail,E0599
//! fn try_to_pause(reader: &fleetdeck::engine::FleetReader) {
//!     let _ = reader.pause("01J");
//!     let _ = reader.resume("01J");
//! }
//! ```
//! ```compile_fail,E0599
//! async fn try_to_lock(reader: &fleetdeck::engine::FleetReader, hosts: &[fleetdeck::inventory::Host]) {
//!     let reach = fleetdeck::engine::session::LockReach {
//!         connect_timeout: std::time::Duration::from_secs(1),
//!         fanout: 1,
//!     };
//!     reader.release_locks(hosts, true, reach).await;
//! }
//! ```
//! ```
//! fn stop(session: &fleetdeck::engine::FleetSession) {
//!     session.cancel("01J");
//!     let _ = session.pause("01J");
//!     let _ = session.resume("01J");
//! }
//! ```
//!
//! And no session can be had from a reader:
//!
//! ```compile_fail,E0277
//! fn upgrade(reader: fleetdeck::engine::FleetReader) -> fleetdeck::engine::FleetSession {
//!     reader.into()
//! }
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::collect;
use super::feed::Subscription;
use super::view::{FleetSnapshot, RECENT_RUNS, SharedView};
use crate::config::{Home, Settings, current_user};
use crate::engine::launch::{SshFlags, probe_only_ssh};
use crate::engine::records::Records;
use crate::engine::sampling::ProbeOnly;
use crate::engine::types::RunResult;
use crate::inventory::{Host, TransportKind};
use crate::store::read_newest_as;
use crate::transport::agent::{AgentAlert, AgentHeartbeat, AgentWatcher};
use crate::transport::{ConnState, ErrorKind};

/// How often a standalone reader looks at history.jsonl for runs recorded by others.
const HISTORY_POLL: Duration = Duration::from_secs(2);

/// See the module doc. Cheap to clone.
#[derive(Clone)]
pub struct FleetReader {
    view: Arc<SharedView>,
    /// A standalone reader's own links and tasks, ended with its last clone.
    _own: Option<Arc<Standalone>>,
}

struct Standalone {
    watcher: AgentWatcher,
    probe: Option<ProbeOnly>,
    stop: CancellationToken,
}

impl Drop for Standalone {
    fn drop(&mut self) {
        self.stop.cancel();
        self.watcher.shutdown();
        // Say goodbye to the SSH servers when a runtime is still there to do it.
        if let (Some(probe), Ok(rt)) = (self.probe.take(), tokio::runtime::Handle::try_current()) {
            rt.spawn(async move { probe.shutdown().await });
        }
    }
}

impl FleetReader {
    pub(super) fn of_view(view: Arc<SharedView>) -> FleetReader {
        FleetReader { view, _own: None }
    }

    /// A reader of its own on `hosts` of `home`: agents over read tokens, SSH hosts through
    /// the fixed probe (the default ssh config and known_hosts), runs from history.jsonl.
    /// Inside the tokio runtime.
    pub fn open(home: &Home, settings: &Settings, hosts: Vec<Host>) -> FleetReader {
        Self::open_with_ssh(home, settings, hosts, &SshFlags::default())
    }

    /// As [`FleetReader::open`], SSH hosts reached with `ssh`'s config and known_hosts files
    /// (its `accept_new` is ignored: a reader accepts a new host key only where the user's ssh
    /// config says so, as ssh would).
    pub fn open_with_ssh(
        home: &Home,
        settings: &Settings,
        hosts: Vec<Host>,
        ssh: &SshFlags,
    ) -> FleetReader {
        let view = SharedView::new(hosts);
        let any_ssh = view
            .hosts()
            .iter()
            .any(|h| h.transport == TransportKind::Ssh);
        let (probe, ssh_problem) = match any_ssh.then(|| probe_only_ssh(home, settings, ssh)) {
            Some(Ok(probe)) => (Some(probe), None),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "SSH hosts not sampled");
                (None, Some(e.to_string()))
            }
            None => (None, None),
        };
        // Acknowledged alerts are per consumer: a reader must not take the console's.
        let watcher = AgentWatcher::new(&home.config_dir, format!("{}/reader", current_user()));
        let stop = CancellationToken::new();
        let mut refused: HashMap<String, ConnState> = HashMap::new();
        for host in view.hosts().iter() {
            if host.transport != TransportKind::Agent {
                continue;
            }
            // Without a read token a reader does not contact the host at all.
            if host
                .agent
                .as_ref()
                .is_some_and(|a| a.read_token_file.is_none())
            {
                refused.insert(
                    host.name.clone(),
                    ConnState::Unwatched {
                        reason: format!(
                            "{}: no read token: a read-only view contacts agents only with a \
                             read-scope token; add read_token_file = \"PATH\" to this host's \
                             agent table (the read token from `fleetdeck agent init`)",
                            host.name
                        ),
                    },
                );
                continue;
            }
            if let Err(e) = watcher.watch(host) {
                refused.insert(
                    host.name.clone(),
                    ConnState::Failed {
                        kind: e.kind,
                        reason: e.message,
                    },
                );
            }
        }
        // Wakes the book follower below after the reader recorded an alert.
        let wake = Arc::new(tokio::sync::Notify::new());
        collect::agents(
            watcher.subscribe_alerts_unacked(),
            crate::engine::incidents::AlertRecorder::new(home, &settings.store)
                .with_wake(Arc::clone(&wake)),
            watcher.subscribe_heartbeats(),
            Arc::clone(&view),
            stop.clone(),
        );
        let (hosts, poll_watcher, poll_probe) =
            (Arc::clone(view.hosts()), watcher.clone(), probe.clone());
        let poll = move || {
            hosts
                .iter()
                .map(|h| {
                    let state = match h.transport {
                        TransportKind::Local => ConnState::Local,
                        TransportKind::Ssh => match (&poll_probe, &ssh_problem) {
                            (Some(p), _) => p.connection(h),
                            (None, Some(why)) => ConnState::Failed {
                                kind: ErrorKind::Io,
                                reason: why.clone(),
                            },
                            (None, None) => ConnState::NotTracked,
                        },
                        TransportKind::Agent => refused
                            .get(&h.name)
                            .cloned()
                            .unwrap_or_else(|| poll_watcher.connection(h)),
                    };
                    (h.name.clone(), state)
                })
                .collect()
        };
        view.set_connections(poll());
        collect::connections(poll, Arc::clone(&view), stop.clone());
        collect::publisher(Arc::clone(&view), stop.clone());
        let all: Vec<Host> = view.hosts().to_vec();
        crate::engine::sampling::collectors::start_readonly(
            &view,
            home,
            settings,
            &all,
            probe.clone(),
            &stop,
        );
        let records = Records::new(home, &settings.store);
        tokio::spawn(follow_history(
            records.history_path(),
            records.running_dir(),
            Arc::clone(&view),
            stop.clone(),
        ));
        super::incident_feed::follow(
            home.incidents_file(),
            crate::incident::book::rotation_of(&settings.store),
            Arc::clone(&view),
            wake,
            stop.clone(),
        );
        FleetReader {
            view,
            _own: Some(Arc::new(Standalone {
                watcher,
                probe,
                stop,
            })),
        }
    }

    /// The fleet as last collected.
    pub fn snapshot(&self) -> FleetSnapshot {
        self.view.snapshot()
    }

    /// Bumped whenever something a snapshot shows changed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.view.changes()
    }

    /// The newest metrics frame, without the rest of a snapshot.
    pub fn metrics(&self) -> Arc<crate::metrics::MetricsFrame> {
        self.view.metrics()
    }

    /// Every agent alert (recent ones first), each once; see `Subscription::lost`.
    pub fn alerts(&self) -> Subscription<AgentAlert> {
        self.view.feed.alerts()
    }

    /// Every agent heartbeat from now on.
    pub fn heartbeats(&self) -> Subscription<AgentHeartbeat> {
        self.view.feed.heartbeats()
    }

    /// The incidents as last read from the book (read only: writes are `FleetSession`'s).
    pub fn incidents(&self) -> Arc<super::incident_feed::IncidentsFrame> {
        self.view.incidents()
    }

    /// `host`'s metric points over `window`, oldest first (a chart).
    pub fn series(&self, host: &str, window: crate::metrics::Window) -> Vec<crate::metrics::Point> {
        self.view.series(host, window)
    }

    /// Bytes the metric tiers of every host hold now (memory is fixed by the host count).
    pub fn metrics_bytes(&self) -> usize {
        self.view.metrics_bytes()
    }

    /// The hosts this reader shows.
    pub fn hosts(&self) -> &[Host] {
        self.view.hosts()
    }
}

/// Re-reads the newest runs of history.jsonl whenever it changed (size or time), and the runs
/// other processes have in flight (their markers, `run_marker::in_flight`), until `stop`.
async fn follow_history(
    path: PathBuf,
    running: PathBuf,
    view: Arc<SharedView>,
    stop: CancellationToken,
) {
    let mut seen: Option<(u64, Option<SystemTime>)> = None;
    let mut tick = tokio::time::interval(HISTORY_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let dir = running.clone();
        if let Ok(in_flight) =
            tokio::task::spawn_blocking(move || crate::engine::run_marker::in_flight(&dir)).await
        {
            view.set_queue(queue_of(in_flight));
        }
        let stamp = std::fs::metadata(&path)
            .ok()
            .map(|m| (m.len(), m.modified().ok()));
        if stamp.is_none() || stamp == seen {
            continue;
        }
        seen = stamp;
        let file = path.clone();
        let read =
            tokio::task::spawn_blocking(move || read_newest_as::<RunResult>(&file, RECENT_RUNS))
                .await;
        match read {
            Ok(Ok(report)) => {
                // Newest first in the report; the picture keeps oldest first.
                let runs = report
                    .records
                    .into_iter()
                    .rev()
                    .map(|(_, run)| Arc::new(run))
                    .collect();
                view.set_recent(runs);
            }
            Ok(Err(e)) => tracing::warn!(file = %path.display(), error = %e, "cannot read history"),
            Err(e) => tracing::warn!(error = %e, "history reader stopped"),
        }
    }
}

/// Other processes' runs in flight, as the queue a reader shows (nothing waits in a reader).
fn queue_of(markers: Vec<crate::engine::run_marker::MarkerRecord>) -> crate::engine::QueueSnapshot {
    let running = markers
        .into_iter()
        .map(|m| crate::engine::queue::RunningRun {
            since: time::OffsetDateTime::parse(
                &m.started,
                &time::format_description::well_known::Rfc3339,
            )
            .map_or(SystemTime::UNIX_EPOCH, SystemTime::from),
            id: m.id,
            priority: m.priority,
            command: m.command,
            hosts: m.targets.len(),
            paused: false,
        })
        .collect();
    crate::engine::QueueSnapshot {
        queued: Vec::new(),
        running,
    }
}
