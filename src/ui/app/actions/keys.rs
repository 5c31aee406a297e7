//! The Actions view's keys: the template list (move, `/` filter, enter opens the form, `R`
//! reads the folder again), `:action NAME`, and History's `a` and `r` (the form again with a
//! run's parameters); the form's own keys are in form_keys.rs. Opening a form reads the
//! Fleet view's targets, so these take the model.

use std::collections::BTreeMap;

use ratatui::crossterm::event::KeyEvent;

use super::form::ActionForm;
use super::state::ActionsState;
use crate::engine::RunResult;
use crate::inventory::Host;
use crate::inventory::nodeset::fold;
use crate::ui::app::model::{Model, View};
use crate::ui::app::msg::{ActionsLoad, Effect};
use crate::ui::app::pane_keys::move_cursor;
use crate::ui::app::popup::Popup;
use crate::ui::app::shell::Shell;
use crate::ui::app::text_input::Edit;
use crate::ui::keymap::Action;

/// Handles `action` in the Actions list; `None` leaves it to the global keys.
pub fn apply(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let (a, shell) = (&mut model.actions, &mut model.shell);
    if move_cursor(&mut a.cursor, a.shown.len(), shell.page_rows(), action) {
        return Some(Vec::new());
    }
    match action {
        Action::Filter => shell.open(Popup::Filter),
        Action::Open => match a.current().map(|t| t.name.clone()) {
            Some(name) => open_for_targets(model, &name),
            None => shell.info(if a.catalog.is_empty() {
                format!("no actions: add NAME.toml files to {}", a.dir.display())
            } else {
                "no action matches the filter; esc clears it".to_string()
            }),
        },
        Action::Refresh => return Some(vec![Effect::LoadActions]),
        Action::Back if !a.filter.is_empty() => {
            a.filter.clear();
            a.refilter();
        }
        Action::Back => shell.info("Q, C-c or :q quits"),
        _ => return None,
    }
    Some(Vec::new())
}

/// Keys while `/` edits the list's filter.
pub fn on_filter_key(a: &mut ActionsState, shell: &mut Shell, key: &KeyEvent) {
    match a.filter.on_key(key) {
        Edit::Ignored => return,
        Edit::Submit | Edit::Cancel => {
            shell.close();
        }
        Edit::Changed => {}
    }
    a.cursor = 0;
    a.refilter();
}

/// The hosts a run from the console would target: the marked ones, else those the Fleet view
/// shows (the `:target` selection, narrowed by its filter), with the selector to record.
fn current_targets(model: &Model) -> (Vec<Host>, String) {
    let fleet = &model.fleet;
    if !fleet.marked.is_empty() {
        let hosts: Vec<Host> = model
            .inventory
            .hosts()
            .iter()
            .filter(|h| fleet.marked.contains(&h.name))
            .cloned()
            .collect();
        let selector = fold(hosts.iter().map(|h| h.name.as_str()));
        return (hosts, selector);
    }
    let hosts: Vec<Host> = model.shown_hosts().cloned().collect();
    let selector = match &fleet.target {
        Some(t) if fleet.filter.is_empty() => t.selector.clone(),
        None if fleet.filter.is_empty() => "all".to_string(),
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
        let text = if names.is_empty() {
            format!(
                ":action needs a name, and no actions are loaded (add NAME.toml files to {})",
                model.actions.dir.display()
            )
        } else {
            format!(":action needs a name: {}", names.join(", "))
        };
        model.shell.error(text);
        return;
    }
    open_for_targets(model, name);
}

/// A runbook's fix (`x` in the Incidents view): NAME's form on exactly `hosts`, its
/// parameters prefilled from the incident; the run is written on `incidents`' timelines.
/// Whether the form opened (an unknown action says why on the message line).
pub fn open_for_incidents(
    model: &mut Model,
    name: &str,
    hosts: Vec<Host>,
    prefill: &BTreeMap<String, String>,
    incidents: Vec<String>,
) -> bool {
    let selector = fold(hosts.iter().map(|h| h.name.as_str()));
    if !open(model, name, hosts, selector, prefill) {
        return false;
    }
    if let Some(form) = model.actions.form.as_mut() {
        form.for_incidents = incidents;
    }
    true
}

fn open(
    model: &mut Model,
    name: &str,
    hosts: Vec<Host>,
    selector: String,
    prefill: &BTreeMap<String, String>,
) -> bool {
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
            model.shell.error(format!(":action: {e}{broken}"));
            return false;
        }
    };
    if hosts.is_empty() {
        model.shell.error(format!(
            "action `{name}`: no hosts shown or marked; clear the filter (esc) or :target"
        ));
        return false;
    }
    let form = ActionForm::new(template, hosts, selector, prefill, &model.actions.settings);
    model.actions.form = Some(form);
    // The form takes the keys (with no popup open) from here.
    model.shell.open(Popup::None);
    model.shell.view = View::Actions;
    // The form's own bottom line lists its keys.
    model.shell.clear_message();
    true
}

/// History's `a`: the run's action again, on its hosts, its recorded parameters prefilled
/// (secrets were never recorded: they are typed again).
pub fn from_history_run(model: &mut Model, run: &RunResult) {
    let Some(used) = &run.action else {
        model.shell.info(format!(
            "run {} was an ad-hoc command, not an action; r reruns it",
            crate::ui::printers::run_summary::short_id(&run.id)
        ));
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
    if open(model, &name, hosts, selector, &params)
        && let Some(form) = model.actions.form.as_mut()
    {
        form.rerun_of = Some(run.id.clone());
    }
}

/// `Msg::ActionsLoaded`: the list shows the new catalog; broken files are named in the view
/// and counted in the message line.
pub fn on_loaded(model: &mut Model, load: ActionsLoad) {
    let n = load.catalog.templates().len();
    let broken = load.problems.len();
    model
        .actions
        .set_catalog(load.catalog, load.problems, load.dir);
    if broken > 0 {
        model.shell.error(format!(
            "{n} actions loaded; {broken} problem(s) in action files (listed in the Actions view)"
        ));
    } else {
        model.shell.info(format!("{n} actions loaded"));
    }
}
