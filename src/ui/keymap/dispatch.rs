//! Turning key presses, one at a time, into actions: holds the keys of a chord in progress.

use ratatui::crossterm::event::KeyEvent;

use super::context::Context;
use super::key::{Key, display_sequence};
use super::map::{Keymap, Lookup};

/// What the app feeds every key press to while no text field has the focus (a filter or
/// command line being typed takes the keys itself).
#[derive(Debug, Default, Clone)]
pub struct KeyDispatcher {
    pending: Vec<Key>,
    /// The context the pending keys were pressed in.
    context: Option<Context>,
}

impl KeyDispatcher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one terminal key event. `None` when the event is not a key press a keymap can
    /// name (a release, a lone modifier, a lock key): nothing changes then. A chord started in
    /// another context is dropped first, so a view switch never completes a stale chord.
    pub fn feed(&mut self, keymap: &Keymap, context: Context, event: &KeyEvent) -> Option<Lookup> {
        let key = Key::from_event(event)?;
        Some(self.feed_key(keymap, context, key))
    }

    /// Like [`KeyDispatcher::feed`] for a key already normalised.
    pub fn feed_key(&mut self, keymap: &Keymap, context: Context, key: Key) -> Lookup {
        if self.context != Some(context) {
            self.pending.clear();
            self.context = Some(context);
        }
        self.pending.push(key);
        let lookup = keymap.lookup_keys(context, &self.pending);
        // Like vim, an unknown continuation drops the whole chord rather than retrying the
        // last key alone.
        if lookup != Lookup::Pending {
            self.pending.clear();
        }
        lookup
    }

    /// The keys of the chord in progress, for the status bar.
    pub fn pending(&self) -> &[Key] {
        &self.pending
    }

    /// The pending keys as files write them (`g`), empty when nothing is pending.
    pub fn pending_text(&self) -> String {
        display_sequence(&self.pending)
    }

    /// Drops a chord in progress (focus moved to a text field, a popup opened).
    pub fn reset(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::keymap::{Action, load::builtin};
    use ratatui::crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};

    fn press(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn chord_waits_then_matches() {
        let km = builtin().unwrap();
        let mut d = KeyDispatcher::new();
        assert_eq!(
            d.feed(&km, Context::Fleet, &press('g')),
            Some(Lookup::Pending)
        );
        assert_eq!(d.pending_text(), "g");
        assert_eq!(
            d.feed(&km, Context::Fleet, &press('g')),
            Some(Lookup::Matched(Action::Top))
        );
        assert!(d.pending().is_empty());
    }

    #[test]
    fn esc_cancels_pending_then_means_back() {
        let km = builtin().unwrap();
        let mut d = KeyDispatcher::new();
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        d.feed(&km, Context::Fleet, &press('g'));
        assert_eq!(d.feed(&km, Context::Fleet, &esc), Some(Lookup::Cancelled));
        assert_eq!(
            d.feed(&km, Context::Fleet, &esc),
            Some(Lookup::Matched(Action::Back))
        );
    }

    #[test]
    fn unknown_continuation_drops_the_chord() {
        let km = builtin().unwrap();
        let mut d = KeyDispatcher::new();
        d.feed(&km, Context::Fleet, &press('g'));
        assert_eq!(
            d.feed(&km, Context::Fleet, &press('j')),
            Some(Lookup::NotFound)
        );
        assert_eq!(
            d.feed(&km, Context::Fleet, &press('j')),
            Some(Lookup::Matched(Action::MoveDown))
        );
    }

    #[test]
    fn releases_are_ignored_and_context_change_resets() {
        let km = builtin().unwrap();
        let mut d = KeyDispatcher::new();
        d.feed(&km, Context::Fleet, &press('g'));
        let release = KeyEvent::new_with_kind(
            KeyCode::Char('g'),
            KeyModifiers::NONE,
            KeyEventKind::Release,
        );
        assert_eq!(d.feed(&km, Context::Fleet, &release), None);
        assert_eq!(d.pending_text(), "g");
        // A `g` pressed in another view starts over instead of completing `g g`.
        assert_eq!(
            d.feed(&km, Context::History, &press('g')),
            Some(Lookup::Pending)
        );
        d.reset();
        assert!(d.pending().is_empty());
    }

    #[test]
    fn shifted_and_control_keys_from_the_terminal() {
        let km = builtin().unwrap();
        let mut d = KeyDispatcher::new();
        let big_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        let back_tab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(
            d.feed(&km, Context::Pane, &big_g),
            Some(Lookup::Matched(Action::Bottom))
        );
        assert_eq!(
            d.feed(&km, Context::Pane, &ctrl_d),
            Some(Lookup::Matched(Action::HalfPageDown))
        );
        assert_eq!(
            d.feed(&km, Context::Fleet, &back_tab),
            Some(Lookup::Matched(Action::PrevView))
        );
    }
}
