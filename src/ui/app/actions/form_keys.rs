//! The parameter form's keys: typing goes to the focused field; tab / shift-tab or up/down
//! move between fields, left/right (and space) choose in pickers, C-u clears a field, enter
//! submits, esc closes. Submitting asks through the usual confirmation, with the action's
//! blast radius (every confirmation level shows it).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::{ActionsState, PreparedRun};
use crate::action::Confirm as Level;
use crate::action::TargetEnvs;
use crate::engine::new_run_id;
use crate::ui::app::msg::Effect;
use crate::ui::app::popup::{Confirm, ConfirmKind, Popup};
use crate::ui::app::runs::RunStart;
use crate::ui::app::shell::{Message, Shell};

/// Keys while the parameter form is open: they go to the form, never to the keymap.
pub fn on_form_key(
    actions: &mut ActionsState,
    shell: &mut Shell,
    protected_envs: &[String],
    key: KeyEvent,
) -> Vec<Effect> {
    let Some(form) = actions.form.as_mut() else {
        return Vec::new();
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => return close(actions, shell),
        KeyCode::Char('c') if ctrl => return close(actions, shell),
        KeyCode::Enter => return submit(actions, shell, protected_envs),
        KeyCode::Tab | KeyCode::Down => {
            form.focus_next(1);
            return Vec::new();
        }
        KeyCode::BackTab | KeyCode::Up => {
            form.focus_next(-1);
            return Vec::new();
        }
        KeyCode::Left => {
            form.cycle(-1);
        }
        KeyCode::Right => {
            form.cycle(1);
        }
        KeyCode::Char(' ') if form.is_picker() => {
            form.cycle(1);
        }
        KeyCode::Char('u') if ctrl => form.clear(),
        KeyCode::Backspace => form.backspace(),
        // A picker takes only its choices: typed text would be a value it cannot hold.
        KeyCode::Char(_) if form.is_picker() => return Vec::new(),
        KeyCode::Char(c) if !ctrl => form.type_char(c),
        _ => return Vec::new(),
    }
    let settings = &actions.settings;
    if let Some(form) = actions.form.as_mut() {
        form.refresh(settings);
    }
    // A refused submit's message describes values that have just changed: the fields and
    // the preview say what holds now.
    if matches!(&shell.message, Some(Message::Error(t)) if t.starts_with("cannot run")) {
        shell.clear_message();
    }
    Vec::new()
}

fn close(actions: &mut ActionsState, shell: &mut Shell) -> Vec<Effect> {
    actions.form = None;
    shell.info("form closed: nothing was run");
    Vec::new()
}

/// Enter in the form: with valid values, the confirmation with the blast radius (every
/// confirmation level shows it, `none` included); otherwise what is wrong.
fn submit(actions: &mut ActionsState, shell: &mut Shell, protected_envs: &[String]) -> Vec<Effect> {
    let Some(form) = actions.form.as_mut() else {
        return Vec::new();
    };
    let plan = match form.build(&actions.settings, Some(new_run_id())) {
        Ok(plan) => plan,
        Err(e) => {
            if let Some(i) = form.first_invalid() {
                form.focus = i;
            }
            let n = e.problems.len();
            let first = e
                .problems
                .first()
                .map(|p| form.problem_text(p))
                .unwrap_or_default();
            let more = if n > 1 {
                format!(" (and {} more)", n - 1)
            } else {
                String::new()
            };
            shell.error(format!(
                "cannot run `{}`: {first}{more}",
                form.template.name
            ));
            return Vec::new();
        }
    };
    if plan.request.targets.is_empty() {
        shell.error(format!(
            "`{}` applies to none of the {} hosts (the preview lists why); mark others or :target",
            form.template.name,
            plan.refused.len()
        ));
        return Vec::new();
    }
    let envs = TargetEnvs::of(&plan.request.targets, protected_envs);
    let typed_name = (plan.confirm == Level::Typed).then_some(form.template.name.as_str());
    let required = envs.typed_confirmation(typed_name);
    let request = &plan.request;
    let rerun_of = form.rerun_of.clone();
    let start = RunStart {
        id: request.id.clone(),
        hosts: request.targets.clone(),
        selector: request.selector.clone(),
        command: request.display_command.clone(),
        prepared: Some(PreparedRun::new(plan)),
        rerun_of,
        for_incidents: form.for_incidents.clone(),
    };
    shell.open(Popup::Confirm(Confirm {
        kind: ConfirmKind::Run(start),
        envs: envs.all,
        required,
        typed: String::new(),
    }));
    Vec::new()
}
