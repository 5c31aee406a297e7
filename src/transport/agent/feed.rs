//! What agents push without being asked: heartbeats (the newest metrics per host) and alerts.
//! Alerts are handed to one subscriber exactly once: deduplicated by sequence number per host
//! (an agent resends what was not acknowledged after a reconnect), acknowledged to the agent
//! only after the subscriber has received them (`subscribe`) or when the subscriber says so
//! (`subscribe_unacked`: the engine acknowledges once the alert is in the incident book),
//! and kept (bounded) while nobody subscribes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use tokio::sync::{Notify, mpsc};

use super::session::Session;
use crate::protocol::{Alert, Frame, Heartbeat, Message, Metrics};

/// Alerts waiting for a subscriber, at most (older ones stay unacknowledged in the agent's
/// journal and come again after a reconnect).
const MAX_PENDING: usize = 4096;
/// Alerts between the transport and its subscriber.
pub const ALERT_CHANNEL: usize = 256;

/// The newest heartbeat of one agent host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostMetrics {
    /// When it arrived (this machine's clock).
    pub received: SystemTime,
    /// How often the agent sends them (its hello's `heartbeat_s`).
    pub every: Duration,
    /// Jobs running on the agent.
    pub jobs: u32,
    /// The newest alert sequence number in the agent's journal.
    pub last_alert_seq: u64,
    pub metrics: Metrics,
}

/// A heartbeat and the host it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentHeartbeat {
    pub host: String,
    pub metrics: HostMetrics,
}

/// Heartbeats between the transport and its subscriber; a full channel drops one (the next
/// comes in a few seconds, and the newest stays in `latest_metrics`). Room for a few seconds
/// of a thousand agents at one a second: the engine takes them in batches.
pub const HEARTBEAT_CHANNEL: usize = 4096;

/// An alert and the host it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentAlert {
    pub host: String,
    pub alert: Alert,
}

/// An alert handed over without acknowledgement: the receiver acknowledges it (`ack`) once it
/// has kept it durably; dropped unacknowledged, it stays in the agent's journal and comes again
/// on a later connection (or to another process under the same consumer name).
pub struct AlertDelivery {
    pub alert: AgentAlert,
    pub ack: AlertAck,
}

/// The acknowledgement of one delivered alert, to send when it is handled.
pub struct AlertAck {
    feed: Weak<Feed>,
    via: Weak<Session>,
    host: String,
    seq: u64,
}

impl AlertAck {
    /// Tells the agent (over the connection the alert came on) that everything up to this
    /// alert is handled. A connection gone since: the agent resends it after the reconnect,
    /// and this process acknowledges the repeat at once.
    pub async fn ack(self) {
        if let Some(feed) = self.feed.upgrade() {
            feed.delivered(&self.host, self.seq);
        }
        if let Some(session) = self.via.upgrade() {
            let _ = session
                .send(Frame::new(Message::Ack { seq: self.seq }))
                .await;
        }
    }

    /// Gives the alert back, unacknowledged, to be delivered to the next subscriber.
    fn release(self, alert: AgentAlert) {
        if let Some(feed) = self.feed.upgrade() {
            feed.put_back(Pending {
                alert,
                via: self.via,
            });
        }
    }
}

struct Pending {
    alert: AgentAlert,
    /// The connection it came on, to acknowledge it there.
    via: Weak<Session>,
}

#[derive(Default)]
struct AlertState {
    queue: VecDeque<Pending>,
    /// Per host: the highest seq queued or delivered (anything at or below is a repeat).
    seen: HashMap<String, u64>,
    /// Per host: the highest seq the subscriber received.
    delivered: HashMap<String, u64>,
    /// Bumped by each `subscribe`, so an older delivery task stops.
    generation: u64,
}

/// Heartbeats and alerts of every agent host of one transport.
#[derive(Default)]
pub struct Feed {
    metrics: Mutex<HashMap<String, HostMetrics>>,
    heartbeats: Mutex<Option<mpsc::Sender<AgentHeartbeat>>>,
    alerts: Mutex<AlertState>,
    arrived: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind: keep using it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Feed {
    /// A heartbeat from `host`; `first` on a new connection. A journal that went backwards
    /// (the agent was re-initialised) restarts the per-host dedupe, or its new alerts, whose
    /// numbers start again at 1, would be taken for repeats.
    pub fn heartbeat(&self, host: &str, hb: Heartbeat, first: bool, every: Duration) {
        if first {
            let mut state = lock(&self.alerts);
            if state
                .seen
                .get(host)
                .is_some_and(|&seen| hb.last_alert_seq < seen)
            {
                tracing::info!(host, "the agent's alert journal restarted");
                state.seen.remove(host);
                state.delivered.remove(host);
            }
        }
        let metrics = HostMetrics {
            received: SystemTime::now(),
            every,
            jobs: hb.jobs,
            last_alert_seq: hb.last_alert_seq,
            metrics: hb.metrics,
        };
        if let Some(tx) = lock(&self.heartbeats).as_ref() {
            // Called from the connection's task: never wait on a slow subscriber.
            let _ = tx.try_send(AgentHeartbeat {
                host: host.to_string(),
                metrics: metrics.clone(),
            });
        }
        let mut latest = lock(&self.metrics);
        // In place: no new key (an allocation) per heartbeat.
        match latest.get_mut(host) {
            Some(slot) => *slot = metrics,
            None => {
                latest.insert(host.to_string(), metrics);
            }
        }
    }

    /// Every heartbeat from now on, to this subscriber only (replacing any earlier one).
    pub fn subscribe_heartbeats(&self) -> mpsc::Receiver<AgentHeartbeat> {
        let (tx, rx) = mpsc::channel(HEARTBEAT_CHANNEL);
        *lock(&self.heartbeats) = Some(tx);
        rx
    }

    pub fn latest_metrics(&self, host: &str) -> Option<HostMetrics> {
        lock(&self.metrics).get(host).cloned()
    }

    /// An alert frame from `host`: queued once; a repeat of one already delivered is
    /// acknowledged again (the earlier ack may have been lost with the connection).
    pub fn alert(&self, host: &str, alert: Alert, via: &Arc<Session>) {
        let reack = {
            let mut state = lock(&self.alerts);
            let seen = state.seen.get(host).copied().unwrap_or(0);
            let delivered = state.delivered.get(host).copied().unwrap_or(0);
            if alert.seq <= delivered {
                Some(delivered)
            } else if alert.seq <= seen {
                None
            } else if state.queue.len() >= MAX_PENDING {
                tracing::warn!(
                    host,
                    seq = alert.seq,
                    "alert queue full; the agent keeps it"
                );
                None
            } else {
                state.seen.insert(host.to_string(), alert.seq);
                state.queue.push_back(Pending {
                    alert: AgentAlert {
                        host: host.to_string(),
                        alert,
                    },
                    via: Arc::downgrade(via),
                });
                self.arrived.notify_one();
                None
            }
        };
        // Called from the connection's own task: never wait on its queue.
        if let Some(seq) = reack
            && !via.try_send(Frame::new(Message::Ack { seq }))
        {
            tracing::debug!(host, seq, "re-acknowledgement skipped: send queue full");
        }
    }

    /// Starts handing alerts to a new subscriber (replacing any earlier one), acknowledging
    /// each to its agent once it is in the channel.
    pub fn subscribe(self: &Arc<Self>) -> mpsc::Receiver<AgentAlert> {
        let (tx, rx) = mpsc::channel(ALERT_CHANNEL);
        let mut deliveries = self.subscribe_unacked();
        tokio::spawn(async move {
            while let Some(AlertDelivery { alert, ack }) = deliveries.recv().await {
                if let Err(e) = tx.send(alert).await {
                    ack.release(e.0);
                    return;
                }
                ack.ack().await;
            }
        });
        rx
    }

    /// Starts handing alerts to a new subscriber (replacing any earlier one) that
    /// acknowledges each itself (`AlertDelivery::ack`).
    pub fn subscribe_unacked(self: &Arc<Self>) -> mpsc::Receiver<AlertDelivery> {
        let (tx, rx) = mpsc::channel(ALERT_CHANNEL);
        let generation = {
            let mut state = lock(&self.alerts);
            state.generation += 1;
            state.generation
        };
        let feed = Arc::downgrade(self);
        tokio::spawn(deliver(feed, generation, tx));
        // Wake a task parked on an older subscriber so it notices it was replaced.
        self.arrived.notify_waiters();
        rx
    }

    fn next(&self, generation: u64) -> Option<Option<Pending>> {
        let mut state = lock(&self.alerts);
        if state.generation != generation {
            return None;
        }
        Some(state.queue.pop_front())
    }

    fn put_back(&self, pending: Pending) {
        lock(&self.alerts).queue.push_front(pending);
    }

    fn delivered(&self, host: &str, seq: u64) {
        let mut state = lock(&self.alerts);
        let entry = state.delivered.entry(host.to_string()).or_insert(0);
        *entry = (*entry).max(seq);
    }
}

/// Moves queued alerts to the subscriber, each with the acknowledgement it sends when done.
async fn deliver(feed: Weak<Feed>, generation: u64, tx: mpsc::Sender<AlertDelivery>) {
    loop {
        let Some(strong) = feed.upgrade() else { return };
        let arrived = strong.arrived.notified();
        let Some(next) = strong.next(generation) else {
            // Replaced: pass on a wake-up this task may have taken from the new one.
            strong.arrived.notify_one();
            return;
        };
        let Some(pending) = next else {
            // Waits holding the feed: it ends when the subscriber goes (or a new one
            // replaces this task, which wakes it).
            tokio::select! {
                () = arrived => {}
                () = tx.closed() => return,
            }
            continue;
        };
        drop(arrived);
        drop(strong);
        let ack = AlertAck {
            feed: feed.clone(),
            via: pending.via.clone(),
            host: pending.alert.host.clone(),
            seq: pending.alert.alert.seq,
        };
        let delivery = AlertDelivery {
            alert: pending.alert,
            ack,
        };
        if let Err(e) = tx.send(delivery).await {
            let AlertDelivery { alert, ack } = e.0;
            ack.release(alert);
            return;
        }
    }
}
