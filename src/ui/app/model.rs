//! The console's state: everything a view draws and `update` changes. No I/O lives here.

use std::collections::{BTreeSet, HashMap};

use ratatui::layout::Rect;

use super::history::HistoryState;
use super::run_layout::RunLayout;
use super::runs::{RunStart, RunView};
use crate::engine::HostState;
use crate::inventory::{Host, Inventory};
use crate::ui::keymap::{Context, KeyDispatcher, Keymap, Screen};
use crate::ui::theme::Theme;

/// The six views, in tab order (`tab`, `1`..`6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Fleet,
    Runs,
    Metrics,
    Incidents,
    History,
    Actions,
}

impl View {
    pub const ALL: [View; 6] = [
        View::Fleet,
        View::Runs,
        View::Metrics,
        View::Incidents,
        View::History,
        View::Actions,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Fleet => "fleet",
            View::Runs => "runs",
            View::Metrics => "metrics",
            View::Incidents => "incidents",
            View::History => "history",
            View::Actions => "actions",
        }
    }

    /// The keymap section that applies while this view is on screen.
    pub fn context(self) -> Context {
        match self {
            View::Fleet => Context::Fleet,
            View::Runs => Context::Runs,
            View::Metrics => Context::Metrics,
            View::Incidents => Context::Incidents,
            View::History => Context::History,
            View::Actions => Context::Actions,
        }
    }

    /// For views not built yet: which work brings them (shown instead of fake data).
    pub fn not_built_note(self) -> Option<&'static str> {
        match self {
            View::Fleet => None,
            View::Runs => None,
            View::History => None,
            View::Actions => None,
            View::Metrics => Some("The metrics view arrives with a later issue."),
            View::Incidents => Some("The incidents view arrives with a later issue."),
        }
    }

    fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }

    /// The view `step` tabs away, wrapping around.
    pub fn shifted(self, step: isize) -> View {
        let n = View::ALL.len() as isize;
        let i = (self.index() as isize + step).rem_euclid(n);
        View::ALL[i as usize]
    }
}

/// Who has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Keys go through the keymap.
    Normal,
    /// `/`: typed characters edit the fleet filter.
    Filter,
    /// `:`: typed characters edit the command line.
    Command,
    /// `?`: the help popup is open.
    Help,
    /// A confirmation popup (`model.confirm`) has the keys.
    Confirm,
    /// The passphrase popup (`model.passphrase`) has the keys.
    Passphrase,
}

/// What a confirmation popup asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmKind {
    Run(RunStart),
    /// Quit while runs are in flight (they are cancelled first).
    Quit,
    /// Cancel this running run (its remote commands are stopped).
    CancelRun(crate::engine::RunId),
}

/// A confirmation popup: what it confirms and, for protected environments, the text to type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub kind: ConfirmKind,
    /// Distinct environments of the targets (`-` for hosts without one).
    pub envs: Vec<String>,
    /// The protected environment names the operator must type (joined by `,`), if any.
    pub required: Option<String>,
    pub typed: String,
}

/// A line for the message area under the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Info(String),
    Error(String),
}

/// The `:` command line: the text being typed, its history and the last completion offered.
#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    pub input: String,
    /// Commands entered, oldest first.
    pub history: Vec<String>,
    /// Position while browsing history with up/down; `None` when editing fresh text.
    pub history_pos: Option<usize>,
    /// Candidates the last tab found when more than one matched (shown above the line).
    pub candidates: Vec<String>,
}

/// `:target SELECTOR` in force: the selector text and the names it resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub selector: String,
    pub names: BTreeSet<String>,
}

/// Everything the console shows. (Not `Clone`: run outputs are large and owned once.)
#[derive(Debug)]
pub struct Model {
    pub inventory: Inventory,
    pub view: View,
    pub mode: Mode,
    pub keymap: Keymap,
    pub dispatcher: KeyDispatcher,
    pub theme: Theme,
    /// Names `:theme` completes (built-in and user themes, read at start).
    pub theme_names: Vec<String>,
    /// The fuzzy filter typed after `/`.
    pub filter: String,
    pub target: Option<Target>,
    /// Indexes into `inventory.hosts()` of the rows shown, best match first while filtering.
    pub shown: Vec<usize>,
    /// Row under the cursor, an index into `shown`.
    pub cursor: usize,
    /// Each host's state in the newest recorded run that included it (read at start).
    pub last_result: HashMap<String, HostState>,
    /// Marked host names (they survive filtering).
    pub marked: BTreeSet<String>,
    pub command: CommandLine,
    pub message: Option<Message>,
    /// Wall-clock time for the status bar, set by ticks so views never read the clock.
    pub clock: String,
    /// Rows the body shows, set on resize; `C-d`/`C-u` move half of it.
    pub page_rows: usize,
    /// First line of the help popup shown (j/k scroll it).
    pub help_scroll: u16,
    pub quit: bool,
    /// `[safety] protected_envs`: runs touching them need the env name typed.
    pub protected_envs: Vec<String>,
    /// The open confirmation popup (with `Mode::Confirm`).
    pub confirm: Option<Confirm>,
    /// Each host's connection state, as last snapshotted from the transports.
    pub connections: super::connections::Connections,
    /// The open passphrase popup (with `Mode::Passphrase`).
    pub passphrase: Option<super::passphrase::PassphrasePrompt>,
    /// Runs started from the console, oldest first.
    pub runs: Vec<RunView>,
    /// The run the Runs view shows, an index into `runs`.
    pub run_selected: usize,
    /// The Runs view's focused host: the table's cursor row and the grid's focused pane.
    pub run_cursor: usize,
    /// How the Runs view shows the selected run (table, grid, merged, grouped).
    pub run_layout: RunLayout,
    /// The Runs view's body on screen, set on resize: panes scroll by their real size.
    pub run_body: Rect,
    /// The `/` search prompt of the focused pane while it is being typed.
    pub run_search: Option<String>,
    /// The History view: runs read from history.jsonl, the filter, the opened run.
    pub history: HistoryState,
    /// The Actions view: templates, load problems, filter, the open parameter form.
    pub actions: super::actions::ActionsState,
}

impl Model {
    pub fn new(
        inventory: Inventory,
        keymap: Keymap,
        theme: Theme,
        theme_names: Vec<String>,
    ) -> Model {
        let shown = (0..inventory.len()).collect();
        Model {
            inventory,
            view: View::Fleet,
            mode: Mode::Normal,
            keymap,
            dispatcher: KeyDispatcher::new(),
            theme,
            theme_names,
            filter: String::new(),
            target: None,
            shown,
            cursor: 0,
            last_result: HashMap::new(),
            marked: BTreeSet::new(),
            command: CommandLine::default(),
            message: None,
            clock: String::new(),
            page_rows: 20,
            help_scroll: 0,
            quit: false,
            protected_envs: Vec::new(),
            confirm: None,
            connections: Default::default(),
            passphrase: None,
            runs: Vec::new(),
            run_selected: 0,
            run_cursor: 0,
            run_layout: RunLayout::Table,
            run_body: Rect::new(0, 1, 80, 21),
            run_search: None,
            history: HistoryState::default(),
            actions: Default::default(),
        }
    }

    /// The hosts shown, in display order.
    pub fn shown_hosts(&self) -> impl Iterator<Item = &Host> {
        let hosts = self.inventory.hosts();
        self.shown.iter().filter_map(move |&i| hosts.get(i))
    }

    /// The host under the cursor, if any row is shown.
    pub fn current_host(&self) -> Option<&Host> {
        self.shown
            .get(self.cursor)
            .and_then(|&i| self.inventory.hosts().get(i))
    }

    /// The keymap context for the view on screen (output panes have their own keys).
    pub fn context(&self) -> Context {
        self.screen().context()
    }

    /// What is on screen, for the keys that work there and the help that lists them.
    pub fn screen(&self) -> Screen {
        match self.view {
            View::Fleet => Screen::Fleet,
            View::Runs if self.run_layout == RunLayout::Table => Screen::Runs,
            View::Runs => Screen::RunPanes,
            View::History if self.history.pane_open() => Screen::HistoryOutput,
            View::History if self.history.open.is_some() => Screen::HistoryRun,
            View::History => Screen::History,
            View::Actions => Screen::Actions,
            View::Metrics => Screen::Metrics,
            View::Incidents => Screen::Incidents,
        }
    }

    /// The run the Runs view shows.
    pub fn selected_run(&self) -> Option<&RunView> {
        self.runs.get(self.run_selected)
    }

    /// Runs the engine is still working on.
    pub fn runs_in_flight(&self) -> usize {
        self.runs.iter().filter(|r| r.in_flight()).count()
    }
}
