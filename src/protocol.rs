//! The agent wire protocol, shared by `fleetdeck agent` (server) and the agent transport
//! (client). WebSocket text frames, each one JSON object `{"v":1,"type":…,…}`; the bearer
//! token travels in the upgrade request's `Authorization` header, never in a frame.
//!
//! Conversation: the server greets with `hello` (its version, the token's scopes, limits);
//! the client answers `hello` (who it is, for alert acknowledgements). The client may then
//! send `exec`, `cancel` and `ack`; the server sends `started`, `output`, `exit` for each
//! job (tagged with the client's job `id`), `heartbeat` every few seconds, `alert` for every
//! journal entry the consumer has not acknowledged, and `error` for anything it refuses.
//! `lock` and `unlock` (host locks, kept by the agent across restarts) get a `lock_result`.
//! Every frame is at most [`MAX_FRAME_BYTES`]; anything malformed or oversized gets an
//! `error` frame and is otherwise ignored (never a crash, never an unbounded allocation).
//!
//! The protocol owns every type it puts on the wire and imports nothing from the engine or
//! the transports: they convert to and from these types at the edges (the agent transport
//! on the console side, `crate::agent` on the agent side), so a rename in their vocabulary
//! cannot change what an agent deployed earlier sends or accepts.
//! tests/fixtures/protocol/v1 holds frames recorded from a real agent; tests/protocol_compat.rs
//! holds this code to them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

mod fast_decode;

/// The protocol version in every frame's `"v"`. A peer speaking another version gets an
/// `error` frame with code `version` and is disconnected.
pub const VERSION: u32 = 1;

/// The largest frame either side accepts, in bytes (a WebSocket message and frame limit).
/// Output is sent in chunks well under it.
pub const MAX_FRAME_BYTES: usize = 256 * 1024;

/// Bytes either end asks of its stream per read. tungstenite zero-fills this much on every
/// read (including the one that finds nothing) and holds it per connection: its default,
/// 128 KiB, cost a thousand agent links a tenth of a core and 128 MiB. Heartbeats are a few
/// hundred bytes; a larger frame takes several reads from what TLS already decrypted.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;

/// The largest output chunk (raw bytes, before base64) the server puts in one `output` frame.
pub const MAX_OUTPUT_CHUNK: usize = 64 * 1024;

/// A frame on the wire: the version and one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub v: u32,
    #[serde(flatten)]
    pub msg: Message,
}

/// What a token may do. A `read` token can never start or cancel an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Heartbeats, metrics and alerts.
    Read,
    /// Operations (`exec`, `cancel`), and everything `read` may.
    Exec,
}

/// Every message type. `id` is the client's job id (unique per connection) where a message
/// belongs to a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// Server → client first; client → server in answer.
    Hello(Hello),
    /// Server → client every heartbeat interval.
    Heartbeat(Heartbeat),
    /// Client → server: start an operation (needs the `exec` scope).
    Exec { id: String, op: Operation },
    /// Server → client: the job runs (`pid` of its process group leader, for shell commands).
    Started {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pid: Option<u32>,
    },
    /// Server → client: a chunk of a job's output.
    Output {
        id: String,
        stream: Stream,
        /// The bytes, base64 (output need not be UTF-8).
        data: String,
    },
    /// Server → client: the job ended; its last message.
    Exit {
        id: String,
        #[serde(flatten)]
        outcome: ExitOutcome,
        duration_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<Usage>,
        /// For checks (`file_validation`, `service_health`): each check and its result.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        checks: Vec<CheckResult>,
    },
    /// Client → server: cancel a job (kills its process group); answered by its `exit`.
    Cancel { id: String },
    /// Server → client: an alert from the journal the consumer has not acknowledged.
    Alert(Alert),
    /// Client → server: every alert up to and including `seq` is handled.
    Ack { seq: u64 },
    /// Client → server: take the lock `name` for `run_id` for `ttl_ms` by the agent's clock
    /// (needs the `exec` scope); answered by `lock_result`. The same run id renews its lock.
    Lock {
        id: String,
        name: String,
        owner: String,
        run_id: String,
        ttl_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Client → server: release the lock `name` if `run_id` holds it, or whoever holds it
    /// with `force` (needs the `exec` scope); answered by `lock_result`.
    Unlock {
        id: String,
        name: String,
        run_id: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        force: bool,
    },
    /// Server → client: the answer to `lock` or `unlock`. `holder`: who holds it (`held`),
    /// the expired lock taken over (`reclaimed`), or the lock removed (`released`).
    LockResult {
        id: String,
        status: LockStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holder: Option<LockInfo>,
    },
    /// Either way: something was refused or went wrong. `id` names the job if there is one.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        code: ErrorCode,
        message: String,
    },
}

/// How a `lock` or `unlock` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockStatus {
    /// Lock: taken (new or renewed).
    Taken,
    /// Lock: taken over from the expired `holder`.
    Reclaimed,
    /// Lock or unlock: refused, `holder` holds it.
    Held,
    /// Unlock: `holder`'s lock was removed.
    Released,
    /// Unlock: there was no lock.
    None,
}

/// A lock's holder as the agent reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub owner: String,
    pub run_id: String,
    /// Time left by the agent's clock (0: expired).
    pub remaining_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The sender's software, e.g. `fleetdeck 0.1.0`.
    pub software: String,
    /// Server: the agent's host name. Client: the consumer name alerts are acknowledged
    /// under (`user@machine`), so each console gets every alert once.
    pub name: String,
    /// Server only: what the presented token may do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<Scope>,
    /// Server only: seconds between heartbeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_s: Option<u64>,
    /// Server only: the largest frame it accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frame_bytes: Option<usize>,
}

/// How a job ended, flattened into its `exit` frame: `"outcome"` names the variant, its fields
/// sit beside it (`{"outcome":"code","code":3}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ExitOutcome {
    /// Exited with a status code.
    Code { code: i32 },
    /// Killed by a signal, named without `SIG` (`TERM`, `KILL`, ...).
    Signal { signal: String },
    /// No exit status could be had for the process.
    NoStatus,
    /// The job's timeout passed; the agent killed it.
    TimedOut { after_ms: u64 },
    /// No output for the idle timeout; the agent killed it.
    IdleTimedOut { after_ms: u64 },
    /// Cancelled (a `cancel` frame, the connection gone, or the agent stopping).
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// An operation the agent runs, named by `"op"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// A program with arguments, or (with `shell`) a command line for `/bin/sh -c`, subject to
    /// the agent's allowlist. Output is streamed; the exit comes with resource usage.
    ShellCommand {
        command: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        args: Vec<String>,
        /// Run `command` through `/bin/sh -c` (the allowlist then must allow the shell).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        shell: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cwd: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        env: Vec<(String, String)>,
        /// Bytes written to the command's stdin, base64 (secrets travel here, not in argv).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stdin: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
        /// Kill the command after this long without output.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        idle_timeout_ms: Option<u64>,
    },
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
        /// A JSON pointer (`/status`) and the value it must equal.
        #[serde(default)]
        json_field: Option<JsonFieldCheck>,
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonFieldCheck {
    pub pointer: String,
    pub equals: serde_json::Value,
}

/// One check of a `file_validation` or `service_health` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub check: String,
    pub ok: bool,
    /// What was found, e.g. `size 12.4 MB` or `status 503`.
    pub detail: String,
}

/// Resources a finished shell command used (from wait4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub user_ms: u64,
    pub sys_ms: u64,
    pub max_rss_kb: u64,
}

/// A heartbeat: the agent is alive, with a metrics sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Jobs running on the agent now.
    pub jobs: u32,
    /// The newest alert sequence number in the journal (0 when empty).
    pub last_alert_seq: u64,
    pub metrics: Metrics,
}

/// A metrics sample (sysinfo). Rates are averaged since the previous sample.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// Percent of all CPUs, 0..=100.
    pub cpu_pct: f32,
    pub mem_used_bytes: u64,
    pub mem_total_bytes: u64,
    pub swap_used_bytes: u64,
    pub swap_total_bytes: u64,
    pub load1: f64,
    pub load5: f64,
    pub load15: f64,
    pub uptime_s: u64,
    #[serde(default)]
    pub disks: Vec<DiskUsage>,
    pub net_rx_bytes_per_s: u64,
    pub net_tx_bytes_per_s: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DiskUsage {
    pub mount: String,
    pub used_bytes: u64,
    pub total_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// An alert a watcher raised, as kept in the agent's journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Increases by one per alert in the journal, never reused.
    pub seq: u64,
    /// RFC 3339 UTC.
    pub ts: String,
    /// The watcher's name from the agent's configuration.
    pub watcher: String,
    pub severity: Severity,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// True when the condition cleared (the watcher's earlier alert is resolved).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resolved: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, not a known message, or a field of the wrong type.
    Malformed,
    /// Larger than [`MAX_FRAME_BYTES`].
    TooLarge,
    /// Another protocol version.
    Version,
    /// The token's scope does not allow it.
    Forbidden,
    /// The agent's policy refuses it (allowlist, forbidden path, limits).
    Policy,
    /// A job id already in use, or an unknown one.
    BadId,
    /// Too many jobs at once.
    Busy,
    /// The job could not start or failed inside the agent.
    Failed,
}

/// Why a received text could not be taken as a frame (the `error` frame to answer with).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct DecodeError {
    pub code: ErrorCode,
    pub message: String,
    /// The job id, when the frame was readable enough to have one.
    pub id: Option<String>,
}

impl Frame {
    pub fn new(msg: Message) -> Frame {
        Frame { v: VERSION, msg }
    }

    /// The frame as JSON text.
    pub fn encode(&self) -> String {
        // A `Frame` holds only strings, numbers and JSON values: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"v":{VERSION},"type":"error","code":"failed","message":"encode: {e}"}}"#)
        })
    }

    /// Parses a received text frame: the size is checked before parsing, the version before
    /// the message.
    pub fn decode(text: &str) -> Result<Frame, DecodeError> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(DecodeError {
                code: ErrorCode::TooLarge,
                message: format!(
                    "frame of {} bytes is over the {MAX_FRAME_BYTES}-byte limit",
                    text.len()
                ),
                id: None,
            });
        }
        // The frames that come by the thousand, in one pass.
        if let Some(frame) = fast_decode::decode(text) {
            return Ok(frame);
        }
        // The other frames; anything unusual goes the careful way below for a precise error.
        if let Ok(frame) = serde_json::from_str::<Frame>(text)
            && frame.v == VERSION
        {
            return Ok(frame);
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| DecodeError {
            code: ErrorCode::Malformed,
            message: format!("not JSON: {e}"),
            id: None,
        })?;
        let id = value
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map(|s| s.chars().take(64).collect());
        match value.get("v").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => {
                return Err(DecodeError {
                    code: ErrorCode::Version,
                    message: format!(
                        "protocol version {v} is not supported (this side speaks {VERSION})"
                    ),
                    id,
                });
            }
            None => {
                return Err(DecodeError {
                    code: ErrorCode::Malformed,
                    message: "frame has no numeric \"v\" (protocol version)".to_string(),
                    id,
                });
            }
        }
        serde_json::from_value(value).map_err(|e| DecodeError {
            code: ErrorCode::Malformed,
            message: format!("bad frame: {e}"),
            id,
        })
    }

    /// The `error` frame answering a frame that could not be decoded.
    pub fn from_decode_error(e: &DecodeError) -> Frame {
        Frame::new(Message::Error {
            id: e.id.clone(),
            code: e.code,
            message: e.message.clone(),
        })
    }
}

/// Base64 for output and stdin bytes.
pub fn encode_bytes(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Decodes base64 output or stdin; the error says what was wrong.
pub fn decode_bytes(text: &str) -> Result<Vec<u8>, String> {
    B64.decode(text).map_err(|e| format!("bad base64: {e}"))
}

/// The pin for an agent's certificate as hosts.toml writes it: `sha256:` and the lowercase
/// hex SHA-256 of the certificate's DER bytes.
pub fn cert_fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Reads a pinned fingerprint: `sha256:` then 64 hex digits, colons allowed between byte
/// pairs (as `openssl x509 -fingerprint -sha256` prints them), any case.
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], String> {
    let body = text
        .trim()
        .strip_prefix("sha256:")
        .or_else(|| text.trim().strip_prefix("SHA256:"))
        .ok_or_else(|| format!("fingerprint `{text}` must start with sha256:"))?;
    let hex: String = body.chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "fingerprint `{text}` must be sha256: and 64 hex digits (the agent prints it at `fleetdeck agent init`)"
        ));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|e| format!("fingerprint `{text}`: {e}"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(msg: Message) {
        let text = Frame::new(msg.clone()).encode();
        assert_eq!(Frame::decode(&text).unwrap().msg, msg, "{text}");
    }

    #[test]
    fn every_message_round_trips() {
        round_trip(Message::Hello(Hello {
            software: "fleetdeck 0.1.0".into(),
            name: "web01".into(),
            scopes: vec![Scope::Read, Scope::Exec],
            heartbeat_s: Some(5),
            max_frame_bytes: Some(MAX_FRAME_BYTES),
        }));
        round_trip(Message::Exec {
            id: "1".into(),
            op: Operation::ShellCommand {
                command: "/bin/echo".into(),
                args: vec!["hi".into()],
                shell: false,
                cwd: None,
                env: vec![("A".into(), "b".into())],
                stdin: Some(encode_bytes(b"secret")),
                timeout_ms: Some(1000),
                idle_timeout_ms: None,
            },
        });
        round_trip(Message::Output {
            id: "1".into(),
            stream: Stream::Stderr,
            data: encode_bytes(&[0xff, 0, b'\n']),
        });
        round_trip(Message::Exit {
            id: "1".into(),
            outcome: ExitOutcome::Code { code: 3 },
            duration_ms: 12,
            usage: Some(Usage {
                user_ms: 1,
                sys_ms: 2,
                max_rss_kb: 3,
            }),
            checks: vec![],
        });
        round_trip(Message::Exit {
            id: "2".into(),
            outcome: ExitOutcome::Signal {
                signal: "KILL".into(),
            },
            duration_ms: 5,
            usage: None,
            checks: vec![CheckResult {
                check: "exists".into(),
                ok: true,
                detail: "yes".into(),
            }],
        });
        round_trip(Message::Alert(Alert {
            seq: 7,
            ts: "2026-11-22T05:00:00Z".into(),
            watcher: "nginx".into(),
            severity: Severity::Critical,
            summary: "nginx.service is failed".into(),
            detail: None,
            resolved: false,
        }));
        round_trip(Message::Ack { seq: 7 });
        round_trip(Message::Lock {
            id: "l1".into(),
            name: "web01".into(),
            owner: "alice@laptop".into(),
            run_id: "01J".into(),
            ttl_ms: 60_000,
            reason: Some("disk swap".into()),
        });
        round_trip(Message::Unlock {
            id: "l2".into(),
            name: "web01".into(),
            run_id: "01J".into(),
            force: true,
        });
        round_trip(Message::LockResult {
            id: "l1".into(),
            status: LockStatus::Held,
            holder: Some(LockInfo {
                owner: "bob@desk".into(),
                run_id: "01K".into(),
                remaining_ms: 5,
                reason: None,
            }),
        });
        round_trip(Message::Cancel { id: "1".into() });
        round_trip(Message::Heartbeat(Heartbeat {
            jobs: 1,
            last_alert_seq: 7,
            metrics: Metrics::default(),
        }));
    }

    #[test]
    fn wire_shape_is_the_documented_one() {
        let text = Frame::new(Message::Cancel { id: "9".into() }).encode();
        assert_eq!(text, r#"{"v":1,"type":"cancel","id":"9"}"#);
        let exec = r#"{"v":1,"type":"exec","id":"a","op":{"op":"file_validation","path":"/etc/hosts","exists":true}}"#;
        assert!(matches!(
            Frame::decode(exec).unwrap().msg,
            Message::Exec {
                op: Operation::FileValidation { .. },
                ..
            }
        ));
    }

    #[test]
    fn hostile_input_gets_a_decode_error() {
        let cases = [
            ("", ErrorCode::Malformed),
            ("{", ErrorCode::Malformed),
            ("[]", ErrorCode::Malformed),
            (r#"{"type":"ack","seq":1}"#, ErrorCode::Malformed),
            (r#"{"v":2,"type":"ack","seq":1}"#, ErrorCode::Version),
            (r#"{"v":1,"type":"launch_missiles"}"#, ErrorCode::Malformed),
            (r#"{"v":1,"type":"ack","seq":-1}"#, ErrorCode::Malformed),
            (
                r#"{"v":1,"type":"exec","id":"x","op":{"op":"shell_command","command":"ls","evil":1}}"#,
                ErrorCode::Malformed,
            ),
        ];
        for (text, code) in cases {
            let e = Frame::decode(text).unwrap_err();
            assert_eq!(e.code, code, "{text}: {e}");
        }
        let big = format!(
            r#"{{"v":1,"type":"cancel","id":"{}"}}"#,
            "x".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(Frame::decode(&big).unwrap_err().code, ErrorCode::TooLarge);
        let bad_exec = r#"{"v":1,"type":"exec","id":"j1","op":{"op":"nope"}}"#;
        let e = Frame::decode(bad_exec).unwrap_err();
        assert_eq!(e.id.as_deref(), Some("j1"), "the error names the job");
    }

    #[test]
    fn fingerprints_print_and_parse_in_both_spellings() {
        let fp = cert_fingerprint(b"not really a certificate");
        assert!(fp.starts_with("sha256:") && fp.len() == 7 + 64, "{fp}");
        let bytes = parse_fingerprint(&fp).unwrap();
        let colons: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(
            parse_fingerprint(&format!("SHA256:{}", colons.join(":"))).unwrap(),
            bytes
        );
        assert!(parse_fingerprint("md5:00").is_err());
        assert!(parse_fingerprint("sha256:abcd").is_err());
    }
}
