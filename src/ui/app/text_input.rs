//! One line of typed text, the editing every prompt shares: the Fleet, History and Actions
//! `/` filters and the Runs view's pane search. It edits and draws the text; what the text
//! means (filtering, searching) is the caller's. It does not complete, keep a history or mask
//! (the `:` command line and the passphrase popup do those on their own).

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::widgets::Paragraph;

use crate::ui::printers::sanitize::sanitize;

/// What a key did to the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The text changed (or a backspace met an empty filter: callers refresh all the same).
    Changed,
    /// Enter: keep the text and close the prompt.
    Submit,
    /// Esc or C-c (or backspace on an empty search): the text is cleared, the prompt closes.
    Cancel,
    /// Not an editing key; the text is as it was.
    Ignored,
}

/// Typed text, with the two rules the prompts differ by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    text: String,
    /// The most characters kept (a pane search bounds its pattern); `None`: no limit.
    max_chars: Option<usize>,
    /// Backspace on an empty text closes the prompt, as the command line does (searches);
    /// filters stay open.
    close_when_emptied: bool,
}

impl TextInput {
    /// A filter: no limit, backspace never closes it.
    pub fn filter() -> Self {
        TextInput::default()
    }

    /// A search prompt: at most `max_chars`, backspace on empty closes it.
    pub fn search(max_chars: usize) -> Self {
        TextInput {
            text: String::new(),
            max_chars: Some(max_chars),
            close_when_emptied: true,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn clear(&mut self) {
        self.text.clear();
    }

    /// Takes the text out, leaving it empty.
    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.text)
    }

    /// Applies one key.
    pub fn on_key(&mut self, key: &KeyEvent) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => self.cancel(),
            KeyCode::Char('c') if ctrl => self.cancel(),
            KeyCode::Enter => Edit::Submit,
            KeyCode::Backspace if self.text.is_empty() && self.close_when_emptied => self.cancel(),
            KeyCode::Backspace => {
                self.text.pop();
                Edit::Changed
            }
            KeyCode::Char(c) if !ctrl => {
                if self
                    .max_chars
                    .is_some_and(|max| self.text.chars().count() >= max)
                {
                    // Full: the key is taken (it must not reach the keymap) but changes nothing.
                    return Edit::Ignored;
                }
                self.text.push(c);
                Edit::Changed
            }
            _ => Edit::Ignored,
        }
    }

    fn cancel(&mut self) -> Edit {
        self.text.clear();
        Edit::Cancel
    }

    /// Draws `prompt` and the text on `row` with the cursor after the text (over a pane,
    /// clear the row first). Typed text is sanitized: a pasted escape sequence must not reach
    /// the terminal.
    pub fn render(&self, frame: &mut Frame, row: Rect, prompt: &str, style: Style) {
        if row.is_empty() {
            return;
        }
        let shown = sanitize(self.text.as_bytes(), false);
        frame.render_widget(Paragraph::new(format!("{prompt}{shown}")).style(style), row);
        let typed = prompt.chars().count() + shown.chars().count();
        let x = row.x + typed.min(usize::from(row.width.saturating_sub(1))) as u16;
        frame.set_cursor_position(Position::new(x, row.y));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(input: &mut TextInput, text: &str) {
        for c in text.chars() {
            input.on_key(&key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn a_filter_edits_keeps_open_on_empty_backspace_and_clears_on_esc() {
        let mut f = TextInput::filter();
        typed(&mut f, "web");
        assert_eq!(f.text(), "web");
        assert_eq!(f.on_key(&key(KeyCode::Backspace)), Edit::Changed);
        assert_eq!(f.text(), "we");
        assert_eq!(f.on_key(&key(KeyCode::Enter)), Edit::Submit);
        assert_eq!(f.text(), "we");
        assert_eq!(f.on_key(&key(KeyCode::Esc)), Edit::Cancel);
        assert!(f.is_empty());
        assert_eq!(f.on_key(&key(KeyCode::Backspace)), Edit::Changed);
        let ctrl_x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::CONTROL);
        assert_eq!(f.on_key(&ctrl_x), Edit::Ignored);
        assert_eq!(f.on_key(&key(KeyCode::Tab)), Edit::Ignored);
        typed(&mut f, "db");
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(f.on_key(&ctrl_c), Edit::Cancel);
        assert!(f.is_empty());
    }

    #[test]
    fn a_search_is_bounded_and_closes_on_empty_backspace() {
        let mut s = TextInput::search(3);
        typed(&mut s, "abcd");
        assert_eq!(s.text(), "abc");
        for _ in 0..3 {
            assert_eq!(s.on_key(&key(KeyCode::Backspace)), Edit::Changed);
        }
        assert_eq!(s.on_key(&key(KeyCode::Backspace)), Edit::Cancel);
    }
}
