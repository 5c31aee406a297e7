//! Where a key is pressed: the keymap's sections (`[global]`, `[fleet]`, …).

use serde::{Deserialize, Serialize};

/// A keymap section. A binding in a view's section overrides the same keys in its parent's
/// for that view; `pane` sits inside the runs view, so it inherits `runs` and then `global`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    Global,
    Fleet,
    Runs,
    Pane,
    History,
    Actions,
    Metrics,
    Incidents,
}

impl Context {
    /// Every context, in the order help and files list them.
    pub const ALL: [Context; 8] = [
        Context::Global,
        Context::Fleet,
        Context::Runs,
        Context::Pane,
        Context::History,
        Context::Actions,
        Context::Metrics,
        Context::Incidents,
    ];

    /// The section name in keymap files.
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Fleet => "fleet",
            Context::Runs => "runs",
            Context::Pane => "pane",
            Context::History => "history",
            Context::Actions => "actions",
            Context::Metrics => "metrics",
            Context::Incidents => "incidents",
        }
    }

    /// The heading help shows above this context's keys.
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Fleet => "Fleet",
            Context::Runs => "Runs",
            Context::Pane => "Output panes",
            Context::History => "History",
            Context::Actions => "Actions",
            Context::Metrics => "Metrics",
            Context::Incidents => "Incidents",
        }
    }

    pub fn from_name(name: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The context whose bindings this one inherits (and may override).
    pub fn parent(self) -> Option<Context> {
        match self {
            Context::Global => None,
            Context::Pane => Some(Context::Runs),
            _ => Some(Context::Global),
        }
    }

    /// This context and its ancestors, most specific first (`pane`, `runs`, `global`).
    pub fn chain(self) -> Vec<Context> {
        let mut chain = vec![self];
        let mut at = self;
        while let Some(parent) = at.parent() {
            chain.push(parent);
            at = parent;
        }
        chain
    }

    /// Position in [`Context::ALL`], for per-context arrays.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_matches_all() {
        for (i, c) in Context::ALL.into_iter().enumerate() {
            assert_eq!(Context::from_name(c.name()), Some(c));
            assert_eq!(c.index(), i);
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::Value::from(c.name())
            );
        }
    }

    #[test]
    fn pane_inherits_runs_then_global() {
        assert_eq!(
            Context::Pane.chain(),
            [Context::Pane, Context::Runs, Context::Global]
        );
        assert_eq!(Context::Global.chain(), [Context::Global]);
    }
}
