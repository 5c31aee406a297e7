//! One connection attempt to one host: reach it (DNS + TCP, or a tunnel through a jump
//! host's connection), SSH handshake with host-key check, authentication. Each failure is
//! classified into the transport's error kinds; a handshake the server drops before it really
//! started (sshd's MaxStartups) is reported as retryable.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use russh::client::{Config, Handle};
use russh::{Preferred, SshId};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use super::super::{ErrorKind, TransportError};
use super::auth::{self, KeyStore};
use super::config::ResolvedHost;
use super::handler::{ClientHandler, HandlerError, LinkState};
use super::hostkey::{self, HostKeyPolicy, KnownHostsCache};
use super::pool::Conn;

/// Keepalive when the config sets no ServerAliveInterval: a dead peer is noticed in ~45 s
/// without ever timing out a quiet command (no inactivity timeout: SSH-NOTES.md pitfall 5).
const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(15);
const DEFAULT_KEEPALIVE_MAX: usize = 3;
/// Per-channel receive window: throughput per channel is about window / RTT (pitfall 6).
const WINDOW_SIZE: u32 = 8 * 1024 * 1024;
/// Messages russh buffers per channel before it stops reading the connection; exec drains
/// continuously, so this only absorbs scheduling hiccups.
const CHANNEL_BUFFER: usize = 256;

/// Where a host is reached from.
pub enum Route {
    Direct,
    /// Through a `direct-tcpip` channel of a jump host's connection (ProxyJump).
    Via(Arc<Conn>),
}

/// Why an attempt failed: retry it (dropped handshake) or give up.
pub enum AttemptError {
    Dropped(String),
    Fatal(TransportError),
}

impl From<TransportError> for AttemptError {
    fn from(e: TransportError) -> Self {
        AttemptError::Fatal(e)
    }
}

/// What every connection attempt of a transport shares.
pub struct Connector {
    pub keys: KeyStore,
    pub known_hosts: Arc<KnownHostsCache>,
    pub extra_known_hosts: Vec<PathBuf>,
    pub fleetdeck_known_hosts: PathBuf,
    pub accept_new: bool,
}

/// A live, authenticated connection, before it is wrapped for the pool.
pub struct Connected {
    pub handle: Handle<ClientHandler>,
    pub link: Arc<LinkState>,
}

impl Connector {
    /// One attempt within `budget` (TCP, handshake and authentication together).
    pub async fn attempt(
        &self,
        r: &ResolvedHost,
        route: &Route,
        label: &str,
        budget: Duration,
    ) -> Result<Connected, AttemptError> {
        let mut deadline = Instant::now() + budget;
        let started = Instant::now();
        let policy = Arc::new(self.policy(r, label).await?);
        // Reading known_hosts is local work, not the host's slowness.
        deadline += started.elapsed();
        let link = Arc::new(LinkState::default());
        let handler = ClientHandler {
            policy,
            link: link.clone(),
        };
        let config = client_config(r);
        tracing::debug!(host = %label, "connecting");
        let handshake = async {
            match route {
                Route::Direct => {
                    let stream = tcp_connect(r, label).await?;
                    handshake(config, stream, handler, label).await
                }
                Route::Via(jump) => {
                    let port = u32::from(r.port);
                    let channel = jump
                        .handle
                        .channel_open_direct_tcpip(r.hostname.as_str(), port, "127.0.0.1", 0)
                        .await
                        .map_err(|e| {
                            AttemptError::Fatal(TransportError::new(
                                ErrorKind::Connect,
                                format!(
                                    "{label}: the jump host {} could not open a tunnel to \
                                     {}:{}: {e}",
                                    jump.label, r.hostname, r.port
                                ),
                            ))
                        })?;
                    handshake(config, channel.into_stream(), handler, label).await
                }
            }
        };
        let mut handle = match timeout_at(deadline, handshake).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(AttemptError::Fatal(TransportError::new(
                    ErrorKind::Timeout,
                    format!(
                        "{label}: no SSH handshake within {} s (the port accepts connections \
                         but the server does not answer)",
                        budget.as_secs_f32()
                    ),
                )));
            }
        };
        tracing::debug!(host = %label, "handshake done, authenticating");
        auth::authenticate(&mut handle, r, &self.keys, label, deadline).await?;
        Ok(Connected { handle, link })
    }

    async fn policy(&self, r: &ResolvedHost, label: &str) -> Result<HostKeyPolicy, AttemptError> {
        let files = hostkey::files_for(r, &self.extra_known_hosts, &self.fleetdeck_known_hosts);
        let known = self.known_hosts.get(&files).await.map_err(|e| {
            AttemptError::Fatal(TransportError::new(
                ErrorKind::HostKey,
                format!("{label}: cannot read known_hosts: {e}"),
            ))
        })?;
        let (name, port) = r.host_key_target();
        let name = name.to_string();
        let learn_into = hostkey::allows_first_use(self.accept_new, r)
            .then(|| self.fleetdeck_known_hosts.clone());
        Ok(HostKeyPolicy {
            label: label.to_string(),
            name,
            port,
            hostname: r.hostname.clone(),
            real_port: r.port,
            files,
            known,
            learn_into,
            cache: self.known_hosts.clone(),
        })
    }
}

/// russh settings for one host: keepalives from ServerAliveInterval/CountMax, no inactivity
/// timeout, a large window, Nagle off, modern key exchange first (mlkem768x25519, then
/// curve25519: russh's default order).
fn client_config(r: &ResolvedHost) -> Arc<Config> {
    let keepalive = r
        .server_alive_interval
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_KEEPALIVE);
    let keepalive_max = match usize::try_from(r.server_alive_count_max) {
        Ok(0) | Err(_) => DEFAULT_KEEPALIVE_MAX,
        Ok(n) => n,
    };
    Arc::new(Config {
        client_id: SshId::Standard(
            format!("SSH-2.0-fleetdeck_{}", env!("CARGO_PKG_VERSION")).into(),
        ),
        keepalive_interval: Some(keepalive),
        keepalive_max,
        inactivity_timeout: None,
        window_size: WINDOW_SIZE,
        channel_buffer_size: CHANNEL_BUFFER,
        nodelay: true,
        preferred: Preferred::DEFAULT,
        ..Config::default()
    })
}

/// DNS then TCP, trying each address in order like ssh; Nagle off for interactive latency.
async fn tcp_connect(r: &ResolvedHost, label: &str) -> Result<TcpStream, AttemptError> {
    let addrs: Vec<_> = tokio::net::lookup_host((r.hostname.as_str(), r.port))
        .await
        .map_err(|e| {
            TransportError::new(
                ErrorKind::Dns,
                format!("{label}: cannot resolve `{}`: {e}", r.hostname),
            )
        })?
        .collect();
    if addrs.is_empty() {
        return Err(TransportError::new(
            ErrorKind::Dns,
            format!("{label}: `{}` resolves to no address", r.hostname),
        )
        .into());
    }
    let mut last = None;
    for addr in addrs.iter().take(16) {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(host = %label, "set_nodelay failed: {e}");
                }
                return Ok(stream);
            }
            Err(e) => {
                tracing::debug!(host = %label, %addr, "tcp connect failed: {e}");
                last = Some((addr.to_string(), e));
            }
        }
    }
    let (addr, e) = last.map_or_else(
        || (r.hostname.clone(), "no address tried".to_string()),
        |(a, e)| {
            let why = match e.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    "connection refused (nothing listens there, or a firewall rejects it)"
                        .to_string()
                }
                _ => e.to_string(),
            };
            (a, why)
        },
    );
    Err(TransportError::new(
        ErrorKind::Connect,
        format!("{label}: cannot connect to {addr}: {e}"),
    )
    .into())
}

async fn handshake<S>(
    config: Arc<Config>,
    stream: S,
    handler: ClientHandler,
    label: &str,
) -> Result<Handle<ClientHandler>, AttemptError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    russh::client::connect_stream(config, stream, handler)
        .await
        .map_err(|e| classify_handshake_error(e, label))
}

fn classify_handshake_error(e: HandlerError, label: &str) -> AttemptError {
    match e {
        HandlerError::HostKey(message) => {
            AttemptError::Fatal(TransportError::new(ErrorKind::HostKey, message))
        }
        HandlerError::Ssh(e) if is_dropped(&e) => AttemptError::Dropped(format!(
            "{label}: the server closed the connection during the SSH handshake ({e})"
        )),
        HandlerError::Ssh(russh::Error::UnknownKey) => AttemptError::Fatal(TransportError::new(
            ErrorKind::HostKey,
            format!("{label}: host key refused"),
        )),
        HandlerError::Ssh(e) => AttemptError::Fatal(TransportError::new(
            ErrorKind::Connect,
            format!("{label}: SSH handshake failed: {e}"),
        )),
    }
}

/// A connection closed or reset before the key exchange finished: what sshd does to
/// connections past MaxStartups (and what a briefly overloaded host does). Worth a retry.
fn is_dropped(e: &russh::Error) -> bool {
    use std::io::ErrorKind as Io;
    match e {
        russh::Error::Disconnect | russh::Error::HUP => true,
        russh::Error::IO(io) => matches!(
            io.kind(),
            Io::ConnectionReset | Io::ConnectionAborted | Io::UnexpectedEof | Io::BrokenPipe
        ),
        _ => false,
    }
}
