//! `FleetSession`: the one place that owns what a front end works with: the run queue, the
//! transports (pooled SSH, agent links, local), the records (history, audit), each host's
//! link state, the passphrase requests, and the alert/heartbeat fan-out. `fleetdeck run`,
//! `locks`, `history rerun` and the console all go through it; `FleetReader` (reader.rs) is
//! its read-only face, for views that must not be able to change anything.
//!
//! Layout: `links` (the transports, built once), `collect` (agent feeds and link states into
//! the picture), `view` (the picture readers copy snapshots from), `feed` (fan-out),
//! `locks` (taking and releasing host locks by hand), `passphrase` (questions to the front
//! end), `reader`.

mod collect;
pub mod feed;
mod incident_analysis;
pub mod incident_feed;
mod incident_ops;
mod links;
mod locks;
pub mod passphrase;
pub mod reader;
pub mod view;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::links::Links;
use self::passphrase::{PassphraseRequest, Passphrases};
use self::view::SharedView;
use super::audit::AuditRecord;
use super::launch::{self, SshFlags};
use super::locks::LockManager;
use super::queue::{RunQueue, Steer, SubmitError};
use super::records::Records;
use super::types::{EngineEvent, RunId, RunRequest};
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::inventory::Host;
use crate::transport::ConnState;
pub use feed::Subscription;
pub use incident_analysis::AnalysisAsk;
pub use incident_feed::IncidentsFrame;
pub use incident_ops::{IncidentOpError, IncidentWritten};
pub use locks::{LockReach, Taken};
pub use reader::FleetReader;
pub use view::FleetSnapshot;

/// Events waiting between the engine and a front end: bounded, so a flood of output slows
/// the engine (which coalesces and caps it) instead of growing memory.
pub const ENGINE_CHANNEL: usize = 1024;
/// How often pooled connections are checked for idleness.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// A run's events, tagged with its id (one channel can carry many runs).
pub type SessionEvent = (RunId, EngineEvent);

/// How a session is opened.
pub struct SessionOptions {
    /// The hosts it may reach: the inventory (console) or a run's targets (CLI).
    pub hosts: Vec<Host>,
    /// `--ssh-config`, `--known-hosts`, `--accept-new`.
    pub ssh: SshFlags,
    pub passphrases: Passphrases,
    /// Raise the fan-out budget to at least this (a one-run front end: its `--fanout` is the
    /// only limit asked for).
    pub budget_at_least: Option<usize>,
    /// Close pooled connections unused this long (a long-lived console); `None`: never.
    pub idle_close_after: Option<Duration>,
    /// Connect to every agent host at once and collect their heartbeats and alerts (the
    /// console, `fleetdeck incidents`): each alert is written into the incident book, then
    /// acknowledged to its agent. Off, agents are contacted only when a run needs them and
    /// their alerts stay unacknowledged in their journals for a session that watches.
    pub watch_agents: bool,
    /// Collect metrics: SSH probes, exporter scrapes, agent heartbeats as samples, the
    /// metrics log (the console). Off for a one-run front end.
    pub collect_metrics: bool,
    /// Feed the incident book from `[alertmanager]` (polled every `poll_interval`, if it
    /// names a URL), `[[thresholds]]` (on every metrics frame; needs `collect_metrics`) and
    /// `[[checks]]` (each on its `every`), and follow the book into the snapshot: the console. Also follows the book into snapshots (`FleetSnapshot::incidents`).
    pub record_incidents: bool,
}

impl SessionOptions {
    /// For `hosts`, defaults everywhere else: no passphrases, no idle closing, agents
    /// contacted only when a run needs them.
    pub fn new(hosts: Vec<Host>) -> Self {
        SessionOptions {
            hosts,
            ssh: SshFlags::default(),
            passphrases: Passphrases::Never,
            budget_at_least: None,
            idle_close_after: None,
            watch_agents: false,
            collect_metrics: false,
            record_incidents: false,
        }
    }
}

/// The fleet as one front end drives it; see the module doc. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct FleetSession {
    inner: Arc<Inner>,
}

struct Inner {
    view: Arc<SharedView>,
    links: Mutex<Links>,
    queue: RunQueue,
    records: Records,
    home: Home,
    locks: Option<Arc<LockManager>>,
    requests: Mutex<Option<mpsc::UnboundedReceiver<PassphraseRequest>>>,
    watch_agents: bool,
    /// Where watched agents' alerts are written before they are acknowledged.
    recorder: super::incidents::AlertRecorder,
    /// Wakes the book follower after this session wrote to the book.
    incidents_wake: Arc<tokio::sync::Notify>,
    /// Where incidents are stored and how an ack silences an Alertmanager alert.
    store: crate::config::settings::StoreSettings,
    alertmanager: crate::incident::alertmanager::AlertmanagerSettings,
    /// `[analysis]`: the endpoint asked about an incident on request.
    analysis: crate::incident::analysis::AnalysisSettings,
    /// `[[checks]]`' latest results (empty unless `record_incidents`).
    checks: super::checks::CheckBoard,
    stop: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Inner {
    /// A session dropped without `shutdown` still stops its watchers and collectors (runs
    /// already submitted go on to their records: they hold what they need).
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FleetSession {
    /// Opens a session and sets up its transports; an error (a broken ssh config, a
    /// `--known-hosts` that cannot be read) is returned before anything runs. Inside the tokio
    /// runtime.
    pub fn open(home: &Home, settings: &Settings, options: SessionOptions) -> Result<Self, Error> {
        let session = Self::start(home, settings, options);
        session.ensure_links()?;
        Ok(session)
    }

    /// Opens a session that tolerates transports it cannot set up yet: the reason is in
    /// `snapshot().problem`, runs that need them are refused with it, and the setup is tried
    /// again before each run (the console, which must open on a broken ssh config too).
    pub fn open_tolerant(home: &Home, settings: &Settings, options: SessionOptions) -> Self {
        let session = Self::start(home, settings, options);
        if let Err(e) = session.ensure_links() {
            tracing::warn!(error = %e, "transports not set up yet");
        }
        session
    }

    fn start(home: &Home, settings: &Settings, options: SessionOptions) -> Self {
        let (passphrase, requests) = match options.passphrases {
            Passphrases::Never => (None, None),
            Passphrases::Callback(ask) => (Some(ask), None),
            Passphrases::Requests => {
                let (ask, requests) = passphrase::bridge();
                (Some(ask), Some(requests))
            }
        };
        let view = SharedView::new(options.hosts);
        let links = Links::new(
            home.clone(),
            settings.clone(),
            options.ssh,
            Arc::clone(view.hosts()),
            passphrase,
        );
        // Each run brings the session's transports (`submit`); the context carries the rest
        // that runs share: fan-out budget, host slots, breaker, locks.
        let mut ctx = launch::context(super::Transports::new(), home, settings);
        if let Some(at_least) = options.budget_at_least {
            ctx = ctx.with_budget_at_least(at_least);
        }
        let locks = ctx.locks.clone();
        let records = Records::new(home, &settings.store);
        let queue = RunQueue::new(ctx, Some(records.clone()), &settings.queue);
        let incidents_wake = Arc::new(tokio::sync::Notify::new());
        let session = FleetSession {
            inner: Arc::new(Inner {
                view,
                links: Mutex::new(links),
                queue,
                records,
                home: home.clone(),
                locks,
                requests: Mutex::new(requests),
                watch_agents: options.watch_agents,
                recorder: {
                    let recorder = super::incidents::AlertRecorder::new(home, &settings.store)
                        .with_wake(Arc::clone(&incidents_wake));
                    // Only sessions that write incidents need the sinks (a run's does not:
                    // no webhook URL file read, no delivery task per `fleetdeck run`).
                    if options.watch_agents || options.record_incidents {
                        recorder
                            .with_notices(super::incident_notices::Notices::start(home, settings))
                    } else {
                        recorder
                    }
                },
                incidents_wake,
                store: settings.store.clone(),
                alertmanager: settings.alertmanager.clone(),
                analysis: settings.analysis.clone(),
                checks: super::checks::CheckBoard::default(),
                stop: CancellationToken::new(),
                tasks: Mutex::new(Vec::new()),
            }),
        };
        session.start_watchers(options.idle_close_after);
        if options.record_incidents {
            session.start_alertmanager(settings);
            session.follow_incidents();
            session.start_checks(settings);
        }
        if options.collect_metrics {
            session.start_metrics(settings);
            if options.record_incidents {
                session.start_thresholds(settings);
            }
        }
        session
    }

    /// `[alertmanager]` (when it names a URL): its alerts polled into the incident book every
    /// `poll_interval` for the session's life, after the book's open ones are remembered (so
    /// one that ended meanwhile is resolved). A URL that cannot be used is logged.
    fn start_alertmanager(&self, settings: &Settings) {
        use super::alertmanager_feed::{host_index, remember_open, spawn_loop};
        let mut source = match crate::incident::alertmanager::AlertmanagerSource::from_settings(
            &settings.alertmanager,
        ) {
            Ok(Some(source)) => source,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "[alertmanager] cannot be used");
                return;
            }
        };
        match crate::incident::Book::for_home(&self.inner.home, &settings.store) {
            Ok(book) => remember_open(&mut source, &book),
            Err(e) => tracing::warn!(error = %e, "incident book unreadable; Alertmanager alerts \
                that ended while no fleetdeck ran stay open until seen again"),
        }
        let hosts = host_index(self.inner.view.hosts());
        let poke = Arc::new(tokio::sync::Notify::new());
        if let Some(addr) = settings.alertmanager.listen() {
            let (addr, poke, stop) = (addr.to_string(), Arc::clone(&poke), self.inner.stop.clone());
            tokio::spawn(async move {
                match super::alertmanager_hook::listen(&addr, poke, stop).await {
                    Ok(bound) => {
                        tracing::info!(%bound, "taking Alertmanager's webhook on /alertmanager")
                    }
                    // A second console or watcher on the same address: polling still works.
                    Err(e) => tracing::warn!(error = %e, "Alertmanager is polled only"),
                }
            });
        }
        let task = spawn_loop(
            source,
            hosts,
            self.inner.recorder.clone(),
            poke,
            self.inner.stop.clone(),
        );
        lock(&self.inner.tasks).push(task);
    }

    /// The book followed into the picture (see incident_feed.rs).
    fn follow_incidents(&self) {
        let task = incident_feed::follow(
            self.inner.home.incidents_file(),
            crate::incident::book::rotation_of(&self.inner.store),
            Arc::clone(&self.inner.view),
            Arc::clone(&self.inner.incidents_wake),
            self.inner.stop.clone(),
        );
        lock(&self.inner.tasks).push(task);
    }

    /// `[[checks]]` (if any), each on its `every`, into the incident book and `checks()`;
    /// action checks are submitted to this session's queue (held weakly: a dropped session
    /// refuses them).
    fn start_checks(&self, settings: &Settings) {
        if settings.checks.is_empty() {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let submit: super::checks::Submit = Arc::new(move |req, events| {
            let Some(inner) = weak.upgrade() else {
                return Err(SubmitError::Closed {
                    request: Box::new(req),
                });
            };
            FleetSession { inner }.submit(req, events)
        });
        let shared = super::checks::Shared {
            board: self.inner.checks.clone(),
            recorder: self.inner.recorder.clone(),
            stop: self.inner.stop.clone(),
        };
        let tasks = super::checks::start(
            &self.inner.home,
            settings,
            self.inner.view.hosts(),
            &submit,
            &shared,
        );
        lock(&self.inner.tasks).extend(tasks);
    }

    /// What `[[checks]]` found last, per check and host, with each host's breaker (shared:
    /// it changes after every round; take `snapshot()` to draw).
    pub fn checks(&self) -> super::checks::CheckBoard {
        self.inner.checks.clone()
    }

    /// `[[thresholds]]` (if any) evaluated on every metrics frame into the incident book.
    fn start_thresholds(&self, settings: &Settings) {
        if settings.thresholds.is_empty() {
            return;
        }
        let inventory = crate::inventory::Inventory::new(self.inner.view.hosts().to_vec());
        let evaluator =
            match crate::incident::threshold::Evaluator::new(&settings.thresholds, &inventory) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "[[thresholds]] cannot be used");
                    return;
                }
            };
        let book = crate::incident::Book::for_home(&self.inner.home, &settings.store).ok();
        let task = super::threshold_feed::spawn(
            evaluator,
            settings.thresholds.clone(),
            book.as_ref(),
            Arc::clone(&self.inner.view),
            self.inner.recorder.clone(),
            self.inner.stop.clone(),
        );
        lock(&self.inner.tasks).push(task);
    }

    /// Link states every second, queue changes as they come, idle connections closed.
    fn start_watchers(&self, idle_close_after: Option<Duration>) {
        let stop = self.inner.stop.clone();
        let weak = Arc::downgrade(&self.inner);
        let poll = move || {
            weak.upgrade()
                .map(|inner| lock(&inner.links).connections())
                .unwrap_or_default()
        };
        let mut tasks = vec![collect::connections(
            poll,
            Arc::clone(&self.inner.view),
            stop.clone(),
        )];
        let (queue, view) = (self.inner.queue.clone(), Arc::clone(&self.inner.view));
        let mut changes = queue.changes();
        let queue_stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            view.set_queue(queue.snapshot());
            loop {
                tokio::select! {
                    () = queue_stop.cancelled() => return,
                    changed = changes.changed() => match changed {
                        Ok(()) => view.set_queue(queue.snapshot()),
                        Err(_) => return,
                    },
                }
            }
        }));
        if let Some(after) = idle_close_after {
            let weak = Arc::downgrade(&self.inner);
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(IDLE_CHECK);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        _ = tick.tick() => {}
                    }
                    let ssh = weak.upgrade().and_then(|inner| lock(&inner.links).ssh());
                    if let Some(ssh) = ssh {
                        let closed = ssh.close_idle(after).await;
                        if closed > 0 {
                            tracing::debug!(closed, "closed idle ssh connections");
                        }
                    }
                }
            }));
        }
        lock(&self.inner.tasks).extend(tasks);
    }

    /// Metric collectors over the session's transports (see `sampling::collectors`).
    fn start_metrics(&self, settings: &Settings) {
        let weak = Arc::downgrade(&self.inner);
        let ssh = move || -> Option<super::sampling::ProbeOnly> {
            let inner = weak.upgrade()?;
            let ssh = lock(&inner.links).ssh()?;
            Some(super::sampling::ProbeOnly::ssh(ssh))
        };
        let tasks = super::sampling::collectors::start(
            &self.inner.view,
            &self.inner.home,
            settings,
            &self.inner.view.hosts().clone(),
            ssh,
            &self.inner.stop,
        );
        lock(&self.inner.tasks).extend(tasks);
    }

    /// One fresh sample of each of `hosts` now, over the session's transports (`fleetdeck
    /// metrics`, selectors with metric terms): see `sampling::once`.
    pub async fn sample_now(
        &self,
        hosts: &[Host],
        settings: &Settings,
    ) -> Vec<super::sampling::once::HostReport> {
        // Without a transport, its hosts say why (a broken ssh config names file and line).
        let problem = self.ensure_links().err().map(|e| e.to_string());
        let missing = |what: &str| {
            problem
                .clone()
                .unwrap_or_else(|| format!("the {what} transport is not set up"))
        };
        let (ssh, agent) = {
            let links = lock(&self.inner.links);
            (links.ssh(), links.agent())
        };
        let ssh = ssh
            .map(|s| Arc::new(s) as Arc<dyn crate::transport::Transport>)
            .ok_or_else(|| missing("ssh"));
        super::sampling::once::sample_now(
            hosts,
            super::sampling::once::SampleWith {
                settings: &settings.metrics,
                connect_timeout: settings.run.connect_timeout.0,
                ssh,
                agent: agent.ok_or_else(|| missing("agent")),
                exporters: super::sampling::exporter::sampler(),
            },
        )
        .await
    }

    /// `host`'s metric points over `window`, oldest first (a chart).
    pub fn series(&self, host: &str, window: crate::metrics::Window) -> Vec<crate::metrics::Point> {
        self.inner.view.series(host, window)
    }

    /// Builds the transports if not built; once built, the agent feeds are collected (and
    /// every agent host contacted, if asked).
    fn ensure_links(&self) -> Result<(), Error> {
        let mut links = lock(&self.inner.links);
        match links.ensure() {
            Ok(built_now) => {
                self.inner.view.set_problem(None);
                // Only a session that watches collects: an alert a collector writes into the
                // incident book is acknowledged to its agent, and a one-run CLI session leaves
                // them for a session that watches (the same consumer name) to record.
                if built_now
                    && self.inner.watch_agents
                    && let Some(agent) = links.agent()
                {
                    let task = collect::agents(
                        agent.subscribe_alerts_unacked(),
                        self.inner.recorder.clone(),
                        agent.subscribe_heartbeats(),
                        Arc::clone(&self.inner.view),
                        self.inner.stop.clone(),
                    );
                    lock(&self.inner.tasks).push(task);
                    watch_agents(&agent, links.hosts());
                }
                Ok(())
            }
            Err(e) => {
                self.inner.view.set_problem(Some(e.to_string()));
                Err(e)
            }
        }
    }

    /// The session's transports for a run on `hosts` (set up first if they are not yet; a
    /// failure is kept in the picture, and runs without SSH hosts still get transports).
    fn transports_for(&self, hosts: &[Host]) -> Result<super::Transports, String> {
        let problem = self.ensure_links().err().map(|e| e.to_string());
        lock(&self.inner.links).for_run(hosts, problem.as_deref())
    }

    /// Queues `req` over the session's transports. It starts at once when fewer than
    /// `[queue] max_running` run, else waits its turn; refused (and handed back) when the
    /// queue is full or closed, or its hosts' transports cannot be set up. Its events go to
    /// `events` tagged with its id, ending with one `RunFinished`. Inside the runtime.
    pub fn submit(
        &self,
        req: RunRequest,
        events: mpsc::Sender<SessionEvent>,
    ) -> Result<RunId, SubmitError> {
        let transports = match self.transports_for(&req.targets) {
            Ok(t) => t,
            Err(reason) => {
                return Err(SubmitError::NoTransport {
                    reason,
                    request: Box::new(req),
                });
            }
        };
        let id = req.id.clone();
        let (tx, rx) = mpsc::channel(ENGINE_CHANNEL);
        self.inner.queue.submit_over(req, Some(transports), tx)?;
        tokio::spawn(forward(
            id.clone(),
            rx,
            events,
            Arc::clone(&self.inner.view),
        ));
        Ok(id)
    }

    /// `submit`, as a rerun of run `of` where it did not end ok: audited as such once queued.
    pub fn submit_rerun(
        &self,
        req: RunRequest,
        of: &str,
        events: mpsc::Sender<SessionEvent>,
    ) -> Result<RunId, SubmitError> {
        let what = format!(", as run {}: {}", req.id, req.display_command);
        let targets = req.folded_targets();
        let count = req.targets.len();
        let id = self.submit(req, events)?;
        self.inner
            .records
            .audit(&AuditRecord::rerun(of, &what, &targets, count));
        Ok(id)
    }

    /// Cancels run `id` (queued: removed and recorded as cancelled; running: its commands are
    /// stopped). False if no such run waits or runs.
    pub fn cancel(&self, id: &str) -> bool {
        self.inner.queue.cancel(id)
    }

    /// `cancel`, with how it was asked for in the audit line (`requested (Ctrl-C)`).
    pub fn cancel_noting(&self, id: &str, how: &str) -> bool {
        self.inner.queue.cancel_noting(id, how)
    }

    /// Pauses running run `id` before its next batch.
    pub fn pause(&self, id: &str) -> Steer {
        self.inner.queue.pause(id)
    }

    /// Lets paused run `id` go on.
    pub fn resume(&self, id: &str) -> Steer {
        self.inner.queue.resume(id)
    }

    /// The fleet now: link states and the queue as of this call.
    pub fn snapshot(&self) -> FleetSnapshot {
        self.inner.view.set_connections(self.connections());
        self.inner.view.set_queue(self.queue());
        self.inner.view.snapshot()
    }

    /// Each host's link state now (what `snapshot().connections` holds, without the rest).
    pub fn connections(&self) -> HashMap<String, ConnState> {
        lock(&self.inner.links).connections()
    }

    /// Waiting and running runs now (what `snapshot().queue` holds, without the rest).
    pub fn queue(&self) -> super::queue::QueueSnapshot {
        self.inner.queue.snapshot()
    }

    /// Bumped whenever something a snapshot shows changed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.view.changes()
    }

    /// The newest metrics frame (what `snapshot().metrics` holds, without the rest): a
    /// front end compares it by `Arc::ptr_eq` to know whether samples arrived.
    pub fn metrics(&self) -> Arc<crate::metrics::MetricsFrame> {
        self.inner.view.metrics()
    }

    /// Every agent alert (recent ones first), each once; many subscribers may listen.
    pub fn alerts(&self) -> Subscription<crate::transport::agent::AgentAlert> {
        self.inner.view.feed.alerts()
    }

    /// Every agent heartbeat from now on.
    pub fn heartbeats(&self) -> Subscription<crate::transport::agent::AgentHeartbeat> {
        self.inner.view.feed.heartbeats()
    }

    /// A read-only handle on this session's picture and feeds.
    pub fn reader(&self) -> FleetReader {
        FleetReader::of_view(Arc::clone(&self.inner.view))
    }

    /// The SSH transport's passphrase questions (with `Passphrases::Requests`; taken once).
    pub fn take_passphrase_requests(&self) -> Option<mpsc::UnboundedReceiver<PassphraseRequest>> {
        lock(&self.inner.requests).take()
    }

    /// SSH connections made over the session's life (for tests and logs).
    pub fn connections_made(&self) -> usize {
        lock(&self.inner.links)
            .ssh()
            .map_or(0, |ssh| ssh.connections_made())
    }

    /// Closes SSH connections idle for `after` now; how many were closed.
    pub async fn close_idle(&self, after: Duration) -> usize {
        let ssh = lock(&self.inner.links).ssh();
        match ssh {
            Some(ssh) => ssh.close_idle(after).await,
            None => 0,
        }
    }

    /// Refuses new runs, cancels queued and running ones (queued ones are recorded as
    /// cancelled) and waits up to `grace` for all of them to be recorded. False if some did
    /// not end in time. Connections stay open until `shutdown`.
    pub async fn stop_runs(&self, grace: Duration) -> bool {
        let ended = self.inner.queue.shutdown(grace).await;
        if !ended {
            tracing::warn!("runs did not stop within {grace:?}; going on");
        }
        ended
    }

    /// Refuses new runs, cancels queued and running ones and waits up to `grace` for them to
    /// be recorded; then closes every connection (SSH goodbyes within `grace` too). False if
    /// some run did not end in time.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        let ended = self.stop_runs(grace).await;
        self.inner.stop.cancel();
        // Watchers and collectors hold nothing that needs finishing: never wait on them.
        for task in std::mem::take(&mut *lock(&self.inner.tasks)) {
            task.abort();
        }
        let (ssh, agent) = {
            let links = lock(&self.inner.links);
            (links.ssh(), links.agent())
        };
        if let Some(agent) = agent {
            agent.shutdown();
        }
        if let Some(ssh) = ssh
            && tokio::time::timeout(grace, ssh.shutdown()).await.is_err()
        {
            tracing::warn!("ssh connections did not close within {grace:?}; leaving anyway");
        }
        // Notices of incidents this session wrote, still queued.
        self.inner
            .recorder
            .notices()
            .flush(super::incident_notices::FLUSH_GRACE)
            .await;
        ended
    }

    pub fn home(&self) -> &Home {
        &self.inner.home
    }
}

/// Connects to every agent host now rather than at its first run. A host whose agent entry
/// is unusable (no pin, no token file) shows that when a run reaches it.
fn watch_agents(agent: &crate::transport::agent::AgentTransport, hosts: &[Host]) {
    for host in hosts
        .iter()
        .filter(|h| h.transport == crate::inventory::TransportKind::Agent)
    {
        if let Err(e) = agent.watch(host) {
            tracing::warn!(host = %host.name, error = %e.message, "agent not watched");
        }
    }
}

/// Passes run `id`'s events on, tagged, until it ends; its result joins the recent runs.
async fn forward(
    id: RunId,
    mut rx: mpsc::Receiver<EngineEvent>,
    events: mpsc::Sender<SessionEvent>,
    view: Arc<SharedView>,
) {
    let mut reader_gone = false;
    while let Some(event) = rx.recv().await {
        if let EngineEvent::RunFinished { result } = &event {
            view.add_run(Arc::new((**result).clone()));
        }
        // A front end that stopped reading (quitting) must not stall the run: keep draining
        // so the engine finishes its cancel and records the run.
        if !reader_gone && events.send((id.clone(), event)).await.is_err() {
            reader_gone = true;
        }
    }
}
