//! Keymap actions in the Runs view: the host table (move, enter opens a host's output, `X`
//! cancels the run) and the open output pane (scroll, `f`/`G` follow, `w` wrap, esc closes).

use super::model::{Message, Model};
use super::update::Effect;
use crate::ui::keymap::Action;
use crate::ui::pane::PaneState;

/// Handles `action` if the Runs view gives it a meaning; `None` leaves it to the global keys.
pub fn apply(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    if action == Action::CancelRun {
        return Some(cancel(model));
    }
    if model.pane_open {
        pane(model, action)
    } else {
        table(model, action)
    }
}

fn table(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let hosts = model.selected_run().map_or(0, |r| r.hosts.len());
    let last = hosts.saturating_sub(1);
    let half = (model.page_rows / 2).max(1);
    match action {
        Action::MoveDown => model.run_cursor = (model.run_cursor + 1).min(last),
        Action::MoveUp => model.run_cursor = model.run_cursor.saturating_sub(1),
        Action::Top => model.run_cursor = 0,
        Action::Bottom => model.run_cursor = last,
        Action::HalfPageDown => model.run_cursor = (model.run_cursor + half).min(last),
        Action::HalfPageUp => model.run_cursor = model.run_cursor.saturating_sub(half),
        Action::Open if hosts > 0 => {
            model.pane_open = true;
            model.pane = PaneState::new();
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn pane(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let view = model.pane_viewport;
    let half = usize::from(view.height / 2).max(1);
    let (cursor, pane) = (model.run_cursor, &mut model.pane);
    let Some(sb) = model
        .runs
        .get(model.run_selected)
        .and_then(|r| r.outputs.get(cursor))
    else {
        model.pane_open = false;
        return None;
    };
    match action {
        Action::Back => model.pane_open = false,
        Action::Follow => pane.toggle_follow(sb, view),
        // `G` resumes following, like less +F.
        Action::Bottom => pane.follow(),
        Action::Top => pane.scroll_to_top(sb, view),
        Action::MoveDown => pane.scroll_down(sb, view, 1),
        Action::MoveUp => pane.scroll_up(sb, view, 1),
        Action::HalfPageDown => pane.scroll_down(sb, view, half),
        Action::HalfPageUp => pane.scroll_up(sb, view, half),
        Action::Wrap => pane.toggle_wrap(sb, view),
        _ => return None,
    }
    Some(Vec::new())
}

/// `X`: cancels the run shown, if the engine is still on it.
fn cancel(model: &mut Model) -> Vec<Effect> {
    match model.selected_run() {
        Some(run) if run.in_flight() => {
            let id = run.id.clone();
            model.message = Some(Message::Info(format!(
                "cancelling run {id}: remote commands are being stopped"
            )));
            vec![Effect::CancelRun(id)]
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
