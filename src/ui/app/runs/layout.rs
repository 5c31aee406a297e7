//! How the Runs view shows the selected run, and where its panes sit on screen: the keys
//! scroll and search a pane by the size it is drawn at, so they and the view both place it by
//! the screen's layout (`ScreenLayout::runs`) and the pane grid (`grid_layout`).

use ratatui::layout::Rect;

use super::state::RunsState;
use crate::ui::app::layout::ScreenLayout;
use crate::ui::pane::{Viewport, grid_layout, pane_viewport};

/// The selected run's layouts, in the order `cycle_layout` (`v`) steps through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunLayout {
    /// The host table (state, exit, time, first error line).
    Table,
    /// Every host's output in a grid of panes; one can be zoomed to fill it.
    Grid,
    /// All hosts' lines in arrival order with `host:` prefixes.
    Merged,
    /// Identical outputs once, under their folded node set, outliers first.
    Grouped,
}

impl RunLayout {
    pub fn next(self) -> RunLayout {
        match self {
            RunLayout::Table => RunLayout::Grid,
            RunLayout::Grid => RunLayout::Merged,
            RunLayout::Merged => RunLayout::Grouped,
            RunLayout::Grouped => RunLayout::Table,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            RunLayout::Table => "table",
            RunLayout::Grid => "grid",
            RunLayout::Merged => "merged",
            RunLayout::Grouped => "grouped",
        }
    }
}

/// Where the selected run's panes are drawn on `screen`.
pub fn run_content(runs: &RunsState, screen: &ScreenLayout) -> Rect {
    screen.runs(runs.list.len()).content
}

/// Whether the grid shows the focused pane alone (the focused pane's zoom flag).
pub fn zoomed(runs: &RunsState) -> bool {
    runs.selected_run()
        .and_then(|r| r.panes.get(runs.cursor))
        .is_some_and(|p| p.is_zoomed())
}

/// The grid's cells: (host index, area), for the page holding the focused pane.
pub fn grid_cells(runs: &RunsState, screen: &ScreenLayout) -> Vec<(usize, Rect)> {
    grid_layout(
        run_content(runs, screen),
        runs.host_count(),
        runs.cursor,
        zoomed(runs),
    )
    .cells
}

/// The text area of the focused host's pane in the grid.
pub fn focused_viewport(runs: &RunsState, screen: &ScreenLayout) -> Viewport {
    grid_cells(runs, screen)
        .into_iter()
        .find(|(i, _)| *i == runs.cursor)
        .map_or_else(
            || pane_viewport(run_content(runs, screen)),
            |(_, rect)| pane_viewport(rect),
        )
}

/// The host whose pane is `dx` columns and `dy` rows away from the focused one in the grid,
/// if there is one (the grid fills rows left to right, so a row holds as many panes as share
/// the first pane's top edge).
pub fn neighbour(runs: &RunsState, screen: &ScreenLayout, dx: isize, dy: isize) -> Option<usize> {
    let cells = grid_cells(runs, screen);
    let first = cells.first()?;
    let cols = cells
        .iter()
        .filter(|(_, r)| r.y == first.1.y)
        .count()
        .max(1);
    let count = runs.host_count();
    let at = runs.cursor;
    let col = at.saturating_sub(first.0) % cols;
    let next_col = col as isize + dx;
    if next_col < 0 || next_col >= cols as isize {
        return None;
    }
    let to = at as isize + dx + dy * cols as isize;
    // Across pages is fine: the grid shows whichever page holds the focus.
    (to >= 0 && (to as usize) < count).then_some(to as usize)
}
