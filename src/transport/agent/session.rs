//! One live connection to an agent, shared by every job on that host: a table of jobs by id,
//! a queue of frames to send, and the task that moves messages both ways, routes each received
//! frame to its job (or to the heartbeat/alert feed), pings, and notices a silent peer.
//! When the connection ends, every job still on it is told at once (never left hanging).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;

use super::connect::{AgentSocket, text_of};
use super::feed::Feed;
use crate::protocol::{
    ErrorCode, Frame, Hello, LockInfo, LockStatus, Message, Scope, Stream, decode_bytes,
};
use crate::transport::ExitOutcome;

/// Frames waiting to be written, at most (senders wait beyond that).
const OUTGOING: usize = 256;
/// Messages waiting for one job's task.
const JOB_BUFFER: usize = 256;
/// A peer silent this long is pinged (to prove it alive and keep NAT and proxies open).
const PING_EVERY: Duration = Duration::from_secs(10);
/// The peer counts as gone after this many heartbeat intervals without a byte...
const SILENT_HEARTBEATS: u64 = 4;
/// ...and never sooner than this.
const MIN_SILENCE: Duration = Duration::from_secs(20);
/// A polite close may take this long before the socket is dropped anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// What a job hears about itself.
#[derive(Debug)]
pub enum JobMsg {
    Started(Option<u32>),
    Output(Stream, Vec<u8>),
    Exit(ExitOutcome),
    /// The agent refused or failed the job.
    Refused(ErrorCode, String),
    /// The connection ended before the job did.
    Lost(String),
    /// The answer to a `lock` or `unlock` sent under this id.
    Lock(LockStatus, Option<LockInfo>),
}

struct Jobs {
    /// Why the connection ended, once it has: no job may join after that.
    ended: Option<String>,
    map: HashMap<String, mpsc::Sender<JobMsg>>,
}

/// A live connection's shared end.
pub struct Session {
    pub host: String,
    pub hello: Hello,
    outgoing: mpsc::Sender<String>,
    jobs: Mutex<Jobs>,
    next_id: AtomicU64,
    closed: CancellationToken,
    /// Set by the first heartbeat on this connection.
    heard_heartbeat: AtomicBool,
}

fn lock(m: &Mutex<Jobs>) -> MutexGuard<'_, Jobs> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Session {
    /// Starts the connection's task; it ends when the peer goes, or at `shutdown`. The
    /// returned receiver yields why it ended.
    pub fn start(
        host: &str,
        ws: AgentSocket,
        hello: Hello,
        feed: Arc<Feed>,
        shutdown: CancellationToken,
    ) -> (Arc<Session>, tokio::sync::oneshot::Receiver<String>) {
        let (tx, rx) = mpsc::channel(OUTGOING);
        let session = Arc::new(Session {
            host: host.to_string(),
            hello,
            outgoing: tx,
            jobs: Mutex::new(Jobs {
                ended: None,
                map: HashMap::new(),
            }),
            next_id: AtomicU64::new(1),
            closed: CancellationToken::new(),
            heard_heartbeat: AtomicBool::new(false),
        });
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let s = session.clone();
        tokio::spawn(async move {
            let why = drive(&s, ws, rx, &feed, &shutdown).await;
            tracing::debug!(host = %s.host, "agent connection ended: {why}");
            s.end(&why).await;
            let _ = done_tx.send(why);
        });
        (session, done_rx)
    }

    /// Whether the token may run operations.
    pub fn can_exec(&self) -> bool {
        self.hello.scopes.contains(&Scope::Exec)
    }

    pub fn is_alive(&self) -> bool {
        !self.closed.is_cancelled()
    }

    /// A new job on this connection: its id and where its messages arrive. `Err` (why the
    /// connection ended) if it has.
    pub fn register(&self) -> Result<(String, mpsc::Receiver<JobMsg>), String> {
        let mut jobs = lock(&self.jobs);
        if let Some(why) = &jobs.ended {
            return Err(why.clone());
        }
        let id = format!("j{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = mpsc::channel(JOB_BUFFER);
        jobs.map.insert(id.clone(), tx);
        Ok((id, rx))
    }

    pub fn unregister(&self, id: &str) {
        lock(&self.jobs).map.remove(id);
    }

    /// Queues a frame; `Err` if the connection has ended.
    pub async fn send(&self, frame: Frame) -> Result<(), String> {
        self.outgoing
            .send(frame.encode())
            .await
            .map_err(|_| "the connection to the agent has closed".to_string())
    }

    /// Queues a frame without waiting (for the connection's own task, which must never wait
    /// on the queue it drains); `false` if it could not.
    pub fn try_send(&self, frame: Frame) -> bool {
        self.outgoing.try_send(frame.encode()).is_ok()
    }

    async fn to_job(&self, id: &str, msg: JobMsg, last: bool) {
        let tx = {
            let mut jobs = lock(&self.jobs);
            if last {
                jobs.map.remove(id)
            } else {
                jobs.map.get(id).cloned()
            }
        };
        match tx {
            // A job whose task stopped listening is simply gone.
            Some(tx) => {
                let _ = tx.send(msg).await;
            }
            None => tracing::debug!(host = %self.host, job = id, "message for an unknown job"),
        }
    }

    /// Marks the connection ended and tells every job still on it.
    async fn end(&self, why: &str) {
        self.closed.cancel();
        let orphans: Vec<_> = {
            let mut jobs = lock(&self.jobs);
            jobs.ended = Some(why.to_string());
            jobs.map.drain().map(|(_, tx)| tx).collect()
        };
        for tx in orphans {
            let _ = tx.send(JobMsg::Lost(why.to_string())).await;
        }
    }
}

/// Moves messages until the connection ends; returns why it did.
///
/// One timer, not one per message: a received frame only notes the time, and the timer, when
/// it fires, decides whether the peer has been silent too long (the end) or a while (a ping).
/// A peer that talks (heartbeats) is never pinged: its frames prove it alive and keep NAT and
/// proxies open; at a thousand links, pings and a timer re-armed per frame were a real share of
/// the console's CPU.
async fn drive(
    session: &Arc<Session>,
    mut ws: AgentSocket,
    mut outgoing: mpsc::Receiver<String>,
    feed: &Feed,
    shutdown: &CancellationToken,
) -> String {
    let heartbeat = Duration::from_secs(session.hello.heartbeat_s.unwrap_or(5).max(1));
    let silence = (heartbeat * u32::try_from(SILENT_HEARTBEATS).unwrap_or(4)).max(MIN_SILENCE);
    let mut last_heard = Instant::now();
    let mut last_ping = last_heard;
    let check = tokio::time::sleep(PING_EVERY);
    tokio::pin!(check);
    loop {
        let message = tokio::select! {
            biased;
            () = shutdown.cancelled() => {
                let _ = tokio::time::timeout(CLOSE_GRACE, ws.close(None)).await;
                return "the transport shut down".into();
            }
            // Cancel-safe: a partly read frame stays buffered in the stream.
            received = ws.next() => {
                last_heard = Instant::now();
                match text_of(received) {
                    Ok(Some(text)) => dispatch(session, feed, &text).await,
                    Ok(None) => {}
                    Err(why) => return why,
                }
                continue;
            }
            text = outgoing.recv() => match text {
                Some(text) => WsMessage::text(text),
                // Cannot happen while the session holds the sender; treat it as closed.
                None => return "the transport shut down".into(),
            },
            () = &mut check => {
                let now = Instant::now();
                if now >= last_heard + silence {
                    return format!("no word from the agent for {} s", silence.as_secs());
                }
                let ping = now >= last_heard.max(last_ping) + PING_EVERY;
                if ping {
                    last_ping = now;
                }
                check
                    .as_mut()
                    .reset((last_heard.max(last_ping) + PING_EVERY).min(last_heard + silence));
                if !ping {
                    continue;
                }
                WsMessage::Ping(Vec::new().into())
            }
        };
        // A peer that stops reading must not hang every job on this connection.
        match tokio::time::timeout(silence, ws.send(message)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return format!("sending to the agent failed: {e}"),
            Err(_) => return format!("the agent took no data for {} s", silence.as_secs()),
        }
    }
}

/// Routes one received frame.
async fn dispatch(session: &Arc<Session>, feed: &Feed, text: &str) {
    let host = session.host.as_str();
    let frame = match Frame::decode(text) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(host, "agent sent a frame that does not decode: {e}");
            return;
        }
    };
    match frame.msg {
        Message::Started { id, pid } => session.to_job(&id, JobMsg::Started(pid), false).await,
        Message::Output { id, stream, data } => match decode_bytes(&data) {
            Ok(bytes) => {
                session
                    .to_job(&id, JobMsg::Output(stream, bytes), false)
                    .await;
            }
            Err(e) => tracing::warn!(host, job = %id, "agent output dropped: {e}"),
        },
        Message::Exit { id, outcome, .. } => {
            session
                .to_job(&id, JobMsg::Exit(outcome.into()), true)
                .await
        }
        Message::Error {
            id: Some(id),
            code,
            message,
        } => {
            session
                .to_job(&id, JobMsg::Refused(code, message), true)
                .await;
        }
        Message::Error {
            id: None,
            code,
            message,
        } => tracing::warn!(host, ?code, "agent error: {message}"),
        Message::Heartbeat(hb) => {
            let first = !session.heard_heartbeat.swap(true, Ordering::Relaxed);
            let every = Duration::from_secs(session.hello.heartbeat_s.unwrap_or(5).max(1));
            feed.heartbeat(host, hb, first, every);
        }
        Message::Alert(alert) => feed.alert(host, alert, session),
        Message::LockResult { id, status, holder } => {
            session
                .to_job(&id, JobMsg::Lock(status, holder), true)
                .await;
        }
        Message::Hello(_)
        | Message::Exec { .. }
        | Message::Cancel { .. }
        | Message::Ack { .. }
        | Message::Lock { .. }
        | Message::Unlock { .. } => {
            tracing::debug!(host, "ignoring a client-side message from the agent");
        }
    }
}
