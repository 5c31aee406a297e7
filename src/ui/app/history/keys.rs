//! The History view's keys and messages: the run list (move, `/` filter, enter opens, `r`
//! reruns the failed hosts, `R` reloads), an opened run's host table and one host's recorded
//! output pane; and the answers of the loads the event loop performs. Handlers take the
//! view's state and the shell; `r` and `a` reach further (the inventory, the Actions form).

use std::sync::Arc;

use ratatui::crossterm::event::KeyEvent;

use super::state::{HistoryPage, HistoryState, ListLoad, OpenRun, OutputLoad, RunOutput};
use crate::engine::{RunId, RunResult};
use crate::ui::app::confirm;
use crate::ui::app::model::Model;
use crate::ui::app::msg::Effect;
use crate::ui::app::pane_keys::{is_pane_key, move_cursor, scroll_pane};
use crate::ui::app::popup::Popup;
use crate::ui::app::shell::Shell;
use crate::ui::app::text_input::Edit;
use crate::ui::keymap::Action;
use crate::ui::pane::{PaneState, pane_viewport};
use crate::ui::printers::run_summary::short_id;

/// Handles `action` if the History view gives it a meaning; `None` leaves it to the global
/// keys.
pub fn apply(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::Refresh => return Some(refresh(&mut model.history)),
        Action::RerunFailed => return Some(rerun_failed(model)),
        Action::StartAction => {
            match chosen_run(&model.history) {
                Some(run) => crate::ui::app::actions::keys::from_history_run(model, &run),
                None => model.shell.info(no_runs_note(&model.history)),
            }
            return Some(Vec::new());
        }
        _ => {}
    }
    let (h, shell) = (&mut model.history, &mut model.shell);
    match &h.open {
        Some(open) if open.pane_open => pane(h, shell, action),
        Some(_) => hosts(h, shell, action),
        None => list(h, shell, action),
    }
}

/// The open run, else the one under the cursor.
fn chosen_run(h: &HistoryState) -> Option<RunResult> {
    match &h.open {
        Some(open) => Some(open.run.clone()),
        None => h.selected().cloned(),
    }
}

/// The view came on screen: the first time, its list is read.
pub fn on_view_shown(h: &mut HistoryState) -> Vec<Effect> {
    if h.load == ListLoad::NotLoaded {
        refresh(h)
    } else {
        Vec::new()
    }
}

/// A console run finished (and is recorded): reload the list if it was ever read, so the
/// run shows the next time the view is looked at.
pub fn after_run_finished(h: &mut HistoryState) -> Vec<Effect> {
    if h.load == ListLoad::NotLoaded {
        Vec::new()
    } else {
        refresh(h)
    }
}

fn refresh(h: &mut HistoryState) -> Vec<Effect> {
    h.requested += 1;
    if h.load != ListLoad::Loaded {
        h.load = ListLoad::Loading;
    }
    vec![Effect::LoadHistory {
        request: h.requested,
    }]
}

/// `Msg::HistoryLoaded`: answers to anything but the newest request are stale and dropped.
pub fn on_loaded(
    h: &mut HistoryState,
    shell: &mut Shell,
    request: u64,
    result: Result<HistoryPage, String>,
) {
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
                shell.error(text);
            }
        }
        Err(e) => {
            // A list read earlier stays on screen; the error says why it is not fresh.
            if h.load != ListLoad::Loaded {
                h.load = ListLoad::Failed(e.clone());
            }
            shell.error(e);
        }
    }
}

/// `Msg::RunOutputLoaded`: kept only when that run is still the one open.
pub fn on_output_loaded(
    h: &mut HistoryState,
    shell: &mut Shell,
    id: &RunId,
    output: Result<Arc<RunOutput>, String>,
) {
    let Some(open) = h.open.as_mut().filter(|o| o.run.id == *id) else {
        return;
    };
    match output {
        Ok(out) => {
            if let Some(w) = out.warnings.first() {
                shell.error(format!("run output: {w}"));
            }
            open.output = OutputLoad::Loaded(out);
        }
        Err(e) => {
            shell.error(e.clone());
            open.output = OutputLoad::Failed(e);
        }
    }
}

/// Keys while `/` edits the filter (the list narrows as it is typed).
pub fn on_filter_key(h: &mut HistoryState, shell: &mut Shell, key: &KeyEvent) {
    match h.filter.on_key(key) {
        Edit::Ignored => return,
        Edit::Submit | Edit::Cancel => {
            shell.close();
        }
        Edit::Changed => {}
    }
    h.cursor = 0;
    h.refilter();
}

fn list(h: &mut HistoryState, shell: &mut Shell, action: Action) -> Option<Vec<Effect>> {
    if move_cursor(&mut h.cursor, h.shown.len(), shell.page_rows(), action) {
        return Some(Vec::new());
    }
    match action {
        Action::Filter => shell.open(Popup::Filter),
        Action::Open => return Some(open_selected(h, shell)),
        // Back drops the filter; with none, it says how to quit (like the other views) rather
        // than clearing the fleet's filter or target, which this view does not show.
        Action::Back if !h.filter.is_empty() => {
            h.filter.clear();
            h.refilter();
        }
        Action::Back => shell.info("Q, C-c or :q quits"),
        _ => return None,
    }
    Some(Vec::new())
}

fn open_selected(h: &mut HistoryState, shell: &mut Shell) -> Vec<Effect> {
    let Some(run) = h.selected().cloned() else {
        shell.info(no_runs_note(h));
        return Vec::new();
    };
    let id = run.id.clone();
    h.open = Some(OpenRun {
        run,
        host_cursor: 0,
        output: OutputLoad::Loading,
        pane_open: false,
        pane: PaneState::new(),
    });
    vec![Effect::LoadRunOutput(id)]
}

fn no_runs_note(h: &HistoryState) -> String {
    if h.runs.is_empty() {
        "no runs recorded yet".to_string()
    } else {
        "no run matches the filter; esc clears it".to_string()
    }
}

fn hosts(h: &mut HistoryState, shell: &mut Shell, action: Action) -> Option<Vec<Effect>> {
    let open = h.open.as_mut()?;
    let hosts = open.run.hosts.len();
    if move_cursor(&mut open.host_cursor, hosts, shell.page_rows(), action) {
        return Some(Vec::new());
    }
    match action {
        Action::Open if !open.run.hosts.is_empty() => {
            open.pane_open = true;
            open.pane = PaneState::new();
        }
        Action::Back => h.open = None,
        _ => return None,
    }
    Some(Vec::new())
}

fn pane(h: &mut HistoryState, shell: &mut Shell, action: Action) -> Option<Vec<Effect>> {
    // The pane scrolls by the size it is drawn at.
    let view = pane_viewport(shell.layout.history().content);
    let open = h.open.as_mut()?;
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
    let Some(run) = chosen_run(&model.history) else {
        model.shell.info(no_runs_note(&model.history));
        return Vec::new();
    };
    let hosts = run.rerun_targets(&model.inventory);
    if hosts.is_empty() {
        model.shell.info(format!(
            "nothing to rerun: every host of run {} ended ok",
            short_id(&run.id)
        ));
        return Vec::new();
    }
    if run.action.is_some() {
        crate::ui::app::actions::keys::rerun_action(model, &run, hosts);
        return Vec::new();
    }
    confirm::ask_rerun_on(model, hosts, &run.command, &run.id);
    Vec::new()
}
