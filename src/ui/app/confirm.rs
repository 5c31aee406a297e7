//! Confirmation popups: before a run (host count, folded node set, environments; protected
//! environments need their name typed) and before quitting with runs in flight.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{Model, View};
use super::msg::Effect;
use super::popup::{Confirm, ConfirmKind, Popup};
use super::runs::RunStart;
use crate::action::TargetEnvs;
use crate::engine::new_run_id;
use crate::inventory::Host;
use crate::inventory::nodeset::fold;

/// `:run CMD` / `!`: asks to run `command` on the marked hosts, or the shown ones if none
/// are marked.
pub fn ask_run(model: &mut Model, command: &str) {
    let command = command.trim();
    if command.is_empty() {
        model.shell.error(":run needs a command, e.g. :run uptime");
        return;
    }
    let hosts: Vec<Host> = if model.fleet.marked.is_empty() {
        model.shown_hosts().cloned().collect()
    } else {
        let hosts = model.inventory.hosts();
        hosts
            .iter()
            .filter(|h| model.fleet.marked.contains(&h.name))
            .cloned()
            .collect()
    };
    if hosts.is_empty() {
        model
            .shell
            .error(":run: no hosts shown or marked; clear the filter (esc) or :target");
        return;
    }
    ask_run_on(model, hosts, command);
}

/// Asks to run `command` on exactly `hosts` (a rerun of failed hosts from the Runs or
/// History view, or the marked hosts): the same popup and protected-env check as `:run`.
pub fn ask_run_on(model: &mut Model, hosts: Vec<Host>, command: &str) {
    let command = command.trim();
    if hosts.is_empty() || command.is_empty() {
        model.shell.error("nothing to run: no hosts or no command");
        return;
    }
    let envs = TargetEnvs::of(&hosts, &model.protected_envs);
    let start = RunStart {
        id: new_run_id(),
        selector: fold(hosts.iter().map(|h| h.name.as_str())),
        hosts,
        command: command.to_string(),
        prepared: None,
        rerun_of: None,
        for_incidents: Vec::new(),
    };
    model.shell.open(Popup::Confirm(Confirm {
        kind: ConfirmKind::Run(start),
        required: envs.typed_confirmation(None),
        envs: envs.all,
        typed: String::new(),
    }));
}

/// [`ask_run_on`] for a rerun of run `of`, which the audit trail then names.
pub fn ask_rerun_on(model: &mut Model, hosts: Vec<Host>, command: &str, of: &str) {
    ask_run_on(model, hosts, command);
    if let Popup::Confirm(Confirm {
        kind: ConfirmKind::Run(start),
        ..
    }) = &mut model.shell.popup
    {
        start.rerun_of = Some(of.to_string());
    }
}

/// `Q` / `:q`: quits at once, or asks first while runs are in flight.
pub fn ask_quit(model: &mut Model) -> Vec<Effect> {
    if model.runs_in_flight() == 0 {
        model.shell.quit = true;
        return vec![Effect::Quit];
    }
    model
        .shell
        .open(Popup::Confirm(Confirm::simple(ConfirmKind::Quit)));
    Vec::new()
}

pub fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let Popup::Confirm(confirm) = &mut model.shell.popup else {
        return Vec::new();
    };
    if let ConfirmKind::CancelRun(id) = &confirm.kind {
        let id = id.clone();
        return super::runs::control::on_cancel_confirm_key(
            &model.runs,
            &mut model.shell,
            key,
            &id,
        );
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let cancel = key.code == KeyCode::Esc || (ctrl && key.code == KeyCode::Char('c'));
    if cancel {
        return close(model, "cancelled: nothing was run");
    }
    let quit = confirm.kind == ConfirmKind::Quit;
    match (quit, confirm.required.clone()) {
        (true, _) => match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                model.shell.close();
                model.shell.quit = true;
                vec![Effect::Quit]
            }
            KeyCode::Char('n' | 'N' | 'q') => close(model, "not quitting"),
            _ => Vec::new(),
        },
        (false, Some(required)) => {
            match key.code {
                // Enter does nothing until the typed text matches: a reflex press cannot
                // run on a protected environment.
                KeyCode::Enter if confirm.typed == required => return start(model),
                KeyCode::Backspace => {
                    confirm.typed.pop();
                }
                KeyCode::Char(c) if !ctrl => confirm.typed.push(c),
                _ => {}
            }
            Vec::new()
        }
        (false, None) => match key.code {
            KeyCode::Enter | KeyCode::Char('y' | 'Y') => start(model),
            KeyCode::Char('n' | 'N' | 'q') => close(model, "cancelled: nothing was run"),
            _ => Vec::new(),
        },
    }
}

fn close(model: &mut Model, note: &str) -> Vec<Effect> {
    model.shell.close();
    model.shell.info(note);
    Vec::new()
}

/// The run is confirmed: it shows in the Runs view at once and the loop starts the engine.
fn start(model: &mut Model) -> Vec<Effect> {
    let Popup::Confirm(Confirm {
        kind: ConfirmKind::Run(start),
        ..
    }) = model.shell.close()
    else {
        return Vec::new();
    };
    if start.prepared.is_some() {
        // The action's form has done its work; its secrets leave with it.
        model.actions.form = None;
    }
    model.runs.add(&start);
    if !start.for_incidents.is_empty() {
        model
            .incidents
            .fixes
            .insert(start.id.clone(), start.for_incidents.clone());
    }
    model.shell.view = View::Runs;
    model.shell.info(format!(
        "run {} started on {} hosts",
        start.id,
        start.hosts.len()
    ));
    vec![Effect::StartRun(start)]
}
