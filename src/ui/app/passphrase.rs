//! Asking for an SSH key's passphrase inside the console: the session sends the transport's
//! questions (`engine::session::passphrase`) to the event loop, which (never blocked) shows
//! this masked popup and answers. Closing the loop drops the pending questions, which the
//! transport reads as "declined".

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::msg::Effect;
use super::popup::{PassphrasePrompt, Popup};
pub use super::secret::Secret;
use super::shell::Shell;

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
            prompt.typed.pop();
            None
        }
        KeyCode::Char(c) if !ctrl => {
            prompt.typed.push(c);
            None
        }
        _ => None,
    };
    let Some(answer) = answer else {
        return Vec::new();
    };
    if let Popup::Passphrase { under, .. } = shell.close() {
        shell.open(*under);
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
}
