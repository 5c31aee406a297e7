//! `ProbeOnly`: an SSH transport that can run one thing, the fixed metrics probe. It is what a
//! read-only front end (the wallboard's `FleetReader`) holds for its SSH hosts, so "never a
//! command of a user's choosing" is a property of the type: the transport is a private field,
//! and the only method that reaches a host sends `metrics::probe_command()`.
//!
//! It cannot run anything else; this does not compile (no such method, E0599):
//!
//! ```compile_fail,E0599
//! fn try_to_exec(p: &fleetdeck::engine::sampling::ProbeOnly, host: &fleetdeck::inventory::Host) {
//!     let _ = p.exec(host, fleetdeck::transport::ExecSpec::new("rm -rf /"));
//! }
//! ```
//!
//! nor hand its transport out (the field is private, E0616):
//!
//! ```compile_fail,E0616
//! fn take(p: fleetdeck::engine::sampling::ProbeOnly) {
//!     let _t = p.transport;
//! }
//! ```

use std::time::Duration;

use super::probe_run::{ProbeFailure, probe};
use crate::inventory::Host;
use crate::metrics::Reading;
use crate::transport::ssh::SshTransport;
use crate::transport::{ConnState, Transport};

/// See the module doc. Cheap to clone.
#[derive(Clone)]
pub struct ProbeOnly {
    transport: SshTransport,
}

impl ProbeOnly {
    /// Wraps an SSH transport; whoever holds the result can only probe.
    pub(crate) fn ssh(transport: SshTransport) -> ProbeOnly {
        ProbeOnly { transport }
    }

    /// The fixed probe on `host`, read into a `Reading`.
    pub async fn probe(
        &self,
        host: &Host,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<Reading, ProbeFailure> {
        probe(&self.transport, host, connect_timeout, timeout).await
    }

    /// `host`'s link state now (no I/O).
    pub fn connection(&self, host: &Host) -> ConnState {
        self.transport.connection(host)
    }

    /// Closes every pooled connection (the reader is done).
    pub async fn shutdown(&self) {
        self.transport.shutdown().await;
    }
}
