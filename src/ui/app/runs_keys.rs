//! Keymap actions in the Runs view. Everywhere in it: `[`/`]` select a run, `v` cycles the
//! layout, `s` toggles the grouped view, `r` reruns the failed hosts, `X` cancels (a queued
//! run at once, a running one after a confirmation), `p` pauses or resumes. The table
//! moves its cursor and opens a host's pane (enter); the panes scroll, follow, wrap, zoom,
//! move the focus (h/j/k/l), and search (`/`, n/N); esc goes back to the table. Also the
//! queue's snapshots, which tell the runs whether they wait or are paused.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{Confirm, ConfirmKind, Message, Mode, Model};
use super::pane_keys::{move_cursor, scroll_pane};
use super::run_layout::{RunLayout, focused_viewport, neighbour, run_content, zoomed};
use super::run_rerun::rerun_selected;
use super::run_search;
use super::update::Effect;
use crate::ui::keymap::Action;
use crate::ui::pane::{PaneState, Scrollback, Viewport, grouped_row_count, pane_viewport};

/// Handles `action` if the Runs view gives it a meaning; `None` leaves it to the global keys.
pub fn apply(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::CancelRun => return Some(cancel(model)),
        Action::PauseRun => return Some(pause_or_resume(model)),
        Action::RerunFailed => {
            rerun_selected(model);
            return Some(Vec::new());
        }
        Action::PrevRun => select_run(model, 1),
        Action::NextRun => select_run(model, -1),
        Action::CycleLayout => set_layout(model, model.run_layout.next()),
        Action::Grouped if model.run_layout == RunLayout::Grouped => {
            set_layout(model, RunLayout::Grid);
        }
        Action::Grouped => set_layout(model, RunLayout::Grouped),
        _ if model.run_layout == RunLayout::Table => return table(model, action),
        _ => return panes(model, action),
    }
    Some(Vec::new())
}

/// Ticks regroup the grouped view while it is on screen and output has changed (grouping
/// reads every line, so it is done about once a second, not per engine event).
pub fn on_tick(model: &mut Model) {
    if model.view == super::model::View::Runs && model.run_layout == RunLayout::Grouped {
        let selected = model.run_selected;
        if let Some(run) = model.runs.get_mut(selected) {
            run.regroup();
        }
    }
}

/// `[` (`step` 1, newer) and `]` (-1, older): the list shows the newest run first.
fn select_run(model: &mut Model, step: isize) {
    let n = model.runs.len();
    if n == 0 {
        model.message = Some(Message::Info("no runs yet".to_string()));
        return;
    }
    let to = model.run_selected as isize + step;
    if to < 0 || to >= n as isize {
        let end = if step > 0 { "newest" } else { "oldest" };
        model.message = Some(Message::Info(format!("this is the {end} run")));
        return;
    }
    model.run_selected = to as usize;
    let hosts = model.selected_run().map_or(0, |r| r.hosts.len());
    model.run_cursor = model.run_cursor.min(hosts.saturating_sub(1));
    if model.run_layout == RunLayout::Grouped {
        regroup_selected(model);
    }
}

fn set_layout(model: &mut Model, layout: RunLayout) {
    if model.selected_run().is_none() {
        model.message = Some(Message::Info(
            "no runs yet: mark hosts in the fleet view, then `!`".to_string(),
        ));
        return;
    }
    model.run_layout = layout;
    if layout == RunLayout::Grouped {
        regroup_selected(model);
    }
}

fn regroup_selected(model: &mut Model) {
    let selected = model.run_selected;
    if let Some(run) = model.runs.get_mut(selected) {
        run.regroup();
    }
}

fn table(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let hosts = model.selected_run().map_or(0, |r| r.hosts.len());
    if move_cursor(&mut model.run_cursor, hosts, model.page_rows, action) {
        return Some(Vec::new());
    }
    match action {
        Action::Filter => {
            model.message = Some(Message::Info(
                "/ searches a pane: enter opens this host's output, v the grid".to_string(),
            ));
        }
        // Enter: the host under the cursor, zoomed in the grid (esc comes back here).
        Action::Open if hosts > 0 => {
            model.run_layout = RunLayout::Grid;
            if !zoomed(model) {
                with_focused_pane(model, |p| p.toggle_zoom());
            }
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn panes(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let layout = model.run_layout;
    let grid_unzoomed = layout == RunLayout::Grid && !zoomed(model);
    match action {
        Action::Back => {
            // Back to the table; the grid reopens unzoomed (`v`) or zoomed again (enter).
            if zoomed(model) {
                with_focused_pane(model, |p| p.toggle_zoom());
            }
            model.run_layout = RunLayout::Table;
        }
        Action::Filter if layout == RunLayout::Grouped => {
            model.message = Some(Message::Info(
                "search works in the grid and merged panes (v)".to_string(),
            ));
        }
        Action::Filter => run_search::open(model),
        Action::SearchNext => run_search::jump(model, true),
        Action::SearchPrev => run_search::jump(model, false),
        Action::Zoom if layout == RunLayout::Grid => {
            with_focused_pane(model, |p| p.toggle_zoom());
        }
        Action::Zoom => {
            model.message = Some(Message::Info(format!(
                "zoom works in the grid; the {} view is one pane",
                layout.title()
            )));
        }
        Action::FocusLeft | Action::FocusRight => {
            let dx = if action == Action::FocusLeft { -1 } else { 1 };
            focus_sideways(model, dx);
        }
        Action::MoveDown if grid_unzoomed => focus_to(model, neighbour(model, 0, 1)),
        Action::MoveUp if grid_unzoomed => focus_to(model, neighbour(model, 0, -1)),
        _ if layout == RunLayout::Grouped => return grouped(model, action),
        _ => return scroll(model, action),
    }
    Some(Vec::new())
}

/// h/l: the pane beside the focused one; zoomed, the previous or next host (zoomed too).
fn focus_sideways(model: &mut Model, dx: isize) {
    match model.run_layout {
        RunLayout::Grid if zoomed(model) => {
            let hosts = model.selected_run().map_or(0, |r| r.hosts.len());
            let to = model.run_cursor as isize + dx;
            if to < 0 || to >= hosts as isize {
                return;
            }
            with_focused_pane(model, |p| p.toggle_zoom());
            model.run_cursor = to as usize;
            if !zoomed(model) {
                with_focused_pane(model, |p| p.toggle_zoom());
            }
        }
        RunLayout::Grid => focus_to(model, neighbour(model, dx, 0)),
        other => {
            model.message = Some(Message::Info(format!(
                "the {} view is one pane; v switches layout",
                other.title()
            )));
        }
    }
}

fn focus_to(model: &mut Model, to: Option<usize>) {
    if let Some(to) = to {
        model.run_cursor = to;
    }
}

/// Scrolling, follow and wrap of the focused pane (the grid's, or the merged stream).
fn scroll(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let handled = with_target(model, |pane, sb, view| scroll_pane(pane, sb, view, action));
    handled.unwrap_or(false).then(Vec::new)
}

/// Scrolling the grouped view (a list of groups: no follow, wrap or search).
fn grouped(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let height = usize::from(pane_viewport(run_content(model)).height);
    let selected = model.run_selected;
    let run = model.runs.get_mut(selected)?;
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
            model.message = Some(Message::Info(
                "the grouped view lists whole outputs: follow and wrap work in the grid".into(),
            ));
            top
        }
        _ => return None,
    };
    Some(Vec::new())
}

/// Runs `f` on the pane the keys act on: the focused host's in the grid, or the merged
/// stream's, with its scrollback and its size on screen. `None` without a run or pane.
pub(super) fn with_target<R>(
    model: &mut Model,
    f: impl FnOnce(&mut PaneState, &Scrollback, Viewport) -> R,
) -> Option<R> {
    let layout = model.run_layout;
    let view = match layout {
        RunLayout::Merged => pane_viewport(run_content(model)),
        _ => focused_viewport(model),
    };
    let (selected, host) = (model.run_selected, model.run_cursor);
    let run = model.runs.get_mut(selected)?;
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

fn with_focused_pane(model: &mut Model, f: impl FnOnce(&mut PaneState)) {
    let (selected, host) = (model.run_selected, model.run_cursor);
    if let Some(pane) = model
        .runs
        .get_mut(selected)
        .and_then(|r| r.panes.get_mut(host))
    {
        f(pane);
    }
}

/// `X`: takes a queued run out of the queue at once (nothing of it has run); asks before
/// cancelling a running one, whose commands are stopped mid-way.
fn cancel(model: &mut Model) -> Vec<Effect> {
    match model.selected_run() {
        Some(run) if run.is_queued() => {
            let id = run.id.clone();
            model.message = Some(Message::Info(format!(
                "run {id} removed from the queue: recorded as cancelled, nothing ran"
            )));
            vec![Effect::CancelRun(id)]
        }
        Some(run) if run.in_flight() => {
            let id = run.id.clone();
            model.dispatcher.reset();
            model.confirm = Some(Confirm {
                kind: ConfirmKind::CancelRun(id),
                envs: Vec::new(),
                required: None,
                typed: String::new(),
            });
            model.mode = Mode::Confirm;
            Vec::new()
        }
        Some(run) => {
            model.message = Some(Message::Info(format!("run {} has already ended", run.id)));
            Vec::new()
        }
        None => {
            model.message = Some(Message::Info("no run to cancel".to_string()));
            Vec::new()
        }
    }
}

/// Keys of the popup that asks before cancelling a running run: y / enter cancel it,
/// n / esc keep it running.
pub(super) fn on_cancel_confirm_key(model: &mut Model, key: KeyEvent, id: &str) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let (yes, no) = match key.code {
        KeyCode::Char('y' | 'Y') | KeyCode::Enter => (true, false),
        KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => (false, true),
        KeyCode::Char('c') if ctrl => (false, true),
        _ => (false, false),
    };
    if !yes && !no {
        return Vec::new();
    }
    model.confirm = None;
    model.mode = Mode::Normal;
    // The run may have ended while the popup was open.
    let in_flight = model.runs.iter().any(|r| r.id == id && r.in_flight());
    if no || !in_flight {
        let note = if in_flight {
            format!("run {id} keeps running")
        } else {
            format!("run {id} has already ended")
        };
        model.message = Some(Message::Info(note));
        return Vec::new();
    }
    model.message = Some(Message::Info(format!(
        "cancelling run {id}: remote commands are being stopped"
    )));
    vec![Effect::CancelRun(id.to_string())]
}

/// `p`: pauses the selected running run (hosts already started finish, no new one starts),
/// or resumes it when paused.
fn pause_or_resume(model: &mut Model) -> Vec<Effect> {
    let selected = model.run_selected;
    let Some(run) = model.runs.get_mut(selected) else {
        model.message = Some(Message::Info("no run to pause".to_string()));
        return Vec::new();
    };
    let id = run.id.clone();
    let (note, effects) = if let Some((position, _)) = run.queued.filter(|_| run.in_flight()) {
        (
            format!("run {id} is queued (#{position}): only a running run pauses; X removes it"),
            Vec::new(),
        )
    } else if !run.in_flight() {
        (format!("run {id} has already ended"), Vec::new())
    } else if run.paused {
        run.paused = false;
        (format!("resuming run {id}"), vec![Effect::ResumeRun(id)])
    } else {
        run.paused = true;
        (
            format!("pausing run {id}: hosts already started finish, no new host starts until p"),
            vec![Effect::PauseRun(id)],
        )
    };
    model.message = Some(Message::Info(note));
    effects
}

/// The queue as the event loop saw it just now: runs learn their place in it and whether
/// they are paused; a run found waiting says so (it did not start at once).
pub fn on_queue(model: &mut Model, queue: &crate::engine::QueueSnapshot) {
    for run in &mut model.runs {
        if run.apply_queue(queue)
            && let Some((position, priority)) = run.queued
        {
            model.message = Some(Message::Info(format!(
                "run {} queued #{position} ({}): it starts when a running run ends",
                run.id,
                priority.as_str()
            )));
        }
    }
}
