//! Alert and heartbeat fan-out: the engine is the single subscriber to each agent transport's
//! feed (which acknowledges an alert to its agent once the engine has it) and passes every
//! alert and heartbeat on to any number of front ends in the process: a console, a wallboard,
//! an incident book. Bounded: a consumer that falls behind loses the oldest items, counted in
//! its `lost()`, and never slows the links or the other consumers. Recent alerts are kept
//! (bounded) so a consumer that subscribes late still sees what came before it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::transport::agent::{AgentAlert, AgentHeartbeat};

/// Items a consumer may fall behind by before it loses the oldest.
const FAN_OUT: usize = 1024;
/// Alerts replayed to a consumer that subscribes late.
const BACKLOG: usize = 256;

/// One broadcast of alerts and one of heartbeats, shared by a session and its readers.
#[derive(Clone)]
pub struct FeedHub {
    inner: Arc<Hub>,
}

struct Hub {
    alerts: broadcast::Sender<AgentAlert>,
    heartbeats: broadcast::Sender<AgentHeartbeat>,
    /// The newest alerts, oldest first. Sends happen under this lock, so a subscriber gets
    /// each alert once: from the backlog or from the channel, never both.
    backlog: Mutex<VecDeque<AgentAlert>>,
}

impl Default for FeedHub {
    fn default() -> Self {
        FeedHub {
            inner: Arc::new(Hub {
                alerts: broadcast::channel(FAN_OUT).0,
                heartbeats: broadcast::channel(FAN_OUT).0,
                backlog: Mutex::new(VecDeque::new()),
            }),
        }
    }
}

impl FeedHub {
    fn backlog(&self) -> MutexGuard<'_, VecDeque<AgentAlert>> {
        self.inner
            .backlog
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Passes an alert on to every consumer (never waits).
    pub fn publish_alert(&self, alert: AgentAlert) {
        let mut backlog = self.backlog();
        if backlog.len() == BACKLOG {
            backlog.pop_front();
        }
        backlog.push_back(alert.clone());
        // No consumer yet is fine: the backlog has it.
        let _ = self.inner.alerts.send(alert);
    }

    /// Whether anyone listens to heartbeats (so a caller can skip copying one for nobody).
    pub fn heartbeats_wanted(&self) -> bool {
        self.inner.heartbeats.receiver_count() > 0
    }

    /// Passes a heartbeat on to every consumer (never waits; nobody listening is fine).
    pub fn publish_heartbeat(&self, heartbeat: AgentHeartbeat) {
        let _ = self.inner.heartbeats.send(heartbeat);
    }

    /// Every alert from now on, after the recent ones.
    pub fn alerts(&self) -> Subscription<AgentAlert> {
        let backlog = self.backlog();
        Subscription {
            replay: backlog.iter().cloned().collect(),
            rx: self.inner.alerts.subscribe(),
            lost: 0,
        }
    }

    /// Every heartbeat from now on.
    pub fn heartbeats(&self) -> Subscription<AgentHeartbeat> {
        Subscription {
            replay: VecDeque::new(),
            rx: self.inner.heartbeats.subscribe(),
            lost: 0,
        }
    }
}

/// One consumer's place in a fan-out.
pub struct Subscription<T> {
    replay: VecDeque<T>,
    rx: broadcast::Receiver<T>,
    lost: u64,
}

impl<T: Clone> Subscription<T> {
    /// The next item; `None` once the session (or reader) that feeds it has ended.
    pub async fn recv(&mut self) -> Option<T> {
        if let Some(item) = self.replay.pop_front() {
            return Some(item);
        }
        loop {
            match self.rx.recv().await {
                Ok(item) => return Some(item),
                Err(RecvError::Lagged(n)) => self.lost += n,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The next item if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Option<T> {
        if let Some(item) = self.replay.pop_front() {
            return Some(item);
        }
        loop {
            match self.rx.try_recv() {
                Ok(item) => return Some(item),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.lost += n,
                Err(_) => return None,
            }
        }
    }

    /// Items this consumer lost by falling more than the fan-out's bound behind.
    pub fn lost(&self) -> u64 {
        self.lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Alert;

    fn alert(host: &str, seq: u64) -> AgentAlert {
        let text = format!(
            r#"{{"seq":{seq},"ts":"2026-12-07T00:00:00Z","watcher":"nginx","severity":"critical","summary":"gone"}}"#
        );
        AgentAlert {
            host: host.to_string(),
            alert: serde_json::from_str::<Alert>(&text).expect("an alert"),
        }
    }

    #[tokio::test]
    async fn every_consumer_gets_each_alert_once_late_ones_from_the_backlog() {
        let hub = FeedHub::default();
        let mut early = hub.alerts();
        hub.publish_alert(alert("a1", 1));
        let mut late = hub.alerts();
        hub.publish_alert(alert("a1", 2));
        for sub in [&mut early, &mut late] {
            assert_eq!(sub.recv().await.map(|a| a.alert.seq), Some(1));
            assert_eq!(sub.recv().await.map(|a| a.alert.seq), Some(2));
            assert!(sub.try_recv().is_none());
        }
    }

    #[tokio::test]
    async fn a_slow_consumer_loses_the_oldest_with_a_count_and_never_blocks() {
        let hub = FeedHub::default();
        let mut slow = hub.alerts();
        let total = FAN_OUT as u64 + 10;
        for seq in 1..=total {
            hub.publish_alert(alert("a1", seq));
        }
        let first = slow.recv().await.map(|a| a.alert.seq);
        assert_eq!(first, Some(11));
        assert_eq!(slow.lost(), 10);
    }
}
