//! `x` (the runbook's fix) and `A` (the analysis) in the Incidents view: which hosts and
//! incidents the form is opened for, the parameters the rule filled, what is refused, the
//! confirmed run remembered and, when it ends or cannot start, the effect that writes it on
//! the incidents' timelines; the analysis asked only when `[analysis]` names an endpoint.

use std::sync::Arc;

use ratatui::crossterm::event::KeyCode;

use super::fix::outcome;
use super::tests::frame;
use crate::engine::{HostResult, HostState, RunResult, RunStatus};
use crate::incident::runbook::Runbooks;
use crate::ui::app::actions::tests::with_actions;
use crate::ui::app::model::{Model, View};
use crate::ui::app::shell::Message;
use crate::ui::app::tests::{key, press, type_text};
use crate::ui::app::update::{Effect, Msg, update};

/// The nginx incidents get restart-service with `unit` from the title's service (a fixed
/// value here) and `mode` from a label the incident does not have.
const RUNBOOKS: &str = r#"
[[rules]]
name = "nginx"
match.title = "nginx*"
hint = "Restart nginx."
action = "restart-service"
params = { unit = "nginx.service" }

[[rules]]
name = "disk"
match.labels = { alertname = "Disk*" }
hint = "Rotate the logs."
"#;

fn on_view(runbooks: &str) -> Model {
    let mut m = with_actions(false);
    let parsed = Runbooks::parse(
        std::path::Path::new("runbooks.toml"),
        runbooks,
        &m.actions.catalog,
    )
    .unwrap();
    update(&mut m, Msg::Runbooks(Arc::new(parsed)));
    update(&mut m, Msg::Incidents(frame()));
    press(&mut m, "4");
    m
}

fn message(m: &Model) -> String {
    match &m.shell.message {
        Some(Message::Info(t) | Message::Error(t)) => t.clone(),
        None => String::new(),
    }
}

#[test]
fn x_opens_the_fix_for_the_active_incidents_shown_with_the_same_fix_prefilled() {
    let mut m = on_view(RUNBOOKS);
    // The first row: nginx down on web[01-03] (a1b2); the acked c3d4 on web07 has the same fix.
    assert_eq!(m.incidents.selected().unwrap().id, "a1b2");
    press(&mut m, "x");
    assert_eq!(m.shell.view, View::Actions);
    let form = m.actions.form.as_ref().expect("the form opened");
    assert_eq!(form.template.name, "restart-service");
    let hosts: Vec<&str> = form.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(hosts, ["web01", "web02", "web03", "web07"]);
    assert_eq!(form.for_incidents, ["a1b2", "c3d4"]);
    assert_eq!(form.fields[0].text, "nginx.service");

    // Submit, confirm (prod is protected: typed), and the run remembers its incidents.
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    let confirm = m.shell.popup.confirm().expect("the confirmation");
    let required = confirm.required.clone().unwrap();
    type_text(&mut m, &required);
    let effects = update(&mut m, Msg::Key(key(KeyCode::Enter)));
    let [Effect::StartRun(start)] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(start.for_incidents, ["a1b2", "c3d4"]);
    assert_eq!(
        m.incidents.fixes.get(&start.id).unwrap(),
        &["a1b2".to_string(), "c3d4".to_string()]
    );

    // It ends: how it ended goes to both timelines, once.
    let result = run_result(&start.id);
    let effects = update(
        &mut m,
        Msg::Engine {
            run: start.id.clone(),
            event: crate::engine::EngineEvent::RunFinished {
                result: Box::new(result.clone()),
            },
        },
    );
    let record = effects
        .iter()
        .find(|e| matches!(e, Effect::RecordIncidentRun { .. }))
        .expect("the run is recorded on the incidents");
    assert_eq!(
        record,
        &Effect::RecordIncidentRun {
            incidents: vec!["a1b2".into(), "c3d4".into()],
            run: start.id.clone(),
            result: "failed: ok on web[01-03]; failed on web07 (Failed to restart nginx.service: Unit not found.)".into(),
        }
    );
    assert!(m.incidents.fixes.is_empty());
}

#[test]
fn a_fix_that_cannot_start_is_written_too() {
    let mut m = on_view(RUNBOOKS);
    m.incidents
        .fixes
        .insert("01RUN".into(), vec!["a1b2".into()]);
    let effects = update(
        &mut m,
        Msg::RunNotStarted {
            run: "01RUN".into(),
            error: "the queue is full".into(),
        },
    );
    assert_eq!(
        effects,
        [Effect::RecordIncidentRun {
            incidents: vec!["a1b2".into()],
            run: "01RUN".into(),
            result: "did not start: the queue is full".into(),
        }]
    );
}

#[test]
fn x_says_why_when_there_is_nothing_to_run() {
    // No rule matches the hostile check incident (4th row, f7a8).
    let mut m = on_view(RUNBOOKS);
    press(&mut m, "j j j");
    let id = m.incidents.selected().unwrap().id.clone();
    press(&mut m, "x");
    assert!(m.actions.form.is_none());
    assert_eq!(m.shell.view, View::Incidents);
    assert!(
        message(&m).contains(&format!("no runbooks.toml rule matches incident {id}")),
        "{}",
        message(&m)
    );

    // The disk rule gives a hint and no action.
    let mut m = on_view(RUNBOOKS);
    press(&mut m, "j j");
    assert_eq!(m.incidents.selected().unwrap().id, "e5f6");
    press(&mut m, "x");
    assert!(m.actions.form.is_none());
    assert!(
        message(&m).contains("gives a hint, no action: Rotate the logs."),
        "{}",
        message(&m)
    );

    // A resolved incident has nothing to fix.
    let mut m = on_view(RUNBOOKS);
    press(&mut m, "G");
    assert_eq!(m.incidents.selected().unwrap().id, "b9c0");
    press(&mut m, "x");
    assert!(m.actions.form.is_none());
    assert!(message(&m).contains("resolved already"), "{}", message(&m));
}

#[test]
fn x_leaves_unfillable_parameters_to_the_operator_and_says_which() {
    let rules = r#"
[[rules]]
match.title = "nginx*"
hint = "Restart the unit the alert names."
action = "restart-service"
params = { unit = "{labels.unit}" }
"#;
    let mut m = on_view(rules);
    press(&mut m, "x");
    let form = m.actions.form.as_ref().expect("the form opened");
    assert_eq!(form.fields[0].text, "");
    assert!(message(&m).contains("to fill: `unit`"), "{}", message(&m));
}

#[test]
fn x_on_hosts_missing_from_the_inventory_refuses() {
    let mut m = on_view(RUNBOOKS);
    let mut f = (*frame()).clone();
    for i in &mut f.incidents {
        i.hosts = vec!["gone1".into()];
    }
    update(&mut m, Msg::Incidents(Arc::new(f)));
    press(&mut m, "g g x");
    assert!(m.actions.form.is_none());
    assert!(
        message(&m).contains("not in the inventory"),
        "{}",
        message(&m)
    );
}

#[test]
fn analysis_is_asked_only_with_an_endpoint() {
    let mut m = on_view(RUNBOOKS);
    let effects = press(&mut m, "A");
    assert!(effects.is_empty());
    assert!(message(&m).contains("analysis is off"), "{}", message(&m));

    m.actions.settings.analysis.endpoint = "http://127.0.0.1:9/v1/chat/completions".into();
    let effects = press(&mut m, "A");
    let [Effect::AnalyseIncident(ask)] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(ask.id, "a1b2");
    assert_eq!(ask.hint.as_deref(), Some("Restart nginx."));
    assert!(
        ask.actions.iter().any(|a| a == "restart-service"),
        "{:?}",
        ask.actions
    );
    assert!(message(&m).contains("nothing is run"), "{}", message(&m));
}

#[test]
fn the_detail_shows_the_newest_analysis_whole() {
    let mut m = on_view(RUNBOOKS);
    let mut f = (*frame()).clone();
    f.incidents[0]
        .timeline
        .push(crate::incident::TimelineEntry {
            ts: "2027-01-15T07:58:00.000Z".into(),
            event: "analysis".into(),
            who: Some("ana@ops1".into()),
            text: Some(
                "suggestion from m1: nginx exited after a config change.\nTry `restart-service`."
                    .into(),
            ),
            run_id: None,
        });
    update(&mut m, Msg::Incidents(Arc::new(f)));
    press(&mut m, "enter");
    let shown = crate::ui::app::tests::text(&crate::ui::app::tests::draw(&m, 120, 40));
    assert!(
        shown.contains("analysis (a suggestion: nothing is run)"),
        "{shown}"
    );
    assert!(shown.contains("  Try `restart-service`."), "{shown}");
    assert!(shown.contains("x opens it for the hosts"), "{shown}");
}

fn run_result(id: &str) -> RunResult {
    let host = |name: &str, state: HostState, err: Option<&str>| HostResult {
        host: name.into(),
        state,
        exit_code: None,
        duration_ms: 5,
        bytes_out: 0,
        bytes_err: 0,
        first_error_line: err.map(Into::into),
        attempts: 1,
    };
    let failed = HostState::Failed {
        outcome: crate::engine::ExitOutcome::Code { code: 5 },
    };
    RunResult {
        id: id.into(),
        user: "ana".into(),
        started: "2027-01-15T08:00:00Z".into(),
        finished: "2027-01-15T08:00:02Z".into(),
        selector: "web[01-03,07]".into(),
        targets: "web[01-03,07]".into(),
        command: "systemctl restart nginx.service".into(),
        status: RunStatus::Failed,
        hosts: vec![
            host("web01", HostState::Ok, None),
            host("web02", HostState::Ok, None),
            host("web03", HostState::Ok, None),
            host(
                "web07",
                failed,
                Some("Failed to restart nginx.service: Unit not found."),
            ),
        ],
        action: None,
    }
}

#[test]
fn outcome_of_a_run_that_worked_everywhere_is_short() {
    let mut r = run_result("01A");
    r.hosts.truncate(3);
    r.status = RunStatus::Ok;
    assert_eq!(outcome(&r), "ok on web[01-03]");
}

#[test]
fn the_filter_narrows_the_fix_to_the_incidents_shown() {
    let mut m = on_view(RUNBOOKS);
    press(&mut m, "/");
    type_text(&mut m, "web07");
    press(&mut m, "enter");
    assert_eq!(m.incidents.selected().unwrap().id, "c3d4");
    press(&mut m, "x");
    let form = m.actions.form.as_ref().expect("the form opened");
    let hosts: Vec<&str> = form.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(hosts, ["web07"]);
    assert_eq!(form.for_incidents, ["c3d4"]);
}
