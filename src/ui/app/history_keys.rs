//! The History view's keys and messages: the run list (move, `/` filter, enter opens, `r`
//! reruns the failed hosts, `R` reloads), an opened run's host table and one host's recorded
//! output pane; and the answers of the loads the event loop performs.

use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::confirm;
use super::history::{HistoryPage, ListLoad, OpenRun, OutputLoad, RunOutput};
use super::model::{Message, Mode, Model};
use super::pane_keys::{is_pane_key, move_cursor, scroll_pane};
use super::update::Effect;
use crate::engine::{RunId, RunResult};
use crate::ui::keymap::Action;
use crate::ui::pane::{PaneState, pane_viewport};
use crate::ui::printers::run_summary::short_id;

/// Handles `action` if the History view gives it a meaning; `None` leaves it to the global
/// keys.
pub fn apply(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::Refresh => return Some(refresh(model)),
        Action::RerunFailed => return Some(rerun_failed(model)),
        Action::StartAction => {
            // The open run, else the one under the cursor.
            let run = match &model.history.open {
                Some(open) => Some(open.run.clone()),
                None => model.history.selected().cloned(),
            };
            match run {
                Some(run) => super::action_keys::from_history_run(model, &run),
                None => model.message = Some(Message::Info(no_runs_note(model))),
            }
            return Some(Vec::new());
        }
        _ => {}
    }
    match &model.history.open {
        Some(open) if open.pane_open => pane(model, action),
        Some(_) => hosts(model, action),
        None => list(model, action),
    }
}

/// The terminal's new size: the output pane scrolls by its real height.
pub fn on_resize(model: &mut Model, cols: u16, rows: u16) {
    let screen = ratatui::layout::Rect::new(0, 0, cols, rows);
    model.history.viewport = pane_viewport(super::views::history::pane_area(screen));
}

/// The view came on screen: the first time, its list is read.
pub fn on_view_shown(model: &mut Model) -> Vec<Effect> {
    if model.history.load == ListLoad::NotLoaded {
        refresh(model)
    } else {
        Vec::new()
    }
}

/// A console run finished (and is recorded): reload the list if it was ever read, so the
/// run shows the next time the view is looked at.
pub fn after_run_finished(model: &mut Model) -> Vec<Effect> {
    if model.history.load == ListLoad::NotLoaded {
        Vec::new()
    } else {
        refresh(model)
    }
}

fn refresh(model: &mut Model) -> Vec<Effect> {
    let h = &mut model.history;
    h.requested += 1;
    if h.load != ListLoad::Loaded {
        h.load = ListLoad::Loading;
    }
    vec![Effect::LoadHistory {
        request: h.requested,
    }]
}

/// `Msg::HistoryLoaded`: answers to anything but the newest request are stale and dropped.
pub fn on_loaded(model: &mut Model, request: u64, result: Result<HistoryPage, String>) {
    let h = &mut model.history;
    if request != h.requested {
        return;
    }
    match result {
        Ok(page) => {
            h.set_runs(page.runs);
            if let Some(first) = page.warnings.first() {
                let more = page.warnings.len() - 1;
                let text = if more > 0 {
                    format!("history: {first} (and {more} more)")
                } else {
                    format!("history: {first}")
                };
                model.message = Some(Message::Error(text));
            }
        }
        Err(e) => {
            // A list read earlier stays on screen; the error says why it is not fresh.
            if h.load != ListLoad::Loaded {
                h.load = ListLoad::Failed(e.clone());
            }
            model.message = Some(Message::Error(e));
        }
    }
}

/// `Msg::RunOutputLoaded`: kept only when that run is still the one open.
pub fn on_output_loaded(model: &mut Model, id: &RunId, output: Result<Arc<RunOutput>, String>) {
    let Some(open) = model.history.open.as_mut().filter(|o| o.run.id == *id) else {
        return;
    };
    match output {
        Ok(out) => {
            if let Some(w) = out.warnings.first() {
                model.message = Some(Message::Error(format!("run output: {w}")));
            }
            open.output = OutputLoad::Loaded(out);
        }
        Err(e) => {
            model.message = Some(Message::Error(e.clone()));
            open.output = OutputLoad::Failed(e);
        }
    }
}

/// Keys while `/` edits the filter (the list narrows as it is typed).
pub fn on_filter_key(model: &mut Model, key: KeyEvent) {
    let h = &mut model.history;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => {
            h.filter.clear();
            model.mode = Mode::Normal;
        }
        KeyCode::Char('c') if ctrl => {
            h.filter.clear();
            model.mode = Mode::Normal;
        }
        KeyCode::Enter => model.mode = Mode::Normal,
        KeyCode::Backspace => {
            h.filter.pop();
        }
        KeyCode::Char(c) if !ctrl => h.filter.push(c),
        _ => return,
    }
    h.cursor = 0;
    h.refilter();
}

fn list(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let h = &mut model.history;
    if move_cursor(&mut h.cursor, h.shown.len(), model.page_rows, action) {
        return Some(Vec::new());
    }
    match action {
        Action::Filter => {
            model.dispatcher.reset();
            model.mode = Mode::Filter;
        }
        Action::Open => return Some(open_selected(model)),
        // Back drops the filter; with none, it says how to quit (like the other views) rather
        // than clearing the fleet's filter or target, which this view does not show.
        Action::Back if !h.filter.is_empty() => {
            h.filter.clear();
            h.refilter();
        }
        Action::Back => {
            model.message = Some(Message::Info("Q, C-c or :q quits".to_string()));
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn open_selected(model: &mut Model) -> Vec<Effect> {
    let Some(run) = model.history.selected().cloned() else {
        model.message = Some(Message::Info(no_runs_note(model)));
        return Vec::new();
    };
    let id = run.id.clone();
    model.history.open = Some(OpenRun {
        run,
        host_cursor: 0,
        output: OutputLoad::Loading,
        pane_open: false,
        pane: PaneState::new(),
    });
    vec![Effect::LoadRunOutput(id)]
}

fn no_runs_note(model: &Model) -> String {
    if model.history.runs.is_empty() {
        "no runs recorded yet".to_string()
    } else {
        "no run matches the filter; esc clears it".to_string()
    }
}

fn hosts(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let open = model.history.open.as_mut()?;
    let hosts = open.run.hosts.len();
    if move_cursor(&mut open.host_cursor, hosts, model.page_rows, action) {
        return Some(Vec::new());
    }
    match action {
        Action::Open if !open.run.hosts.is_empty() => {
            open.pane_open = true;
            open.pane = PaneState::new();
        }
        Action::Back => model.history.open = None,
        _ => return None,
    }
    Some(Vec::new())
}

fn pane(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let view = model.history.viewport;
    let open = model.history.open.as_mut()?;
    if action == Action::Back {
        open.pane_open = false;
        return Some(Vec::new());
    }
    let OpenRun {
        run,
        host_cursor,
        output,
        pane,
        ..
    } = open;
    let host = run.hosts.get(*host_cursor).map(|h| h.host.as_str());
    let sb = match (output, host) {
        (OutputLoad::Loaded(out), Some(host)) => out.get(host),
        _ => None,
    };
    let Some(sb) = sb else {
        // Nothing to scroll (no output recorded, or not loaded yet): scroll keys do nothing.
        return is_pane_key(action).then(Vec::new);
    };
    scroll_pane(pane, sb, view, action).then(Vec::new)
}

/// `r`: the open run, else the one under the cursor, again on the hosts that did not end
/// ok, through the usual confirmation.
fn rerun_failed(model: &mut Model) -> Vec<Effect> {
    let run: Option<RunResult> = match &model.history.open {
        Some(open) => Some(open.run.clone()),
        None => model.history.selected().cloned(),
    };
    let Some(run) = run else {
        model.message = Some(Message::Info(no_runs_note(model)));
        return Vec::new();
    };
    let hosts = run.rerun_targets(&model.inventory);
    if hosts.is_empty() {
        model.message = Some(Message::Info(format!(
            "nothing to rerun: every host of run {} ended ok",
            short_id(&run.id)
        )));
        return Vec::new();
    }
    if run.action.is_some() {
        super::action_keys::rerun_action(model, &run, hosts);
        return Vec::new();
    }
    confirm::ask_rerun_on(model, hosts, &run.command, &run.id);
    Vec::new()
}
