//! The russh client handler: host-key verification and the record of why a link ended.

use std::sync::{Arc, Mutex};

use russh::client::{DisconnectReason, Handler};
use russh::keys::PublicKeyOrCertificate;

use super::hostkey::HostKeyPolicy;

/// What a connection attempt or a live connection failed with, as russh reports it through the
/// handler (so a refused host key keeps its message).
#[derive(Debug)]
pub enum HandlerError {
    Ssh(russh::Error),
    /// The host key was refused; the operator-facing reason.
    HostKey(String),
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        HandlerError::Ssh(e)
    }
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandlerError::Ssh(e) => write!(f, "{e}"),
            HandlerError::HostKey(m) => f.write_str(m),
        }
    }
}

/// Why a live connection ended, written by the session task, read when a command loses it.
#[derive(Debug, Default)]
pub struct LinkState {
    reason: Mutex<Option<String>>,
}

impl LinkState {
    pub fn reason(&self) -> Option<String> {
        self.reason.lock().ok().and_then(|r| r.clone())
    }

    fn set(&self, why: String) {
        if let Ok(mut r) = self.reason.lock()
            && r.is_none()
        {
            *r = Some(why);
        }
    }
}

pub struct ClientHandler {
    pub policy: Arc<HostKeyPolicy>,
    pub link: Arc<LinkState>,
}

impl Handler for ClientHandler {
    type Error = HandlerError;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => self
                .policy
                .verify(key)
                .await
                .map(|()| true)
                .map_err(HandlerError::HostKey),
            // We never advertise certificate host-key algorithms, so this is a server bug.
            PublicKeyOrCertificate::Certificate(_) => Err(HandlerError::HostKey(format!(
                "{}: the server presented a host certificate; fleetdeck checks plain host keys \
                 only",
                self.policy.label
            ))),
        }
    }

    async fn disconnected(
        &mut self,
        reason: DisconnectReason<Self::Error>,
    ) -> Result<(), Self::Error> {
        match reason {
            DisconnectReason::ReceivedDisconnect(info) => {
                self.link.set(format!(
                    "the server disconnected ({:?}{}{})",
                    info.reason_code,
                    if info.message.is_empty() { "" } else { ": " },
                    info.message
                ));
                Ok(())
            }
            DisconnectReason::Error(e) => {
                self.link.set(e.to_string());
                Err(e)
            }
        }
    }
}
