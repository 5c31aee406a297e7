//! Runs in flight: `X` cancels (a queued run at once, a running one after a confirmation),
//! `p` pauses or resumes; and the news the event loop brings about them (engine events, the
//! queue's snapshots, a run that could not start). The loop performs the effects.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::RunsState;
use crate::engine::EngineEvent;
use crate::ui::app::msg::Effect;
use crate::ui::app::popup::{Confirm, ConfirmKind, Popup};
use crate::ui::app::shell::Shell;

/// `X`: takes a queued run out of the queue at once (nothing of it has run); asks before
/// cancelling a running one, whose commands are stopped mid-way.
pub fn cancel(runs: &RunsState, shell: &mut Shell) -> Vec<Effect> {
    match runs.selected_run() {
        Some(run) if run.is_queued() => {
            let id = run.id.clone();
            shell.info(format!(
                "run {id} removed from the queue: recorded as cancelled, nothing ran"
            ));
            vec![Effect::CancelRun(id)]
        }
        Some(run) if run.in_flight() => {
            let kind = ConfirmKind::CancelRun(run.id.clone());
            shell.open(Popup::Confirm(Confirm::simple(kind)));
            Vec::new()
        }
        Some(run) => {
            shell.info(format!("run {} has already ended", run.id));
            Vec::new()
        }
        None => {
            shell.info("no run to cancel");
            Vec::new()
        }
    }
}

/// Keys of the popup that asks before cancelling a running run: y / enter cancel it,
/// n / esc keep it running.
pub fn on_cancel_confirm_key(
    runs: &RunsState,
    shell: &mut Shell,
    key: KeyEvent,
    id: &str,
) -> Vec<Effect> {
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
    shell.close();
    // The run may have ended while the popup was open.
    let in_flight = runs.list.iter().any(|r| r.id == id && r.in_flight());
    if no || !in_flight {
        let note = if in_flight {
            format!("run {id} keeps running")
        } else {
            format!("run {id} has already ended")
        };
        shell.info(note);
        return Vec::new();
    }
    shell.info(format!(
        "cancelling run {id}: remote commands are being stopped"
    ));
    vec![Effect::CancelRun(id.to_string())]
}

/// `p`: pauses the selected running run (hosts already started finish, no new one starts),
/// or resumes it when paused.
pub fn pause_or_resume(runs: &mut RunsState, shell: &mut Shell) -> Vec<Effect> {
    let Some(run) = runs.selected_run_mut() else {
        shell.info("no run to pause");
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
    shell.info(note);
    effects
}

/// The queue as the event loop saw it just now: runs learn their place in it and whether
/// they are paused; a run found waiting says so (it did not start at once).
pub fn on_queue(runs: &mut RunsState, shell: &mut Shell, queue: &crate::engine::QueueSnapshot) {
    for run in &mut runs.list {
        if run.apply_queue(queue)
            && let Some((position, priority)) = run.queued
        {
            shell.info(format!(
                "run {} queued #{position} ({}): it starts when a running run ends",
                run.id,
                priority.as_str()
            ));
        }
    }
}

/// An event of run `id`; when it finishes, the message line says how it ended.
pub fn on_engine_event(runs: &mut RunsState, shell: &mut Shell, id: &str, event: &EngineEvent) {
    let Some(r) = runs.find_mut(id) else {
        return;
    };
    r.apply(event);
    if let EngineEvent::RunFinished { result } = event {
        let c = r.counts();
        runs.prune();
        let text = format!(
            "run {} {}: {} ok, {} failed",
            result.id, result.status, c.ok, c.failed
        );
        if c.failed > 0 {
            shell.error(text);
        } else {
            shell.info(text);
        }
    }
}

/// The run could not start (the error says why).
pub fn on_not_started(runs: &mut RunsState, shell: &mut Shell, id: &str, error: &str) {
    if let Some(r) = runs.find_mut(id) {
        r.start_error = Some(error.to_string());
    }
    shell.error(format!("run {id} did not start: {error}"));
}
