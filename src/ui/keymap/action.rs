//! The console actions a key can be bound to, each declared once (like the theme's `scopes!`):
//! its variant, the name keymap files use, the screens that handle it and the one line `?`
//! shows for it.
//!
//! Only what a person asks for lives here. Ticks, resizes and engine events are messages of the
//! app, not actions, so nothing in this enum is internal and every action is bindable.
//!
//! The screens are a promise the app keeps (a test in src/ui/app presses every key help lists
//! on every screen): help shows an action only where it does something, so a key bound in
//! `[global]` is listed only in the views that handle it.

use serde::{Deserialize, Serialize};

use super::screen::{EVERYWHERE, HISTORY, LISTS_AND_PANES, PANES, RUNS, Screen};

/// The screens of one declaration: a group constant of `screen.rs`, or `[Fleet, …]`.
macro_rules! screens {
    ([$($screen:ident),* $(,)?]) => { &[$(Screen::$screen),*] };
    ($group:ident) => { $group };
}

/// Declares the `Action` enum and everything said about each action, one line per action, so
/// the enum, `ALL`, names, screens and descriptions cannot drift apart.
macro_rules! actions {
    ($($variant:ident = $name:literal in $screens:tt: $doc:literal;)*) => {
        /// A named console command. Keymap files name these in snake_case
        /// (`"j" = "move_down"`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Action {
            $(#[doc = $doc] #[serde(rename = $name)] $variant,)*
        }

        impl Action {
            /// Every action, in the order help lists them.
            pub const ALL: [Action; [$($name),*].len()] = [$(Action::$variant),*];

            /// The name keymap files use (the serde name).
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// The one line help shows next to the keys.
            pub fn description(self) -> &'static str {
                match self {
                    $(Action::$variant => $doc,)*
                }
            }

            /// The screens that handle this action; elsewhere help leaves it out.
            pub fn screens(self) -> &'static [Screen] {
                match self {
                    $(Action::$variant => screens!($screens),)*
                }
            }
        }
    };
}

actions! {
    MoveDown = "move_down" in LISTS_AND_PANES: "move down one row";
    MoveUp = "move_up" in LISTS_AND_PANES: "move up one row";
    Top = "top" in LISTS_AND_PANES: "go to the first row (in a pane: the oldest line)";
    Bottom = "bottom" in LISTS_AND_PANES: "go to the last row (in a pane: the newest line, following again)";
    HalfPageDown = "half_page_down" in LISTS_AND_PANES: "move down half a page";
    HalfPageUp = "half_page_up" in LISTS_AND_PANES: "move up half a page";
    MoveLeft = "move_left" in [Metrics]: "move left one cell of the heatmap";
    MoveRight = "move_right" in [Metrics]: "move right one cell of the heatmap";
    // Not the Runs table (it says where search works) nor an opened History run.
    Filter = "filter" in [Fleet, RunPanes, History, Actions, Metrics, Incidents]: "filter the list, or search the pane's output";
    SearchNext = "search_next" in [RunPanes]: "jump to the next search match";
    SearchPrev = "search_prev" in [RunPanes]: "jump to the previous search match";
    CommandLine = "command_line" in EVERYWHERE: "open the command line (:run, :target, :sort, :action, :theme, :q)";
    // Marking needs the host list the Fleet table and the Metrics heatmap show (the same
    // hosts, the same marks); clearing (the status bar counts the marks) and `!` work from
    // every view.
    Mark = "mark" in [Fleet, Metrics]: "mark or unmark the host under the cursor";
    MarkAllShown = "mark_all_shown" in [Fleet, Metrics]: "mark every host the filter shows";
    SortNext = "sort_next" in [Fleet]: "sort by the next column (cpu, mem, disk, load, name, …)";
    SortReverse = "sort_reverse" in [Fleet]: "reverse the sort order";
    CycleMetric = "cycle_metric" in [Metrics]: "colour the heatmap by the next metric: cpu, mem, disk, load";
    ZoomIn = "zoom_in" in [Metrics]: "charts: a shorter time window (7d, 24h, 1h, 15m)";
    ZoomOut = "zoom_out" in [Metrics]: "charts: a longer time window (15m, 1h, 24h, 7d)";
    ClearMarks = "clear_marks" in EVERYWHERE: "clear all marks";
    Open = "open" in [Runs, History, HistoryRun, Actions, Metrics, Incidents]: "open the row or cell under the cursor";
    Back = "back" in EVERYWHERE: "close the popup, pane or filter; at the top of a view, ask to quit";
    NextView = "next_view" in EVERYWHERE: "switch to the next view";
    PrevView = "prev_view" in EVERYWHERE: "switch to the previous view";
    ViewFleet = "view_fleet" in EVERYWHERE: "show the fleet view";
    ViewRuns = "view_runs" in EVERYWHERE: "show the runs view";
    ViewMetrics = "view_metrics" in EVERYWHERE: "show the metrics view";
    ViewIncidents = "view_incidents" in EVERYWHERE: "show the incidents view";
    ViewHistory = "view_history" in EVERYWHERE: "show the history view";
    ViewActions = "view_actions" in EVERYWHERE: "show the actions view";
    Follow = "follow" in PANES: "follow new output (scrolling up pauses it)";
    Zoom = "zoom" in [RunPanes]: "zoom the focused pane, or return to the grid";
    Wrap = "wrap" in PANES: "wrap long lines on or off";
    Grouped = "grouped" in RUNS: "group identical outputs under their folded node set";
    RunCommand = "run_command" in EVERYWHERE: "run a command on the marked hosts (asks first)";
    RerunFailed = "rerun_failed" in [Runs, RunPanes, History, HistoryRun, HistoryOutput]: "run the same command again on the hosts that failed";
    StartAction = "start_action" in HISTORY: "open the run's action form, its parameters prefilled (secrets typed again)";
    CancelRun = "cancel_run" in RUNS: "cancel the selected run (a queued one leaves the queue)";
    PauseRun = "pause_run" in RUNS: "pause the selected run before its next host, or resume it";
    PrevRun = "prev_run" in RUNS: "select the newer run in the run list";
    NextRun = "next_run" in RUNS: "select the older run in the run list";
    CycleLayout = "cycle_layout" in RUNS: "switch the run's layout: table, grid, merged, grouped";
    FocusLeft = "focus_left" in [RunPanes]: "focus the pane to the left (zoomed: the previous host)";
    FocusRight = "focus_right" in [RunPanes]: "focus the pane to the right (zoomed: the next host)";
    Acknowledge = "acknowledge" in [Incidents]: "acknowledge the incident, with a comment (an Alertmanager alert is silenced first)";
    ResolveIncident = "resolve_incident" in [Incidents]: "resolve the incident by hand, with a comment";
    NoteIncident = "note_incident" in [Incidents]: "add a note to the incident's timeline";
    CycleGrouping = "cycle_grouping" in [Incidents]: "group incidents by title, source or host";
    RunRunbook = "run_runbook" in [Incidents]: "open the runbook's action for the incident's hosts (and those of the incidents shown that it fixes the same way), prefilled; it asks before running";
    AnalyseIncident = "analyse_incident" in [Incidents]: "ask the [analysis] endpoint about the incident (a suggestion, added to its timeline; nothing is run)";
    Refresh = "refresh" in [History, HistoryRun, HistoryOutput, Actions]: "read the list again from disk (history, actions)";
    Help = "help" in EVERYWHERE: "show this help";
    Quit = "quit" in EVERYWHERE: "quit fleetdeck (asks first while runs are in flight)";
}

impl Action {
    /// Actions the shipped keymap leaves unbound on purpose (reachable through `:` or a user
    /// keymap). Empty today; a test keeps this list and keymaps/vim.toml in step.
    pub const UNBOUND_BY_DEFAULT: &'static [Action] = &[];

    /// Whether `screen` handles this action (help lists it there).
    pub fn works_on(self, screen: Screen) -> bool {
        self.screens().contains(&screen)
    }

    /// The action a keymap file names, if any.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde_and_round_trip() {
        for action in Action::ALL {
            let serde_name = serde_json::to_value(action).unwrap();
            assert_eq!(serde_name, serde_json::Value::from(action.name()));
            assert_eq!(Action::from_name(action.name()), Some(action));
            assert!(!action.description().is_empty());
        }
    }

    #[test]
    fn every_action_works_somewhere() {
        for action in Action::ALL {
            assert!(!action.screens().is_empty(), "{}", action.name());
        }
        assert!(Action::Mark.works_on(Screen::Fleet));
        assert!(Action::Mark.works_on(Screen::Metrics));
        assert!(!Action::Mark.works_on(Screen::Runs));
    }

    #[test]
    fn all_lists_each_action_once() {
        let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
    }
}
