//! `?` tells the truth: on every screen, each key the help lists does something there when
//! pressed (no "does nothing in the … view" or "no key" message, and the screen, the mode, the
//! message or the effects change), and text snapshots of the popup in the Fleet and Runs views.

use std::sync::Arc;

use super::history::state::{HistoryPage, OUTPUT_CAPS, RunOutput};
use super::model::{Model, View};
use super::runs::{RunStart, RunView};
use super::shell::Message;
use super::tests::{draw, model, press, text};
use super::update::{Effect, Msg, update};
use crate::engine::{EngineEvent, HostResult, HostState, RunResult, RunStatus, Stream};
use crate::ui::keymap::{Action, Screen, help_rows};
use crate::ui::pane::Scrollback;

const WIDTH: u16 = 100;
const HEIGHT: u16 = 30;

/// 60 lines, each wider than the screen (so wrapping shows).
fn long_text(host: &str) -> String {
    (1..=60)
        .map(|i| format!("{host} line {i}: {}\n", "x".repeat(120)))
        .collect()
}

fn output(host: usize, text: &str) -> EngineEvent {
    EngineEvent::Output {
        host,
        stream: Stream::Stdout,
        bytes: text.as_bytes().to_vec(),
    }
}

/// Adds a console run on `names` and feeds it `events`; it stays in flight.
fn add_run(m: &mut Model, id: &str, names: &[&str], events: Vec<EngineEvent>) {
    let hosts = names
        .iter()
        .map(|n| m.inventory.get(n).unwrap().clone())
        .collect();
    let start = RunStart {
        id: id.into(),
        hosts,
        selector: names.join(","),
        command: "journalctl -n 60".into(),
        prepared: None,
        rerun_of: None,
        for_incidents: Vec::new(),
    };
    m.runs.list.push(RunView::new(&start));
    m.runs.selected = m.runs.list.len() - 1;
    for event in events {
        let run = id.to_string();
        update(m, Msg::Engine { run, event });
    }
}

fn host_result(name: &str, state: HostState) -> HostResult {
    HostResult {
        host: name.into(),
        state,
        exit_code: None,
        duration_ms: 10,
        bytes_out: 0,
        bytes_err: 0,
        first_error_line: None,
        attempts: 1,
    }
}

fn recorded(id: &str, status: RunStatus) -> RunResult {
    let failed = HostState::Failed {
        outcome: crate::engine::ExitOutcome::Code { code: 1 },
    };
    RunResult {
        id: id.into(),
        user: "op@box".into(),
        started: "2026-01-01T00:00:00Z".into(),
        finished: "2026-01-01T00:00:02Z".into(),
        selector: "web[01-03]".into(),
        targets: "web[01-03]".into(),
        command: "journalctl -n 60".into(),
        status,
        hosts: vec![
            host_result("web01", HostState::Ok),
            host_result("web02", failed),
            host_result("web03", HostState::Ok),
        ],
        action: None,
    }
}

/// The console on `screen`, in a state where every key has something to act on: cursors in
/// the middle of lists, panes scrolled up from the bottom of long output, marks set, runs in
/// flight.
fn on(screen: Screen) -> Model {
    let mut m = model();
    update(&mut m, Msg::Resize(WIDTH, HEIGHT));
    match screen {
        Screen::Fleet => {
            press(&mut m, "j j space");
        }
        Screen::Runs | Screen::RunPanes => {
            add_run(&mut m, "01JOLDER00000000000000000", &["web01"], Vec::new());
            let mut events = Vec::new();
            for (i, name) in ["web01", "web02", "web03"].iter().enumerate() {
                events.push(output(i, &long_text(name)));
                events.push(EngineEvent::State {
                    host: i,
                    state: HostState::Running,
                });
            }
            add_run(
                &mut m,
                "01JNEWER00000000000000000",
                &["web01", "web02", "web03"],
                events,
            );
            m.shell.view = View::Runs;
            m.runs.cursor = 1;
            if screen == Screen::RunPanes {
                press(&mut m, "enter k k k k k");
            }
        }
        Screen::History | Screen::HistoryRun | Screen::HistoryOutput => {
            press(&mut m, "5");
            let runs = ["01KC0000000000000000000000", "01KB0000000000000000000000"]
                .iter()
                .chain(&["01KA0000000000000000000000"])
                .map(|id| recorded(id, RunStatus::Failed))
                .collect();
            let page = HistoryPage {
                runs,
                warnings: Vec::new(),
            };
            let result = Ok(page);
            update(&mut m, Msg::HistoryLoaded { request: 1, result });
            press(&mut m, "j");
            if screen != Screen::History {
                press(&mut m, "enter j");
                let hosts = ["web01", "web02", "web03"]
                    .iter()
                    .map(|name| {
                        let mut sb = Scrollback::new(OUTPUT_CAPS);
                        sb.append(Stream::Stdout, long_text(name).as_bytes());
                        sb.finish();
                        (name.to_string(), sb)
                    })
                    .collect();
                let output = Ok(Arc::new(RunOutput {
                    hosts,
                    warnings: Vec::new(),
                }));
                let id = "01KB0000000000000000000000".to_string();
                update(&mut m, Msg::RunOutputLoaded { id, output });
            }
            if screen == Screen::HistoryOutput {
                press(&mut m, "enter k k k k k");
            }
        }
        Screen::Actions => {
            m = super::actions::tests::with_actions(false);
            update(&mut m, Msg::Resize(WIDTH, HEIGHT));
            press(&mut m, "6 j");
        }
        Screen::Metrics => {
            // The middle of the heatmap's one row: every move has somewhere to go.
            press(&mut m, "3 l l l l l");
        }
        Screen::Incidents => {
            // The second of five incidents: every move has somewhere to go.
            update(&mut m, Msg::Incidents(super::incidents::tests::frame()));
            press(&mut m, "4 j");
        }
    }
    // A mark for `u` to clear (the status bar counts marks in every view).
    m.fleet.marked.insert("web06".to_string());
    m.shell.message = None;
    assert_eq!(m.screen(), screen, "the setup reaches {screen:?}");
    m
}

/// What a key press may change: the screen as drawn (with its styles: a cursor is one), the
/// mode, the message, the view.
fn look(m: &Model) -> String {
    format!(
        "{:?} {:?} {:?}\n{:?}",
        m.shell.popup,
        m.shell.view,
        m.shell.message,
        draw(m, WIDTH, HEIGHT)
    )
}

/// The view an action switches to, for "already there" (pressing `2` in the Runs view).
fn switches_to(action: Action) -> Option<View> {
    Some(match action {
        Action::ViewFleet => View::Fleet,
        Action::ViewRuns => View::Runs,
        Action::ViewMetrics => View::Metrics,
        Action::ViewIncidents => View::Incidents,
        Action::ViewHistory => View::History,
        Action::ViewActions => View::Actions,
        _ => return None,
    })
}

#[test]
fn every_key_help_lists_does_something_on_its_screen() {
    let mut problems = Vec::new();
    for screen in Screen::ALL {
        let rows = help_rows(&on(screen).shell.keymap, screen);
        assert!(!rows.is_empty(), "{screen:?}");
        for (keys, action, _) in rows {
            for chord in keys.split(", ") {
                let mut m = on(screen);
                let before = look(&m);
                let effects: Vec<Effect> = press(&mut m, chord);
                let said = match &m.shell.message {
                    Some(Message::Info(t) | Message::Error(t)) => t.clone(),
                    None => String::new(),
                };
                if said.contains("does nothing in the") || said.starts_with("no key") {
                    problems.push(format!("{screen:?}: `{chord}` ({action:?}) says: {said}"));
                    continue;
                }
                let already_there = switches_to(action) == Some(m.shell.view);
                if effects.is_empty() && look(&m) == before && !already_there {
                    problems.push(format!(
                        "{screen:?}: `{chord}` ({action:?}) changed nothing"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The popup's text on `screen`, tall enough to show every line.
fn help_text(screen: Screen) -> String {
    let mut m = on(screen);
    press(&mut m, "?");
    assert_eq!(m.shell.popup.name(), "help");
    text(&draw(&m, WIDTH, 60))
}

#[test]
fn help_in_the_fleet_view() {
    let shown = help_text(Screen::Fleet);
    assert!(shown.contains("space"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn help_in_the_runs_view_offers_no_fleet_keys() {
    let shown = help_text(Screen::Runs);
    for fleet_only in [Action::Mark, Action::MarkAllShown] {
        assert!(!shown.contains(fleet_only.description()), "{shown}");
    }
    assert!(shown.contains(Action::CancelRun.description()), "{shown}");
    insta::assert_snapshot!(shown);
}
