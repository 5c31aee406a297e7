//! The History view's state: runs read from history.jsonl (newest first), the `/` fuzzy
//! filter over them, and the run opened with enter (its host table and one host's recorded
//! output). No I/O: the event loop reads the files (load.rs) and answers with
//! `Msg::HistoryLoaded` / `Msg::RunOutputLoaded`.

use std::sync::Arc;

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use crate::engine::{RunId, RunResult};
use crate::ui::app::text_input::TextInput;
use crate::ui::pane::{PaneState, Scrollback, ScrollbackCaps};
use crate::ui::printers::history::unique_prefix_len;

/// Runs read from the end of history.jsonl each time the view loads: far more than a screen,
/// few enough that reading and filtering them stays instant.
pub const HISTORY_LIMIT: usize = 500;

/// Output kept per host of an opened run: the same bounds as the Runs view's live panes, so a
/// run that printed a lot opens without exhausting memory (the whole file stays on disk).
pub const OUTPUT_CAPS: ScrollbackCaps = ScrollbackCaps {
    max_lines: 20_000,
    max_bytes: 1 << 20,
};

/// Hosts of one run whose output is loaded; more than the engine's largest fanout.
pub const MAX_OUTPUT_HOSTS: usize = 4096;

/// What a history load found: runs newest first, and the damaged lines it skipped (shown in
/// the message line, never fatal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub runs: Vec<RunResult>,
    pub warnings: Vec<String>,
}

/// One run's recorded output, per host in the order hosts first appear, each bounded by
/// [`OUTPUT_CAPS`].
#[derive(Debug, Default)]
pub struct RunOutput {
    pub hosts: Vec<(String, Scrollback)>,
    /// Damaged lines skipped, hosts left out past [`MAX_OUTPUT_HOSTS`].
    pub warnings: Vec<String>,
}

impl RunOutput {
    pub fn get(&self, host: &str) -> Option<&Scrollback> {
        self.hosts.iter().find(|(h, _)| h == host).map(|(_, sb)| sb)
    }
}

/// Where loading the list stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ListLoad {
    /// The view was never opened: nothing read yet.
    #[default]
    NotLoaded,
    Loading,
    Loaded,
    /// history.jsonl could not be read (the text says why and where).
    Failed(String),
}

/// Where loading an opened run's output stands.
#[derive(Debug, Clone)]
pub enum OutputLoad {
    Loading,
    Loaded(Arc<RunOutput>),
    Failed(String),
}

/// The run opened with enter.
#[derive(Debug)]
pub struct OpenRun {
    /// A copy, so a refresh of the list cannot pull the run away from under the reader.
    pub run: RunResult,
    /// Host row under the cursor.
    pub host_cursor: usize,
    pub output: OutputLoad,
    /// The host's output pane is open (enter; esc closes it).
    pub pane_open: bool,
    pub pane: PaneState,
}

impl OpenRun {
    /// The recorded output of the host under the cursor, once loaded.
    pub fn current_output(&self) -> Option<&Scrollback> {
        let host = self.run.hosts.get(self.host_cursor)?;
        match &self.output {
            OutputLoad::Loaded(out) => out.get(&host.host),
            _ => None,
        }
    }
}

/// Everything the History view shows.
#[derive(Debug, Default)]
pub struct HistoryState {
    /// Runs newest first, as loaded.
    pub runs: Vec<RunResult>,
    pub load: ListLoad,
    /// Number of the newest load asked for; answers to older ones are dropped, so a slow
    /// load cannot overwrite a newer list.
    pub requested: u64,
    /// Indexes into `runs` the filter lets through, newest first.
    pub shown: Vec<usize>,
    /// Row under the cursor, an index into `shown`.
    pub cursor: usize,
    /// The fuzzy filter typed after `/`.
    pub filter: TextInput,
    /// Characters of the id shown: the shortest prefix (at least 12) that tells the loaded
    /// runs apart, so it can be given to `fleetdeck history show`.
    pub id_width: usize,
    pub open: Option<OpenRun>,
}

impl HistoryState {
    /// The run under the cursor in the list.
    pub fn selected(&self) -> Option<&RunResult> {
        self.shown.get(self.cursor).and_then(|&i| self.runs.get(i))
    }

    /// The opened run's output pane is on screen.
    pub fn pane_open(&self) -> bool {
        self.open.as_ref().is_some_and(|o| o.pane_open)
    }

    /// Takes a fresh list, keeping the cursor on the run it was on when that run is still
    /// there.
    pub fn set_runs(&mut self, runs: Vec<RunResult>) {
        let was = self.selected().map(|r| r.id.clone());
        self.runs = runs;
        self.id_width = unique_prefix_len(self.runs.iter().map(|r| r.id.as_str()));
        self.load = ListLoad::Loaded;
        self.refilter();
        if let Some(id) = was
            && let Some(pos) = self.shown.iter().position(|&i| self.runs[i].id == id)
        {
            self.cursor = pos;
        }
    }

    /// Recomputes `shown` from the filter (every whitespace-separated word must match
    /// fuzzily, as in fzf). Matches keep their time order: in a history, when matters more
    /// than how well a command matched.
    pub fn refilter(&mut self) {
        let query = self.filter.text().trim();
        if query.is_empty() {
            self.shown = (0..self.runs.len()).collect();
        } else {
            let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
            let mut matcher = Matcher::new(Config::DEFAULT);
            let mut buf = Vec::new();
            self.shown = self
                .runs
                .iter()
                .enumerate()
                .filter(|(_, run)| {
                    let hay = haystack(run);
                    pattern
                        .score(Utf32Str::new(&hay, &mut buf), &mut matcher)
                        .is_some()
                })
                .map(|(i, _)| i)
                .collect();
        }
        self.cursor = self.cursor.min(self.shown.len().saturating_sub(1));
    }
}

/// What the filter matches a run against: id, user, status, folded targets, command.
fn haystack(run: &RunResult) -> String {
    format!(
        "{} {} {} {} {}",
        run.id, run.user, run.status, run.targets, run.command
    )
}

/// The id as the list shows it.
pub fn short_id(id: &RunId, width: usize) -> &str {
    id.get(..width).unwrap_or(id)
}
