//! What is on screen when a key is pressed: finer than the keymap's sections, because the
//! Runs and History views each have a list and output panes that handle different keys.
//! Help lists an action only on the screens its declaration names (see `action.rs`).

use super::context::Context;

/// A place in the console where keys go through the keymap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Fleet,
    /// The Runs view's run list and host table.
    Runs,
    /// The Runs view's output: the pane grid, the merged stream, the grouped outputs.
    RunPanes,
    /// The History view's run list.
    History,
    /// A run opened in the History view: its host table.
    HistoryRun,
    /// One host's recorded output in the History view.
    HistoryOutput,
    Actions,
    Metrics,
    Incidents,
}

impl Screen {
    pub const ALL: [Screen; 9] = [
        Screen::Fleet,
        Screen::Runs,
        Screen::RunPanes,
        Screen::History,
        Screen::HistoryRun,
        Screen::HistoryOutput,
        Screen::Actions,
        Screen::Metrics,
        Screen::Incidents,
    ];

    /// The keymap section whose keys (with its parents') work here.
    pub fn context(self) -> Context {
        match self {
            Screen::Fleet => Context::Fleet,
            Screen::Runs => Context::Runs,
            Screen::RunPanes | Screen::HistoryOutput => Context::Pane,
            Screen::History | Screen::HistoryRun => Context::History,
            Screen::Actions => Context::Actions,
            Screen::Metrics => Context::Metrics,
            Screen::Incidents => Context::Incidents,
        }
    }
}

/// Screens that scroll output.
pub const PANES: &[Screen] = &[Screen::RunPanes, Screen::HistoryOutput];

/// Lists, panes and the heatmap: everything with something to move through.
pub const LISTS_AND_PANES: &[Screen] = &[
    Screen::Fleet,
    Screen::Runs,
    Screen::RunPanes,
    Screen::History,
    Screen::HistoryRun,
    Screen::HistoryOutput,
    Screen::Actions,
    Screen::Metrics,
    Screen::Incidents,
];

/// The Runs view, list and panes.
pub const RUNS: &[Screen] = &[Screen::Runs, Screen::RunPanes];

/// The History view, all of it.
pub const HISTORY: &[Screen] = &[Screen::History, Screen::HistoryRun, Screen::HistoryOutput];

/// Everywhere keys go through the keymap.
pub const EVERYWHERE: &[Screen] = &Screen::ALL;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_what_they_say() {
        assert_eq!(Screen::ALL.as_slice(), LISTS_AND_PANES);
        assert!(PANES.iter().all(|s| s.context() == Context::Pane));
    }
}
