//! `fleetdeck agent run`: the listener (TLS, or plain WebSocket on loopback only), the
//! upgrade with its token check, the shared metrics sampler and alert watchers, and the
//! graceful shutdown on SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use super::alerts::{Journal, spawn_watchers};
use super::metrics::Sampler;
use super::policy::AgentConfig;
use super::tokens::TokenStore;
use super::{auth, session, tls};
use crate::config::home::write_private_file;
use crate::protocol::{MAX_FRAME_BYTES, Metrics};

/// TLS and WebSocket handshakes must finish within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 1024;
/// The hard transport limit for one message. Frames over [`MAX_FRAME_BYTES`] but under this
/// get an `error` frame and the connection carries on (the protocol's promise); only a
/// message over this closes the connection (code 1009), since tungstenite cannot skip it.
pub const HARD_MESSAGE_LIMIT: usize = 4 * MAX_FRAME_BYTES;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub dir: PathBuf,
    pub listen: SocketAddr,
    pub insecure_plaintext: bool,
    /// Written (atomically) with the URL once listening, for scripts and tests.
    pub ready_file: Option<PathBuf>,
}

/// What every connection shares.
pub struct Shared {
    pub config: AgentConfig,
    pub jobs: Arc<Semaphore>,
    pub http: reqwest::Client,
    pub metrics: watch::Receiver<Metrics>,
    pub shutdown: CancellationToken,
    pub journal: Option<Arc<Journal>>,
    /// Host locks (`lock`/`unlock`), kept in the agent folder across restarts.
    pub locks: Arc<super::locks::LockTable>,
    tokens: Arc<TokenStore>,
}

/// Refuses plain WebSocket anywhere but loopback (exit code 2 through `Error::Invalid`).
pub fn check_listen(opts: &RunOptions) -> Result<(), String> {
    if opts.insecure_plaintext && !opts.listen.ip().is_loopback() {
        return Err(format!(
            "--insecure-plaintext serves tokens and commands unencrypted: it is allowed only on a \
             loopback address (127.0.0.1 or ::1), not {}",
            opts.listen
        ));
    }
    Ok(())
}

/// Loads everything the agent needs before it listens: errors here are configuration errors.
pub struct Prepared {
    config: AgentConfig,
    tokens: TokenStore,
    tls: Option<TlsAcceptor>,
}

pub fn prepare(opts: &RunOptions) -> Result<Prepared, String> {
    check_listen(opts)?;
    let config = AgentConfig::load(&opts.dir).map_err(|diags| {
        diags
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let tokens = TokenStore::load(&opts.dir).map_err(|d| d.to_string())?;
    let tls = if opts.insecure_plaintext {
        None
    } else {
        Some(TlsAcceptor::from(tls::server_config(&opts.dir)?))
    };
    Ok(Prepared {
        config,
        tokens,
        tls,
    })
}

/// Serves until SIGTERM or SIGINT, then stops cleanly (jobs cancelled and reported).
pub async fn serve(opts: RunOptions, prepared: Prepared) -> Result<(), String> {
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let scheme = if prepared.tls.is_some() { "wss" } else { "ws" };
    let url = format!("{scheme}://{local}");

    let shutdown = CancellationToken::new();
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot watch SIGINT: {e}"))?;

    let journal = match Journal::open(&opts.dir.join("journal")) {
        Ok(j) => Some(Arc::new(j)),
        Err(e) => return Err(format!("alert journal: {e}")),
    };
    let locks = Arc::new(super::locks::LockTable::open(&opts.dir)?);
    let metrics = spawn_sampler(prepared.config.heartbeat, shutdown.clone());
    let watcher_stop = shutdown.child_token();
    if let Some(journal) = &journal {
        let _handles = spawn_watchers(
            prepared.config.watchers.clone(),
            Arc::clone(journal),
            metrics.clone(),
            watcher_stop.clone(),
        );
    }
    let shared = Arc::new(Shared {
        jobs: Arc::new(Semaphore::new(prepared.config.policy.max_jobs)),
        config: prepared.config,
        http: super::jobs::http_check::client()?,
        metrics,
        shutdown: shutdown.clone(),
        journal,
        locks,
        tokens: Arc::new(prepared.tokens),
    });

    println!("listening on {url}");
    if let Some(path) = &opts.ready_file {
        write_private_file(path, format!("{url}\n").as_bytes()).map_err(|e| e.to_string())?;
    }
    tracing::info!(%url, name = %shared.config.name, "agent listening");

    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors and the like: wait a little rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                    tracing::warn!(%peer, "too many connections; refusing one");
                    continue;
                };
                let shared = Arc::clone(&shared);
                let tls = prepared.tls.clone();
                connections.spawn(async move {
                    let _slot = slot;
                    serve_connection(stream, peer, tls, shared).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }

    tracing::info!("stopping: cancelling running jobs");
    drop(listener);
    shutdown.cancel();
    let grace = shared.config.policy.kill_grace + Duration::from_secs(10);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("some connections did not finish in time");
        connections.abort_all();
    }
    if let Some(journal) = &shared.journal {
        journal.flush();
    }
    tracing::info!("agent stopped");
    Ok(())
}

/// Samples metrics on a blocking thread every `interval` (the sampler blocks briefly) and
/// publishes the newest sample to every connection and watcher.
fn spawn_sampler(interval: Duration, stop: CancellationToken) -> watch::Receiver<Metrics> {
    let (tx, rx) = watch::channel(Metrics::default());
    tokio::spawn(async move {
        let sampler = Arc::new(Mutex::new(Sampler::new()));
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = stop.cancelled() => return,
            }
            let s = Arc::clone(&sampler);
            let sample =
                tokio::task::spawn_blocking(move || s.lock().map(|mut s| s.sample()).ok()).await;
            if let Ok(Some(m)) = sample
                && tx.send(m).is_err()
            {
                return;
            }
        }
    });
    rx
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
) {
    let _ = stream.set_nodelay(true);
    match tls {
        Some(acceptor) => {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls_stream)) => upgrade(tls_stream, peer, shared).await,
                Ok(Err(e)) => tracing::info!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
            }
        }
        None => upgrade(stream, peer, shared).await,
    }
}

/// The WebSocket upgrade with the token check, then the session.
async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    peer: SocketAddr,
    shared: Arc<Shared>,
) {
    let slot: auth::ScopeSlot = Arc::default();
    let callback = auth::callback(Arc::clone(&shared.tokens), Arc::clone(&slot));
    let handshake =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config()));
    let ws = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            tracing::info!(%peer, error = %e, "upgrade refused");
            return;
        }
        Err(_) => {
            tracing::info!(%peer, "upgrade timed out");
            return;
        }
    };
    let scope = slot.lock().ok().and_then(|s| *s);
    let Some(scope) = scope else {
        return;
    };
    session::run(ws, scope, peer, shared).await;
}

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(HARD_MESSAGE_LIMIT))
        .max_frame_size(Some(HARD_MESSAGE_LIMIT))
        // Bytes buffered before a write goes out; the sink waits for the socket to take the
        // buffer after a short write, so its buffer holds at most this plus one frame.
        .write_buffer_size(64 * 1024)
        .read_buffer_size(crate::protocol::READ_BUFFER_BYTES)
}
