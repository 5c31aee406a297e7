//! Keymap actions in the Runs view. Everywhere in it: `[`/`]` select a run, `v` cycles the
//! layout, `s` toggles the grouped view, `r` reruns the failed hosts, `X` cancels and `p`
//! pauses or resumes (control.rs). The table moves its cursor and opens a host's pane
//! (enter); the panes scroll, follow, wrap, zoom, move the focus (h/j/k/l), and search (`/`,
//! n/N: search.rs); esc goes back to the table. Handlers take the view's state and the shell.

use super::control::{cancel, pause_or_resume};
use super::layout::{RunLayout, focused_viewport, neighbour, run_content, zoomed};
use super::search;
use super::state::RunsState;
use crate::ui::app::layout::ScreenLayout;
use crate::ui::app::model::{Model, View};
use crate::ui::app::msg::Effect;
use crate::ui::app::pane_keys::{move_cursor, scroll_pane};
use crate::ui::app::shell::Shell;
use crate::ui::keymap::Action;
use crate::ui::pane::{PaneState, Scrollback, Viewport, grouped_row_count, pane_viewport};

/// Handles `action` if the Runs view gives it a meaning; `None` leaves it to the global keys.
pub fn apply(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    if action == Action::RerunFailed {
        // A rerun reads the inventory and may open an action's form: more than this view.
        super::rerun::rerun_selected(model);
        return Some(Vec::new());
    }
    apply_here(&mut model.runs, &mut model.shell, action)
}

/// The Runs view's own actions: they need its state and the shell only.
fn apply_here(runs: &mut RunsState, shell: &mut Shell, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::CancelRun => return Some(cancel(runs, shell)),
        Action::PauseRun => return Some(pause_or_resume(runs, shell)),
        Action::PrevRun => select_run(runs, shell, 1),
        Action::NextRun => select_run(runs, shell, -1),
        Action::CycleLayout => set_layout(runs, shell, runs.layout.next()),
        Action::Grouped if runs.layout == RunLayout::Grouped => {
            set_layout(runs, shell, RunLayout::Grid);
        }
        Action::Grouped => set_layout(runs, shell, RunLayout::Grouped),
        _ if runs.layout == RunLayout::Table => return table(runs, shell, action),
        _ => return panes(runs, shell, action),
    }
    Some(Vec::new())
}

/// Ticks regroup the grouped view while it is on screen and output has changed (grouping
/// reads every line, so it is done about once a second, not per engine event).
pub fn on_tick(runs: &mut RunsState, view: View) {
    if view == View::Runs && runs.layout == RunLayout::Grouped {
        regroup_selected(runs);
    }
}

/// `[` (`step` 1, newer) and `]` (-1, older): the list shows the newest run first.
fn select_run(runs: &mut RunsState, shell: &mut Shell, step: isize) {
    let n = runs.list.len();
    if n == 0 {
        shell.info("no runs yet");
        return;
    }
    let to = runs.selected as isize + step;
    if to < 0 || to >= n as isize {
        let end = if step > 0 { "newest" } else { "oldest" };
        shell.info(format!("this is the {end} run"));
        return;
    }
    runs.selected = to as usize;
    runs.cursor = runs.cursor.min(runs.host_count().saturating_sub(1));
    if runs.layout == RunLayout::Grouped {
        regroup_selected(runs);
    }
}

fn set_layout(runs: &mut RunsState, shell: &mut Shell, layout: RunLayout) {
    if runs.selected_run().is_none() {
        shell.info("no runs yet: mark hosts in the fleet view, then `!`");
        return;
    }
    runs.layout = layout;
    if layout == RunLayout::Grouped {
        regroup_selected(runs);
    }
}

fn regroup_selected(runs: &mut RunsState) {
    if let Some(run) = runs.selected_run_mut() {
        run.regroup();
    }
}

fn table(runs: &mut RunsState, shell: &mut Shell, action: Action) -> Option<Vec<Effect>> {
    let hosts = runs.host_count();
    if move_cursor(&mut runs.cursor, hosts, shell.page_rows(), action) {
        return Some(Vec::new());
    }
    match action {
        Action::Filter => {
            shell.info("/ searches a pane: enter opens this host's output, v the grid");
        }
        // Enter: the host under the cursor, zoomed in the grid (esc comes back here).
        Action::Open if hosts > 0 => {
            runs.layout = RunLayout::Grid;
            if !zoomed(runs) {
                with_focused_pane(runs, PaneState::toggle_zoom);
            }
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn panes(runs: &mut RunsState, shell: &mut Shell, action: Action) -> Option<Vec<Effect>> {
    let layout = runs.layout;
    let screen = shell.layout;
    let grid_unzoomed = layout == RunLayout::Grid && !zoomed(runs);
    match action {
        Action::Back => {
            // Back to the table; the grid reopens unzoomed (`v`) or zoomed again (enter).
            if zoomed(runs) {
                with_focused_pane(runs, PaneState::toggle_zoom);
            }
            runs.layout = RunLayout::Table;
        }
        Action::Filter if layout == RunLayout::Grouped => {
            shell.info("search works in the grid and merged panes (v)");
        }
        Action::Filter => search::open(shell),
        Action::SearchNext => search::jump(runs, shell, true),
        Action::SearchPrev => search::jump(runs, shell, false),
        Action::Zoom if layout == RunLayout::Grid => {
            with_focused_pane(runs, PaneState::toggle_zoom);
        }
        Action::Zoom => {
            shell.info(format!(
                "zoom works in the grid; the {} view is one pane",
                layout.title()
            ));
        }
        Action::FocusLeft | Action::FocusRight => {
            let dx = if action == Action::FocusLeft { -1 } else { 1 };
            focus_sideways(runs, shell, dx);
        }
        Action::MoveDown if grid_unzoomed => focus_to(runs, neighbour(runs, &screen, 0, 1)),
        Action::MoveUp if grid_unzoomed => focus_to(runs, neighbour(runs, &screen, 0, -1)),
        _ if layout == RunLayout::Grouped => return grouped(runs, shell, action),
        _ => return scroll(runs, &screen, action),
    }
    Some(Vec::new())
}

/// h/l: the pane beside the focused one; zoomed, the previous or next host (zoomed too).
fn focus_sideways(runs: &mut RunsState, shell: &mut Shell, dx: isize) {
    match runs.layout {
        RunLayout::Grid if zoomed(runs) => {
            let to = runs.cursor as isize + dx;
            if to < 0 || to >= runs.host_count() as isize {
                return;
            }
            with_focused_pane(runs, PaneState::toggle_zoom);
            runs.cursor = to as usize;
            if !zoomed(runs) {
                with_focused_pane(runs, PaneState::toggle_zoom);
            }
        }
        RunLayout::Grid => focus_to(runs, neighbour(runs, &shell.layout, dx, 0)),
        other => {
            shell.info(format!(
                "the {} view is one pane; v switches layout",
                other.title()
            ));
        }
    }
}

fn focus_to(runs: &mut RunsState, to: Option<usize>) {
    if let Some(to) = to {
        runs.cursor = to;
    }
}

/// Scrolling, follow and wrap of the focused pane (the grid's, or the merged stream).
fn scroll(runs: &mut RunsState, screen: &ScreenLayout, action: Action) -> Option<Vec<Effect>> {
    let handled = with_target(runs, screen, |pane, sb, view| {
        scroll_pane(pane, sb, view, action)
    });
    handled.unwrap_or(false).then(Vec::new)
}

/// Scrolling the grouped view (a list of groups: no follow, wrap or search).
fn grouped(runs: &mut RunsState, shell: &mut Shell, action: Action) -> Option<Vec<Effect>> {
    let height = usize::from(pane_viewport(run_content(runs, &shell.layout)).height);
    let run = runs.selected_run_mut()?;
    let outputs: Vec<&Scrollback> = run.outputs.iter().collect();
    let rows = grouped_row_count(&run.groups, &outputs);
    let bottom = rows.saturating_sub(height);
    let half = (height / 2).max(1);
    let top = run.grouped_top.min(bottom);
    run.grouped_top = match action {
        Action::MoveDown => (top + 1).min(bottom),
        Action::MoveUp => top.saturating_sub(1),
        Action::HalfPageDown => (top + half).min(bottom),
        Action::HalfPageUp => top.saturating_sub(half),
        Action::Top => 0,
        Action::Bottom => bottom,
        Action::Follow | Action::Wrap => {
            shell.info("the grouped view lists whole outputs: follow and wrap work in the grid");
            top
        }
        _ => return None,
    };
    Some(Vec::new())
}

/// Runs `f` on the pane the keys act on: the focused host's in the grid, or the merged
/// stream's, with its scrollback and its size on screen. `None` without a run or pane.
pub(super) fn with_target<R>(
    runs: &mut RunsState,
    screen: &ScreenLayout,
    f: impl FnOnce(&mut PaneState, &Scrollback, Viewport) -> R,
) -> Option<R> {
    let layout = runs.layout;
    let view = match layout {
        RunLayout::Merged => pane_viewport(run_content(runs, screen)),
        _ => focused_viewport(runs, screen),
    };
    let host = runs.cursor;
    let run = runs.selected_run_mut()?;
    match layout {
        RunLayout::Merged => Some(f(&mut run.merged_pane, run.merged.scrollback(), view)),
        RunLayout::Grid => {
            let sb = run.outputs.get(host)?;
            let pane = run.panes.get_mut(host)?;
            Some(f(pane, sb, view))
        }
        RunLayout::Table | RunLayout::Grouped => None,
    }
}

fn with_focused_pane(runs: &mut RunsState, f: impl FnOnce(&mut PaneState)) {
    let host = runs.cursor;
    if let Some(pane) = runs.selected_run_mut().and_then(|r| r.panes.get_mut(host)) {
        f(pane);
    }
}
