//! Running operations: each job is a task that reports `started`, `output` and one `exit`
//! (or one `error` when it never started) through its connection's bounded outgoing queue.

pub mod checks;
pub mod file_check;
pub mod http_check;
pub mod shell;

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::protocol::{ErrorCode, Frame, Message, Stream, encode_bytes};

/// Where a job's frames go: the connection's outgoing queue. A failed send means the
/// connection is gone.
#[derive(Clone)]
pub struct Reporter {
    pub id: String,
    out: mpsc::Sender<WsMessage>,
}

impl Reporter {
    pub fn new(id: String, out: mpsc::Sender<WsMessage>) -> Self {
        Self { id, out }
    }

    /// Sends a message; false when the connection has gone away.
    pub async fn send(&self, msg: Message) -> bool {
        let text = Frame::new(msg).encode();
        self.out.send(WsMessage::Text(text.into())).await.is_ok()
    }

    pub async fn output(&self, stream: Stream, bytes: &[u8]) -> bool {
        self.send(Message::Output {
            id: self.id.clone(),
            stream,
            data: encode_bytes(bytes),
        })
        .await
    }

    pub async fn error(&self, code: ErrorCode, message: String) -> bool {
        self.send(Message::Error {
            id: Some(self.id.clone()),
            code,
            message,
        })
        .await
    }
}
