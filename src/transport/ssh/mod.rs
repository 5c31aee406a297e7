//! The SSH transport, on russh: hosts resolved through the user's ssh config, host keys checked
//! against known_hosts (strict by default), agent and key-file authentication, one pooled
//! connection per host carrying many commands, and commands that can always be stopped.
//!
//! Layout: `config` (ssh_config resolution) and `known_hosts` (trust) describe hosts;
//! `client` makes one connection (with `handler`, `hostkey`, `auth`); `pool` keeps and caps
//! connections; `exec` runs one command on a channel (with `command` for the remote line and
//! `outbox` for output waiting on the receiver).

pub mod config;
pub mod known_hosts;

mod auth;
mod client;
mod command;
mod exec;
mod handler;
mod hostkey;
mod outbox;
mod pool;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::local::spawn_exec;
use super::{
    ConnState, ErrorKind, ExecEvent, ExecHandle, ExecSpec, ExitOutcome, Transport, TransportError,
};
use crate::inventory::Host;
pub use auth::PassphraseFn;
use client::Connector;
use config::SshConfigSource;
use exec::ExecError;
use hostkey::KnownHostsCache;
use pool::{KILL_CHANNELS, Pool};

/// OpenSSH's default MaxSessions is 10; 8 leaves room for the kill channels of cancels.
pub const DEFAULT_MAX_CHANNELS: usize = 8;

/// How the SSH transport connects; built from the CLI flags and config.toml.
#[derive(Clone)]
pub struct SshOptions {
    /// `--ssh-config FILE`: replaces ~/.ssh/config and /etc/ssh/ssh_config (like `ssh -F`).
    pub ssh_config: Option<PathBuf>,
    /// `--known-hosts FILE`: consulted in addition to the user's known_hosts files.
    pub extra_known_hosts: Vec<PathBuf>,
    /// fleetdeck's own known_hosts (`Home::known_hosts_file()`): consulted too; `--accept-new`
    /// records new keys here.
    pub fleetdeck_known_hosts: PathBuf,
    /// Trust on first use: record unknown host keys. Changed keys are always refused.
    pub accept_new: bool,
    /// SSH handshakes in flight at once (config `run.max_handshakes`).
    pub max_handshakes: usize,
    /// Commands at once on one connection (keep below sshd's MaxSessions minus 2).
    pub max_channels_per_connection: usize,
    /// Asks for a key file's passphrase, once per file, when interactive; `None`: encrypted
    /// keys give a clear error instead.
    pub passphrase: Option<PassphraseFn>,
}

impl fmt::Debug for SshOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshOptions")
            .field("ssh_config", &self.ssh_config)
            .field("extra_known_hosts", &self.extra_known_hosts)
            .field("fleetdeck_known_hosts", &self.fleetdeck_known_hosts)
            .field("accept_new", &self.accept_new)
            .field("max_handshakes", &self.max_handshakes)
            .field(
                "max_channels_per_connection",
                &self.max_channels_per_connection,
            )
            .field("passphrase", &self.passphrase.as_ref().map(|_| "callback"))
            .finish()
    }
}

/// Runs commands over SSH. Cheap to share (`Arc` inside); connections live until
/// [`shutdown`](SshTransport::shutdown) or drop.
#[derive(Clone)]
pub struct SshTransport {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<SshConfigSource>,
    pool: Pool,
}

impl SshTransport {
    /// Reads the ssh config (errors name file:line:column) and checks the limits.
    pub fn new(opts: SshOptions) -> Result<SshTransport, crate::diag::Error> {
        if opts.max_handshakes == 0 {
            return Err(crate::diag::Error::Invalid(
                "max_handshakes must be at least 1".into(),
            ));
        }
        if opts.max_channels_per_connection == 0 {
            return Err(crate::diag::Error::Invalid(
                "max_channels_per_connection must be at least 1".into(),
            ));
        }
        if opts.max_channels_per_connection + KILL_CHANNELS > 10 {
            tracing::warn!(
                channels = opts.max_channels_per_connection,
                "more channels per connection than OpenSSH's default MaxSessions (10) allows \
                 with room for cancels"
            );
        }
        let config = Arc::new(SshConfigSource::load(opts.ssh_config.as_deref())?);
        for warning in config.warnings() {
            tracing::warn!("ssh config: {warning}");
        }
        let connector = Connector {
            keys: auth::KeyStore::new(opts.passphrase.clone()),
            known_hosts: Arc::new(KnownHostsCache::default()),
            extra_known_hosts: opts.extra_known_hosts.clone(),
            fleetdeck_known_hosts: opts.fleetdeck_known_hosts.clone(),
            accept_new: opts.accept_new,
        };
        let pool = Pool::new(
            connector,
            config.clone(),
            opts.max_handshakes,
            opts.max_channels_per_connection,
        );
        Ok(SshTransport {
            inner: Arc::new(Inner { config, pool }),
        })
    }

    /// Closes every pooled connection (politely, with a bounded wait).
    pub async fn shutdown(&self) {
        self.inner.pool.shutdown().await;
    }

    /// Closes pooled connections idle for at least `idle_for` (no command running on them,
    /// none tunnelled through them) and dead ones; returns how many. Each costs a file
    /// descriptor and ~90 KB: a long-lived console calls this now and then, a one-shot run
    /// with thousands of hosts can call it with `Duration::ZERO` as hosts finish.
    pub async fn close_idle(&self, idle_for: Duration) -> usize {
        self.inner.pool.close_idle(idle_for).await
    }

    /// Connections made (TCP, handshake and login) over this transport's life: a second run
    /// on the same hosts over warm connections adds none.
    pub fn connections_made(&self) -> usize {
        self.inner.pool.connections_made()
    }
}

impl Transport for SshTransport {
    fn exec(&self, host: &Host, spec: ExecSpec) -> ExecHandle {
        let inner = self.inner.clone();
        let host = host.clone();
        spawn_exec(move |tx, cancel| async move { inner.run(&host, &spec, &tx, &cancel).await })
    }

    fn connection(&self, host: &Host) -> ConnState {
        self.inner.pool.connection(&host.name)
    }
}

impl Inner {
    async fn run(
        &self,
        host: &Host,
        spec: &ExecSpec,
        tx: &mpsc::Sender<ExecEvent>,
        cancel: &CancellationToken,
    ) -> Result<ExitOutcome, TransportError> {
        let resolved = self.config.resolve(host).map_err(|e| {
            TransportError::new(ErrorKind::Io, format!("{}: ssh config: {e}", host.name))
        })?;
        let timeout = connect_timeout(spec.connect_timeout, resolved.connect_timeout);
        // A pooled connection found dead when the command starts is replaced once.
        for attempt in 0..2 {
            let conn = tokio::select! {
                conn = self.pool.get(&host.name, &resolved, timeout) => conn?,
                () = cancel.cancelled() => return Ok(ExitOutcome::Cancelled),
            };
            match exec::run(conn.clone(), &host.name, spec, tx, cancel).await {
                Ok(outcome) => return Ok(outcome),
                Err(ExecError::Failed(e)) => return Err(e),
                Err(ExecError::Stale(why)) => {
                    self.pool.evict(&conn).await;
                    if attempt == 1 {
                        return Err(TransportError::new(ErrorKind::Protocol, why));
                    }
                    tracing::debug!(host = %host.name, "{why}; reconnecting");
                }
            }
        }
        Err(TransportError::new(
            ErrorKind::Protocol,
            format!("{}: the connection kept failing", host.name),
        ))
    }
}

/// fleetdeck's connect timeout, shortened by the host's ConnectTimeout when that is smaller
/// (someone who set it for a host expects it to hold).
fn connect_timeout(ours: Duration, configured: Option<Duration>) -> Duration {
    match configured {
        Some(c) if !c.is_zero() => ours.min(c),
        _ => ours,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smaller_connect_timeout_wins() {
        let ten = Duration::from_secs(10);
        assert_eq!(connect_timeout(ten, None), ten);
        assert_eq!(
            connect_timeout(ten, Some(Duration::from_secs(5))),
            Duration::from_secs(5)
        );
        assert_eq!(connect_timeout(ten, Some(Duration::from_secs(30))), ten);
    }
}
