//! One console connection after the upgrade: hello, frames in and out, the jobs it started,
//! heartbeats, pings, alerts, and an orderly end (jobs cancelled and reported first).

use std::collections::HashMap;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::{MissedTickBehavior, sleep_until};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_util::sync::CancellationToken;

use super::alert_feed;
use super::jobs::Reporter;
use super::jobs::checks::{self, elapsed_ms};
use super::jobs::file_check::{self, FileChecks};
use super::jobs::http_check::{self, HttpChecks};
use super::jobs::shell::{self, ShellSpec};
use super::server::Shared;
use crate::protocol::{
    self, ErrorCode, ExitOutcome, Frame, Heartbeat, Hello, MAX_FRAME_BYTES, Message, Operation,
    Scope,
};

/// Pings go out this often; a peer silent for [`QUIET_LIMIT`] (no frame, no pong) is dropped.
const PING_EVERY: Duration = Duration::from_secs(10);
const QUIET_LIMIT: Duration = Duration::from_secs(30);
/// The client's hello must come within this.
const HELLO_WITHIN: Duration = Duration::from_secs(10);
/// Job frames queued per connection; a job waits when it is full (back-pressure).
const OUT_QUEUE: usize = 256;
/// The session's own unsent frames beyond which the peer counts as not reading.
const MAX_BACKLOG: usize = 4096;
/// Longest job id accepted.
const MAX_ID: usize = 64;
/// Longest consumer name accepted in the client's hello, in bytes (the journal's limit).
const MAX_NAME: usize = super::alerts::MAX_CONSUMER_NAME;
/// service_health's timeout when the console sets none.
const HTTP_DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

type Sink<S> = SplitSink<WebSocketStream<S>, WsMessage>;

struct Session {
    shared: Arc<Shared>,
    scope: Scope,
    peer: SocketAddr,
    consumer: Option<String>,
    jobs: HashMap<String, CancellationToken>,
    /// The session's own frames (hello, errors, heartbeats, pings), sent before job output.
    urgent: mpsc::Sender<WsMessage>,
    /// Set when `urgent` is full: the peer does not read.
    not_reading: bool,
    out: mpsc::Sender<WsMessage>,
    done: mpsc::UnboundedSender<String>,
    stopping: bool,
    feed: Option<CancellationToken>,
}

fn frame(msg: Message) -> WsMessage {
    WsMessage::Text(Frame::new(msg).encode().into())
}

fn error_frame(id: Option<String>, code: ErrorCode, message: impl Into<String>) -> WsMessage {
    frame(Message::Error {
        id,
        code,
        message: message.into(),
    })
}

/// Serves one upgraded connection until it closes, the peer goes quiet, or the agent stops.
pub async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    ws: WebSocketStream<S>,
    scope: Scope,
    peer: SocketAddr,
    shared: Arc<Shared>,
) {
    let (mut sink, mut stream) = ws.split();
    let (urgent_tx, mut urgent_rx) = mpsc::channel(MAX_BACKLOG);
    let (out_tx, mut out_rx) = mpsc::channel(OUT_QUEUE);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut s = Session {
        shared: Arc::clone(&shared),
        scope,
        peer,
        consumer: None,
        jobs: HashMap::new(),
        urgent: urgent_tx,
        not_reading: false,
        out: out_tx,
        done: done_tx,
        stopping: false,
        feed: None,
    };
    s.push(frame(Message::Hello(Hello {
        software: format!("fleetdeck {}", env!("CARGO_PKG_VERSION")),
        name: shared.config.name.clone(),
        scopes: match scope {
            Scope::Read => vec![Scope::Read],
            Scope::Exec => vec![Scope::Read, Scope::Exec],
        },
        heartbeat_s: Some(shared.config.heartbeat.as_secs()),
        max_frame_bytes: Some(MAX_FRAME_BYTES),
    })));

    // The first heartbeat about one period after the hello (which already says the agent is
    // up), by when the sampler has its first sample; see `first_heartbeat_in`.
    let period = shared.config.heartbeat;
    let first = tokio::time::Instant::now() + first_heartbeat_in(period, SystemTime::now());
    let mut heartbeat = tokio::time::interval_at(first, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut last_heard = Instant::now();
    let hello_by = tokio::time::Instant::now() + HELLO_WITHIN;
    let far = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
    let mut stop_by = far;

    let close = {
        let writer = write_out(&mut sink, &mut urgent_rx, &mut out_rx);
        tokio::pin!(writer);
        loop {
            if s.stopping && s.jobs.is_empty() {
                break (1001, "agent shutting down");
            }
            if s.not_reading {
                tracing::warn!(%peer, "console does not read its frames; dropping the connection");
                break (1008, "not reading");
            }
            tokio::select! {
                incoming = stream.next() => match incoming {
                    Some(Ok(msg)) => {
                        last_heard = Instant::now();
                        s.on_message(msg);
                    }
                    None => break (1000, "bye"),
                    // The read side is done, the write side can still say why.
                    Some(Err(tungstenite::Error::Capacity(e))) => {
                        s.push(error_frame(None, ErrorCode::TooLarge, format!("{e}; closing the connection")));
                        break (1009, "message too big");
                    }
                    Some(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "connection ended");
                        break (1000, "bye");
                    }
                },
                e = &mut writer => {
                    tracing::debug!(%peer, error = %e, "connection ended");
                    break (1000, "bye");
                }
                Some(id) = done_rx.recv() => {
                    s.jobs.remove(&id);
                }
                _ = heartbeat.tick() => {
                    if s.backlog() < 64 {
                        s.push(frame(Message::Heartbeat(s.heartbeat())));
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > QUIET_LIMIT {
                        tracing::info!(%peer, "console silent for {} s; dropping it", QUIET_LIMIT.as_secs());
                        break (1001, "no pong");
                    }
                    s.push(WsMessage::Ping(Vec::new().into()));
                }
                () = shared.shutdown.cancelled(), if !s.stopping => {
                    s.stopping = true;
                    for token in s.jobs.values() {
                        token.cancel();
                    }
                    stop_by = tokio::time::Instant::now()
                        + shared.config.policy.kill_grace
                        + Duration::from_secs(5);
                }
                () = sleep_until(stop_by), if s.stopping => {
                    break (1001, "agent shutting down");
                }
                () = sleep_until(hello_by), if s.consumer.is_none() => {
                    s.push(error_frame(None, ErrorCode::Malformed, "no hello within 10 s"));
                    break (1008, "no hello");
                }
            }
        }
    };
    for token in s.jobs.values() {
        token.cancel();
    }
    if let Some(feed) = &s.feed {
        feed.cancel();
    }
    // Jobs cancelled by a shutdown have queued their exits: send them before closing.
    let finish = finish(sink, stream, &mut urgent_rx, &mut out_rx, close);
    let _ = tokio::time::timeout(Duration::from_secs(3), finish).await;
}

/// Feeds the socket, the session's own frames before job output, flushing whenever both
/// queues are empty; returns only when the connection fails. A frame leaves its queue only
/// once the sink has room for it, so dropping this future loses nothing.
async fn write_out<S: AsyncRead + AsyncWrite + Unpin>(
    sink: &mut Sink<S>,
    urgent: &mut mpsc::Receiver<WsMessage>,
    jobs: &mut mpsc::Receiver<WsMessage>,
) -> tungstenite::Error {
    loop {
        if let Err(e) = poll_fn(|cx| sink.poll_ready_unpin(cx)).await {
            return e;
        }
        let msg = match urgent.try_recv().or_else(|_| jobs.try_recv()) {
            Ok(m) => m,
            Err(_) => {
                if let Err(e) = sink.flush().await {
                    return e;
                }
                tokio::select! {
                    biased;
                    Some(m) = urgent.recv() => m,
                    Some(m) = jobs.recv() => m,
                    // Both closed: cannot happen while the session holds its senders.
                    else => std::future::pending().await,
                }
            }
        };
        if let Err(e) = sink.start_send_unpin(msg) {
            return e;
        }
    }
}

/// Sends what is queued now, then the close frame, and shuts the stream down (TLS
/// close_notify). Any failure just ends it: the connection is going away anyway.
async fn finish<S: AsyncRead + AsyncWrite + Unpin>(
    mut sink: Sink<S>,
    stream: SplitStream<WebSocketStream<S>>,
    urgent: &mut mpsc::Receiver<WsMessage>,
    jobs: &mut mpsc::Receiver<WsMessage>,
    (code, reason): (u16, &str),
) {
    let sent: Result<(), tungstenite::Error> = async {
        while let Ok(msg) = urgent.try_recv().or_else(|_| jobs.try_recv()) {
            sink.feed(msg).await?;
        }
        let close = CloseFrame {
            code: code.into(),
            reason: reason.into(),
        };
        sink.send(WsMessage::Close(Some(close))).await
    }
    .await;
    if let Err(e) = sent {
        tracing::debug!(error = %e, "could not close the connection cleanly");
    }
    if let Ok(mut ws) = sink.reunite(stream) {
        let _ = ws.get_mut().shutdown().await;
    }
}

impl Session {
    fn heartbeat(&self) -> Heartbeat {
        let policy = &self.shared.config.policy;
        let running = policy
            .max_jobs
            .saturating_sub(self.shared.jobs.available_permits());
        Heartbeat {
            jobs: u32::try_from(running).unwrap_or(u32::MAX),
            last_alert_seq: self.shared.journal.as_ref().map_or(0, |j| j.last_seq()),
            metrics: self.shared.metrics.borrow().clone(),
        }
    }

    /// Queues one of the session's own frames; a full queue marks the peer as not reading.
    fn push(&mut self, msg: WsMessage) {
        if self.urgent.try_send(msg).is_err() {
            self.not_reading = true;
        }
    }

    /// The session's own frames not yet handed to the socket.
    fn backlog(&self) -> usize {
        MAX_BACKLOG - self.urgent.capacity()
    }

    fn on_message(&mut self, msg: WsMessage) {
        let text = match msg {
            WsMessage::Text(t) => t,
            WsMessage::Binary(_) => {
                self.push(error_frame(
                    None,
                    ErrorCode::Malformed,
                    "binary frames are not part of the protocol: send JSON text frames",
                ));
                return;
            }
            // Pings are answered by tungstenite; pongs and close frames need nothing here.
            _ => return,
        };
        let frame_in = match Frame::decode(text.as_str()) {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(peer = %self.peer, error = %e, "refused a frame");
                self.push(WsMessage::Text(
                    Frame::from_decode_error(&e).encode().into(),
                ));
                return;
            }
        };
        match frame_in.msg {
            Message::Hello(h) => self.on_hello(h),
            Message::Exec { id, op } => {
                if let Err(refusal) = self.start_job(id.clone(), op) {
                    self.push(refusal);
                }
            }
            Message::Cancel { id } => {
                if self.scope != Scope::Exec {
                    self.push(error_frame(
                        Some(id),
                        ErrorCode::Forbidden,
                        "a read token cannot cancel jobs",
                    ));
                } else if let Some(token) = self.jobs.get(&id) {
                    token.cancel();
                } else {
                    self.push(error_frame(
                        Some(id),
                        ErrorCode::BadId,
                        "no running job has this id",
                    ));
                }
            }
            Message::Ack { seq } => self.on_ack(seq),
            Message::Lock {
                id,
                name,
                owner,
                run_id,
                ttl_ms,
                reason,
            } => {
                let reply = self.lock_allowed(&id).and_then(|()| {
                    let ttl = Duration::from_millis(ttl_ms);
                    super::locks::answer(
                        &id,
                        self.shared.locks.lock(&name, &owner, &run_id, ttl, reason),
                    )
                });
                self.push(reply.unwrap_or_else(|refusal| refusal));
            }
            Message::Unlock {
                id,
                name,
                run_id,
                force,
            } => {
                let reply = self.lock_allowed(&id).and_then(|()| {
                    super::locks::answer(&id, self.shared.locks.unlock(&name, &run_id, force))
                });
                self.push(reply.unwrap_or_else(|refusal| refusal));
            }
            Message::Error { code, message, .. } => {
                tracing::info!(peer = %self.peer, ?code, %message, "console reported an error");
            }
            other => {
                let kind = serde_json::to_value(&other)
                    .ok()
                    .and_then(|v| v.get("type").and_then(|t| t.as_str().map(str::to_string)))
                    .unwrap_or_default();
                self.push(error_frame(
                    None,
                    ErrorCode::Malformed,
                    format!("`{kind}` is sent by the agent, not to it"),
                ));
            }
        }
    }

    fn on_hello(&mut self, h: Hello) {
        if self.consumer.is_some() {
            self.push(error_frame(
                None,
                ErrorCode::Malformed,
                "hello was already received",
            ));
            return;
        }
        let name = h.name.trim();
        if name.is_empty() || name.len() > MAX_NAME {
            self.push(error_frame(
                None,
                ErrorCode::Malformed,
                format!(
                    "hello needs a name of 1 to {MAX_NAME} bytes (alerts are acknowledged under it)"
                ),
            ));
            return;
        }
        tracing::info!(peer = %self.peer, consumer = %name, software = %h.software, scope = ?self.scope, "console connected");
        self.consumer = Some(name.to_string());
        if let Some(journal) = &self.shared.journal {
            let token = CancellationToken::new();
            alert_feed::spawn(
                Arc::clone(journal),
                name.to_string(),
                self.out.clone(),
                token.clone(),
            );
            self.feed = Some(token);
        }
    }

    /// Locks need the exec scope and a hello; the `error` frame when refused.
    fn lock_allowed(&self, id: &str) -> Result<(), WsMessage> {
        if self.scope != Scope::Exec {
            return Err(error_frame(
                Some(id.to_string()),
                ErrorCode::Forbidden,
                "this token has the read scope: it cannot take or release locks",
            ));
        }
        if self.consumer.is_none() {
            return Err(error_frame(
                Some(id.to_string()),
                ErrorCode::Malformed,
                "send hello before lock or unlock",
            ));
        }
        Ok(())
    }

    fn on_ack(&mut self, seq: u64) {
        let Some(consumer) = &self.consumer else {
            self.push(error_frame(
                None,
                ErrorCode::Malformed,
                "send hello before ack",
            ));
            return;
        };
        let Some(journal) = &self.shared.journal else {
            self.push(error_frame(
                None,
                ErrorCode::Failed,
                "this agent keeps no alert journal",
            ));
            return;
        };
        if let Err(e) = journal.ack(consumer, seq) {
            self.push(error_frame(None, ErrorCode::Malformed, e.to_string()));
        }
    }

    /// Checks and starts a job; the `error` frame to send when it is refused.
    fn start_job(&mut self, id: String, op: Operation) -> Result<(), WsMessage> {
        let refuse = |code, message: String| error_frame(Some(id.clone()), code, message);
        if self.scope != Scope::Exec {
            return Err(refuse(
                ErrorCode::Forbidden,
                "this token has the read scope: it cannot run operations".into(),
            ));
        }
        if self.consumer.is_none() {
            return Err(refuse(
                ErrorCode::Malformed,
                "send hello before exec".into(),
            ));
        }
        if self.stopping {
            return Err(refuse(
                ErrorCode::Failed,
                "the agent is shutting down".into(),
            ));
        }
        if id.is_empty() || id.chars().count() > MAX_ID {
            return Err(refuse(
                ErrorCode::BadId,
                format!("a job id has 1 to {MAX_ID} characters"),
            ));
        }
        if self.jobs.contains_key(&id) {
            return Err(refuse(
                ErrorCode::BadId,
                "a job with this id is still running".into(),
            ));
        }
        let plan = self.plan(op).map_err(|(code, m)| refuse(code, m))?;
        let Ok(permit) = Arc::clone(&self.shared.jobs).try_acquire_owned() else {
            return Err(refuse(
                ErrorCode::Busy,
                format!(
                    "{} jobs are running already (the policy's max_jobs)",
                    self.shared.config.policy.max_jobs
                ),
            ));
        };
        let token = CancellationToken::new();
        self.jobs.insert(id.clone(), token.clone());
        let reporter = Reporter::new(id.clone(), self.out.clone());
        let done = self.done.clone();
        let http = self.shared.http.clone();
        tracing::info!(peer = %self.peer, job = %id, what = %plan.describe(), "job started");
        tokio::spawn(async move {
            let _permit = permit;
            plan.run(reporter, token, http).await;
            let _ = done.send(id);
        });
        Ok(())
    }

    /// Turns an operation into something runnable, applying the policy.
    fn plan(&self, op: Operation) -> Result<Plan, (ErrorCode, String)> {
        let policy = &self.shared.config.policy;
        let denied = |m: String| (ErrorCode::Policy, m);
        match op {
            Operation::ShellCommand {
                command,
                args,
                shell,
                cwd,
                env,
                stdin,
                timeout_ms,
                idle_timeout_ms,
            } => {
                policy.check_env(&env).map_err(denied)?;
                let cwd = match cwd {
                    Some(c) => policy.check_cwd(&c).map_err(denied)?,
                    None => PathBuf::from("/"),
                };
                let (program, arg0, args) = if shell {
                    let sh = policy.resolve_program("/bin/sh", &cwd).map_err(|e| {
                        denied(format!("shell = true needs /bin/sh in the allowlist: {e}"))
                    })?;
                    let mut all = vec!["-c".to_string(), command, "sh".to_string()];
                    all.extend(args);
                    (sh, "sh".to_string(), all)
                } else {
                    let program = policy.resolve_program(&command, &cwd).map_err(denied)?;
                    (program, command, args)
                };
                let stdin = stdin
                    .map(|s| protocol::decode_bytes(&s))
                    .transpose()
                    .map_err(|e| (ErrorCode::Malformed, format!("stdin: {e}")))?;
                Ok(Plan::Shell(ShellSpec {
                    program,
                    arg0,
                    args,
                    cwd,
                    env,
                    stdin,
                    timeout: policy.effective_timeout(timeout_ms),
                    idle_timeout: idle_timeout_ms
                        .filter(|ms| *ms > 0)
                        .map(Duration::from_millis),
                    output_cap: policy.output_cap,
                    kill_grace: policy.kill_grace,
                }))
            }
            Operation::FileValidation {
                path,
                exists,
                readable,
                size_gt_mb,
                modified_within_s,
                sha256,
            } => {
                let resolved = policy.check_path(&path).map_err(denied)?;
                Ok(Plan::File {
                    path: resolved,
                    checks: FileChecks {
                        exists,
                        readable,
                        size_gt_mb,
                        modified_within_s,
                        sha256,
                    },
                    timeout: policy.effective_timeout(None),
                })
            }
            Operation::ServiceHealth {
                url,
                expect_status,
                body_contains,
                json_field,
                timeout_ms,
            } => {
                http_check::validate_url(&url).map_err(|e| (ErrorCode::Malformed, e))?;
                let timeout = timeout_ms
                    .map_or(HTTP_DEFAULT_TIMEOUT, Duration::from_millis)
                    .min(policy.max_timeout);
                Ok(Plan::Http(HttpChecks {
                    url,
                    expect_status,
                    body_contains,
                    json_field,
                    timeout,
                }))
            }
        }
    }
}

/// A job that passed the policy.
enum Plan {
    Shell(ShellSpec),
    File {
        path: PathBuf,
        checks: FileChecks,
        timeout: Duration,
    },
    Http(HttpChecks),
}

impl Plan {
    /// For the log: what runs (never stdin or env values).
    fn describe(&self) -> String {
        match self {
            Plan::Shell(s) => format!("{} ({} args)", s.program.display(), s.args.len()),
            Plan::File { path, .. } => format!("file_validation {}", path.display()),
            // Without credentials or query (either may hold a secret).
            Plan::Http(h) => match reqwest::Url::parse(&h.url) {
                Ok(u) => format!(
                    "service_health {}://{}{}",
                    u.scheme(),
                    u.host_str().unwrap_or(""),
                    u.path()
                ),
                Err(_) => "service_health".to_string(),
            },
        }
    }

    async fn run(self, reporter: Reporter, cancel: CancellationToken, http: reqwest::Client) {
        let started = Instant::now();
        match self {
            Plan::Shell(spec) => shell::run(spec, reporter, cancel).await,
            Plan::File {
                path,
                checks: wanted,
                timeout,
            } => {
                if !reporter
                    .send(Message::Started {
                        id: reporter.id.clone(),
                        pid: None,
                    })
                    .await
                {
                    return;
                }
                let token = cancel.clone();
                let work =
                    tokio::task::spawn_blocking(move || file_check::run(&path, &wanted, &token));
                tokio::select! {
                    r = work => match r {
                        Ok(Some(results)) => checks::report(&reporter, results, started).await,
                        Ok(None) => checks::report_cancelled(&reporter, started).await,
                        Err(e) => { reporter.error(ErrorCode::Failed, format!("the check failed: {e}")).await; }
                    },
                    () = tokio::time::sleep(timeout) => {
                        cancel.cancel();
                        timed_out(&reporter, timeout, started).await;
                    }
                    () = cancel.cancelled() => checks::report_cancelled(&reporter, started).await,
                }
            }
            Plan::Http(wanted) => {
                if !reporter
                    .send(Message::Started {
                        id: reporter.id.clone(),
                        pid: None,
                    })
                    .await
                {
                    return;
                }
                tokio::select! {
                    results = http_check::run(&http, &wanted) => checks::report(&reporter, results, started).await,
                    () = cancel.cancelled() => checks::report_cancelled(&reporter, started).await,
                }
            }
        }
    }
}

async fn timed_out(reporter: &Reporter, timeout: Duration, started: Instant) {
    reporter
        .send(Message::Exit {
            id: reporter.id.clone(),
            outcome: ExitOutcome::TimedOut {
                after_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            },
            duration_ms: elapsed_ms(started),
            usage: None,
            checks: Vec::new(),
        })
        .await;
}
/// How long until the first heartbeat: to a boundary of the period on this machine's clock
/// (every whole second for `1s`), at least half a period away. Every agent whose clock NTP
/// keeps then beats at the same moments, so a console takes a fleet's heartbeats in a few
/// wake-ups a second instead of one per agent (a thousand a second for a thousand agents).
fn first_heartbeat_in(period: Duration, now: SystemTime) -> Duration {
    let period_ns = period.as_nanos().max(1);
    let since_epoch = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let to_boundary = period_ns - since_epoch % period_ns;
    let wait = if to_boundary * 2 < period_ns {
        to_boundary + period_ns
    } else {
        to_boundary
    };
    Duration::from_nanos(u64::try_from(wait).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_heartbeat_lands_on_a_boundary_about_a_period_away() {
        for period_ms in [1_000u64, 5_000, 3_600_000] {
            let period = Duration::from_millis(period_ms);
            for offset_ms in [0u64, 1, 250, 499, 500, 501, 999, period_ms - 1] {
                let now = UNIX_EPOCH
                    + Duration::from_secs(1_800_000_000)
                    + Duration::from_millis(offset_ms);
                let wait = first_heartbeat_in(period, now);
                assert!(
                    wait * 2 >= period && wait <= period + period / 2,
                    "{period:?} {offset_ms}: {wait:?}"
                );
                let at = (now + wait)
                    .duration_since(UNIX_EPOCH)
                    .expect("after the epoch");
                assert_eq!(
                    at.as_nanos() % period.as_nanos(),
                    0,
                    "{period:?} {offset_ms}"
                );
            }
        }
    }
}
