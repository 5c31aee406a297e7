//! Running from the console: the confirmation popup, protected environments, cancel and quit
//! with runs in flight, a real run of local hosts through the engine, and the Runs view.

use std::path::Path;
use std::time::Duration;

use ratatui::crossterm::event::KeyCode;
use tokio::sync::mpsc;

use super::model::{Mode, Model, View};
use super::run_task::{ENGINE_CHANNEL, spawn_run};
use super::runs::{RunStart, RunView};
use super::tests::{draw, key, model, press, text, type_text};
use super::update::{Effect, Msg, update};
use crate::config::{Home, Settings};
use crate::engine::{EngineEvent, HostResult, HostState, RunResult, Stream};
use crate::inventory::load::parse;
use crate::transport::ExitOutcome;
use crate::ui::keymap::builtin;
use crate::ui::theme::Theme;

fn enter(m: &mut Model) -> Vec<Effect> {
    update(m, Msg::Key(key(KeyCode::Enter)))
}

/// `:run CMD` typed and entered.
fn run_command(m: &mut Model, command: &str) -> Vec<Effect> {
    press(m, ":");
    type_text(m, &format!("run {command}"));
    enter(m)
}

fn started(effects: &[Effect]) -> &RunStart {
    match effects {
        [Effect::StartRun(start)] => start,
        other => panic!("expected one StartRun, got {other:?}"),
    }
}

#[test]
fn bang_prefills_run_and_the_popup_states_count_folded_set_and_envs() {
    let mut m = model();
    press(&mut m, "space space space");
    press(&mut m, "!");
    assert_eq!(m.mode, Mode::Command);
    assert_eq!(m.command.input, "run ");
    type_text(&mut m, "uptime");
    assert!(enter(&mut m).is_empty());
    assert_eq!(m.mode, Mode::Confirm);
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("Run on 3 hosts: web[01-03]"), "{shown}");
    assert!(shown.contains("environments: prod"), "{shown}");
    assert!(shown.contains("$ uptime"), "{shown}");
    let effects = enter(&mut m);
    let start = started(&effects);
    assert_eq!(start.hosts.len(), 3);
    assert_eq!(start.command, "uptime");
    assert_eq!(m.mode, Mode::Normal);
    assert_eq!(m.view, View::Runs);
    assert_eq!(m.runs.len(), 1);
    assert!(m.runs[0].in_flight());
}

#[test]
fn unmarked_runs_target_the_shown_hosts_and_protected_envs_need_typing() {
    let mut m = model();
    m.protected_envs = vec!["prod".into()];
    assert!(run_command(&mut m, "uptime").is_empty());
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("Run on 12 hosts"), "{shown}");
    assert!(
        shown.contains("environments: lab, prod, staging"),
        "{shown}"
    );
    assert!(shown.contains("type `prod`"), "{shown}");
    // Enter does nothing until the name is typed.
    assert!(enter(&mut m).is_empty());
    assert_eq!(m.mode, Mode::Confirm);
    type_text(&mut m, "pro");
    assert!(enter(&mut m).is_empty());
    assert_eq!(m.mode, Mode::Confirm);
    // `y` is typed text here, not a yes.
    type_text(&mut m, "y");
    assert!(enter(&mut m).is_empty());
    update(&mut m, Msg::Key(key(KeyCode::Backspace)));
    type_text(&mut m, "d");
    assert_eq!(started(&enter(&mut m)).hosts.len(), 12);
}

#[test]
fn esc_cancels_the_confirmation_and_nothing_runs() {
    let mut m = model();
    m.protected_envs = vec!["prod".into()];
    run_command(&mut m, "reboot");
    type_text(&mut m, "pr");
    assert!(press(&mut m, "esc").is_empty());
    assert_eq!(m.mode, Mode::Normal);
    assert!(m.confirm.is_none());
    assert!(m.runs.is_empty());
    assert_eq!(m.view, View::Fleet);
}

#[test]
fn run_without_a_command_is_an_error() {
    let mut m = model();
    assert!(run_command(&mut m, "").is_empty());
    assert_eq!(m.mode, Mode::Normal);
    assert!(m.confirm.is_none());
}

#[test]
fn quitting_with_a_run_in_flight_asks_first_and_x_cancels() {
    let mut m = model();
    press(&mut m, "space");
    run_command(&mut m, "sleep 60");
    let id = started(&enter(&mut m)).id.clone();
    assert_eq!(press(&mut m, "X"), [Effect::CancelRun(id.clone())]);
    assert!(press(&mut m, "Q").is_empty());
    assert_eq!(m.mode, Mode::Confirm);
    assert!(text(&draw(&m, 80, 24)).contains("1 run(s) in flight"));
    assert!(press(&mut m, "n").is_empty());
    assert_eq!(m.mode, Mode::Normal);
    assert!(!m.quit);
    press(&mut m, ":");
    type_text(&mut m, "q");
    assert!(enter(&mut m).is_empty());
    assert_eq!(press(&mut m, "y"), [Effect::Quit]);
    assert!(m.quit);
}

const LOCAL_HOSTS: &str = r#"
[[hosts]]
name = "lab[1-2]"
transport = "local"
env = "lab"
"#;

fn local_model() -> Model {
    let inventory = parse(Path::new("hosts.toml"), LOCAL_HOSTS).unwrap();
    let theme = Theme::builtin("dark").unwrap();
    let mut m = Model::new(inventory, builtin().unwrap(), theme, vec!["dark".into()]);
    update(&mut m, Msg::Tick("12:00:00".into()));
    update(&mut m, Msg::Resize(80, 24));
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_hosts_run_through_the_real_engine() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    let settings = Settings::default();
    let mut m = local_model();
    press(&mut m, "space space");
    let effects = run_command(
        &mut m,
        "echo hi from $FLEETDECK_HOST; [ $FLEETDECK_HOST = lab1 ] || { echo oops >&2; exit 3; }",
    );
    assert!(effects.is_empty());
    let effects = enter(&mut m);
    let start = started(&effects).clone();
    let (tx, mut rx) = mpsc::channel(ENGINE_CHANNEL);
    let task = spawn_run(&home, &settings, start, tx).unwrap();
    while m.runs_in_flight() > 0 {
        let (run, event) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("the engine went quiet")
            .expect("the engine stopped without RunFinished");
        update(&mut m, Msg::Engine { run, event });
    }
    task.task.await.unwrap();
    let run = &m.runs[0];
    assert_eq!(run.states[0], HostState::Ok);
    assert!(run.states[1].is_failure(), "{:?}", run.states[1]);
    let counts = run.counts();
    assert_eq!((counts.ok, counts.failed), (1, 1));
    let lab2 = run.results[1].as_ref().unwrap();
    assert_eq!(lab2.exit_code, Some(3));
    assert_eq!(lab2.first_error_line.as_deref(), Some("oops"));
    let table = text(&draw(&m, 80, 24));
    assert!(table.contains("ok 1 · failed 1"), "{table}");
    assert!(table.contains("oops"), "{table}");
    assert!(table.contains("1 failed"), "status bar: {table}");
    // Enter on lab2 shows its output; esc goes back to the table.
    press(&mut m, "j enter");
    assert!(m.pane_open);
    let pane = text(&draw(&m, 80, 24));
    assert!(pane.contains("hi from lab2"), "{pane}");
    assert!(pane.contains("oops"), "{pane}");
    press(&mut m, "w");
    assert!(m.pane.is_wrapped());
    press(&mut m, "esc");
    assert!(!m.pane_open);
    // The run was recorded like any `fleetdeck run`.
    let history = std::fs::read_to_string(home.history_file()).unwrap();
    assert!(history.contains(&m.runs[0].id));
}

/// A finished run built from fixed events, so the snapshot does not depend on timing.
fn finished_run() -> Model {
    let mut m = local_model();
    let hosts: Vec<_> = m.inventory.hosts().to_vec();
    let start = RunStart {
        id: "01JTESTRUN000000000000000".into(),
        selector: "lab[1-2]".into(),
        hosts,
        command: "echo hi; exit 3".into(),
    };
    m.runs.push(RunView::new(&start));
    m.view = View::Runs;
    let failed = HostState::Failed {
        outcome: ExitOutcome::Code { code: 3 },
    };
    let events = [
        EngineEvent::State {
            host: 0,
            state: HostState::Ok,
        },
        EngineEvent::Output {
            host: 1,
            stream: Stream::Stdout,
            bytes: b"hi\n".to_vec(),
        },
        EngineEvent::Output {
            host: 1,
            stream: Stream::Stderr,
            bytes: b"disk full\n".to_vec(),
        },
        EngineEvent::State {
            host: 1,
            state: failed.clone(),
        },
    ];
    let result = |host: &str, state: HostState, code: i32, ms: u64, err: Option<&str>| HostResult {
        host: host.into(),
        state,
        exit_code: Some(code),
        duration_ms: ms,
        bytes_out: 3,
        bytes_err: 0,
        first_error_line: err.map(Into::into),
    };
    let done = EngineEvent::RunFinished {
        result: Box::new(RunResult {
            id: start.id.clone(),
            user: "op@box".into(),
            started: "2026-01-01T00:00:00Z".into(),
            finished: "2026-01-01T00:00:02Z".into(),
            selector: "lab[1-2]".into(),
            targets: "lab[1-2]".into(),
            command: start.command.clone(),
            status: "failed".into(),
            hosts: vec![
                result("lab1", HostState::Ok, 0, 412, None),
                result("lab2", failed, 3, 1530, Some("disk full")),
            ],
        }),
    };
    for event in events.into_iter().chain([done]) {
        update(
            &mut m,
            Msg::Engine {
                run: start.id.clone(),
                event,
            },
        );
    }
    m
}

#[test]
fn runs_view_finished_80x24() {
    let m = finished_run();
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("disk full"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn runs_view_pane_80x24() {
    let mut m = finished_run();
    press(&mut m, "j enter");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("hi"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn runs_view_without_runs_says_how_to_start_one() {
    let mut m = model();
    press(&mut m, "2");
    assert!(text(&draw(&m, 80, 24)).contains("No runs yet"));
}
