//! `x`: the runbook's fix. The first runbooks.toml rule matching the incident names an action
//! and fills its parameters from the incident; its form opens on exactly the incident's hosts,
//! and those of the other active incidents shown (`/` narrows them) that the same rule fixes
//! the same way: forty hosts with the same service down are one run, not forty. The form's
//! title names the incidents. The form, its validation
//! and the confirmation are the usual ones. When the run ends (or cannot start), how it ended
//! is written on each of those incidents' timelines; a fix that worked then shows as the
//! alerts resolving by themselves.

use crate::engine::{RunId, RunResult};
use crate::incident::Incident;
use crate::incident::runbook::{Runbooks, SuggestedAction};
use crate::inventory::Host;
use crate::inventory::nodeset::fold;
use crate::ui::app::actions::keys::open_for_incidents;
use crate::ui::app::model::Model;
use crate::ui::app::msg::Effect;

/// The action `incident`'s runbook rule suggests, if any.
fn suggestion(runbooks: &Runbooks, incident: &Incident) -> Option<SuggestedAction> {
    runbooks.lookup(&incident.facts())?.action
}

/// `x` on the incident opened, else the one under the cursor.
pub fn run_runbook(model: &mut Model) {
    let s = &model.incidents;
    let Some(incident) = s.opened().or_else(|| s.selected()) else {
        model.shell.info("no incident selected");
        return;
    };
    if !incident.state.is_active() {
        model.shell.error(format!(
            "incident {} is resolved already: nothing to fix",
            incident.id
        ));
        return;
    }
    let Some(found) = s.runbooks.lookup(&incident.facts()) else {
        model.shell.info(format!(
            "no runbooks.toml rule matches incident {}: nothing to run (add one; `fleetdeck check` validates the file)",
            incident.id
        ));
        return;
    };
    let Some(fix) = found.action else {
        model.shell.info(format!(
            "the runbook ({}) gives a hint, no action: {}",
            found.rule, found.hint
        ));
        return;
    };
    // The same fix for the other active incidents shown: same action, same parameters.
    let mut incidents = vec![incident];
    let shown = s.shown_incidents().filter_map(|i| s.frame.incidents.get(i));
    incidents.extend(shown.filter(|i| {
        i.id != incident.id
            && i.state.is_active()
            && suggestion(&s.runbooks, i)
                .is_some_and(|f| f.name == fix.name && f.params == fix.params)
    }));
    let mut names: Vec<&str> = Vec::new();
    for i in &incidents {
        for h in &i.hosts {
            if !names.contains(&h.as_str()) {
                names.push(h);
            }
        }
    }
    let (known, unknown): (Vec<&str>, Vec<&str>) =
        names.iter().partition(|n| model.inventory.get(n).is_some());
    if known.is_empty() {
        model.shell.error(format!(
            "incident {}: its hosts ({}) are not in the inventory; nothing to run on",
            incident.id,
            fold(unknown.iter().copied())
        ));
        return;
    }
    let hosts: Vec<Host> = known
        .iter()
        .filter_map(|n| model.inventory.get(n).cloned())
        .collect();
    let ids: Vec<String> = incidents.iter().map(|i| i.id.clone()).collect();
    let mut left: Vec<String> = fix
        .unfilled
        .iter()
        .map(|u| format!("`{}` ({})", u.param, u.reason))
        .collect();
    if !unknown.is_empty() {
        left.push(format!(
            "not in the inventory, left out: {}",
            fold(unknown.iter().copied())
        ));
    }
    if open_for_incidents(model, &fix.name, hosts, &fix.params, ids) && !left.is_empty() {
        model.shell.info(format!("to fill: {}", left.join("; ")));
    }
}

/// A runbook run ended: the effect writing it on its incidents' timelines, if it was one.
pub fn after_run_finished(model: &mut Model, result: &RunResult) -> Option<Effect> {
    let incidents = model.incidents.fixes.remove(&result.id)?;
    Some(Effect::RecordIncidentRun {
        incidents,
        run: result.id.clone(),
        result: outcome(result),
    })
}

/// A runbook run could not start: that goes on its incidents' timelines too.
pub fn after_not_started(model: &mut Model, run: &RunId, error: &str) -> Option<Effect> {
    let incidents = model.incidents.fixes.remove(run)?;
    Some(Effect::RecordIncidentRun {
        incidents,
        run: run.clone(),
        result: format!("did not start: {error}"),
    })
}

/// How a run ended, for a timeline: `ok on demo[02-03]`, or `failed: ok on web01; failed on
/// web02 (exit 1: unit not found)`.
pub fn outcome(result: &RunResult) -> String {
    // Hosts by how they ended, in the order first seen.
    let mut ends: Vec<(&str, Vec<&str>, Option<&str>)> = Vec::new();
    for h in &result.hosts {
        let label = h.state.label();
        match ends.iter_mut().find(|(l, _, _)| *l == label) {
            Some((_, hosts, _)) => hosts.push(&h.host),
            None => ends.push((label, vec![&h.host], h.first_error_line.as_deref())),
        }
    }
    let parts: Vec<String> = ends
        .iter()
        .map(|(label, hosts, first_error)| {
            let mut part = format!("{label} on {}", fold(hosts.iter().copied()));
            if let Some(line) = first_error.filter(|_| *label != "ok") {
                part.push_str(&format!(" ({})", clip(line, 120)));
            }
            part
        })
        .collect();
    if ends.len() == 1 && ends[0].0 == result.status.as_str() {
        return parts.join("; ");
    }
    format!("{}: {}", result.status, parts.join("; "))
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
