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
use crate::transport::agent::{AgentHeartbeat, AlertDelivery};

/// How often link states are looked at (they are kept by the transports; reading is cheap).
pub const CONNECTION_POLL: Duration = Duration::from_secs(1);

/// Moves alerts and heartbeats of one agent transport into `view` until `stop`. Each alert
/// is acknowledged to its agent once `recorder` has it in the book; one that cannot be
/// written stays unacknowledged in the agent's journal (it comes again on a later
/// connection) and is still shown.
pub(super) fn agents(
    mut alerts: mpsc::Receiver<AlertDelivery>,
    recorder: AlertRecorder,
    mut heartbeats: mpsc::Receiver<AgentHeartbeat>,
    view: Arc<SharedView>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (mut alerts_open, mut heartbeats_open) = (true, true);
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
                beat = heartbeats.recv(), if heartbeats_open => match beat {
                    Some(beat) => {
                        if view.feed.heartbeats_wanted() {
                            view.feed.publish_heartbeat(beat.clone());
                        }
                        let m = &beat.metrics;
                        let sample = Sample::from_agent(m.received, &m.metrics);
                        view.record_sample(&beat.host, sample, Some(m.every));
                        view.set_heartbeat(beat.host, beat.metrics);
                    }
                    None => heartbeats_open = false,
                },
            }
        }
    })
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
