//! The agent transport: the console's WebSocket client to `fleetdeck agent`. Agent hosts look
//! exactly like SSH hosts to the engine (same events, error kinds, timeouts and cancel); on
//! top, agents push heartbeats (newest metrics per host) and alerts (to one subscriber,
//! exactly once: the engine, which fans them out to every front end).
//!
//! Two handles: `AgentTransport` connects with each host's exec token and runs things;
//! `AgentWatcher` connects with read tokens only and has no way to run anything (what a
//! read-only front end holds).
//!
//! Layout: `endpoint` (url, pin and token file of a host), `tls` (certificate pinning),
//! `connect` (one connection: socket, WebSocket upgrade via tokio-tungstenite, hello),
//! `session` (a live connection shared by jobs), `link` (keeps a host's connection up,
//! reconnecting with backoff), `job` (one command), `feed` (heartbeats and alerts).

mod connect;
mod endpoint;
mod feed;
mod job;
mod link;
mod lock;
mod session;
mod tls;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::local::spawn_exec;
use super::{ConnState, ExecEvent, ExecHandle, ExecSpec, ExitOutcome, Transport, TransportError};
use crate::inventory::Host;
pub use endpoint::{Endpoint, TokenScope, is_loopback};
use feed::Feed;
pub use feed::{
    AgentAlert, AgentHeartbeat, AlertAck, AlertDelivery, HEARTBEAT_CHANNEL, HostMetrics,
};
use link::{Link, LinkState};
pub use tls::pinned_client_config;

/// Where a host's connection is, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentConnection {
    /// Never used in this process.
    Unused,
    Connecting,
    Connected,
    /// The last attempt failed or the connection dropped (reconnecting unless the error is
    /// about credentials or the pin).
    Down(TransportError),
}

/// Runs commands through agents. Cheap to clone (shared inside); connections close when the
/// last clone is dropped or at [`shutdown`](AgentTransport::shutdown).
#[derive(Clone)]
pub struct AgentTransport {
    inner: Arc<Inner>,
}

struct Inner {
    /// The folder of hosts.toml: relative token files are found from there.
    base_dir: PathBuf,
    /// The name alerts are acknowledged under (`user@machine`).
    consumer: String,
    /// The token every connection presents.
    scope: TokenScope,
    links: Mutex<HashMap<String, Arc<Link>>>,
    feed: Arc<Feed>,
    shutdown: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AgentTransport {
    /// A transport whose relative token paths start at `base_dir` (the folder of hosts.toml)
    /// and whose alert acknowledgements go under `consumer`.
    pub fn new(base_dir: impl Into<PathBuf>, consumer: impl Into<String>) -> AgentTransport {
        Self::with_scope(base_dir.into(), consumer.into(), TokenScope::Exec)
    }

    fn with_scope(base_dir: PathBuf, consumer: String, scope: TokenScope) -> AgentTransport {
        AgentTransport {
            inner: Arc::new(Inner {
                base_dir,
                consumer,
                scope,
                links: Mutex::new(HashMap::new()),
                feed: Arc::new(Feed::default()),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    pub fn base_dir(&self) -> &Path {
        &self.inner.base_dir
    }

    /// The newest heartbeat of `host`, if one arrived in this process.
    pub fn latest_metrics(&self, host: &str) -> Option<HostMetrics> {
        self.inner.feed.latest_metrics(host)
    }

    /// Alerts from every agent host, each once, in order per host. Each is acknowledged to
    /// its agent after it was put in this channel. One subscriber at a time (the engine's
    /// collector, which fans them out): a new call replaces the previous receiver. Alerts
    /// that arrive with no subscriber wait (bounded) for one.
    pub fn subscribe_alerts(&self) -> mpsc::Receiver<AgentAlert> {
        self.inner.feed.subscribe()
    }

    /// Like `subscribe_alerts`, but nothing is acknowledged to an agent until the receiver
    /// calls `AlertDelivery::ack` (the engine does once the alert is in the incident book).
    pub fn subscribe_alerts_unacked(&self) -> mpsc::Receiver<AlertDelivery> {
        self.inner.feed.subscribe_unacked()
    }

    /// Every heartbeat as it arrives (one subscriber, like alerts; a full channel drops the
    /// heartbeat, whose newest value `latest_metrics` still has).
    pub fn subscribe_heartbeats(&self) -> mpsc::Receiver<AgentHeartbeat> {
        self.inner.feed.subscribe_heartbeats()
    }

    /// Connects to `host` now (without running anything), so its heartbeats and alerts flow;
    /// the connection is kept up from then on. Must be called inside the tokio runtime.
    pub fn watch(&self, host: &Host) -> Result<(), TransportError> {
        self.link(host).map(|_| ())
    }

    /// Where the connection to `host` is.
    pub fn connection(&self, host: &str) -> AgentConnection {
        let Some(link) = lock(&self.inner.links).get(host).cloned() else {
            return AgentConnection::Unused;
        };
        match link.state() {
            LinkState::Connecting { .. } => AgentConnection::Connecting,
            LinkState::Up { session, .. } if session.is_alive() => AgentConnection::Connected,
            LinkState::Up { .. } => AgentConnection::Connecting,
            LinkState::Down { error, .. } => AgentConnection::Down(error),
        }
    }

    /// Closes every connection; jobs still running fail as lost.
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
        lock(&self.inner.links).clear();
    }

    /// The link for `host`, started if needed (or restarted if its agent table changed).
    fn link(&self, host: &Host) -> Result<Arc<Link>, TransportError> {
        let endpoint = Endpoint::resolve_for(host, &self.inner.base_dir, self.inner.scope)?;
        let mut links = lock(&self.inner.links);
        if let Some(link) = links.get(&host.name)
            && link.endpoint == endpoint
            && !link.is_stopped()
        {
            return Ok(link.clone());
        }
        if let Some(old) = links.remove(&host.name) {
            old.stop();
        }
        let link = Link::start(
            &host.name,
            endpoint,
            self.inner.consumer.clone(),
            self.inner.feed.clone(),
            self.inner.shutdown.child_token(),
        );
        links.insert(host.name.clone(), link.clone());
        Ok(link)
    }
}

/// Agent links with read-scope tokens only: heartbeats, alerts and link states, and no method
/// that can run, cancel or lock anything (nor does it implement `Transport`). A host without a
/// `read_token_file` is not contacted: `watch` says "no read token".
#[derive(Clone)]
pub struct AgentWatcher {
    links: AgentTransport,
}

impl AgentWatcher {
    /// A watcher whose relative token paths start at `base_dir` (the folder of hosts.toml) and
    /// whose alert acknowledgements go under `consumer`.
    pub fn new(base_dir: impl Into<PathBuf>, consumer: impl Into<String>) -> AgentWatcher {
        AgentWatcher {
            links: AgentTransport::with_scope(base_dir.into(), consumer.into(), TokenScope::Read),
        }
    }

    /// Connects to `host` with its read token and keeps the link up. Inside the runtime.
    pub fn watch(&self, host: &Host) -> Result<(), TransportError> {
        // Checked before any link exists, so a host without a read token is never contacted.
        Endpoint::resolve_for(host, &self.links.inner.base_dir, TokenScope::Read)?
            .token_path(&host.name)?;
        self.links.watch(host)
    }

    /// The state of the link to `host` (no I/O).
    pub fn connection(&self, host: &Host) -> ConnState {
        Transport::connection(&self.links, host)
    }

    pub fn latest_metrics(&self, host: &str) -> Option<HostMetrics> {
        self.links.latest_metrics(host)
    }

    /// See [`AgentTransport::subscribe_alerts`].
    pub fn subscribe_alerts(&self) -> mpsc::Receiver<AgentAlert> {
        self.links.subscribe_alerts()
    }

    /// See [`AgentTransport::subscribe_alerts_unacked`].
    pub fn subscribe_alerts_unacked(&self) -> mpsc::Receiver<AlertDelivery> {
        self.links.subscribe_alerts_unacked()
    }

    /// See [`AgentTransport::subscribe_heartbeats`].
    pub fn subscribe_heartbeats(&self) -> mpsc::Receiver<AgentHeartbeat> {
        self.links.subscribe_heartbeats()
    }

    /// Closes every link.
    pub fn shutdown(&self) {
        self.links.shutdown();
    }
}

impl Transport for AgentTransport {
    fn exec(&self, host: &Host, spec: ExecSpec) -> ExecHandle {
        let this = self.clone();
        let host = host.clone();
        spawn_exec(move |tx, cancel| async move { this.run(&host, &spec, &tx, &cancel).await })
    }

    /// Native `lock`/`unlock` messages: the agent keeps the table (no shell involved).
    fn lock(&self, host: &Host, req: super::lock::LockRequest) -> super::lock::LockFuture<'_> {
        let host = host.clone();
        Box::pin(async move {
            let link = self.link(&host)?;
            let never = CancellationToken::new();
            match link.session(req.connect_timeout, &never).await? {
                Some(session) => lock::run(session, &req).await,
                None => Err(TransportError::new(
                    super::ErrorKind::Io,
                    format!("{}: the lock request was cancelled", host.name),
                )),
            }
        })
    }

    fn connection(&self, host: &Host) -> ConnState {
        match AgentTransport::connection(self, &host.name) {
            AgentConnection::Unused => ConnState::Closed,
            AgentConnection::Connecting => ConnState::Connecting,
            AgentConnection::Connected => ConnState::Connected,
            AgentConnection::Down(e) => ConnState::Failed {
                kind: e.kind,
                reason: e.message,
            },
        }
    }
}

impl AgentTransport {
    async fn run(
        &self,
        host: &Host,
        spec: &ExecSpec,
        tx: &mpsc::Sender<ExecEvent>,
        cancel: &CancellationToken,
    ) -> Result<ExitOutcome, TransportError> {
        let link = self.link(host)?;
        let Some(session) = link.session(spec.connect_timeout, cancel).await? else {
            return Ok(ExitOutcome::Cancelled);
        };
        job::run(session, spec, tx, cancel).await
    }
}
