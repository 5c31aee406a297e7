//! The console actions a key can be bound to, each with the one line `?` shows for it.
//!
//! Only what a person asks for lives here. Ticks, resizes and engine events are messages of the
//! app, not actions, so nothing in this enum is internal and every action is bindable.

use serde::{Deserialize, Serialize};

/// A named console command. Keymap files name these in snake_case (`"j" = "move_down"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    MoveDown,
    MoveUp,
    Top,
    Bottom,
    HalfPageDown,
    HalfPageUp,
    Filter,
    SearchNext,
    SearchPrev,
    CommandLine,
    Mark,
    MarkAllShown,
    ClearMarks,
    Open,
    Back,
    NextView,
    PrevView,
    ViewFleet,
    ViewRuns,
    ViewMetrics,
    ViewIncidents,
    ViewHistory,
    ViewActions,
    Follow,
    Zoom,
    Wrap,
    Grouped,
    RunCommand,
    RerunFailed,
    StartAction,
    CancelRun,
    PauseRun,
    PrevRun,
    NextRun,
    CycleLayout,
    FocusLeft,
    FocusRight,
    Refresh,
    Help,
    Quit,
}

impl Action {
    /// Every action, in the order help lists them.
    pub const ALL: [Action; 40] = [
        Action::MoveDown,
        Action::MoveUp,
        Action::Top,
        Action::Bottom,
        Action::HalfPageDown,
        Action::HalfPageUp,
        Action::Filter,
        Action::SearchNext,
        Action::SearchPrev,
        Action::CommandLine,
        Action::Mark,
        Action::MarkAllShown,
        Action::ClearMarks,
        Action::Open,
        Action::Back,
        Action::NextView,
        Action::PrevView,
        Action::ViewFleet,
        Action::ViewRuns,
        Action::ViewMetrics,
        Action::ViewIncidents,
        Action::ViewHistory,
        Action::ViewActions,
        Action::Follow,
        Action::Zoom,
        Action::Wrap,
        Action::Grouped,
        Action::RunCommand,
        Action::RerunFailed,
        Action::StartAction,
        Action::CancelRun,
        Action::PauseRun,
        Action::PrevRun,
        Action::NextRun,
        Action::CycleLayout,
        Action::FocusLeft,
        Action::FocusRight,
        Action::Refresh,
        Action::Help,
        Action::Quit,
    ];

    /// Actions the shipped keymap leaves unbound on purpose (reachable through `:` or a user
    /// keymap). Empty today; a test keeps this list and keymaps/vim.toml in step.
    pub const UNBOUND_BY_DEFAULT: &'static [Action] = &[];

    /// The name keymap files use (the serde name).
    pub fn name(self) -> &'static str {
        match self {
            Action::MoveDown => "move_down",
            Action::MoveUp => "move_up",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::HalfPageDown => "half_page_down",
            Action::HalfPageUp => "half_page_up",
            Action::Filter => "filter",
            Action::SearchNext => "search_next",
            Action::SearchPrev => "search_prev",
            Action::CommandLine => "command_line",
            Action::Mark => "mark",
            Action::MarkAllShown => "mark_all_shown",
            Action::ClearMarks => "clear_marks",
            Action::Open => "open",
            Action::Back => "back",
            Action::NextView => "next_view",
            Action::PrevView => "prev_view",
            Action::ViewFleet => "view_fleet",
            Action::ViewRuns => "view_runs",
            Action::ViewMetrics => "view_metrics",
            Action::ViewIncidents => "view_incidents",
            Action::ViewHistory => "view_history",
            Action::ViewActions => "view_actions",
            Action::Follow => "follow",
            Action::Zoom => "zoom",
            Action::Wrap => "wrap",
            Action::Grouped => "grouped",
            Action::RunCommand => "run_command",
            Action::RerunFailed => "rerun_failed",
            Action::StartAction => "start_action",
            Action::CancelRun => "cancel_run",
            Action::PauseRun => "pause_run",
            Action::PrevRun => "prev_run",
            Action::NextRun => "next_run",
            Action::CycleLayout => "cycle_layout",
            Action::FocusLeft => "focus_left",
            Action::FocusRight => "focus_right",
            Action::Refresh => "refresh",
            Action::Help => "help",
            Action::Quit => "quit",
        }
    }

    /// The one line help shows next to the keys.
    pub fn description(self) -> &'static str {
        match self {
            Action::MoveDown => "move down one row",
            Action::MoveUp => "move up one row",
            Action::Top => "go to the first row (in a pane: the oldest line)",
            Action::Bottom => "go to the last row (in a pane: the newest line, following again)",
            Action::HalfPageDown => "move down half a page",
            Action::HalfPageUp => "move up half a page",
            Action::Filter => "filter the list, or search the pane's output",
            Action::SearchNext => "jump to the next search match",
            Action::SearchPrev => "jump to the previous search match",
            Action::CommandLine => "open the command line (:run, :target, :action, :theme, :q)",
            Action::Mark => "mark or unmark the host under the cursor",
            Action::MarkAllShown => "mark every host the filter shows",
            Action::ClearMarks => "clear all marks",
            Action::Open => "open the row under the cursor",
            Action::Back => "close the popup, pane or filter; at the top of a view, ask to quit",
            Action::NextView => "switch to the next view",
            Action::PrevView => "switch to the previous view",
            Action::ViewFleet => "show the fleet view",
            Action::ViewRuns => "show the runs view",
            Action::ViewMetrics => "show the metrics view",
            Action::ViewIncidents => "show the incidents view",
            Action::ViewHistory => "show the history view",
            Action::ViewActions => "show the actions view",
            Action::Follow => "follow new output (scrolling up pauses it)",
            Action::Zoom => "zoom the focused pane, or return to the grid",
            Action::Wrap => "wrap long lines on or off",
            Action::Grouped => "group identical outputs under their folded node set",
            Action::RunCommand => "run a command on the marked hosts (asks first)",
            Action::RerunFailed => "run the same command again on the hosts that failed",
            Action::StartAction => {
                "open the run's action form, its parameters prefilled (secrets typed again)"
            }
            Action::CancelRun => "cancel the selected run (a queued one leaves the queue)",
            Action::PauseRun => "pause the selected run before its next host, or resume it",
            Action::PrevRun => "select the newer run in the run list",
            Action::NextRun => "select the older run in the run list",
            Action::CycleLayout => "switch the run's layout: table, grid, merged, grouped",
            Action::FocusLeft => "focus the pane to the left (zoomed: the previous host)",
            Action::FocusRight => "focus the pane to the right (zoomed: the next host)",
            Action::Refresh => "read the list again from disk (history, actions)",
            Action::Help => "show this help",
            Action::Quit => "quit fleetdeck (asks first while runs are in flight)",
        }
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
    fn all_lists_each_action_once() {
        let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
    }
}
