//! Asking for an SSH key's passphrase from a front end that owns the terminal. The SSH
//! transport asks through a `PassphraseFn` run on a blocking thread (the key store's
//! `spawn_blocking`), so the callback may wait: it sends a `PassphraseRequest` to the front
//! end and blocks on the answer, while the front end's loop (never blocked) asks the person.
//! Dropping a request answers "declined"; the key store asks once per key file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::transport::ssh::PassphraseFn;

/// A passphrase the transport waits for; answering (or dropping) `reply` releases it.
pub struct PassphraseRequest {
    pub key: PathBuf,
    pub reply: std::sync::mpsc::SyncSender<Option<String>>,
}

/// How a session's SSH transport gets passphrases of encrypted keys.
pub enum Passphrases {
    /// Never asked: an encrypted key gives a clear auth error (no one at a terminal).
    Never,
    /// Asked through this callback (the CLI prompts on the terminal).
    Callback(PassphraseFn),
    /// Sent as `PassphraseRequest`s, taken once with `FleetSession::take_passphrase_requests`
    /// (the console shows a masked popup).
    Requests,
}

/// The callback for `SshOptions::passphrase` and the requests it sends.
pub fn bridge() -> (PassphraseFn, mpsc::UnboundedReceiver<PassphraseRequest>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let ask: PassphraseFn = Arc::new(move |key: &Path| {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        let request = PassphraseRequest {
            key: key.to_path_buf(),
            reply,
        };
        // The front end has quit: nobody can answer.
        tx.send(request).ok()?;
        // A std channel: blocking here is fine (a blocking-pool thread), and it ends when the
        // front end answers or drops the request.
        answer.recv().ok().flatten()
    });
    (ask, rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_waits_for_the_answer_and_reads_a_dropped_request_as_declined() {
        let (ask, mut requests) = bridge();
        let asking = ask.clone();
        let t = std::thread::spawn(move || asking(Path::new("/keys/id_a")));
        let req = requests.blocking_recv().unwrap();
        assert_eq!(req.key, PathBuf::from("/keys/id_a"));
        req.reply.send(Some("pw".into())).unwrap();
        assert_eq!(t.join().unwrap().as_deref(), Some("pw"));

        let asking = ask.clone();
        let t = std::thread::spawn(move || asking(Path::new("/keys/id_b")));
        drop(requests.blocking_recv().unwrap());
        assert_eq!(t.join().unwrap(), None);

        drop(requests);
        assert_eq!(ask(Path::new("/keys/id_c")), None);
    }
}
