//! One host's part of a run: takes the host's slot (one action at a time per host) and a
//! permit of the shared fan-out budget, then makes its attempts (retries, circuit breaker,
//! success criteria), driving each attempt's transport events to a final state and feeding
//! the front end (through the hub), the run output file and the host's result.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::error::TryRecvError;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::breaker::Outcome;
use super::context::RunContext;
use super::criteria::{OutputWatch, judge};
use super::forwarder::Hub;
use super::host_slots::Take;
use super::locks::HostLock;
use super::records::NOT_RECORDED_PREFIX;
use super::retry;
use super::run_output::{HostRecorder, RECORD_MAX};
use super::types::{Guards, HostResult, HostState, Stream};
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
    /// The run this host belongs to (named to hosts waiting for this one's slot).
    pub run_id: Arc<str>,
    pub guards: Arc<Guards>,
    /// Slots, budget, breaker and locks shared with the other runs of the context.
    pub ctx: RunContext,
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

/// Where a host's states, output and notes go: the front end and the run output file.
struct Sink {
    index: usize,
    hub: Arc<Hub>,
    recorder: HostRecorder,
}

impl Sink {
    fn state(&self, state: HostState) {
        self.hub.push_state(self.index, state);
    }

    async fn output(&mut self, stream: Stream, bytes: Vec<u8>) {
        self.recorder.write(stream, &bytes).await;
        self.hub.push_output(self.index, stream, bytes);
    }

    /// A `[fleetdeck: …]` line in the host's stderr (not counted as the command's output).
    async fn note(&mut self, text: &str) {
        let line = format!("{NOT_RECORDED_PREFIX}{text}]\n");
        self.output(Stream::Stderr, line.into_bytes()).await;
    }
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
        recorder,
        cancel,
        run_id,
        guards,
        ctx,
    } = job;
    let mut sink = Sink {
        index,
        hub,
        recorder,
    };
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
        sink.recorder.finish().await;
        sink.state(state.clone());
        return tally.into_result(state, 1);
    };

    // The host's slot first, then the budget permit: a permit is never held while waiting
    // for a slot, so runs waiting on each other's hosts cannot starve the budget.
    let slot = if guards.allow_concurrent {
        None
    } else {
        match take_slot(&ctx, &host.name, &run_id, &mut sink, &cancel).await {
            Some(slot) => Some(slot),
            None => return end(sink, tally, HostState::Cancelled, 0).await,
        }
    };
    let permit = tokio::select! {
        permit = Arc::clone(&ctx.budget).acquire_owned() => permit.ok(),
        () = cancel.cancelled() => return end(sink, tally, HostState::Cancelled, 0).await,
    };

    // The lock (if the action needs one) is taken once before the first attempt and given
    // back after the last.
    let lock = match take_lock(&ctx, &host, &transport, &spec, &run_id, &guards).await {
        Ok(lock) => lock,
        Err(state) => {
            if let HostState::Error { message, .. } | HostState::Unreachable { message, .. } =
                &state
            {
                tally.error_message = Some(message.clone());
            }
            return end(sink, tally, state, 0).await;
        }
    };
    // While the host works, the lock is renewed every third of its TTL, so a run that takes
    // longer than the TTL does not lose it to another console.
    let stop_renewing = CancellationToken::new();
    let renewer = lock.map(|lock| tokio::spawn(keep_renewed(lock, stop_renewing.clone())));
    let (state, attempts) = if cancel.is_cancelled() {
        (HostState::Cancelled, 0)
    } else {
        attempts(
            &ctx, &host, &transport, &spec, &guards, &mut sink, &mut tally, &cancel,
        )
        .await
    };
    stop_renewing.cancel();
    let lock = match renewer {
        Some(task) => match task.await {
            Ok(lock) => Some(lock),
            Err(e) => {
                tracing::warn!(host = %host.name, error = %e, "the lock renewal task failed; the lock expires by itself");
                None
            }
        },
        None => None,
    };
    if let Some(lock) = lock
        && let Err(e) = lock.release().await
    {
        tracing::warn!(host = %host.name, error = %e, "cannot release the host lock");
        sink.note(&format!("lock not released: {e}")).await;
    }
    // The final state is queued before the slot and the permit are given back, so the next
    // run's host on this host is seen starting after this one ended.
    let result = end(sink, tally, state, attempts).await;
    drop(permit);
    drop(slot);
    result
}

/// Renews `lock` every third of its TTL (at most 4 times a second) until `stop`, then hands it
/// back for release. A failed renewal is logged and tried again at the next tick.
async fn keep_renewed(mut lock: HostLock, stop: CancellationToken) -> HostLock {
    let period = (lock.ttl() / 3).max(Duration::from_millis(250));
    loop {
        tokio::select! {
            () = stop.cancelled() => return lock,
            () = tokio::time::sleep(period) => {
                if let Err(e) = lock.renew().await {
                    tracing::warn!(error = %e, "cannot renew the host lock");
                }
            }
        }
    }
}

/// Finishes the host's records and queues its final state.
async fn end(mut sink: Sink, tally: Tally, state: HostState, attempts: u32) -> HostResult {
    sink.recorder.finish().await;
    sink.state(state.clone());
    tally.into_result(state, attempts.max(1))
}

/// Takes the host's lock when the action needs one (`Ok(None)` when it does not). Not
/// cancellable midway (a half-taken lock would be left on the host); bounded by the connect
/// timeout. A host whose breaker is open is not contacted for it. `Err`: the host's final
/// state.
async fn take_lock(
    ctx: &RunContext,
    host: &Host,
    transport: &Arc<dyn Transport>,
    spec: &ExecSpec,
    run_id: &str,
    guards: &Guards,
) -> Result<Option<HostLock>, HostState> {
    let Some(ttl) = guards.lock_ttl else {
        return Ok(None);
    };
    let Some(locks) = &ctx.locks else {
        return Err(HostState::Error {
            kind: ErrorKind::Locked,
            message: format!(
                "{}: this action requires a lock and this run has no lock manager to take it \
                 with; start it from `fleetdeck run` or the console",
                host.name
            ),
        });
    };
    let ticket = ctx
        .breaker
        .admit(&host.name)
        .map_err(|message| HostState::Unreachable {
            kind: ErrorKind::CircuitOpen,
            message,
        })?;
    let taken = locks
        .acquire(
            host,
            Arc::clone(transport),
            run_id,
            ttl,
            spec.connect_timeout,
        )
        .await;
    match taken {
        Ok(lock) => {
            ticket.record(&Outcome::Connected);
            Ok(Some(lock))
        }
        Err(e) => {
            let counts = Outcome::counts(e.kind);
            ticket.record(&if counts {
                Outcome::Failed(e.message.clone())
            } else {
                Outcome::Neither
            });
            Err(if e.kind.is_unreachable() {
                HostState::Unreachable {
                    kind: e.kind,
                    message: e.message,
                }
            } else {
                HostState::Error {
                    kind: e.kind,
                    message: e.message,
                }
            })
        }
    }
}

/// Waits for `host`'s slot (saying in its stderr who holds it); `None` if cancelled first.
async fn take_slot(
    ctx: &RunContext,
    host: &str,
    run_id: &str,
    sink: &mut Sink,
    cancel: &CancellationToken,
) -> Option<super::host_slots::SlotGuard> {
    match ctx.host_slots.try_take(host, run_id) {
        Take::Taken(slot) => Some(slot),
        Take::Busy(holder) => {
            sink.note(&format!("waiting: host busy with run {holder}"))
                .await;
            tokio::select! {
                slot = ctx.host_slots.take(host, run_id) => Some(slot),
                () = cancel.cancelled() => None,
            }
        }
    }
}

/// Makes the host's attempts: each admitted by the circuit breaker, judged by the success
/// criteria, repeated after a jittered backoff while the retry policy says so. Returns the
/// final state and the attempts made.
#[allow(clippy::too_many_arguments)]
async fn attempts(
    ctx: &RunContext,
    host: &Host,
    transport: &Arc<dyn Transport>,
    spec: &ExecSpec,
    guards: &Guards,
    sink: &mut Sink,
    tally: &mut Tally,
    cancel: &CancellationToken,
) -> (HostState, u32) {
    let policy = &guards.retry;
    let total = policy.attempts.max(1);
    // Each pass is one attempt: bounded by `total`.
    for attempt in 1..=total {
        tally.new_attempt();
        let ticket = match ctx.breaker.admit(&host.name) {
            Ok(ticket) => ticket,
            Err(message) => {
                tally.error_message = Some(message.clone());
                let state = HostState::Unreachable {
                    kind: ErrorKind::CircuitOpen,
                    message,
                };
                // This attempt was not made (at least one is always counted).
                return (state, (attempt - 1).max(1));
            }
        };
        let mut watch = OutputWatch::new(&guards.success);
        let state = run_once(host, transport, spec, sink, tally, &mut watch, cancel).await;
        ticket.record(&breaker_outcome(&state, tally.started));
        let took = tally.began_at.unwrap_or(tally.created).elapsed();
        let (state, why) = judge(&guards.success, state, &watch, took);
        if let Some(why) = &why {
            sink.note(why).await;
            tally.criteria = Some(why.clone());
        }
        if cancel.is_cancelled() || !retry::should_retry(policy, &state, attempt) {
            return (state, attempt);
        }
        let wait = retry::backoff(policy, attempt);
        let why = retry::describe(&state, why.as_deref());
        let note = retry::retry_note(attempt, total, &why, wait);
        sink.output(Stream::Stderr, note.into_bytes()).await;
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = cancel.cancelled() => return (HostState::Cancelled, attempt),
        }
    }
    // The last attempt always returns above; this keeps the compiler and readers sure.
    (HostState::Cancelled, total)
}

/// What an attempt's end tells the circuit breaker.
fn breaker_outcome(state: &HostState, started: bool) -> Outcome {
    match state {
        HostState::Unreachable { kind, message } if Outcome::counts(*kind) => {
            Outcome::Failed(message.clone())
        }
        _ if started => Outcome::Connected,
        _ => Outcome::Neither,
    }
}

/// One attempt: runs the command through the transport to a final state.
async fn run_once(
    host: &Host,
    transport: &Arc<dyn Transport>,
    spec: &ExecSpec,
    sink: &mut Sink,
    tally: &mut Tally,
    watch: &mut OutputWatch,
    cancel: &CancellationToken,
) -> HostState {
    let mut handle = transport.exec(host, spec.clone());
    let mut cancel_deadline: Option<Instant> = None;
    // An event read ahead while joining output, to be handled next.
    let mut pending: Option<ExecEvent> = None;
    loop {
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
                    return HostState::Cancelled;
                }
            }
        };
        let Some(event) = event else {
            let message = format!(
                "{}: the transport stopped without saying how the command ended",
                host.name
            );
            tally.error_message = Some(message.clone());
            return HostState::Error {
                kind: ErrorKind::Protocol,
                message,
            };
        };
        match event {
            // A repeated Connecting (a transport retrying) is not a state change.
            ExecEvent::Connecting if tally.began_at.is_some() => {}
            ExecEvent::Connecting => {
                tally.began_at = Some(Instant::now());
                sink.state(HostState::Connecting);
            }
            ExecEvent::Started { .. } if tally.started => {}
            ExecEvent::Started { .. } => {
                tally.started = true;
                tally.began_at = Some(Instant::now());
                sink.state(HostState::Running);
            }
            ExecEvent::Stdout(bytes) | ExecEvent::Stderr(bytes) if bytes.is_empty() => {}
            ExecEvent::Stdout(bytes) => {
                let (bytes, next) = join_output(bytes, Stream::Stdout, &mut handle.events);
                pending = next;
                tally.bytes_out += bytes.len() as u64;
                watch.feed(Stream::Stdout, &bytes);
                sink.output(Stream::Stdout, bytes).await;
            }
            ExecEvent::Stderr(bytes) => {
                let (bytes, next) = join_output(bytes, Stream::Stderr, &mut handle.events);
                pending = next;
                tally.bytes_err += bytes.len() as u64;
                tally.first_line.feed(&bytes);
                watch.feed(Stream::Stderr, &bytes);
                sink.output(Stream::Stderr, bytes).await;
            }
            ended => {
                match &ended {
                    ExecEvent::Failed(e) => tally.error_message = Some(e.message.clone()),
                    ExecEvent::Exited(ExitOutcome::Code { code }) => tally.exit_code = Some(*code),
                    _ => {}
                }
                let Some(state) = final_state(&ended, tally.started) else {
                    continue;
                };
                // A connection torn down by our own cancel is a cancel, not an error.
                if cancel_deadline.is_some()
                    && matches!(
                        state,
                        HostState::Error { .. } | HostState::Unreachable { .. }
                    )
                {
                    return HostState::Cancelled;
                }
                return state;
            }
        }
    }
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

/// What is counted for a host's result while it runs. Byte counts add up over attempts;
/// the rest describes the latest attempt.
struct Tally {
    host: String,
    created: Instant,
    /// Connecting, then Started: durations count from the latest of them.
    began_at: Option<Instant>,
    /// The command was reported running in this attempt.
    started: bool,
    bytes_out: u64,
    bytes_err: u64,
    first_line: FirstLine,
    error_message: Option<String>,
    exit_code: Option<i32>,
    /// Why the success criteria turned this attempt into a failure.
    criteria: Option<String>,
}

impl Tally {
    fn new(host: String) -> Self {
        Tally {
            host,
            created: Instant::now(),
            began_at: None,
            started: false,
            bytes_out: 0,
            bytes_err: 0,
            first_line: FirstLine::default(),
            error_message: None,
            exit_code: None,
            criteria: None,
        }
    }

    /// Forgets what described the previous attempt (its output stays counted).
    fn new_attempt(&mut self) {
        self.created = Instant::now();
        self.began_at = None;
        self.started = false;
        self.first_line = FirstLine::default();
        self.error_message = None;
        self.exit_code = None;
        self.criteria = None;
    }

    fn into_result(self, state: HostState, attempts: u32) -> HostResult {
        let elapsed = self.began_at.unwrap_or(self.created).elapsed();
        let exit_code = match &state {
            HostState::Ok | HostState::Failed { .. } => self.exit_code,
            _ => None,
        };
        let first_error_line = if matches!(state, HostState::Ok) {
            None
        } else {
            self.criteria
                .map(|c| clip(&c))
                .or_else(|| self.first_line.finish())
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
            attempts,
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
