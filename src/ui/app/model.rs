//! The console's state: the shell (shell.rs) and one state per view (each in its folder),
//! everything a view draws and `update` changes. No I/O lives here.

use std::sync::Arc;

use super::actions::ActionsState;
use super::connections::Connections;
use super::fleet::FleetState;
use super::history::HistoryState;
use super::incidents::IncidentsState;
use super::metrics::MetricsState;
use super::runs::{RunLayout, RunView, RunsState};
use super::shell::Shell;
pub use super::view_id::View;
use crate::inventory::{Host, Inventory};
use crate::metrics::MetricsFrame;
use crate::ui::keymap::{Context, Keymap, Screen};
use crate::ui::theme::Theme;

/// Everything the console shows: the shell and each view's own state. (Not `Clone`: run
/// outputs are large and owned once.)
#[derive(Debug)]
pub struct Model {
    pub shell: Shell,
    pub inventory: Inventory,
    /// Each host's connection state, as last snapshotted from the transports.
    pub connections: Connections,
    /// Each host's newest metrics and trend, as the session last published them (shared with
    /// the session, never copied).
    pub metrics_frame: Arc<MetricsFrame>,
    /// `[safety] protected_envs`: runs touching them need the env name typed.
    pub protected_envs: Vec<String>,
    pub fleet: FleetState,
    pub runs: RunsState,
    pub history: HistoryState,
    pub actions: ActionsState,
    pub metrics: MetricsState,
    pub incidents: IncidentsState,
}

impl Model {
    pub fn new(
        inventory: Inventory,
        keymap: Keymap,
        theme: Theme,
        theme_names: Vec<String>,
    ) -> Model {
        Model {
            shell: Shell::new(keymap, theme, theme_names),
            fleet: FleetState::new(&inventory),
            inventory,
            connections: Connections::default(),
            metrics_frame: Arc::default(),
            protected_envs: Vec::new(),
            runs: RunsState::default(),
            history: HistoryState::default(),
            actions: ActionsState::default(),
            metrics: MetricsState::default(),
            incidents: IncidentsState::default(),
        }
    }

    /// The Fleet view's hosts, in display order.
    pub fn shown_hosts(&self) -> impl Iterator<Item = &Host> {
        self.fleet.shown_hosts(&self.inventory)
    }

    /// The host under the Fleet view's cursor (the Metrics heatmap's too), if any is shown.
    pub fn current_host(&self) -> Option<&Host> {
        self.fleet.current_host(&self.inventory)
    }

    /// The keymap context for the view on screen (output panes have their own keys).
    pub fn context(&self) -> Context {
        self.screen().context()
    }

    /// What is on screen, for the keys that work there and the help that lists them.
    pub fn screen(&self) -> Screen {
        match self.shell.view {
            View::Fleet => Screen::Fleet,
            View::Runs if self.runs.layout == RunLayout::Table => Screen::Runs,
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
        self.runs.selected_run()
    }

    /// Runs the engine is still working on.
    pub fn runs_in_flight(&self) -> usize {
        self.runs.in_flight()
    }
}
