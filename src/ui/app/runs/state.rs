//! The Runs view's state: the console's runs (oldest first), which one is shown, the focused
//! host (the table's cursor row and the grid's focused pane) and the layout it is shown in.
//! No I/O.

use super::layout::RunLayout;
use super::run::{RunStart, RunView, prune_finished};

#[derive(Debug)]
pub struct RunsState {
    /// Runs started from the console, oldest first.
    pub list: Vec<RunView>,
    /// The run the view shows, an index into `list`.
    pub selected: usize,
    /// The focused host: the table's cursor row and the grid's focused pane.
    pub cursor: usize,
    /// How the selected run is shown (table, grid, merged, grouped).
    pub layout: RunLayout,
}

/// Console runs in flight: running (of which paused) and queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InFlight {
    pub running: usize,
    pub paused: usize,
    pub queued: usize,
}

impl RunsState {
    /// Where the runs in flight are (the status bar and the Metrics view show it).
    pub fn in_flight_counts(&self) -> InFlight {
        let mut counts = InFlight::default();
        for run in self.list.iter().filter(|r| r.in_flight()) {
            if run.is_queued() {
                counts.queued += 1;
            } else {
                counts.running += 1;
                counts.paused += usize::from(run.paused);
            }
        }
        counts
    }
}

impl Default for RunsState {
    fn default() -> Self {
        RunsState {
            list: Vec::new(),
            selected: 0,
            cursor: 0,
            layout: RunLayout::Table,
        }
    }
}

impl RunsState {
    /// The run the view shows.
    pub fn selected_run(&self) -> Option<&RunView> {
        self.list.get(self.selected)
    }

    pub fn selected_run_mut(&mut self) -> Option<&mut RunView> {
        self.list.get_mut(self.selected)
    }

    /// The run with this id, if the console still holds it.
    pub fn find_mut(&mut self, id: &str) -> Option<&mut RunView> {
        self.list.iter_mut().find(|r| r.id == id)
    }

    /// Runs the engine is still working on.
    pub fn in_flight(&self) -> usize {
        self.list.iter().filter(|r| r.in_flight()).count()
    }

    /// A confirmed run: shown at once, selected, from its first host.
    pub fn add(&mut self, start: &RunStart) {
        self.list.push(RunView::new(start));
        self.prune();
        self.selected = self.list.len() - 1;
        self.cursor = 0;
    }

    /// Finished runs hold their output: keeps the console's memory within its budget.
    pub fn prune(&mut self) {
        prune_finished(&mut self.list, &mut self.selected);
    }

    /// Hosts of the selected run.
    pub fn host_count(&self) -> usize {
        self.selected_run().map_or(0, |r| r.hosts.len())
    }
}
