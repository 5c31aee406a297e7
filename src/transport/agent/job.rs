//! One command on an agent connection: the engine's `ExecSpec` becomes a `shell_command`
//! operation (the line through `/bin/sh -c`, as over SSH) or its agent operation, the agent's
//! frames become `ExecEvent`s, and cancel becomes a `cancel` frame answered by the job's
//! `exit`. The agent enforces the command and idle timeouts; the client keeps a backstop in
//! case it does not. Also the conversions between the engine's types and the wire's.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::session::{JobMsg, Session};
use crate::protocol::{self, ErrorCode, Frame, Message, Operation, Stream, encode_bytes};
use crate::transport::{
    AgentOp, ErrorKind, ExecEvent, ExecSpec, ExitOutcome, JsonFieldCheck, TransportError,
};

/// How long after the agent should have stopped a command the client stops it itself.
const BACKSTOP: Duration = Duration::from_secs(5);
/// After a cancel frame, how long the agent may take to confirm with the job's exit.
const CANCEL_CONFIRM: Duration = Duration::from_secs(10);

/// The operation for `spec`: its agent operation when it has one (an action's
/// file_validation or service_health), else the command line through `/bin/sh -c`.
pub fn operation(spec: &ExecSpec) -> Operation {
    if let Some(op) = &spec.agent_op {
        return op.clone().into();
    }
    Operation::ShellCommand {
        command: spec.command.clone(),
        args: Vec::new(),
        shell: true,
        cwd: spec.cwd.clone(),
        env: spec.env.clone(),
        stdin: spec.stdin.as_deref().map(encode_bytes),
        timeout_ms: spec.timeout.map(millis),
        idle_timeout_ms: spec.idle_timeout.map(millis),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// An action's agent operation as the wire has it. Field by field rather than through serde:
/// the template format and the wire are free to part ways.
impl From<AgentOp> for Operation {
    fn from(op: AgentOp) -> Operation {
        match op {
            AgentOp::FileValidation {
                path,
                exists,
                readable,
                size_gt_mb,
                modified_within_s,
                sha256,
            } => Operation::FileValidation {
                path,
                exists,
                readable,
                size_gt_mb,
                modified_within_s,
                sha256,
            },
            AgentOp::ServiceHealth {
                url,
                expect_status,
                body_contains,
                json_field,
                timeout_ms,
            } => Operation::ServiceHealth {
                url,
                expect_status,
                body_contains,
                json_field: json_field.map(Into::into),
                timeout_ms,
            },
        }
    }
}

impl From<JsonFieldCheck> for protocol::JsonFieldCheck {
    fn from(c: JsonFieldCheck) -> protocol::JsonFieldCheck {
        protocol::JsonFieldCheck {
            pointer: c.pointer,
            equals: c.equals,
        }
    }
}

/// The agent's `exit` outcome in the engine's words.
impl From<protocol::ExitOutcome> for ExitOutcome {
    fn from(o: protocol::ExitOutcome) -> ExitOutcome {
        match o {
            protocol::ExitOutcome::Code { code } => ExitOutcome::Code { code },
            protocol::ExitOutcome::Signal { signal } => ExitOutcome::Signal { signal },
            protocol::ExitOutcome::NoStatus => ExitOutcome::NoStatus,
            protocol::ExitOutcome::TimedOut { after_ms } => ExitOutcome::TimedOut { after_ms },
            protocol::ExitOutcome::IdleTimedOut { after_ms } => {
                ExitOutcome::IdleTimedOut { after_ms }
            }
            protocol::ExitOutcome::Cancelled => ExitOutcome::Cancelled,
        }
    }
}

/// Runs `spec` on `session`; `tx` gets `Started` and output (the caller sends the terminal
/// event).
pub async fn run(
    session: Arc<Session>,
    spec: &ExecSpec,
    tx: &mpsc::Sender<ExecEvent>,
    cancel: &CancellationToken,
) -> Result<ExitOutcome, TransportError> {
    let host = session.host.clone();
    if !session.can_exec() {
        return Err(TransportError::new(
            ErrorKind::Auth,
            format!(
                "{host}: the agent token only has the read scope; point token_file at an exec \
                 token from `fleetdeck agent init` to run commands"
            ),
        ));
    }
    if spec.pty {
        tracing::debug!(host = %host, "the agent runs commands without a PTY");
    }
    let (id, mut rx) = session.register().map_err(|why| lost(&host, &why))?;
    let exec = Frame::new(Message::Exec {
        id: id.clone(),
        op: operation(spec),
    });
    if let Err(why) = session.send(exec).await {
        session.unregister(&id);
        return Err(lost(&host, &why));
    }
    let started = Instant::now();
    let far = started + Duration::from_secs(100 * 365 * 86_400);
    let hard_deadline = spec.timeout.map(|t| started + t + BACKSTOP);
    let mut idle_deadline = spec.idle_timeout.map(|t| started + t + BACKSTOP);
    // Set once we asked the agent to stop: what to report, and how long to wait for it.
    let mut stopping: Option<(ExitOutcome, Instant)> = None;
    // A check job's stdout lists its checks; the failed ones are repeated on stderr at the end.
    let mut checks = spec.agent_op.as_ref().map(|_| CheckLines::default());

    let result = loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(JobMsg::Started(pid)) => {
                    let _ = tx.send(ExecEvent::Started { pid }).await;
                }
                Some(JobMsg::Output(stream, bytes)) => {
                    idle_deadline = spec.idle_timeout.map(|t| Instant::now() + t + BACKSTOP);
                    if let (Some(c), Stream::Stdout) = (checks.as_mut(), stream) {
                        c.feed(&bytes);
                    }
                    let event = match stream {
                        Stream::Stdout => ExecEvent::Stdout(bytes),
                        Stream::Stderr => ExecEvent::Stderr(bytes),
                    };
                    let _ = tx.send(event).await;
                }
                Some(JobMsg::Exit(outcome)) => {
                    if let Some(failed) = checks.as_ref().and_then(CheckLines::failures) {
                        let _ = tx.send(ExecEvent::Stderr(failed.into_bytes())).await;
                    }
                    break Ok(reported(outcome, stopping.as_ref()));
                }
                Some(JobMsg::Refused(code, message)) => break Err(refused(&host, code, &message)),
                Some(JobMsg::Lost(why)) => break Err(lost(&host, &why)),
                Some(JobMsg::Lock(..)) => {
                    break Err(TransportError::new(
                        ErrorKind::Protocol,
                        format!("{host}: the agent answered a command with a lock result"),
                    ));
                }
                None => break Err(lost(&host, "the connection task ended")),
            },
            () = cancel.cancelled(), if stopping.is_none() => {
                stopping = Some(stop(&session, &id, ExitOutcome::Cancelled).await);
            }
            () = sleep_until(hard_deadline.unwrap_or(far)), if hard_deadline.is_some() && stopping.is_none() => {
                let after_ms = millis(started.elapsed());
                tracing::warn!(host = %host, "the agent did not enforce the command timeout; cancelling");
                stopping = Some(stop(&session, &id, ExitOutcome::TimedOut { after_ms }).await);
            }
            () = sleep_until(idle_deadline.unwrap_or(far)), if idle_deadline.is_some() && stopping.is_none() => {
                let after_ms = spec.idle_timeout.map_or(0, millis);
                tracing::warn!(host = %host, "the agent did not enforce the idle timeout; cancelling");
                stopping = Some(stop(&session, &id, ExitOutcome::IdleTimedOut { after_ms }).await);
            }
            () = sleep_until(stopping.as_ref().map_or(far, |s| s.1)), if stopping.is_some() => {
                // The agent never confirmed: report what we asked for rather than hang.
                break Ok(stopping.map_or(ExitOutcome::Cancelled, |s| s.0));
            }
        }
    };
    session.unregister(&id);
    result
}

/// Sends the cancel frame; returns what to report and how long to wait for the exit.
async fn stop(session: &Session, id: &str, outcome: ExitOutcome) -> (ExitOutcome, Instant) {
    if let Err(why) = session
        .send(Frame::new(Message::Cancel { id: id.to_string() }))
        .await
    {
        tracing::debug!(host = %session.host, job = id, "cancel not sent: {why}");
    }
    (outcome, Instant::now() + CANCEL_CONFIRM)
}

/// The agent's exit, unless we stopped the job: then a kill it reports is our cancel or
/// timeout (a command that finished on its own before the cancel keeps its real status).
fn reported(outcome: ExitOutcome, stopping: Option<&(ExitOutcome, Instant)>) -> ExitOutcome {
    match (stopping, &outcome) {
        (
            Some((ours, _)),
            ExitOutcome::Signal { .. } | ExitOutcome::NoStatus | ExitOutcome::Cancelled,
        ) => ours.clone(),
        _ => outcome,
    }
}

/// The stdout of a check job: one line per check, `ok   name: detail` or `FAIL name: detail`
/// (`crate::agent::jobs::checks::line`). Kept up to a bound: check output is a few lines.
#[derive(Default)]
struct CheckLines {
    text: Vec<u8>,
}

impl CheckLines {
    const MAX: usize = 64 * 1024;

    fn feed(&mut self, bytes: &[u8]) {
        let room = Self::MAX.saturating_sub(self.text.len());
        self.text.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// `check failed: name: detail` for each failed check, or `None` when none failed.
    fn failures(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.text);
        let failed: String = text
            .lines()
            .filter_map(|l| l.strip_prefix("FAIL "))
            .map(|rest| format!("check failed: {rest}\n"))
            .collect();
        (!failed.is_empty()).then_some(failed)
    }
}

fn refused(host: &str, code: ErrorCode, message: &str) -> TransportError {
    let (kind, what) = match code {
        ErrorCode::Forbidden => (ErrorKind::Auth, "the token may not run commands"),
        ErrorCode::Policy => (ErrorKind::Io, "the agent's policy refused the command"),
        ErrorCode::Busy => (ErrorKind::Io, "the agent is running its maximum of jobs"),
        ErrorCode::Failed => (ErrorKind::Io, "the agent could not run the command"),
        ErrorCode::Malformed | ErrorCode::TooLarge | ErrorCode::Version | ErrorCode::BadId => {
            (ErrorKind::Protocol, "the agent rejected the request")
        }
    };
    TransportError::new(kind, format!("{host}: {what}: {message}"))
}

fn lost(host: &str, why: &str) -> TransportError {
    TransportError::new(
        ErrorKind::Io,
        format!("{host}: connection lost to the agent ({why}); the command's fate is unknown"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_becomes_a_shell_command() {
        let mut spec = ExecSpec::new("echo $X | tr a b");
        spec.env = vec![("X".into(), "a".into())];
        spec.cwd = Some("/tmp".into());
        spec.stdin = Some(b"in".to_vec());
        spec.timeout = Some(Duration::from_secs(3));
        spec.idle_timeout = Some(Duration::from_millis(1500));
        let Operation::ShellCommand {
            command,
            shell,
            stdin,
            timeout_ms,
            idle_timeout_ms,
            env,
            cwd,
            args,
        } = operation(&spec)
        else {
            panic!("not a shell command");
        };
        assert_eq!(command, "echo $X | tr a b");
        assert!(shell && args.is_empty());
        assert_eq!(stdin.as_deref(), Some(encode_bytes(b"in").as_str()));
        assert_eq!((timeout_ms, idle_timeout_ms), (Some(3000), Some(1500)));
        assert_eq!(env, spec.env);
        assert_eq!(cwd.as_deref(), Some("/tmp"));
    }

    #[test]
    fn an_agent_op_is_sent_as_is_and_failed_checks_are_picked_out() {
        let mut spec = ExecSpec::new("test -e /x");
        spec.agent_op = Some(AgentOp::FileValidation {
            path: "/x".into(),
            exists: Some(true),
            readable: None,
            size_gt_mb: None,
            modified_within_s: None,
            sha256: None,
        });
        assert_eq!(
            operation(&spec),
            Operation::FileValidation {
                path: "/x".into(),
                exists: Some(true),
                readable: None,
                size_gt_mb: None,
                modified_within_s: None,
                sha256: None,
            }
        );
        use crate::agent::jobs::checks::{check, line};
        let mut lines = CheckLines::default();
        lines.feed(line(&check("exists", true, "yes")).as_bytes());
        assert_eq!(lines.failures(), None);
        lines.feed(line(&check("size_gt_mb", false, "size 0.1 MB")).as_bytes());
        assert_eq!(
            lines.failures().as_deref(),
            Some("check failed: size_gt_mb: size 0.1 MB\n")
        );
    }

    /// The text of the frame recorded as `name` from a real agent session
    /// (tests/fixtures/protocol/v1), as JSON.
    fn recorded(name: &str) -> serde_json::Value {
        const FRAMES: &str = include_str!("../../../tests/fixtures/protocol/v1/frames.jsonl");
        let line = FRAMES
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no recorded frame {name}"));
        serde_json::from_str(line["text"].as_str().unwrap()).unwrap()
    }

    fn exec_frame(id: &str, spec: &ExecSpec) -> serde_json::Value {
        let text = Frame::new(Message::Exec {
            id: id.into(),
            op: operation(spec),
        })
        .encode();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn specs_become_the_exec_frames_recorded_from_this_transport() {
        let mut full = ExecSpec::new("IFS= read -r X; echo \"got $X\"; echo oops >&2; exit 3");
        full.env = vec![("GREETING".into(), "hi".into())];
        full.cwd = Some("/tmp".into());
        full.stdin = Some(b"secret\n".to_vec());
        full.timeout = Some(Duration::from_secs(30));
        full.idle_timeout = Some(Duration::from_secs(20));
        assert_eq!(exec_frame("j1", &full), recorded("exec_shell_command_full"));
        assert_eq!(
            exec_frame("j2", &ExecSpec::new("true")),
            recorded("exec_shell_command_minimal")
        );

        let tmp = "/tmp/.tmp6pQAKm";
        let mut check = ExecSpec::new("test -e x");
        check.agent_op = Some(AgentOp::FileValidation {
            path: format!("{tmp}/missing.txt"),
            exists: Some(true),
            readable: None,
            size_gt_mb: None,
            modified_within_s: None,
            sha256: None,
        });
        assert_eq!(
            exec_frame("j8", &check),
            recorded("exec_file_validation_nulls")
        );
        check.agent_op = Some(AgentOp::ServiceHealth {
            url: "http://127.0.0.1:37205/health".into(),
            expect_status: Some(200),
            body_contains: Some("ok".into()),
            json_field: Some(JsonFieldCheck {
                pointer: "/status".into(),
                equals: serde_json::json!("ok"),
            }),
            timeout_ms: Some(5000),
        });
        assert_eq!(
            exec_frame("j10", &check),
            recorded("exec_service_health_full")
        );
        let cancel = Frame::new(Message::Cancel { id: "j6".into() }).encode();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&cancel).unwrap(),
            recorded("cancel")
        );
    }

    #[test]
    fn a_kill_after_our_cancel_is_reported_as_the_cancel() {
        let stopping = (ExitOutcome::Cancelled, Instant::now());
        let killed = ExitOutcome::Signal {
            signal: "KILL".into(),
        };
        assert_eq!(
            reported(killed.clone(), Some(&stopping)),
            ExitOutcome::Cancelled
        );
        assert_eq!(reported(killed.clone(), None), killed);
        let done = ExitOutcome::Code { code: 0 };
        assert_eq!(reported(done.clone(), Some(&stopping)), done);
    }
}
