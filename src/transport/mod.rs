//! Transports: how a command reaches a host. SSH, the agent and local processes implement one
//! trait and must look identical to the engine: same events, same error kinds, same cancel.

pub mod agent;
pub mod local;
pub mod lock;
pub mod rate;
pub mod ssh;

use std::fmt;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::inventory::Host;

/// What to run on one host.
#[derive(Clone, PartialEq)]
pub struct ExecSpec {
    /// A shell command line, run by the remote user's shell (`sh -c` for local).
    pub command: String,
    /// Extra environment variables (SSH: sent as `export` prefix, since sshd's AcceptEnv
    /// usually refuses `env` requests).
    pub env: Vec<(String, String)>,
    /// Working directory on the host; `None` is the login directory.
    pub cwd: Option<String>,
    /// Bytes written to the command's stdin, then EOF (secrets travel here, never in argv).
    pub stdin: Option<Vec<u8>>,
    /// Ask for a PTY (interactive-style commands; merges stderr into stdout).
    pub pty: bool,
    /// TCP connect + handshake + auth.
    pub connect_timeout: Duration,
    /// The whole command; `None` is unlimited.
    pub timeout: Option<Duration>,
    /// Longest silence without output; `None` is off.
    pub idle_timeout: Option<Duration>,
    /// On agent hosts, this operation instead of `command` (an action's file_validation or
    /// service_health); other transports run `command`, its SSH equivalent.
    pub agent_op: Option<AgentOp>,
}

/// An operation only an agent can run, in place of a spec's shell command: an action's
/// `[agent]` check. Its serde shape is that of the `[agent]` table in action templates (and of
/// the `agent {…}` text a run records); the agent transport converts it to the wire's
/// `protocol::Operation`, a type of its own, so this one can change without changing the wire.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentOp {
    /// Checks on one file; the job fails if any check fails.
    FileValidation {
        path: String,
        #[serde(default)]
        exists: Option<bool>,
        #[serde(default)]
        readable: Option<bool>,
        #[serde(default)]
        size_gt_mb: Option<f64>,
        /// Modified within this many seconds.
        #[serde(default)]
        modified_within_s: Option<u64>,
        /// Expected SHA-256, hex.
        #[serde(default)]
        sha256: Option<String>,
    },
    /// An HTTP(S) request from the agent; the job fails if any expectation fails.
    ServiceHealth {
        url: String,
        #[serde(default)]
        expect_status: Option<u16>,
        #[serde(default)]
        body_contains: Option<String>,
        #[serde(default)]
        json_field: Option<JsonFieldCheck>,
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
}

/// A service_health expectation: the value at a JSON pointer (`/status`) equals `equals`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonFieldCheck {
    pub pointer: String,
    pub equals: serde_json::Value,
}

/// Written by hand: stdin carries action secrets, so a `{:?}` of a spec (or of a run request
/// holding one) shows only its length.
impl fmt::Debug for ExecSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecSpec")
            .field("command", &self.command)
            .field("env", &self.env)
            .field("cwd", &self.cwd)
            .field(
                "stdin",
                &self.stdin.as_ref().map(|b| format!("<{} bytes>", b.len())),
            )
            .field("pty", &self.pty)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("agent_op", &self.agent_op)
            .finish()
    }
}

impl ExecSpec {
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            env: Vec::new(),
            cwd: None,
            stdin: None,
            pty: false,
            connect_timeout: Duration::from_secs(10),
            timeout: None,
            idle_timeout: None,
            agent_op: None,
        }
    }
}

/// Why a host could not run the command at all (it never started, or the link broke).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The name did not resolve.
    Dns,
    /// TCP refused, unreachable, reset before the handshake finished.
    Connect,
    /// Unknown, changed or revoked host key. Written `hostkey` everywhere (as README lists it);
    /// `host_key`, which `--json` and history wrote before, is still read.
    #[serde(rename = "hostkey", alias = "host_key")]
    HostKey,
    /// No accepted credential.
    Auth,
    /// The connect timeout passed (TCP, handshake or auth).
    Timeout,
    /// Local I/O failure (reading a key file, spawning a process).
    Io,
    /// The peer broke the protocol or closed the connection mid-command.
    Protocol,
    /// The host's circuit breaker is open after repeated connection failures: skipped
    /// without trying until its cool-down passes.
    CircuitOpen,
    /// Another run (here or on another machine) holds the host's lock.
    Locked,
}

impl ErrorKind {
    /// Unreachable kinds make `fleetdeck run` exit 3 rather than 1: the command never ran.
    pub fn is_unreachable(self) -> bool {
        !matches!(
            self,
            ErrorKind::Io | ErrorKind::Protocol | ErrorKind::Locked
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::HostKey => "hostkey",
            ErrorKind::Auth => "auth",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Io => "io",
            ErrorKind::Protocol => "protocol",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::Locked => "locked",
        }
    }
}

/// A transport failure with a message a person can act on (what failed, and what to do).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct TransportError {
    pub kind: ErrorKind,
    pub message: String,
}

impl TransportError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a started command ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ExitOutcome {
    /// Exited with a status code.
    Code { code: i32 },
    /// Killed by a signal (`TERM`, `KILL`, ...).
    Signal { signal: String },
    /// The channel closed without an exit status (some servers, dropped links).
    NoStatus,
    /// fleetdeck's command timeout passed; the remote command was killed.
    TimedOut { after_ms: u64 },
    /// No output for the idle timeout; the remote command was killed.
    IdleTimedOut { after_ms: u64 },
    /// Cancelled by the operator; the remote command was killed.
    Cancelled,
}

/// What a transport reports, in order: `Connecting`, `Started`, any output, then exactly one
/// terminal event (`Exited` or `Failed`). `Failed` may come at any point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecEvent {
    Connecting,
    /// The command is running (remote pid when known, for process-group kill).
    Started {
        pid: Option<u32>,
    },
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Exited(ExitOutcome),
    Failed(TransportError),
}

impl ExecEvent {
    pub fn is_terminal(&self) -> bool {
        matches!(self, ExecEvent::Exited(_) | ExecEvent::Failed(_))
    }
}

/// The running command: its events, and the way to cancel it. Dropping the handle does not
/// cancel (the engine may stop listening while a cancel is in flight); call `cancel`.
pub struct ExecHandle {
    pub events: mpsc::Receiver<ExecEvent>,
    pub cancel: CancellationToken,
}

/// Events buffered between a transport task and the engine. The transport drains its source
/// continuously; when this fills, the transport waits, which back-pressures only this host.
pub const EVENT_BUFFER: usize = 256;

/// What a transport knows of its link to one host, for the console's Fleet view and status
/// bar. Cheap to ask (no I/O): transports keep it as they connect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConnState {
    /// This transport does not track connections.
    #[default]
    NotTracked,
    /// Nothing to connect to: commands run as processes on this machine.
    Local,
    /// No connection open: never connected, or closed (idle, or the link ended).
    Closed,
    /// A connection is being made (TCP, handshake, authentication).
    Connecting,
    /// An open, authenticated connection that later commands reuse.
    Connected,
    /// The last attempt to connect failed; `reason` says why.
    Failed { kind: ErrorKind, reason: String },
    /// Not contacted on purpose by this (read-only) view: an agent host without a read token.
    /// Not a failure of the host; `reason` says what to add.
    Unwatched { reason: String },
}

/// A way to reach hosts. `exec` must not block: it starts a task and returns at once.
pub trait Transport: Send + Sync {
    fn exec(&self, host: &Host, spec: ExecSpec) -> ExecHandle;

    /// The state of this transport's link to `host`; must not block or do I/O. The default
    /// is for transports that keep no connections they could report.
    fn connection(&self, _host: &Host) -> ConnState {
        ConnState::NotTracked
    }

    /// Takes or releases `host`'s lock on the host itself (see `lock`). The default runs a
    /// short POSIX sh script through `exec` (SSH, local); the agent answers natively.
    fn lock(&self, host: &Host, req: lock::LockRequest) -> lock::LockFuture<'_> {
        lock::via_shell(self, host, req)
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_never_shows_stdin() {
        let mut spec = ExecSpec::new("IFS= read -r X; use \"$X\"");
        spec.stdin = Some(b"s3cr3t-value\n".to_vec());
        let shown = format!("{spec:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("<13 bytes>"), "{shown}");
    }
}
