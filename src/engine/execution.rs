//! One host's part of a run: drives its transport's events to a final state, feeding the
//! front end (through the hub), the run output file and the host's result.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::error::TryRecvError;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::forwarder::Hub;
use super::run_output::{HostRecorder, RECORD_MAX};
use super::types::{HostResult, HostState, Stream};
use crate::inventory::Host;
use crate::transport::{ErrorKind, ExecEvent, ExecSpec, ExitOutcome, Transport, TransportError};

/// How long a transport may take to confirm a cancel before the host is marked cancelled
/// anyway.
pub const CANCEL_GRACE: Duration = Duration::from_secs(10);
/// Longest first-error line kept, in characters.
const FIRST_LINE_MAX: usize = 200;
/// Bytes of a stderr line looked at while searching for the first non-empty one.
const FIRST_LINE_SCAN: usize = 4096;

/// Everything a host task needs.
pub struct HostJob {
    pub index: usize,
    pub host: Host,
    pub transport: Option<Arc<dyn Transport>>,
    pub spec: ExecSpec,
    pub hub: Arc<Hub>,
    pub recorder: HostRecorder,
    pub cancel: CancellationToken,
}

/// The state a transport's final event means. `started`: the command was reported running.
pub fn final_state(event: &ExecEvent, started: bool) -> Option<HostState> {
    Some(match event {
        ExecEvent::Exited(ExitOutcome::Code { code: 0 }) => HostState::Ok,
        ExecEvent::Exited(
            outcome @ (ExitOutcome::TimedOut { .. } | ExitOutcome::IdleTimedOut { .. }),
        ) => HostState::Timeout {
            outcome: outcome.clone(),
        },
        ExecEvent::Exited(ExitOutcome::Cancelled) => HostState::Cancelled,
        ExecEvent::Exited(outcome) => HostState::Failed {
            outcome: outcome.clone(),
        },
        ExecEvent::Failed(TransportError { kind, message }) => {
            if !started && kind.is_unreachable() {
                HostState::Unreachable {
                    kind: *kind,
                    message: message.clone(),
                }
            } else {
                HostState::Error {
                    kind: *kind,
                    message: message.clone(),
                }
            }
        }
        _ => return None,
    })
}

/// Runs one host to its final state and returns its result. The final state has been queued
/// for the front end when this returns.
pub async fn execute(job: HostJob) -> HostResult {
    let HostJob {
        index,
        host,
        transport,
        spec,
        hub,
        mut recorder,
        cancel,
    } = job;
    let mut tally = Tally::new(host.name.clone());
    let Some(transport) = transport else {
        let message = format!(
            "{}: transport {} is not available in this build",
            host.name, host.transport
        );
        let state = HostState::Error {
            kind: ErrorKind::Io,
            message: message.clone(),
        };
        tally.error_message = Some(message);
        hub.push_state(index, state.clone());
        return tally.into_result(state);
    };

    let mut handle = transport.exec(&host, spec);
    let mut started = false;
    let mut cancel_deadline: Option<Instant> = None;
    // An event read ahead while joining output, to be handled next.
    let mut pending: Option<ExecEvent> = None;
    let state = loop {
        let event = if let Some(ev) = pending.take() {
            Some(ev)
        } else {
            tokio::select! {
                ev = handle.events.recv() => ev,
                () = cancel.cancelled(), if cancel_deadline.is_none() => {
                    handle.cancel.cancel();
                    cancel_deadline = Some(Instant::now() + CANCEL_GRACE);
                    continue;
                }
                () = sleep_until(cancel_deadline.unwrap_or_else(Instant::now)), if cancel_deadline.is_some() => {
                    tracing::warn!(host = %host.name, "the transport did not confirm the cancel in time");
                    break HostState::Cancelled;
                }
            }
        };
        let Some(event) = event else {
            let message = format!(
                "{}: the transport stopped without saying how the command ended",
                host.name
            );
            tally.error_message = Some(message.clone());
            break HostState::Error {
                kind: ErrorKind::Protocol,
                message,
            };
        };
        match event {
            // A repeated Connecting (a transport retrying) is not a state change.
            ExecEvent::Connecting if tally.began_at.is_some() => {}
            ExecEvent::Connecting => {
                tally.began_at = Some(Instant::now());
                hub.push_state(index, HostState::Connecting);
            }
            ExecEvent::Started { .. } if started => {}
            ExecEvent::Started { .. } => {
                started = true;
                tally.began_at = Some(Instant::now());
                hub.push_state(index, HostState::Running);
            }
            ExecEvent::Stdout(bytes) | ExecEvent::Stderr(bytes) if bytes.is_empty() => {}
            ExecEvent::Stdout(bytes) => {
                let (bytes, next) = join_output(bytes, Stream::Stdout, &mut handle.events);
                pending = next;
                tally.bytes_out += bytes.len() as u64;
                recorder.write(Stream::Stdout, &bytes).await;
                hub.push_output(index, Stream::Stdout, bytes);
            }
            ExecEvent::Stderr(bytes) => {
                let (bytes, next) = join_output(bytes, Stream::Stderr, &mut handle.events);
                pending = next;
                tally.bytes_err += bytes.len() as u64;
                tally.first_line.feed(&bytes);
                recorder.write(Stream::Stderr, &bytes).await;
                hub.push_output(index, Stream::Stderr, bytes);
            }
            ended => {
                if let ExecEvent::Failed(e) = &ended {
                    tally.error_message = Some(e.message.clone());
                }
                let Some(state) = final_state(&ended, started) else {
                    continue;
                };
                // A connection torn down by our own cancel is a cancel, not an error.
                if cancel_deadline.is_some()
                    && matches!(
                        state,
                        HostState::Error { .. } | HostState::Unreachable { .. }
                    )
                {
                    break HostState::Cancelled;
                }
                break state;
            }
        }
    };
    recorder.finish().await;
    hub.push_state(index, state.clone());
    tally.into_result(state)
}

/// Joins output already waiting in the channel to `first` (same stream, up to RECORD_MAX),
/// so a chatty host makes fewer, larger records and events. Returns the first event that
/// could not be joined.
fn join_output(
    mut first: Vec<u8>,
    stream: Stream,
    events: &mut tokio::sync::mpsc::Receiver<ExecEvent>,
) -> (Vec<u8>, Option<ExecEvent>) {
    // Bounded by RECORD_MAX bytes and, for empty chunks, by the channel's capacity.
    for _ in 0..crate::transport::EVENT_BUFFER {
        if first.len() >= RECORD_MAX {
            break;
        }
        match events.try_recv() {
            Ok(ExecEvent::Stdout(b)) if stream == Stream::Stdout => first.extend_from_slice(&b),
            Ok(ExecEvent::Stderr(b)) if stream == Stream::Stderr => first.extend_from_slice(&b),
            Ok(other) => return (first, Some(other)),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
        }
    }
    (first, None)
}

/// What is counted for a host's result while it runs.
struct Tally {
    host: String,
    created: Instant,
    /// Connecting, then Started: durations count from the latest of them.
    began_at: Option<Instant>,
    bytes_out: u64,
    bytes_err: u64,
    first_line: FirstLine,
    error_message: Option<String>,
}

impl Tally {
    fn new(host: String) -> Self {
        Tally {
            host,
            created: Instant::now(),
            began_at: None,
            bytes_out: 0,
            bytes_err: 0,
            first_line: FirstLine::default(),
            error_message: None,
        }
    }

    fn into_result(self, state: HostState) -> HostResult {
        let elapsed = self.began_at.unwrap_or(self.created).elapsed();
        let exit_code = match &state {
            HostState::Ok => Some(0),
            HostState::Failed {
                outcome: ExitOutcome::Code { code },
            } => Some(*code),
            _ => None,
        };
        let first_error_line = if matches!(state, HostState::Ok) {
            None
        } else {
            self.first_line
                .finish()
                .or_else(|| self.error_message.map(|m| clip(m.trim())))
        };
        HostResult {
            host: self.host,
            state,
            exit_code,
            duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            bytes_out: self.bytes_out,
            bytes_err: self.bytes_err,
            first_error_line,
            attempts: 1,
        }
    }
}

/// Finds the first non-empty stderr line without keeping more than FIRST_LINE_SCAN bytes.
#[derive(Default)]
struct FirstLine {
    partial: Vec<u8>,
    found: Option<String>,
}

impl FirstLine {
    fn feed(&mut self, mut bytes: &[u8]) {
        // Each pass consumes a line or the rest of `bytes`.
        while self.found.is_none() && !bytes.is_empty() {
            let (line, rest, complete) = match bytes.iter().position(|&b| b == b'\n') {
                Some(nl) => (&bytes[..nl], &bytes[nl + 1..], true),
                None => (bytes, &[][..], false),
            };
            let room = FIRST_LINE_SCAN.saturating_sub(self.partial.len());
            self.partial
                .extend_from_slice(&line[..line.len().min(room)]);
            if complete || self.partial.len() >= FIRST_LINE_SCAN {
                self.take_line();
            }
            bytes = rest;
        }
    }

    fn take_line(&mut self) {
        let text = String::from_utf8_lossy(&self.partial).trim().to_string();
        self.partial.clear();
        if !text.is_empty() {
            self.found = Some(clip(&text));
        }
    }

    fn finish(mut self) -> Option<String> {
        if self.found.is_none() {
            self.take_line();
        }
        self.found
    }
}

fn clip(text: &str) -> String {
    text.chars().take(FIRST_LINE_MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states() {
        let exited = |o| ExecEvent::Exited(o);
        assert_eq!(
            final_state(&exited(ExitOutcome::Code { code: 0 }), true),
            Some(HostState::Ok)
        );
        assert!(matches!(
            final_state(&exited(ExitOutcome::Code { code: 2 }), true),
            Some(HostState::Failed { .. })
        ));
        for o in [
            ExitOutcome::Signal {
                signal: "TERM".into(),
            },
            ExitOutcome::NoStatus,
        ] {
            assert!(matches!(
                final_state(&exited(o), true),
                Some(HostState::Failed { .. })
            ));
        }
        for o in [
            ExitOutcome::TimedOut { after_ms: 5 },
            ExitOutcome::IdleTimedOut { after_ms: 5 },
        ] {
            assert!(matches!(
                final_state(&exited(o), true),
                Some(HostState::Timeout { .. })
            ));
        }
        assert_eq!(
            final_state(&exited(ExitOutcome::Cancelled), true),
            Some(HostState::Cancelled)
        );
        let failed = |k| ExecEvent::Failed(TransportError::new(k, "x"));
        assert!(matches!(
            final_state(&failed(ErrorKind::Auth), false),
            Some(HostState::Unreachable {
                kind: ErrorKind::Auth,
                ..
            })
        ));
        // The link broke after the command started: an error, not "unreachable".
        assert!(matches!(
            final_state(&failed(ErrorKind::Connect), true),
            Some(HostState::Error { .. })
        ));
        assert!(matches!(
            final_state(&failed(ErrorKind::Io), false),
            Some(HostState::Error { .. })
        ));
        assert_eq!(final_state(&ExecEvent::Connecting, false), None);
    }

    #[test]
    fn first_non_empty_stderr_line() {
        let mut f = FirstLine::default();
        f.feed(b"\n   \n  warn");
        f.feed(b"ing: disk full  \nsecond\n");
        assert_eq!(f.finish().as_deref(), Some("warning: disk full"));

        let mut f = FirstLine::default();
        f.feed(b"no newline at all");
        assert_eq!(f.finish().as_deref(), Some("no newline at all"));

        let mut f = FirstLine::default();
        f.feed(&vec![b'x'; 10_000]);
        assert_eq!(f.finish().map(|l| l.len()), Some(FIRST_LINE_MAX));
        assert_eq!(FirstLine::default().finish(), None);
    }
}
