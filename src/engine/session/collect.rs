//! The engine's collectors: the single subscriber to an agent transport's alerts and
//! heartbeats, writing each alert into the incident book (engine/incidents.rs) before it is
//! acknowledged to its agent, then passing it on to the session's fan-out (`feed.rs`) and
//! picture (`view.rs`); and the poller that keeps each host's link state in the picture.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::view::SharedView;
use crate::engine::incidents::AlertRecorder;
use crate::metrics::Sample;
use crate::transport::ConnState;
use crate::transport::agent::{AgentHeartbeat, AlertDelivery, HEARTBEAT_CHANNEL};

/// How often link states are looked at (they are kept by the transports; reading is cheap).
pub const CONNECTION_POLL: Duration = Duration::from_secs(1);

/// How often heartbeats waiting in the channel are taken in. Their samples are published once
/// a second anyway; taking each as it arrives cost a task wake-up per heartbeat (a thousand a
/// second for a thousand agents).
const HEARTBEAT_DRAIN: Duration = Duration::from_millis(250);

/// Moves alerts (as they come) and heartbeats (every `HEARTBEAT_DRAIN`) of one agent transport
/// into `view` until `stop`. Each alert is acknowledged to its agent once `recorder` has it in
/// the book; one that cannot be written stays unacknowledged in the agent's journal (it comes
/// again on a later connection) and is still shown.
pub(super) fn agents(
    mut alerts: mpsc::Receiver<AlertDelivery>,
    recorder: AlertRecorder,
    mut heartbeats: mpsc::Receiver<AgentHeartbeat>,
    view: Arc<SharedView>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (mut alerts_open, mut heartbeats_open) = (true, true);
        let mut drain = tokio::time::interval(HEARTBEAT_DRAIN);
        drain.set_missed_tick_behavior(MissedTickBehavior::Delay);
        while alerts_open || heartbeats_open {
            tokio::select! {
                () = stop.cancelled() => return,
                alert = alerts.recv(), if alerts_open => match alert {
                    Some(AlertDelivery { alert, ack }) => {
                        match recorder.record(&alert).await {
                            Ok(_) => ack.ack().await,
                            Err(e) => tracing::warn!(host = %alert.host, seq = alert.alert.seq,
                                error = %e, "alert not in the incident book; left unacknowledged"),
                        }
                        view.feed.publish_alert(alert);
                        view.touch();
                    }
                    None => alerts_open = false,
                },
                _ = drain.tick(), if heartbeats_open => {
                    heartbeats_open = take_heartbeats(&mut heartbeats, &view);
                }
            }
        }
    })
}

/// Records every heartbeat waiting in `heartbeats` (at most a channel's worth, so a flood
/// cannot hold the task); `false` once the channel has closed.
fn take_heartbeats(heartbeats: &mut mpsc::Receiver<AgentHeartbeat>, view: &SharedView) -> bool {
    for _ in 0..HEARTBEAT_CHANNEL {
        let beat = match heartbeats.try_recv() {
            Ok(beat) => beat,
            Err(mpsc::error::TryRecvError::Empty) => return true,
            Err(mpsc::error::TryRecvError::Disconnected) => return false,
        };
        if view.feed.heartbeats_wanted() {
            view.feed.publish_heartbeat(beat.clone());
        }
        let m = &beat.metrics;
        let sample = Sample::from_agent(m.received, &m.metrics);
        view.record_sample(&beat.host, sample, Some(m.every));
        view.set_heartbeat(beat.host, beat.metrics);
    }
    true
}

/// Puts `poll()`'s link states into `view` every `CONNECTION_POLL` until `stop`.
pub(super) fn connections(
    poll: impl Fn() -> HashMap<String, ConnState> + Send + 'static,
    view: Arc<SharedView>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CONNECTION_POLL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => view.set_connections(poll()),
            }
        }
    })
}

/// Publishes recorded samples (one change notice) every `PUBLISH_EVERY` until `stop`: for a
/// standalone reader, whose session-less collectors have no metrics log to flush.
pub(super) fn publisher(view: Arc<SharedView>, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(crate::engine::sampling::collectors::PUBLISH_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => view.publish_metrics(),
            }
        }
    })
}
