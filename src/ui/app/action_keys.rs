//! The Actions view's keys: the template list (move, `/` filter, enter opens the form, `R`
//! reads the folder again), the parameter form (typing goes to the focused field; tab /
//! shift-tab or up/down move between fields, left/right choose in pickers, enter submits, esc
//! closes), `:action NAME`, and History's `a` (the form again with a run's parameters).
//! Submitting asks through the usual confirmation, with the action's blast radius.

use std::collections::BTreeMap;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action_form::ActionForm;
use super::actions::PreparedRun;
use super::model::{Confirm, ConfirmKind, Message, Mode, Model, View};
use super::pane_keys::move_cursor;
use super::runs::RunStart;
use super::update::Effect;
use crate::action::Confirm as Level;
use crate::action::TargetEnvs;
use crate::engine::{RunResult, new_run_id};
use crate::inventory::Host;
use crate::inventory::nodeset::fold;
use crate::ui::keymap::Action;

/// Handles `action` in the Actions list; `None` leaves it to the global keys.
pub fn apply(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let a = &mut model.actions;
    if move_cursor(&mut a.cursor, a.shown.len(), model.page_rows, action) {
        return Some(Vec::new());
    }
    match action {
        Action::Filter => {
            model.dispatcher.reset();
            model.mode = Mode::Filter;
        }
        Action::Open => match a.current().map(|t| t.name.clone()) {
            Some(name) => open_for_targets(model, &name),
            None => {
                model.message = Some(Message::Info(if a.catalog.is_empty() {
                    format!("no actions: add NAME.toml files to {}", a.dir.display())
                } else {
                    "no action matches the filter; esc clears it".to_string()
                }));
            }
        },
        Action::Refresh => return Some(vec![Effect::LoadActions]),
        Action::Back if !a.filter.is_empty() => {
            a.filter.clear();
            a.refilter();
        }
        Action::Back => model.message = Some(Message::Info("Q, C-c or :q quits".to_string())),
        _ => return None,
    }
    Some(Vec::new())
}

/// Keys while `/` edits the list's filter.
pub fn on_filter_key(model: &mut Model, key: KeyEvent) {
    let a = &mut model.actions;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => {
            a.filter.clear();
            model.mode = Mode::Normal;
        }
        KeyCode::Char('c') if ctrl => {
            a.filter.clear();
            model.mode = Mode::Normal;
        }
        KeyCode::Enter => model.mode = Mode::Normal,
        KeyCode::Backspace => {
            a.filter.pop();
        }
        KeyCode::Char(c) if !ctrl => a.filter.push(c),
        _ => return,
    }
    a.cursor = 0;
    a.refilter();
}

/// Keys while the parameter form is open: they go to the form, never to the keymap.
pub fn on_form_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let Some(form) = model.actions.form.as_mut() else {
        return Vec::new();
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => return close(model),
        KeyCode::Char('c') if ctrl => return close(model),
        KeyCode::Enter => return submit(model),
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
    let settings = &model.actions.settings;
    if let Some(form) = model.actions.form.as_mut() {
        form.refresh(settings);
    }
    // A refused submit's message describes values that have just changed: the fields and
    // the preview say what holds now.
    if matches!(&model.message, Some(Message::Error(t)) if t.starts_with("cannot run")) {
        model.message = None;
    }
    Vec::new()
}

fn close(model: &mut Model) -> Vec<Effect> {
    model.actions.form = None;
    model.message = Some(Message::Info("form closed: nothing was run".to_string()));
    Vec::new()
}

/// The hosts a run from the console would target: the marked ones, else those the Fleet view
/// shows (the `:target` selection, narrowed by its filter), with the selector to record.
fn current_targets(model: &Model) -> (Vec<Host>, String) {
    if !model.marked.is_empty() {
        let hosts: Vec<Host> = model
            .inventory
            .hosts()
            .iter()
            .filter(|h| model.marked.contains(&h.name))
            .cloned()
            .collect();
        let selector = fold(hosts.iter().map(|h| h.name.as_str()));
        return (hosts, selector);
    }
    let hosts: Vec<Host> = model.shown_hosts().cloned().collect();
    let selector = match &model.target {
        Some(t) if model.filter.is_empty() => t.selector.clone(),
        None if model.filter.is_empty() => "all".to_string(),
        _ => fold(hosts.iter().map(|h| h.name.as_str())),
    };
    (hosts, selector)
}

/// Opens NAME's form for the current targets (enter in the list, `:action NAME`).
pub fn open_for_targets(model: &mut Model, name: &str) {
    let (hosts, selector) = current_targets(model);
    open(model, name, hosts, selector, &BTreeMap::new());
}

/// `:action NAME`: the form, or why not (an unknown name says the closest one).
pub fn command(model: &mut Model, name: &str) {
    if name.is_empty() {
        let names: Vec<&str> = model.actions.catalog.names().collect();
        model.message = Some(Message::Error(if names.is_empty() {
            format!(
                ":action needs a name, and no actions are loaded (add NAME.toml files to {})",
                model.actions.dir.display()
            )
        } else {
            format!(":action needs a name: {}", names.join(", "))
        }));
        return;
    }
    open_for_targets(model, name);
}

fn open(
    model: &mut Model,
    name: &str,
    hosts: Vec<Host>,
    selector: String,
    prefill: &BTreeMap<String, String>,
) {
    let template = match model.actions.catalog.find(name) {
        Ok(t) => t.clone(),
        Err(e) => {
            let broken = if model.actions.problems.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} action file(s) did not load (the Actions view lists them)",
                    model.actions.problems.len()
                )
            };
            model.message = Some(Message::Error(format!(":action: {e}{broken}")));
            return;
        }
    };
    if hosts.is_empty() {
        model.message = Some(Message::Error(format!(
            "action `{name}`: no hosts shown or marked; clear the filter (esc) or :target"
        )));
        return;
    }
    let form = ActionForm::new(template, hosts, selector, prefill, &model.actions.settings);
    model.actions.form = Some(form);
    model.dispatcher.reset();
    model.mode = Mode::Normal;
    model.view = View::Actions;
    // The form's own bottom line lists its keys.
    model.message = None;
}

/// History's `a`: the run's action again, on its hosts, its recorded parameters prefilled
/// (secrets were never recorded: they are typed again).
pub fn from_history_run(model: &mut Model, run: &RunResult) {
    let Some(used) = &run.action else {
        model.message = Some(Message::Info(format!(
            "run {} was an ad-hoc command, not an action; r reruns it",
            crate::ui::printers::run_summary::short_id(&run.id)
        )));
        return;
    };
    let hosts: Vec<Host> = run
        .hosts
        .iter()
        .map(|h| {
            model
                .inventory
                .get(&h.host)
                .cloned()
                .unwrap_or_else(|| Host::ad_hoc(&h.host))
        })
        .collect();
    let name = used.name.clone();
    let params = used.params.clone();
    open(model, &name, hosts, run.selector.clone(), &params);
}

/// `r` on a run that came from an action: the action's form again for the hosts that did not
/// end ok, its recorded parameters prefilled. Replaying the recorded command would not do: a
/// secret arrives on stdin (typed again here) and an agent operation is no shell command.
pub fn rerun_action(model: &mut Model, run: &RunResult, hosts: Vec<Host>) {
    let Some(used) = &run.action else {
        return;
    };
    let selector = crate::inventory::nodeset::fold(hosts.iter().map(|h| h.name.as_str()));
    let name = used.name.clone();
    let params = used.params.clone();
    open(model, &name, hosts, selector, &params);
    if let Some(form) = model.actions.form.as_mut() {
        form.rerun_of = Some(run.id.clone());
    }
}

/// Enter in the form: with valid values, the confirmation with the blast radius (every
/// confirmation level shows it, `none` included); otherwise what is wrong.
fn submit(model: &mut Model) -> Vec<Effect> {
    let Some(form) = model.actions.form.as_mut() else {
        return Vec::new();
    };
    let plan = match form.build(&model.actions.settings, Some(new_run_id())) {
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
            model.message = Some(Message::Error(format!(
                "cannot run `{}`: {first}{more}",
                form.template.name
            )));
            return Vec::new();
        }
    };
    if plan.request.targets.is_empty() {
        model.message = Some(Message::Error(format!(
            "`{}` applies to none of the {} hosts (the preview lists why); mark others or :target",
            form.template.name,
            plan.refused.len()
        )));
        return Vec::new();
    }
    let envs = TargetEnvs::of(&plan.request.targets, &model.protected_envs);
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
    };
    model.dispatcher.reset();
    model.confirm = Some(Confirm {
        kind: ConfirmKind::Run(start),
        envs: envs.all,
        required,
        typed: String::new(),
    });
    model.mode = Mode::Confirm;
    Vec::new()
}

/// `Msg::ActionsLoaded`: the list shows the new catalog; broken files are named in the view
/// and counted in the message line.
pub fn on_loaded(model: &mut Model, load: super::update::ActionsLoad) {
    let n = load.catalog.templates().len();
    let broken = load.problems.len();
    model
        .actions
        .set_catalog(load.catalog, load.problems, load.dir);
    model.message = Some(if broken > 0 {
        Message::Error(format!(
            "{n} actions loaded; {broken} problem(s) in action files (listed in the Actions view)"
        ))
    } else {
        Message::Info(format!("{n} actions loaded"))
    });
}
