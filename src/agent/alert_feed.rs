//! Alert delivery to one console: every journal alert after the consumer's acknowledgement,
//! then new ones live, in sequence order, each once per connection. Runs as its own task so
//! a long backlog waits on the connection's bounded queue without holding up the session.

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;

use super::alerts::Journal;
use crate::protocol::{Alert, Frame, Message};

/// Starts delivering alerts for `consumer` into `out` until `stop` or the connection ends.
pub fn spawn(
    journal: Arc<Journal>,
    consumer: String,
    out: mpsc::Sender<WsMessage>,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        tokio::select! {
            () = feed(&journal, &consumer, &out) => {}
            () = stop.cancelled() => {}
        }
    });
}

async fn send(out: &mpsc::Sender<WsMessage>, alert: Alert) -> bool {
    let text = Frame::new(Message::Alert(alert)).encode();
    out.send(WsMessage::Text(text.into())).await.is_ok()
}

async fn feed(journal: &Journal, consumer: &str, out: &mpsc::Sender<WsMessage>) {
    // Subscribe before reading the backlog, so nothing appended in between is missed.
    let mut live = journal.subscribe();
    let mut sent = journal.acked(consumer);
    loop {
        if !catch_up(journal, consumer, out, &mut sent).await {
            return;
        }
        loop {
            match live.recv().await {
                Ok(alert) if alert.seq > sent => {
                    let seq = alert.seq;
                    if !send(out, alert).await {
                        return;
                    }
                    sent = seq;
                }
                Ok(_) => {}
                // Too far behind the live stream: read the journal again from the last sent.
                Err(broadcast::error::RecvError::Lagged(_)) => break,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

/// Sends every journal alert after `sent`, page by page; false when the connection is gone
/// or the journal cannot be read.
async fn catch_up(
    journal: &Journal,
    consumer: &str,
    out: &mpsc::Sender<WsMessage>,
    sent: &mut u64,
) -> bool {
    loop {
        let page = match journal.after(*sent) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(%consumer, error = %e, "cannot read the alert journal");
                return false;
            }
        };
        if page.is_empty() {
            return true;
        }
        for alert in page {
            let seq = alert.seq;
            if !send(out, alert).await {
                return false;
            }
            *sent = seq;
        }
    }
}
