//! A loaded keymap: each context's own bindings (for help) and, built from them, the trie of
//! every key that works in that context (for lookups).

use ratatui::crossterm::event::KeyEvent;

use super::action::Action;
use super::context::Context;
use super::key::Key;
use super::trie::{Hit, Trie};

/// One entry of a section: keys and their action, or `None` for `"<disabled>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub action: Option<Action>,
}

/// What a sequence of keys means in a context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The keys start a chord: wait for the next one.
    Pending,
    Matched(Action),
    NotFound,
    /// `esc` after the start of a chord: drop the pending keys.
    Cancelled,
}

#[derive(Debug, Clone)]
pub struct Keymap {
    /// Per context (indexed like `Context::ALL`): its own section, in file order.
    sections: Vec<Vec<Binding>>,
    /// Per context: its section laid over its parents' (see `Context::parent`).
    effective: Vec<Trie>,
}

impl Keymap {
    /// A keymap from each context's section (missing contexts have none).
    pub(crate) fn from_sections(mut sections: Vec<Vec<Binding>>) -> Keymap {
        sections.resize(Context::ALL.len(), Vec::new());
        let effective = Context::ALL
            .into_iter()
            .map(|context| {
                let mut trie = Trie::default();
                for layer in context.chain().into_iter().rev() {
                    apply(&mut trie, &sections[layer.index()]);
                }
                trie
            })
            .collect();
        Keymap {
            sections,
            effective,
        }
    }

    /// This keymap with `over` merged on top: an entry of `over` replaces the entry with the
    /// same keys and any entry it conflicts with (a chord it starts, a key that starts it);
    /// `"<disabled>"` removes the keys and the chords starting with them.
    pub(crate) fn merged(&self, over: Vec<Vec<Binding>>) -> Keymap {
        let mut sections = self.sections.clone();
        for (section, overlay) in sections.iter_mut().zip(over) {
            for entry in overlay {
                section.retain(|old| {
                    let shadowed = old.keys.starts_with(&entry.keys);
                    let starts_it = entry.action.is_some() && entry.keys.starts_with(&old.keys);
                    !(shadowed || starts_it)
                });
                section.push(entry);
            }
        }
        Keymap::from_sections(sections)
    }

    /// What `keys` (the pending keys plus the newest) mean in `context`.
    pub fn lookup(&self, context: Context, keys: &[KeyEvent]) -> Lookup {
        match keys.iter().map(Key::from_event).collect::<Option<Vec<_>>>() {
            Some(keys) => self.lookup_keys(context, &keys),
            None => Lookup::NotFound,
        }
    }

    /// Like [`Keymap::lookup`], for keys already normalised.
    pub fn lookup_keys(&self, context: Context, keys: &[Key]) -> Lookup {
        if keys.len() > 1 && keys.last().is_some_and(|k| k.is_esc()) {
            return Lookup::Cancelled;
        }
        match self.effective[context.index()].get(keys) {
            Hit::Action(action) => Lookup::Matched(action),
            Hit::Prefix => Lookup::Pending,
            Hit::Missing => Lookup::NotFound,
        }
    }

    /// The entries of one context's own section, in file order (user entries last).
    pub fn section(&self, context: Context) -> &[Binding] {
        &self.sections[context.index()]
    }

    /// Every binding that works in `context`, inherited ones included, in no set order.
    pub fn effective_bindings(&self, context: Context) -> Vec<(Vec<Key>, Action)> {
        self.effective[context.index()].bindings()
    }
}

/// Lays one section over a trie: removals first, so a section may both disable `g` and bind
/// `g x` without caring about their order in the file.
fn apply(trie: &mut Trie, section: &[Binding]) {
    // A binding replaces inherited chords at its keys too, so every entry clears them.
    for entry in section {
        trie.remove(&entry.keys);
    }
    for entry in section {
        if let Some(action) = entry.action {
            trie.insert(&entry.keys, action);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::keymap::key::parse_sequence;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    fn bind(keys: &str, action: Option<Action>) -> Binding {
        Binding {
            keys: parse_sequence(keys).unwrap(),
            action,
        }
    }

    fn keys(text: &str) -> Vec<Key> {
        parse_sequence(text).unwrap()
    }

    fn sample() -> Keymap {
        let mut sections = vec![Vec::new(); Context::ALL.len()];
        sections[Context::Global.index()] = vec![
            bind("j", Some(Action::MoveDown)),
            bind("g g", Some(Action::Top)),
            bind("esc", Some(Action::Back)),
            bind("r", Some(Action::Open)),
        ];
        sections[Context::Runs.index()] = vec![bind("r", Some(Action::RerunFailed))];
        sections[Context::Pane.index()] = vec![bind("j", None), bind("f", Some(Action::Follow))];
        Keymap::from_sections(sections)
    }

    #[test]
    fn single_keys_and_chords() {
        let km = sample();
        assert_eq!(
            km.lookup_keys(Context::Fleet, &keys("j")),
            Lookup::Matched(Action::MoveDown)
        );
        assert_eq!(km.lookup_keys(Context::Fleet, &keys("g")), Lookup::Pending);
        assert_eq!(
            km.lookup_keys(Context::Fleet, &keys("g g")),
            Lookup::Matched(Action::Top)
        );
        assert_eq!(
            km.lookup_keys(Context::Fleet, &keys("g j")),
            Lookup::NotFound
        );
        assert_eq!(km.lookup_keys(Context::Fleet, &keys("x")), Lookup::NotFound);
    }

    #[test]
    fn esc_cancels_a_pending_chord_but_is_bound_alone() {
        let km = sample();
        assert_eq!(
            km.lookup_keys(Context::Fleet, &keys("g esc")),
            Lookup::Cancelled
        );
        assert_eq!(
            km.lookup_keys(Context::Fleet, &keys("esc")),
            Lookup::Matched(Action::Back)
        );
    }

    #[test]
    fn view_sections_override_their_parents() {
        let km = sample();
        assert_eq!(
            km.lookup_keys(Context::Fleet, &keys("r")),
            Lookup::Matched(Action::Open)
        );
        assert_eq!(
            km.lookup_keys(Context::Runs, &keys("r")),
            Lookup::Matched(Action::RerunFailed)
        );
        // pane inherits runs, and its `<disabled>` hides the global `j`.
        assert_eq!(
            km.lookup_keys(Context::Pane, &keys("r")),
            Lookup::Matched(Action::RerunFailed)
        );
        assert_eq!(km.lookup_keys(Context::Pane, &keys("j")), Lookup::NotFound);
        assert_eq!(
            km.lookup_keys(Context::Pane, &keys("f")),
            Lookup::Matched(Action::Follow)
        );
        assert_eq!(km.lookup_keys(Context::Runs, &keys("f")), Lookup::NotFound);
    }

    #[test]
    fn lookup_takes_terminal_events() {
        let km = sample();
        let g = KeyEvent::new(KeyCode::Char('g'), KeyModifiers::NONE);
        assert_eq!(km.lookup(Context::Global, &[g]), Lookup::Pending);
        assert_eq!(
            km.lookup(Context::Global, &[g, g]),
            Lookup::Matched(Action::Top)
        );
    }

    #[test]
    fn merge_replaces_conflicts_and_disables() {
        let mut over = vec![Vec::new(); Context::ALL.len()];
        over[Context::Global.index()] = vec![
            bind("g", Some(Action::Bottom)),
            bind("j", None),
            bind("J", Some(Action::MoveDown)),
        ];
        let km = sample().merged(over);
        assert_eq!(
            km.lookup_keys(Context::Global, &keys("g")),
            Lookup::Matched(Action::Bottom)
        );
        assert_eq!(
            km.lookup_keys(Context::Global, &keys("j")),
            Lookup::NotFound
        );
        assert_eq!(
            km.lookup_keys(Context::Global, &keys("J")),
            Lookup::Matched(Action::MoveDown)
        );
        let global = km.section(Context::Global);
        assert!(!global.iter().any(|b| b.keys == keys("g g")));
    }
}
