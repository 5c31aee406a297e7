//! Asking for an SSH key's passphrase inside the console. The transport asks through a
//! `PassphraseFn` that runs on a blocking thread (`spawn_blocking` in the SSH key store), so
//! the callback may wait: it sends a request to the event loop and blocks on the answer, while
//! the loop (never blocked) shows a masked popup. Closing the loop drops the pending answers,
//! which the callback reads as "declined". The key store asks once per key file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

use super::popup::Popup;
use super::shell::Shell;
use super::update::Effect;
use crate::engine::PassphraseFn;

/// Text that must never reach a log, a file or the screen: `Debug` prints `<hidden>`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: String) -> Self {
        Secret(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// The open passphrase popup (`Popup::Passphrase`, which also keeps what it interrupted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassphrasePrompt {
    /// The key file asked about.
    pub key: PathBuf,
    pub typed: Secret,
}

/// A passphrase the transport waits for; answering (or dropping) `reply` releases it.
pub struct PassphraseRequest {
    pub key: PathBuf,
    pub reply: std::sync::mpsc::SyncSender<Option<String>>,
}

/// The callback for `SshOptions::passphrase` and the requests it sends to the event loop.
pub fn bridge() -> (PassphraseFn, mpsc::UnboundedReceiver<PassphraseRequest>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let ask: PassphraseFn = Arc::new(move |key: &Path| {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        let request = PassphraseRequest {
            key: key.to_path_buf(),
            reply,
        };
        // The console has quit: nobody can answer.
        tx.send(request).ok()?;
        // A std channel: blocking here is fine (a blocking-pool thread), and it ends when the
        // loop answers or drops the request.
        answer.recv().ok().flatten()
    });
    (ask, rx)
}

/// Opens the popup for `key` over whatever has the keys now.
pub fn open(shell: &mut Shell, key: PathBuf) {
    let under = match shell.close() {
        // Asked again while open: what the first question interrupted still comes back.
        Popup::Passphrase { under, .. } => under,
        other => Box::new(other),
    };
    let prompt = PassphrasePrompt {
        key,
        typed: Secret::default(),
    };
    shell.open(Popup::Passphrase { prompt, under });
}

/// Keys while the popup is open: text is typed (masked), enter answers, esc or C-c declines
/// (the key is then not used; hosts that need it fail with an error that says so).
pub fn on_key(shell: &mut Shell, key: KeyEvent) -> Vec<Effect> {
    let Popup::Passphrase { prompt, .. } = &mut shell.popup else {
        return Vec::new();
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let answer = match key.code {
        KeyCode::Enter => Some(Some(std::mem::take(&mut prompt.typed))),
        KeyCode::Esc => Some(None),
        KeyCode::Char('c') if ctrl => Some(None),
        KeyCode::Char('u') if ctrl => {
            prompt.typed = Secret::default();
            None
        }
        KeyCode::Backspace => {
            prompt.typed.0.pop();
            None
        }
        KeyCode::Char(c) if !ctrl => {
            prompt.typed.0.push(c);
            None
        }
        _ => None,
    };
    let Some(answer) = answer else {
        return Vec::new();
    };
    if let Popup::Passphrase { under, .. } = shell.close() {
        shell.popup = *under;
    }
    vec![Effect::AnswerPassphrase(answer)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "<hidden>");
        let prompt = PassphrasePrompt {
            key: PathBuf::from("/k"),
            typed: s,
        };
        assert!(!format!("{prompt:?}").contains("hunter2"));
    }

    #[test]
    fn the_callback_waits_for_the_loop_and_reads_a_dropped_request_as_declined() {
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
