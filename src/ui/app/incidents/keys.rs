//! The Incidents view's keys: move, `/` filter, `s` grouping, enter opens the detail, esc
//! closes it; `a`, `r`, `n` open the prompt for the incident under the cursor (or the one
//! opened), whose enter asks the event loop to write (`Effect::WriteIncident`); `x` is the
//! runbook's fix (fix.rs), `A` the analysis (analysis.rs). And the messages the loop answers
//! with: a new frame, a write done or refused.

use std::sync::Arc;

use ratatui::crossterm::event::KeyEvent;

use super::state::IncidentsState;
use crate::engine::IncidentsFrame;
use crate::ui::app::model::Model;
use crate::ui::app::msg::{Effect, IncidentWrite};
use crate::ui::app::popup::{IncidentPrompt, Popup, PromptAct};
use crate::ui::app::shell::Shell;
use crate::ui::app::text_input::{Edit, TextInput};
use crate::ui::keymap::Action;

/// Most characters a comment or note typed in the console keeps (the book clips longer).
const MAX_TEXT: usize = 2_000;

/// Handles `action` if the Incidents view gives it a meaning; `None` leaves it to the
/// global keys.
pub fn apply(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let (s, shell) = (&mut model.incidents, &mut model.shell);
    let n = s.shown_count();
    match action {
        Action::MoveDown => s.cursor = (s.cursor + 1).min(n.saturating_sub(1)),
        Action::MoveUp => s.cursor = s.cursor.saturating_sub(1),
        Action::Top => s.cursor = 0,
        Action::Bottom => s.cursor = n.saturating_sub(1),
        Action::HalfPageDown => s.cursor = (s.cursor + 10).min(n.saturating_sub(1)),
        Action::HalfPageUp => s.cursor = s.cursor.saturating_sub(10),
        Action::Filter => shell.open(Popup::Filter),
        Action::CycleGrouping => {
            s.grouping = s.grouping.next();
            let keep = s.selected().map(|i| i.id.clone());
            s.rebuild(keep.as_deref());
            shell.info(format!("incidents grouped by {}", s.grouping.name()));
        }
        Action::Open => match s.selected() {
            Some(i) => s.open = Some(i.id.clone()),
            None => shell.info("no incident to open"),
        },
        Action::Back if s.open.is_some() => s.open = None,
        Action::Back if !s.filter.is_empty() => {
            s.filter.clear();
            s.rebuild(None);
        }
        Action::Acknowledge => prompt(s, shell, PromptAct::Ack),
        Action::ResolveIncident => prompt(s, shell, PromptAct::Resolve),
        Action::NoteIncident => prompt(s, shell, PromptAct::Note),
        Action::RunRunbook => super::fix::run_runbook(model),
        Action::AnalyseIncident => return Some(super::analysis::ask(model).into_iter().collect()),
        _ => return None,
    }
    Some(Vec::new())
}

/// The incident a write is about: the one opened, else the one under the cursor.
fn target(s: &IncidentsState) -> Option<&crate::incident::Incident> {
    s.opened().or_else(|| s.selected())
}

fn prompt(s: &IncidentsState, shell: &mut Shell, act: PromptAct) {
    let Some(incident) = target(s) else {
        shell.info("no incident selected");
        return;
    };
    if act != PromptAct::Note && !incident.state.is_active() {
        shell.error(format!("incident {} is resolved already", incident.id));
        return;
    }
    shell.open(Popup::Prompt(IncidentPrompt {
        act,
        id: incident.id.clone(),
        title: incident.title.clone(),
        input: TextInput::search(MAX_TEXT),
    }));
}

/// Keys while the prompt is open: enter writes (a note needs text), esc cancels.
pub fn on_prompt_key(shell: &mut Shell, key: &KeyEvent) -> Vec<Effect> {
    let Popup::Prompt(p) = &mut shell.popup else {
        return Vec::new();
    };
    match p.input.on_key(key) {
        Edit::Submit => {
            let text = p.input.text().trim().to_string();
            if p.act == PromptAct::Note && text.is_empty() {
                shell.error("the note is empty; type it, or esc");
                return Vec::new();
            }
            let write = IncidentWrite {
                id: p.id.clone(),
                act: p.act,
                text,
            };
            shell.close();
            shell.info(format!("{}: writing…", write.act.question().0));
            vec![Effect::WriteIncident(write)]
        }
        Edit::Cancel => {
            shell.close();
            Vec::new()
        }
        Edit::Changed | Edit::Ignored => Vec::new(),
    }
}

/// Keys while `/` edits the filter (the list narrows as it is typed).
pub fn on_filter_key(s: &mut IncidentsState, shell: &mut Shell, key: &KeyEvent) {
    match s.filter.on_key(key) {
        Edit::Ignored => return,
        Edit::Submit | Edit::Cancel => {
            shell.close();
        }
        Edit::Changed => {}
    }
    s.cursor = 0;
    s.rebuild(None);
}

/// `Msg::Incidents`.
pub fn on_frame(s: &mut IncidentsState, frame: Arc<IncidentsFrame>) {
    s.set_frame(frame);
}

/// `Msg::IncidentWritten`.
pub fn on_written(shell: &mut Shell, result: Result<String, String>) {
    match result {
        Ok(done) => shell.info(done),
        Err(e) => shell.error(e),
    }
}
