//! The wallboard's keys, all of them: `q` quits (under `--lock` only the typed word and enter
//! do), `space` pauses or resumes rotation, `←`/`→` and `1`…`9` change page. Every other key
//! is ignored without a word: nothing a passer-by types can run anything, and a wallboard has
//! nothing to run with anyway (it holds only a `FleetReader`).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::state::{UNLOCK_WORD, Wallboard};
use super::update::Outcome;

pub fn handle(wb: &mut Wallboard, key: KeyEvent) -> Outcome {
    if key.kind == KeyEventKind::Release {
        return Outcome::Unchanged;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let pages = wb.pages.len();
    match key.code {
        KeyCode::Char(' ') => {
            wb.paused = !wb.paused;
            // Resuming gives the page a full turn rather than switching at once.
            wb.page_since = wb.now;
            Outcome::Redraw
        }
        KeyCode::Right => {
            wb.show(wb.page + 1);
            Outcome::Redraw
        }
        KeyCode::Left => {
            wb.show(wb.page + pages.saturating_sub(1));
            Outcome::Redraw
        }
        KeyCode::Char(c @ '1'..='9') if !ctrl => {
            let index = usize::from(c as u8 - b'1');
            if index < pages {
                wb.show(index);
                Outcome::Redraw
            } else {
                Outcome::Unchanged
            }
        }
        _ if wb.lock.is_some() => locked_key(wb, key),
        KeyCode::Char('q') if !ctrl => Outcome::Quit,
        KeyCode::Char('c') if ctrl => Outcome::Quit,
        _ => Outcome::Unchanged,
    }
}

/// Under `--lock`: letters are remembered (the last few), enter quits when they end in the
/// word, anything else does nothing.
fn locked_key(wb: &mut Wallboard, key: KeyEvent) -> Outcome {
    let Some(lock) = wb.lock.as_mut() else {
        return Outcome::Unchanged;
    };
    match key.code {
        KeyCode::Enter if lock.typed == UNLOCK_WORD => Outcome::Quit,
        KeyCode::Enter | KeyCode::Esc => {
            lock.typed.clear();
            Outcome::Unchanged
        }
        KeyCode::Char(c) if c.is_ascii_alphabetic() => {
            lock.typed.push(c.to_ascii_lowercase());
            let extra = lock.typed.len().saturating_sub(UNLOCK_WORD.len());
            lock.typed.drain(..extra);
            Outcome::Unchanged
        }
        _ => Outcome::Unchanged,
    }
}
