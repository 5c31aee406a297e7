//! The console's transports: one set for its whole life, built from the whole inventory through
//! `launch::transports` (the same setup as `fleetdeck run`) and shared by every run, so a second
//! run on the same hosts reuses the pooled SSH connections instead of paying every handshake
//! again. Idle connections are closed after a while; quitting closes the rest politely.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::connections::Connections;
use super::passphrase::{self, PassphraseRequest};
use crate::config::{Home, Settings};
use crate::engine::Transports;
use crate::engine::launch::{self, SshFlags};
use crate::inventory::{Host, TransportKind};
use crate::transport::ConnState;
use crate::transport::agent::AgentTransport;
use crate::transport::ssh::{PassphraseFn, SshTransport};

/// A pooled connection unused this long is closed (it costs the host a session and us a file
/// descriptor); the next run reconnects.
pub const IDLE_CLOSE_AFTER: Duration = Duration::from_secs(5 * 60);

/// What a built set holds: the transports and, when the inventory has SSH hosts, the SSH
/// transport itself (for its pool: idle closing, shutdown, counters).
struct Built {
    transports: Arc<Transports>,
    ssh: Option<SshTransport>,
}

pub struct ConsoleTransports {
    home: Home,
    settings: Settings,
    flags: SshFlags,
    hosts: Vec<Host>,
    passphrase: PassphraseFn,
    requests: Option<mpsc::UnboundedReceiver<PassphraseRequest>>,
    built: Option<Built>,
    idle_close_after: Duration,
    closing_idle: Option<JoinHandle<usize>>,
}

impl ConsoleTransports {
    /// Nothing is built yet: [`ensure`](Self::ensure) reads the ssh config when the loop
    /// starts (and again before a run if that failed).
    pub fn new(home: Home, settings: Settings, flags: SshFlags, hosts: Vec<Host>) -> Self {
        let (ask, requests) = passphrase::bridge();
        ConsoleTransports {
            home,
            settings,
            flags,
            hosts,
            passphrase: ask,
            requests: Some(requests),
            built: None,
            idle_close_after: IDLE_CLOSE_AFTER,
            closing_idle: None,
        }
    }

    /// Closes connections idle for `after` instead of `IDLE_CLOSE_AFTER`.
    pub fn with_idle_close_after(mut self, after: Duration) -> Self {
        self.idle_close_after = after;
        self
    }

    /// The passphrase questions the SSH transport asks (taken once, by the event loop).
    pub fn take_passphrase_requests(
        &mut self,
    ) -> Option<mpsc::UnboundedReceiver<PassphraseRequest>> {
        self.requests.take()
    }

    /// Builds the transports for the whole inventory unless already built. The error (an ssh
    /// config that does not parse, with file:line) is for the message line.
    pub fn ensure(&mut self) -> Result<(), String> {
        if self.built.is_some() {
            return Ok(());
        }
        let (transports, ssh) = launch::transports(
            &self.hosts,
            &self.home,
            &self.settings,
            &self.flags,
            Some(self.passphrase.clone()),
        )
        .map_err(|e| e.to_string())?;
        self.built = Some(Built {
            transports: Arc::new(transports),
            ssh,
        });
        self.watch_agents();
        Ok(())
    }

    /// Agents push heartbeats, metrics and alerts: connect to every agent host now rather than
    /// at its first run, so the fleet view shows their state at once. A host whose agent entry
    /// is unusable (no pin, no token file) shows that when a run reaches it.
    fn watch_agents(&self) {
        if !self
            .hosts
            .iter()
            .any(|h| h.transport == TransportKind::Agent)
        {
            return;
        }
        let agents = AgentTransport::for_home(&self.home);
        for host in self
            .hosts
            .iter()
            .filter(|h| h.transport == TransportKind::Agent)
        {
            if let Err(e) = agents.watch(host) {
                tracing::warn!(host = %host.name, error = %e.message, "agent not watched");
            }
        }
    }

    /// The shared transports for a run on `hosts`. When the whole inventory's set cannot be
    /// built (a broken ssh config) a run that needs no SSH still gets local transports.
    pub fn for_run(&mut self, hosts: &[Host]) -> Result<Arc<Transports>, String> {
        match self.ensure() {
            Ok(()) => Ok(self
                .built
                .as_ref()
                .map(|b| b.transports.clone())
                .unwrap_or_default()),
            Err(e) if hosts.iter().all(|h| h.transport != TransportKind::Ssh) => {
                tracing::warn!(error = %e, "ssh transport unavailable; running local hosts only");
                launch::transports(hosts, &self.home, &self.settings, &self.flags, None)
                    .map(|(t, _)| Arc::new(t))
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e),
        }
    }

    /// Every inventory host's link state now (never waits, no I/O).
    pub fn snapshot(&self) -> Connections {
        let by_host = self
            .hosts
            .iter()
            .map(|h| (h.name.clone(), self.state_of(h)))
            .collect();
        Connections { by_host }
    }

    fn state_of(&self, host: &Host) -> ConnState {
        if host.transport == TransportKind::Local {
            return ConnState::Local;
        }
        match &self.built {
            Some(b) => b
                .transports
                .get(host.transport)
                .map_or(ConnState::NotTracked, |t| t.connection(host)),
            // Nothing built, nothing connected.
            None => ConnState::Closed,
        }
    }

    /// Starts closing connections idle for `IDLE_CLOSE_AFTER`, in the background (a
    /// disconnect may wait on a slow host); does nothing while the previous pass runs. The
    /// handle answers how many were closed.
    pub fn close_idle_in_background(&mut self) -> Option<&mut JoinHandle<usize>> {
        let ssh = self.built.as_ref().and_then(|b| b.ssh.clone())?;
        if self.closing_idle.as_ref().is_some_and(|t| !t.is_finished()) {
            return None;
        }
        let after = self.idle_close_after;
        self.closing_idle = Some(tokio::spawn(async move {
            let closed = ssh.close_idle(after).await;
            if closed > 0 {
                tracing::debug!(closed, "closed idle ssh connections");
            }
            closed
        }));
        self.closing_idle.as_mut()
    }

    /// Connections the SSH pool has made over the console's life (for tests and logs).
    pub fn connections_made(&self) -> usize {
        self.built
            .as_ref()
            .and_then(|b| b.ssh.as_ref())
            .map_or(0, SshTransport::connections_made)
    }

    /// Says goodbye to every pooled connection, waiting at most `grace`.
    pub async fn shutdown(&mut self, grace: Duration) {
        if let Some(task) = self.closing_idle.take() {
            task.abort();
        }
        if self
            .hosts
            .iter()
            .any(|h| h.transport == TransportKind::Agent)
        {
            AgentTransport::for_home(&self.home).shutdown();
        }
        let Some(ssh) = self.built.as_ref().and_then(|b| b.ssh.clone()) else {
            return;
        };
        if tokio::time::timeout(grace, ssh.shutdown()).await.is_err() {
            tracing::warn!("ssh connections did not close within {grace:?}; leaving anyway");
        }
    }
}
