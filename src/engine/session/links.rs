//! The session's transports, for its whole life: built once for every host it was opened on
//! (`launch::transports`, the one setup), so later runs reuse pooled SSH connections and agent
//! links instead of paying each handshake again. Built lazily and again after a failure (an
//! ssh config that does not parse is named, and runs without SSH hosts still go on local
//! transports meanwhile).

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::Transports;
use crate::engine::launch::{self, Built, SshFlags};
use crate::inventory::{Host, TransportKind};
use crate::transport::ConnState;
use crate::transport::agent::AgentTransport;
use crate::transport::ssh::{PassphraseFn, SshTransport};

pub(super) struct Links {
    home: Home,
    settings: Settings,
    flags: SshFlags,
    hosts: Arc<[Host]>,
    passphrase: Option<PassphraseFn>,
    built: Option<Arc<Built>>,
}

impl Links {
    pub fn new(
        home: Home,
        settings: Settings,
        flags: SshFlags,
        hosts: Arc<[Host]>,
        passphrase: Option<PassphraseFn>,
    ) -> Links {
        Links {
            home,
            settings,
            flags,
            hosts,
            passphrase,
            built: None,
        }
    }

    /// Builds the transports unless built; `Ok(true)` when this call built them.
    pub fn ensure(&mut self) -> Result<bool, Error> {
        if self.built.is_some() {
            return Ok(false);
        }
        let built = launch::transports(
            &self.hosts,
            &self.home,
            &self.settings,
            &self.flags,
            self.passphrase.clone(),
        )?;
        self.built = Some(Arc::new(built));
        Ok(true)
    }

    /// The transports for a run on `hosts`, once `ensure` was tried. When the set could not be
    /// built (a broken ssh config: `problem`), a run that needs no SSH still gets local and
    /// agent transports.
    pub fn for_run(&self, hosts: &[Host], problem: Option<&str>) -> Result<Transports, String> {
        if let Some(built) = &self.built {
            return Ok(built.transports.clone());
        }
        if hosts.iter().any(|h| h.transport == TransportKind::Ssh) {
            return Err(problem
                .unwrap_or("the ssh transport is not set up")
                .to_string());
        }
        tracing::warn!(problem, "ssh transport unavailable; running without it");
        launch::transports(hosts, &self.home, &self.settings, &self.flags, None)
            .map(|b| b.transports)
            .map_err(|e| e.to_string())
    }

    /// Every host's link state now (no I/O, never waits).
    pub fn connections(&self) -> HashMap<String, ConnState> {
        self.hosts
            .iter()
            .map(|h| (h.name.clone(), self.state_of(h)))
            .collect()
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

    pub fn ssh(&self) -> Option<SshTransport> {
        self.built.as_ref().and_then(|b| b.ssh.clone())
    }

    pub fn agent(&self) -> Option<AgentTransport> {
        self.built.as_ref().and_then(|b| b.agent.clone())
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }
}
