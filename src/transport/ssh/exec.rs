//! One command on one pooled connection: open a session channel, send the command, drain the
//! channel continuously into events, enforce the command and idle timeouts, and kill the
//! remote command on cancel or timeout (see `command.rs` for how).
//!
//! The channel is read without pause (an unread channel stalls the whole connection:
//! SSH-NOTES.md pitfall 2). Output waits in a bounded outbox for the event receiver; only when
//! that outbox is full does reading stop, back-pressuring this connection alone.

use std::sync::Arc;
use std::time::Duration;

use russh::client::Msg;
use russh::{Channel, ChannelMsg, ChannelOpenFailure, ChannelReadHalf, ChannelWriteHalf, Sig};
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

use super::super::{ErrorKind, ExecEvent, ExecSpec, ExitOutcome, TransportError};
use super::command::{self, MarkerScan, PidMarker};
use super::outbox::{Outbox, event_bytes};
use super::pool::Conn;

/// After the exit status, output still in flight is read this long at most (a background
/// child holding stdout open must not hang the run; same as the local transport).
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// After a kill or hangup, how long the channel may take to close before we close it.
const STOP_GRACE: Duration = Duration::from_secs(6);
/// How long the kill channel may take (its script is bounded to ~2 s remotely).
const KILL_DEADLINE: Duration = Duration::from_secs(8);
/// Waiting for the server's CHANNEL_CLOSE after ours.
const CLOSE_DEADLINE: Duration = Duration::from_secs(2);
/// Channel opens refused by the server retried at most, pausing 20 ms, 40 ms, …
const OPEN_RETRIES: u32 = 8;
const OPEN_RETRY_PAUSE: Duration = Duration::from_millis(20);
/// Terminal size asked for with a PTY.
const PTY_COLS: u32 = 200;
const PTY_ROWS: u32 = 50;

/// How an exec failed: `Stale` means the pooled connection was dead before the command
/// started (retry on a fresh one); `Failed` is final.
pub enum ExecError {
    Stale(String),
    Failed(TransportError),
}

impl From<TransportError> for ExecError {
    fn from(e: TransportError) -> Self {
        ExecError::Failed(e)
    }
}

/// Runs `spec` on `conn`; `tx` gets `Started` and output (the caller sends the terminal event).
pub async fn run(
    conn: Arc<Conn>,
    host: &str,
    spec: &ExecSpec,
    tx: &mpsc::Sender<ExecEvent>,
    cancel: &CancellationToken,
) -> Result<ExitOutcome, ExecError> {
    let line = command::remote_command(host, spec)?;
    let Some((channel, permit)) = open_channel(&conn, host, spec, cancel).await? else {
        return Ok(ExitOutcome::Cancelled);
    };
    tracing::debug!(host, channel = %channel.id(), pty = spec.pty, "channel open");
    let requested = async {
        if spec.pty {
            channel
                .request_pty(false, "xterm-256color", PTY_COLS, PTY_ROWS, 0, 0, &[])
                .await?;
        }
        channel.exec(true, line.as_bytes()).await
    };
    if let Err(e) = requested.await {
        // The requests never left: the command did not start, so a fresh connection may retry.
        return Err(ExecError::Stale(
            lost(&conn, host, &format!("before the command started ({e})")).message,
        ));
    }
    let (read, write) = channel.split();
    let write = Arc::new(write);
    let stdin_task = send_stdin(write.clone(), spec);

    let mut session = Session {
        conn,
        host,
        spec,
        tx,
        read,
        write,
        outbox: Outbox::default(),
        marker: if spec.pty {
            PidMarker::disabled()
        } else {
            PidMarker::default()
        },
        pid: None,
        started_sent: false,
        receiver_gone: false,
        status: None,
        exec_answered: false,
        closed: false,
        stop: None,
        stop_at: None,
        kill_task: None,
    };
    if spec.pty {
        session.mark_started();
    }
    let result = session.drive(cancel).await;
    if let Some(task) = stdin_task {
        task.abort();
    }
    // The channel is closed: free its slot before waiting on a slow event receiver.
    drop(permit);
    session.conn.touch();
    session.flush_outbox().await;
    result
}

/// A session channel and the permit that counts it; `None` if cancelled while waiting.
///
/// sshd may refuse a channel below its MaxSessions: it frees a closed session only after
/// processing the whole batch of packets that closed it, so a close immediately followed by
/// an open can find no free slot. A refusal lowers this connection's channel cap by one and
/// the open is retried after a short pause (bounded).
async fn open_channel(
    conn: &Conn,
    host: &str,
    spec: &ExecSpec,
    cancel: &CancellationToken,
) -> Result<Option<(Channel<Msg>, OwnedSemaphorePermit)>, ExecError> {
    let mut refusals = 0;
    loop {
        let permit = tokio::select! {
            p = conn.channels.clone().acquire_owned() => p.map_err(|_| {
                ExecError::Stale(format!("{host}: the connection is shutting down"))
            })?,
            () = cancel.cancelled() => return Ok(None),
        };
        let error = match timeout(spec.connect_timeout, conn.handle.channel_open_session()).await {
            Ok(Ok(channel)) => return Ok(Some((channel, permit))),
            Ok(Err(e)) => e,
            Err(_) => {
                return Err(ExecError::Stale(format!(
                    "{host}: no answer to a channel open within {} s",
                    spec.connect_timeout.as_secs_f32()
                )));
            }
        };
        if !conn.is_alive() {
            return Err(ExecError::Stale(format!(
                "{host}: the connection was lost before the command started ({error}; {})",
                conn.lost_reason()
            )));
        }
        let retry = matches!(
            error,
            russh::Error::ChannelOpenFailure(
                ChannelOpenFailure::ConnectFailed | ChannelOpenFailure::ResourceShortage
            )
        );
        if !retry || refusals >= OPEN_RETRIES {
            return Err(TransportError::new(
                ErrorKind::Protocol,
                format!(
                    "{host}: the server refused a new session channel: {error} (is sshd's \
                     MaxSessions lower than max_channels_per_connection?)"
                ),
            )
            .into());
        }
        refusals += 1;
        conn.channel_refused(permit);
        tracing::debug!(host, refusals, "session channel refused; retrying");
        tokio::select! {
            () = tokio::time::sleep(OPEN_RETRY_PAUSE * refusals) => {}
            () = cancel.cancelled() => return Ok(None),
        }
    }
}

/// Writes stdin then EOF in the background: a command that never reads stdin must not block
/// the drain. Without stdin, EOF goes at once (like `ssh -n`); a PTY gets no EOF.
fn send_stdin(
    write: Arc<ChannelWriteHalf<Msg>>,
    spec: &ExecSpec,
) -> Option<tokio::task::JoinHandle<()>> {
    let pty = spec.pty;
    let data = spec.stdin.clone();
    if data.is_none() && pty {
        return None;
    }
    Some(tokio::spawn(async move {
        if let Some(bytes) = data
            && write.data_bytes(bytes).await.is_err()
        {
            return;
        }
        if !pty {
            let _ = write.eof().await;
        }
    }))
}

/// Why we stopped the command ourselves.
#[derive(Clone, Copy)]
enum Stop {
    Cancelled,
    TimedOut,
    IdleTimedOut,
}

struct Session<'a> {
    conn: Arc<Conn>,
    host: &'a str,
    spec: &'a ExecSpec,
    tx: &'a mpsc::Sender<ExecEvent>,
    read: ChannelReadHalf,
    write: Arc<ChannelWriteHalf<Msg>>,
    outbox: Outbox,
    marker: PidMarker,
    pid: Option<u32>,
    started_sent: bool,
    /// The event receiver was dropped: keep draining (dropping is not cancelling), discard.
    receiver_gone: bool,
    status: Option<ExitOutcome>,
    exec_answered: bool,
    closed: bool,
    stop: Option<(Stop, Instant)>,
    /// When waiting ends: the drain grace after an exit status, or the stop grace.
    stop_at: Option<Instant>,
    kill_task: Option<tokio::task::JoinHandle<()>>,
}

impl Session<'_> {
    async fn drive(&mut self, cancel: &CancellationToken) -> Result<ExitOutcome, ExecError> {
        let started = Instant::now();
        let far = started + Duration::from_secs(100 * 365 * 86_400);
        let deadline = self.spec.timeout.map(|t| started + t);
        let mut idle_deadline = self.spec.idle_timeout.map(|t| started + t);
        let mut link_lost = false;
        let mut refused = None;
        // Ends on channel close, on a grace deadline, or on link loss; each branch either makes
        // progress on the channel or moves toward one of those deadlines.
        loop {
            let running = self.stop.is_none() && self.status.is_none();
            tokio::select! {
                // Once stopping, output is discarded: read even with a full outbox, so the
                // connection (and the kill channel on it) never waits behind this channel.
                msg = self.read.wait(), if self.outbox.has_room() || self.stop.is_some() => {
                    let Some(msg) = msg else {
                        link_lost = !self.conn.is_alive();
                        break;
                    };
                    match self.on_message(msg) {
                        Ok(true) => {
                            idle_deadline = self.spec.idle_timeout.map(|t| Instant::now() + t);
                        }
                        Ok(false) => {}
                        Err(e) => {
                            refused = Some(e);
                            break;
                        }
                    }
                    if self.closed {
                        break;
                    }
                }
                permit = self.tx.reserve(), if !self.outbox.is_empty() && !self.receiver_gone => {
                    match permit {
                        Ok(p) => {
                            if let Some(ev) = self.outbox.pop() {
                                p.send(ev);
                            }
                        }
                        Err(_) => {
                            self.receiver_gone = true;
                            self.outbox = Outbox::default();
                        }
                    }
                }
                () = sleep_until(deadline.unwrap_or(far)), if running && deadline.is_some() => {
                    self.begin_stop(Stop::TimedOut).await;
                }
                () = sleep_until(idle_deadline.unwrap_or(far)), if running && idle_deadline.is_some() => {
                    self.begin_stop(Stop::IdleTimedOut).await;
                }
                () = cancel.cancelled(), if running => {
                    self.begin_stop(Stop::Cancelled).await;
                }
                () = sleep_until(self.stop_at.unwrap_or(far)), if self.stop_at.is_some() => break,
            }
        }
        self.finish_marker();
        if !self.closed && !link_lost {
            self.close().await;
        }
        if let Some(task) = self.kill_task.take() {
            let _ = timeout(KILL_DEADLINE, task).await;
        }
        if let Some(e) = refused {
            return Err(e);
        }
        if let Some((why, at)) = self.stop {
            return Ok(match why {
                Stop::Cancelled => ExitOutcome::Cancelled,
                Stop::TimedOut => ExitOutcome::TimedOut {
                    after_ms: millis(at.duration_since(started)),
                },
                Stop::IdleTimedOut => ExitOutcome::IdleTimedOut {
                    after_ms: millis(self.spec.idle_timeout.unwrap_or_default()),
                },
            });
        }
        match self.status.take() {
            Some(outcome) => Ok(outcome),
            None if link_lost => Err(ExecError::Failed(lost(
                &self.conn,
                self.host,
                "mid-command",
            ))),
            None => Ok(ExitOutcome::NoStatus),
        }
    }

    /// Handles one channel message; true when it was output (resets the idle timer).
    fn on_message(&mut self, msg: ChannelMsg) -> Result<bool, ExecError> {
        match msg {
            ChannelMsg::Data { data } => {
                if self.stop.is_some() {
                    return Ok(false);
                }
                match self.marker.feed(&data) {
                    MarkerScan::Pending => {}
                    MarkerScan::Done { pid, output } => {
                        self.pid = pid;
                        self.mark_started();
                        self.output(ExecEvent::Stdout(output));
                    }
                    MarkerScan::PassThrough(output) => self.output(ExecEvent::Stdout(output)),
                }
                Ok(true)
            }
            ChannelMsg::ExtendedData { data, .. } => {
                if self.stop.is_none() {
                    self.output(ExecEvent::Stderr(data.to_vec()));
                }
                Ok(true)
            }
            ChannelMsg::ExitStatus { exit_status } => {
                tracing::debug!(host = self.host, exit_status, "exit status");
                let code = i32::try_from(exit_status).unwrap_or(i32::MAX);
                self.set_status(ExitOutcome::Code { code });
                Ok(false)
            }
            ChannelMsg::ExitSignal { signal_name, .. } => {
                let signal = signal_text(&signal_name);
                tracing::debug!(host = self.host, %signal, "exit signal");
                self.set_status(ExitOutcome::Signal { signal });
                Ok(false)
            }
            ChannelMsg::Eof => {
                self.finish_marker();
                Ok(false)
            }
            ChannelMsg::Close => {
                self.closed = true;
                Ok(false)
            }
            ChannelMsg::Success => {
                self.exec_answered = true;
                Ok(false)
            }
            ChannelMsg::Failure if !self.exec_answered => Err(TransportError::new(
                ErrorKind::Protocol,
                format!("{}: the server refused to run the command", self.host),
            )
            .into()),
            _ => Ok(false),
        }
    }

    fn set_status(&mut self, outcome: ExitOutcome) {
        if self.status.is_none() {
            self.status = Some(outcome);
            if self.stop.is_none() {
                self.stop_at = Some(Instant::now() + DRAIN_GRACE);
            }
        }
    }

    fn mark_started(&mut self) {
        if !self.started_sent {
            self.started_sent = true;
            self.outbox.push(ExecEvent::Started { pid: self.pid });
        }
    }

    /// Stdout ended or the command is over: held-back bytes are output after all.
    fn finish_marker(&mut self) {
        if !self.marker.is_done()
            && let MarkerScan::Done { output, .. } = self.marker.flush()
        {
            self.mark_started();
            self.output(ExecEvent::Stdout(output));
        }
        self.mark_started();
    }

    fn output(&mut self, event: ExecEvent) {
        if event_bytes(&event) > 0 && !self.receiver_gone {
            self.outbox.push(event);
        }
    }

    /// Kills the remote command: process-group kill over a second channel (no PTY), or
    /// Ctrl-C then hangup (PTY). The channel keeps draining meanwhile, so the kill channel's
    /// messages are never stuck behind this one's output.
    async fn begin_stop(&mut self, why: Stop) {
        let now = Instant::now();
        self.stop = Some((why, now));
        self.stop_at = Some(now + STOP_GRACE);
        if self.spec.pty {
            tracing::debug!(host = self.host, "stopping: Ctrl-C and hangup");
            let _ = self.write.data_bytes(&b"\x03"[..]).await;
            let _ = self.write.close().await;
            return;
        }
        match self.pid {
            Some(pid) => {
                tracing::debug!(host = self.host, pid, "stopping: killing the process group");
                let conn = self.conn.clone();
                let host = self.host.to_string();
                self.kill_task = Some(tokio::spawn(async move {
                    kill_group(conn, &host, pid).await;
                }));
            }
            None => {
                // No pid (a non-POSIX login shell?): signal and close are all that is left.
                tracing::warn!(
                    host = self.host,
                    "remote pid unknown; closing the channel (the command may keep running)"
                );
                let _ = self.write.signal(Sig::KILL).await;
                let _ = self.write.close().await;
            }
        }
    }

    /// Sends CHANNEL_CLOSE and waits (bounded) for the server's, discarding late output.
    async fn close(&mut self) {
        let _ = self.write.close().await;
        let until = Instant::now() + CLOSE_DEADLINE;
        for _ in 0..100_000 {
            match tokio::time::timeout_at(until, self.read.wait()).await {
                Ok(Some(ChannelMsg::Close)) | Ok(None) | Err(_) => return,
                Ok(Some(_)) => {}
            }
        }
    }

    async fn flush_outbox(&mut self) {
        while let Some(event) = self.outbox.pop() {
            if self.receiver_gone || self.tx.send(event).await.is_err() {
                self.receiver_gone = true;
                self.outbox = Outbox::default();
                return;
            }
        }
    }
}

/// Runs the process-group kill script over its own channel and waits for it (bounded).
async fn kill_group(conn: Arc<Conn>, host: &str, pid: u32) {
    let work = async {
        let _permit = conn.kills.clone().acquire_owned().await.ok()?;
        // Refused while sshd frees closed sessions (see open_channel): retry briefly.
        let mut opened = None;
        for attempt in 1..=OPEN_RETRIES {
            match conn.handle.channel_open_session().await {
                Ok(ch) => {
                    opened = Some(ch);
                    break;
                }
                Err(_) if conn.is_alive() => {
                    tokio::time::sleep(OPEN_RETRY_PAUSE * attempt).await;
                }
                Err(_) => return None,
            }
        }
        let mut ch = opened?;
        ch.exec(false, command::kill_group_script(pid)).await.ok()?;
        let _ = ch.eof().await;
        let mut closed = false;
        for _ in 0..10_000 {
            match ch.wait().await {
                Some(ChannelMsg::Close) | None => {
                    closed = true;
                    break;
                }
                Some(_) => {}
            }
        }
        if !closed {
            let _ = ch.close().await;
        }
        Some(())
    };
    if timeout(KILL_DEADLINE, work).await.ok().flatten().is_none() {
        tracing::warn!(host, pid, "could not run the kill command on the host");
    }
}

fn lost(conn: &Conn, host: &str, when: &str) -> TransportError {
    TransportError::new(
        ErrorKind::Protocol,
        format!(
            "{host}: the connection to {} was lost {when}: {}",
            conn.label,
            conn.lost_reason()
        ),
    )
}

/// OpenSSH's signal name without `SIG` (`TERM`, `KILL`, …).
fn signal_text(sig: &Sig) -> String {
    let name = match sig {
        Sig::ABRT => "ABRT",
        Sig::ALRM => "ALRM",
        Sig::FPE => "FPE",
        Sig::HUP => "HUP",
        Sig::ILL => "ILL",
        Sig::INT => "INT",
        Sig::KILL => "KILL",
        Sig::PIPE => "PIPE",
        Sig::QUIT => "QUIT",
        Sig::SEGV => "SEGV",
        Sig::TERM => "TERM",
        Sig::USR1 => "USR1",
        Sig::Custom(other) => other.strip_prefix("SIG").unwrap_or(other),
    };
    name.to_string()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_drop_the_sig_prefix() {
        assert_eq!(signal_text(&Sig::TERM), "TERM");
        assert_eq!(signal_text(&Sig::Custom("SIGUSR2".into())), "USR2");
        assert_eq!(signal_text(&Sig::Custom("XCPU".into())), "XCPU");
    }
}
