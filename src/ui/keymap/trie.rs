//! The keys of one context as a trie: a path of keys ends at an action or goes on (a chord).

use std::collections::HashMap;

use super::action::Action;
use super::key::Key;

/// What sits at the end of a path of keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hit {
    /// A whole binding.
    Action(Action),
    /// The start of one or more chords.
    Prefix,
    /// Nothing is bound there.
    Missing,
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Action),
    Branch(Trie),
}

#[derive(Debug, Clone, Default)]
pub struct Trie {
    children: HashMap<Key, Node>,
}

impl Trie {
    pub fn get(&self, keys: &[Key]) -> Hit {
        let Some((first, rest)) = keys.split_first() else {
            return Hit::Missing;
        };
        match (self.children.get(first), rest.is_empty()) {
            (Some(Node::Leaf(action)), true) => Hit::Action(*action),
            (Some(Node::Branch(_)), true) => Hit::Prefix,
            (Some(Node::Branch(sub)), false) => sub.get(rest),
            // A leaf cannot be followed by more keys.
            (Some(Node::Leaf(_)), false) | (None, _) => Hit::Missing,
        }
    }

    /// Binds `keys`, replacing whatever was there: a binding at the same keys, the chords
    /// that start with them, and a shorter binding they start with (a key cannot be both a
    /// binding and a chord prefix).
    pub fn insert(&mut self, keys: &[Key], action: Action) {
        let Some((first, rest)) = keys.split_first() else {
            return;
        };
        if rest.is_empty() {
            self.children.insert(*first, Node::Leaf(action));
            return;
        }
        let node = self
            .children
            .entry(*first)
            .or_insert_with(|| Node::Branch(Trie::default()));
        if let Node::Leaf(_) = node {
            *node = Node::Branch(Trie::default());
        }
        if let Node::Branch(sub) = node {
            sub.insert(rest, action);
        }
    }

    /// Unbinds `keys` and every chord that starts with them; branches left empty go too.
    pub fn remove(&mut self, keys: &[Key]) {
        let Some((first, rest)) = keys.split_first() else {
            return;
        };
        if rest.is_empty() {
            self.children.remove(first);
            return;
        }
        if let Some(Node::Branch(sub)) = self.children.get_mut(first) {
            sub.remove(rest);
            if sub.children.is_empty() {
                self.children.remove(first);
            }
        }
    }

    /// Every binding as (keys, action), in no particular order.
    pub fn bindings(&self) -> Vec<(Vec<Key>, Action)> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, path: &mut Vec<Key>, out: &mut Vec<(Vec<Key>, Action)>) {
        for (key, node) in &self.children {
            path.push(*key);
            match node {
                Node::Leaf(action) => out.push((path.clone(), *action)),
                Node::Branch(sub) => sub.collect(path, out),
            }
            path.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::keymap::key::parse_sequence;

    fn keys(text: &str) -> Vec<Key> {
        parse_sequence(text).unwrap()
    }

    #[test]
    fn chords_and_single_keys() {
        let mut t = Trie::default();
        t.insert(&keys("g g"), Action::Top);
        t.insert(&keys("j"), Action::MoveDown);
        assert_eq!(t.get(&keys("g")), Hit::Prefix);
        assert_eq!(t.get(&keys("g g")), Hit::Action(Action::Top));
        assert_eq!(t.get(&keys("g x")), Hit::Missing);
        assert_eq!(t.get(&keys("j")), Hit::Action(Action::MoveDown));
        assert_eq!(t.get(&keys("j j")), Hit::Missing);
        assert_eq!(t.get(&[]), Hit::Missing);
    }

    #[test]
    fn insert_replaces_conflicting_bindings() {
        let mut t = Trie::default();
        t.insert(&keys("g g"), Action::Top);
        t.insert(&keys("g"), Action::Bottom);
        assert_eq!(t.get(&keys("g")), Hit::Action(Action::Bottom));
        t.insert(&keys("g x"), Action::Top);
        assert_eq!(t.get(&keys("g")), Hit::Prefix);
        assert_eq!(t.bindings(), vec![(keys("g x"), Action::Top)]);
    }

    #[test]
    fn remove_drops_chords_and_empty_branches() {
        let mut t = Trie::default();
        t.insert(&keys("g g"), Action::Top);
        t.remove(&keys("g g"));
        assert_eq!(t.get(&keys("g")), Hit::Missing);
        t.insert(&keys("g g"), Action::Top);
        t.remove(&keys("g"));
        assert!(t.bindings().is_empty());
    }
}
