//! Running from the console: the confirmation popup, protected environments, cancel and quit
//! with runs in flight, a real run of local hosts through the engine, and the Runs view.

use std::path::Path;
use std::time::{Duration, SystemTime};

use ratatui::crossterm::event::KeyCode;
use tokio::sync::mpsc;

use super::model::{Message, Mode, Model, View};
use super::run_layout::RunLayout;
use super::run_task::submit_run;
use super::runs::{RunStart, RunView};
use super::tests::{draw, key, model, press, text, type_text};
use super::update::{Effect, Msg, update};
use crate::config::{Home, Settings};
use crate::engine::ExitOutcome;
use crate::engine::queue::{QueueSnapshot, QueuedRun, RunningRun};
use crate::engine::{ENGINE_CHANNEL, FleetSession, SessionOptions};
use crate::engine::{EngineEvent, HostResult, HostState, Priority, RunResult, Stream};
use crate::inventory::load::parse;
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
    // A running run is cancelled only after a confirmation; n keeps it running.
    assert!(press(&mut m, "X").is_empty());
    assert_eq!(m.mode, Mode::Confirm);
    let popup = text(&draw(&m, 80, 24));
    assert!(
        popup.contains(&format!("Cancel run {id} on 1 host: web01")),
        "{popup}"
    );
    assert!(popup.contains("y cancel the run"), "{popup}");
    assert!(press(&mut m, "n").is_empty());
    assert_eq!(m.mode, Mode::Normal);
    assert_eq!(
        m.message,
        Some(Message::Info(format!("run {id} keeps running")))
    );
    assert!(press(&mut m, "X").is_empty());
    assert_eq!(press(&mut m, "y"), [Effect::CancelRun(id.clone())]);
    assert_eq!(m.mode, Mode::Normal);
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

/// Two local hosts, lab1 and lab2 (env lab), the built-in keymap and dark theme, 80x24.
pub(super) fn local_model() -> Model {
    let inventory = parse(Path::new("hosts.toml"), LOCAL_HOSTS).unwrap();
    let theme = Theme::builtin("dark").unwrap();
    let mut m = Model::new(inventory, builtin().unwrap(), theme, vec!["dark".into()]);
    update(&mut m, Msg::Tick("12:00:00".into()));
    update(&mut m, Msg::Resize(80, 24));
    m
}

/// A session over `hosts` as the console opens one (local hosts: no ssh config or keys are
/// read). Inside the runtime.
pub(super) fn session_for(
    home: &Home,
    settings: &Settings,
    hosts: &[crate::inventory::Host],
) -> FleetSession {
    FleetSession::open(home, settings, SessionOptions::new(hosts.to_vec())).unwrap()
}

/// Starts `start` through a fleet session, as the event loop does, and feeds the model every
/// event until no run is in flight.
pub(super) async fn run_through_the_queue(
    m: &mut Model,
    home: &Home,
    settings: &Settings,
    start: RunStart,
) {
    let (tx, mut rx) = mpsc::channel(ENGINE_CHANNEL);
    let session = session_for(home, settings, &start.hosts);
    submit_run(home, settings, start, &session, tx).unwrap();
    update(m, Msg::Queue(session.snapshot().queue));
    while m.runs_in_flight() > 0 {
        let (run, event) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("the engine went quiet")
            .expect("the engine stopped without RunFinished");
        update(m, Msg::Engine { run, event });
    }
    assert!(session.shutdown(Duration::from_secs(30)).await);
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
    run_through_the_queue(&mut m, &home, &settings, start).await;
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
    // Enter on lab2 shows its output zoomed; esc goes back to the table.
    press(&mut m, "j enter");
    assert_eq!(m.run_layout, RunLayout::Grid);
    let pane = text(&draw(&m, 80, 24));
    assert!(pane.contains("hi from lab2"), "{pane}");
    assert!(pane.contains("oops"), "{pane}");
    assert!(!pane.contains("hi from lab1"), "zoomed: {pane}");
    press(&mut m, "w");
    assert!(m.runs[0].panes[1].is_wrapped());
    press(&mut m, "esc");
    assert_eq!(m.run_layout, RunLayout::Table);
    // The merged stream has both hosts' lines under their names.
    press(&mut m, "v v");
    let merged = text(&draw(&m, 80, 24));
    assert!(merged.contains("lab1:"), "{merged}");
    assert!(merged.contains("lab2!:"), "{merged}");
    // `r` asks to rerun the failed host only.
    press(&mut m, "esc r");
    assert_eq!(m.mode, Mode::Confirm);
    assert!(text(&draw(&m, 80, 24)).contains("Run on 1 host: lab2"));
    // The run was recorded like any `fleetdeck run`.
    let history = std::fs::read_to_string(home.history_file()).unwrap();
    assert!(history.contains(&m.runs[0].id));
    // Confirming the rerun submits it, and audit.jsonl names the run it repeats.
    let first = m.runs[0].id.clone();
    let rerun = started(&enter(&mut m)).clone();
    assert_eq!(rerun.rerun_of.as_deref(), Some(first.as_str()));
    run_through_the_queue(&mut m, &home, &settings, rerun).await;
    let second = m
        .runs
        .iter()
        .find(|r| r.id != first)
        .expect("the rerun is shown");
    assert_eq!(second.hosts, ["lab2"]);
    assert!(second.finished.is_some(), "the rerun ran to its end");
    let audit = std::fs::read_to_string(home.audit_file()).unwrap();
    let rerun_line = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["action"] == "rerun")
        .expect("a rerun line in audit.jsonl");
    assert_eq!(rerun_line["run_id"], first.as_str());
    assert_eq!(rerun_line["targets"], "lab2");
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
        prepared: None,
        rerun_of: None,
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
        attempts: 1,
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
            status: crate::engine::RunStatus::Failed,
            action: None,
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

// ---- The Runs view with several runs, fed with engine events (no network) ----

/// Starts a run of `command` on inventory hosts `names` as a confirmed run would.
fn add_run(m: &mut Model, id: &str, names: &[&str], command: &str) {
    let hosts: Vec<_> = names
        .iter()
        .map(|n| {
            m.inventory
                .hosts()
                .iter()
                .find(|h| h.name == *n)
                .unwrap()
                .clone()
        })
        .collect();
    let start = RunStart {
        id: id.into(),
        selector: names.join(","),
        hosts,
        command: command.into(),
        prepared: None,
        rerun_of: None,
    };
    m.runs.push(RunView::new(&start));
    m.run_selected = m.runs.len() - 1;
}

fn feed(m: &mut Model, id: &str, events: Vec<EngineEvent>) {
    for event in events {
        update(
            m,
            Msg::Engine {
                run: id.into(),
                event,
            },
        );
    }
}

fn out(host: usize, text: &str) -> EngineEvent {
    EngineEvent::Output {
        host,
        stream: Stream::Stdout,
        bytes: text.as_bytes().to_vec(),
    }
}

fn err(host: usize, text: &str) -> EngineEvent {
    EngineEvent::Output {
        host,
        stream: Stream::Stderr,
        bytes: text.as_bytes().to_vec(),
    }
}

fn state(host: usize, state: HostState) -> EngineEvent {
    EngineEvent::State { host, state }
}

fn failed(code: i32) -> HostState {
    HostState::Failed {
        outcome: ExitOutcome::Code { code },
    }
}

/// The engine's last event for run `id`: each host's result as its state says now.
fn finish(m: &mut Model, id: &str, status: &str) {
    let run = m.runs.iter().find(|r| r.id == id).unwrap();
    let hosts = run
        .hosts
        .iter()
        .zip(&run.states)
        .map(|(name, s)| HostResult {
            host: name.clone(),
            state: s.clone(),
            exit_code: match s {
                HostState::Ok => Some(0),
                HostState::Failed {
                    outcome: ExitOutcome::Code { code },
                } => Some(*code),
                _ => None,
            },
            duration_ms: 1200,
            bytes_out: 0,
            bytes_err: 0,
            first_error_line: None,
            attempts: 1,
        })
        .collect();
    let result = RunResult {
        id: id.into(),
        user: "op@box".into(),
        started: "2026-01-01T00:00:00Z".into(),
        finished: "2026-01-01T00:00:02Z".into(),
        selector: run.folded.clone(),
        targets: run.folded.clone(),
        command: run.command.clone(),
        status: status.parse().unwrap(),
        action: None,
        hosts,
    };
    feed(
        m,
        id,
        vec![EngineEvent::RunFinished {
            result: Box::new(result),
        }],
    );
}

const UPTIME: &str = "01JUPTIME0000000000000000";
const DF: &str = "01JDF00000000000000000000";
const RESTART: &str = "01JRESTART000000000000000";

/// Three runs: `uptime` (finished, ok: three hosts print the same, one differs), `df`
/// (finished, one host failed) and a restart still in flight (ok, failed, running, pending).
fn three_runs() -> Model {
    let mut m = model();
    m.view = View::Runs;
    add_run(
        &mut m,
        UPTIME,
        &["web01", "web02", "web03", "web04"],
        "uptime",
    );
    let mut events = Vec::new();
    for host in 0..4 {
        let days = if host == 2 { 9 } else { 3 };
        events.push(out(host, &format!(" 12:00:00 up {days} days,  load 0.1\n")));
        events.push(state(host, HostState::Ok));
    }
    feed(&mut m, UPTIME, events);
    finish(&mut m, UPTIME, "ok");
    add_run(&mut m, DF, &["db01", "db02", "db03"], "df -h /");
    let mut events = Vec::new();
    for host in 0..3 {
        events.push(out(host, "Filesystem  Size  Used Avail Use% Mounted on\n"));
        if host == 1 {
            events.push(out(host, "/dev/sda1    20G   20G     0 100% /\n"));
            events.push(err(host, "df: warning: disk full\n"));
            events.push(state(host, failed(1)));
        } else {
            events.push(out(host, "/dev/sda1    20G  5.1G   15G  26% /\n"));
            events.push(state(host, HostState::Ok));
        }
    }
    feed(&mut m, DF, events);
    finish(&mut m, DF, "failed");
    add_run(
        &mut m,
        RESTART,
        &["web01", "web02", "web03", "web04", "web05", "web06"],
        "systemctl restart nginx && echo restarted",
    );
    feed(
        &mut m,
        RESTART,
        vec![
            out(0, "restarted\n"),
            state(0, HostState::Ok),
            out(1, "restarted\n"),
            state(1, HostState::Ok),
            err(2, "Job for nginx.service failed.\n"),
            state(2, failed(1)),
            state(3, HostState::Running),
            out(3, "waiting for nginx to stop\n"),
        ],
    );
    m
}

/// Draws `m` at `width` x `height`, after telling it the size as the event loop does.
fn shot(m: &mut Model, width: u16, height: u16) -> String {
    update(m, Msg::Resize(width, height));
    text(&draw(m, width, height))
}

const SIZES: [(u16, u16); 3] = [(80, 24), (200, 50), (40, 12)];

#[test]
fn run_list_shows_runs_newest_first_with_gauges_and_counts() {
    let mut m = three_runs();
    let shown = shot(&mut m, 80, 24);
    let row = |needle: &str| shown.lines().position(|l| l.contains(needle)).unwrap();
    // Newest first: the restart, then df, then uptime.
    assert!(row("$ syst") < row("$ df -h"), "{shown}");
    assert!(row("$ df -h") < row("$ uptime"), "{shown}");
    assert!(shown.contains("3/6"), "restart gauge: {shown}");
    assert!(
        shown.contains("ok 2 · failed 1 · running 1 · pending 2"),
        "{shown}"
    );
    assert!(shown.contains("✘ failed"), "{shown}");
    assert!(shown.contains("✔ ok"), "{shown}");
    assert!(shown.contains("▶ running"), "{shown}");
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("run_list_{w}x{h}"), shown);
    }
}

#[test]
fn brackets_select_runs_and_the_table_follows() {
    let mut m = three_runs();
    assert_eq!(m.selected_run().unwrap().id, RESTART);
    press(&mut m, "]");
    assert_eq!(m.selected_run().unwrap().id, DF);
    let shown = shot(&mut m, 80, 24);
    assert!(
        shown.contains("db02") && !shown.contains("web05"),
        "{shown}"
    );
    press(&mut m, "]");
    assert_eq!(m.selected_run().unwrap().id, UPTIME);
    press(&mut m, "]");
    assert_eq!(m.selected_run().unwrap().id, UPTIME);
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("oldest")));
    press(&mut m, "[ [ [");
    assert_eq!(m.selected_run().unwrap().id, RESTART);
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("newest")));
    // The host cursor stays inside the run it lands on.
    press(&mut m, "G");
    assert_eq!(m.run_cursor, 5);
    press(&mut m, "]");
    assert_eq!(m.run_cursor, 2);
}

#[test]
fn v_cycles_table_grid_merged_grouped() {
    let mut m = three_runs();
    assert_eq!(m.context(), crate::ui::keymap::Context::Runs);
    let mut seen = Vec::new();
    for _ in 0..4 {
        press(&mut m, "v");
        seen.push(m.run_layout);
    }
    assert_eq!(
        seen,
        [
            RunLayout::Grid,
            RunLayout::Merged,
            RunLayout::Grouped,
            RunLayout::Table
        ]
    );
    press(&mut m, "v");
    assert_eq!(m.context(), crate::ui::keymap::Context::Pane);
    // `s` toggles the grouped view from the panes and back to the grid.
    press(&mut m, "s");
    assert_eq!(m.run_layout, RunLayout::Grouped);
    press(&mut m, "s");
    assert_eq!(m.run_layout, RunLayout::Grid);
    press(&mut m, "esc");
    assert_eq!(m.run_layout, RunLayout::Table);
}

#[test]
fn grid_shows_every_host_and_hjkl_move_the_focus() {
    let mut m = three_runs();
    press(&mut m, "v");
    let shown = shot(&mut m, 80, 24);
    for needle in [
        "✔ web01",
        "✘ web03",
        "▶ web04",
        "· web06",
        "Job for nginx",
        "waiting for nginx",
    ] {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
    // 6 panes in 80x17: 3 columns, 2 rows.
    assert_eq!(m.run_cursor, 0);
    press(&mut m, "l");
    assert_eq!(m.run_cursor, 1);
    press(&mut m, "j");
    assert_eq!(m.run_cursor, 4);
    press(&mut m, "h");
    assert_eq!(m.run_cursor, 3);
    press(&mut m, "h");
    assert_eq!(m.run_cursor, 3, "no pane left of the first column");
    press(&mut m, "k right right");
    assert_eq!(m.run_cursor, 2);
    press(&mut m, "l");
    assert_eq!(m.run_cursor, 2, "no pane right of the last column");
    press(&mut m, "g g");
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("grid_{w}x{h}"), shown);
    }
}

#[test]
fn z_zooms_the_focused_pane_and_h_l_flip_hosts() {
    let mut m = three_runs();
    press(&mut m, "v l l z");
    assert!(m.runs[2].panes[2].is_zoomed());
    let shown = shot(&mut m, 80, 24);
    assert!(shown.contains("Job for nginx.service failed."), "{shown}");
    assert!(!shown.contains("restarted"), "only web03 shows: {shown}");
    assert!(shown.contains("zoom"), "{shown}");
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("zoomed_{w}x{h}"), shown);
    }
    press(&mut m, "l");
    assert_eq!(m.run_cursor, 3);
    assert!(m.runs[2].panes[3].is_zoomed() && !m.runs[2].panes[2].is_zoomed());
    assert!(shot(&mut m, 80, 24).contains("waiting for nginx to stop"));
    press(&mut m, "z");
    assert!(!m.runs[2].panes[3].is_zoomed());
    // Enter in the table opens the cursor's host zoomed; esc returns to the table.
    press(&mut m, "esc j enter");
    assert_eq!(m.run_layout, RunLayout::Grid);
    assert!(m.runs[2].panes[4].is_zoomed());
    press(&mut m, "esc");
    assert!(!m.runs[2].panes[4].is_zoomed());
}

#[test]
fn merged_stream_prefixes_hosts_in_arrival_order() {
    let mut m = three_runs();
    press(&mut m, "v v");
    assert_eq!(m.run_layout, RunLayout::Merged);
    let shown = shot(&mut m, 80, 24);
    let row = |needle: &str| shown.lines().position(|l| l.contains(needle)).unwrap();
    assert!(
        row("web01:  restarted") < row("web02:  restarted"),
        "{shown}"
    );
    assert!(
        row("web02:  restarted") < row("web03!: Job for nginx"),
        "{shown}"
    );
    // Later output arrives at the bottom while following.
    feed(&mut m, RESTART, vec![out(4, "restarted\n")]);
    let shown = shot(&mut m, 80, 24);
    assert!(shown.contains("web05:  restarted"), "{shown}");
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("merged_{w}x{h}"), shown);
    }
}

#[test]
fn grouped_view_collapses_identical_outputs_outliers_first() {
    let mut m = three_runs();
    press(&mut m, "] ] v v v");
    assert_eq!(m.run_layout, RunLayout::Grouped);
    let shown = shot(&mut m, 80, 24);
    let row = |needle: &str| shown.lines().position(|l| l.contains(needle)).unwrap();
    assert!(row("web03 (1)") < row("web[01-02,04] (3)"), "{shown}");
    assert!(row("up 9 days") < row("up 3 days"), "{shown}");
    assert_eq!(shown.matches("up 3 days").count(), 1, "{shown}");
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("grouped_{w}x{h}"), shown);
    }
}

#[test]
fn grouped_view_regroups_on_ticks_as_output_changes() {
    let mut m = three_runs();
    press(&mut m, "v v v");
    // The restart: web01+web02 said the same; web03 failed; web04 runs; web05-06 wait.
    let groups =
        |m: &Model| -> Vec<String> { m.runs[2].groups.iter().map(|g| g.nodeset.clone()).collect() };
    assert_eq!(groups(&m), ["web03", "web04", "web[01-02]", "web[05-06]"]);
    feed(
        &mut m,
        RESTART,
        vec![out(4, "restarted\n"), state(4, HostState::Ok)],
    );
    // Grouping reads every line: it waits for the next tick, not each event.
    assert_eq!(groups(&m), ["web03", "web04", "web[01-02]", "web[05-06]"]);
    update(&mut m, Msg::Tick("12:00:01".into()));
    assert_eq!(groups(&m), ["web03", "web04", "web06", "web[01-02,05]"]);
}

/// A finished run whose one host printed 60 lines, "error" on lines 10, 14 and 50.
fn long_output() -> Model {
    let mut m = model();
    m.view = View::Runs;
    add_run(&mut m, UPTIME, &["web01", "web02"], "journalctl -n 60");
    let mut text = String::new();
    for i in 1..=60 {
        if [10, 14, 50].contains(&i) {
            text.push_str(&format!("line {i}: error: upstream timed out\n"));
        } else {
            text.push_str(&format!("line {i}: ok\n"));
        }
    }
    feed(
        &mut m,
        UPTIME,
        vec![
            out(0, &text),
            state(0, HostState::Ok),
            state(1, HostState::Ok),
        ],
    );
    finish(&mut m, UPTIME, "ok");
    m
}

/// Cells of `buf` whose style is `style`, as the text they spell, row by row.
fn styled_text(buf: &ratatui::buffer::Buffer, style: ratatui::style::Style) -> Vec<String> {
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .filter(|&x| {
                    let c = &buf[(x, y)];
                    style.fg.is_none_or(|f| c.fg == f)
                        && style.bg.is_none_or(|b| c.bg == b)
                        && c.modifier.contains(style.add_modifier)
                })
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn search_highlights_every_match_and_n_keeps_context() {
    let mut m = long_output();
    update(&mut m, Msg::Resize(80, 24));
    press(&mut m, "enter");
    // The zoomed pane shows the last rows while following.
    press(&mut m, "/");
    assert!(m.run_search.is_some());
    type_text(&mut m, "error");
    // Typed text goes to the prompt, not to the keymap (`r` would rerun).
    assert_eq!(m.run_search.as_deref(), Some("error"));
    let prompt = text(&draw(&m, 80, 24));
    assert!(prompt.contains("/error"), "{prompt}");
    press(&mut m, "enter");
    assert!(m.run_search.is_none());
    assert!(
        matches!(&m.message, Some(Message::Info(t)) if t.contains("match 3 of 3 (n/N jump)")),
        "{:?}",
        m.message
    );
    // Following, the newest match is already in view: the view did not move.
    assert!(m.runs[0].panes[0].is_following());
    let buf = draw(&m, 80, 24);
    let shown = text(&buf);
    assert!(shown.contains("line 50: error"), "{shown}");
    assert!(shown.contains("/error"), "pane status: {shown}");
    let current = styled_text(&buf, m.theme.search_match(true));
    assert_eq!(current, ["error"], "{shown}");
    // n wraps to the first match and keeps lines above it in view.
    press(&mut m, "n");
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("match 1 of 3")));
    let buf = draw(&m, 80, 24);
    let shown = text(&buf);
    for context in ["line 7: ok", "line 8: ok", "line 9: ok", "line 10: error"] {
        assert!(shown.contains(context), "{context}: {shown}");
    }
    assert!(!m.runs[0].panes[0].is_following(), "a jump pauses follow");
    // Every match in view is highlighted: 10 is the current one, 14 another.
    assert_eq!(styled_text(&buf, m.theme.search_match(false)), ["error"]);
    assert_eq!(styled_text(&buf, m.theme.search_match(true)), ["error"]);
    // n to a match already in view moves the highlight, not the view.
    press(&mut m, "n");
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("match 2 of 3")));
    let buf = draw(&m, 80, 24);
    let screen = |t: &str| t.lines().take(22).collect::<Vec<_>>().join("\n");
    assert_eq!(screen(&text(&buf)), screen(&shown));
    let row_of = |needle: &str| {
        (0..24u16)
            .find(|&y| {
                (0..80u16)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    .contains(needle)
            })
            .unwrap()
    };
    let current = m.theme.search_match(true).bg;
    let current_rows: Vec<u16> = (0..24u16)
        .filter(|&y| (0..80u16).any(|x| Some(buf[(x, y)].bg) == current))
        .collect();
    assert_eq!(current_rows, [row_of("line 14: error")]);
    press(&mut m, "n");
    assert!(text(&draw(&m, 80, 24)).contains("line 50: error"));
    press(&mut m, "N N N");
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("wrapped")));
    assert!(text(&draw(&m, 80, 24)).contains("line 50: error"));
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("search_{w}x{h}"), shown);
    }
    // An empty search clears the highlights; esc in the prompt changes nothing.
    press(&mut m, "/");
    press(&mut m, "esc");
    assert_eq!(m.runs[0].panes[0].search_query(), Some("error"));
    press(&mut m, "/");
    press(&mut m, "enter");
    assert_eq!(m.runs[0].panes[0].search_query(), None);
}

#[test]
fn search_works_in_the_merged_stream_and_not_in_the_grouped_view() {
    let mut m = three_runs();
    press(&mut m, "v v /");
    type_text(&mut m, "nginx");
    press(&mut m, "enter");
    assert_eq!(m.runs[2].merged_pane.search_query(), Some("nginx"));
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("of 2")));
    press(&mut m, "v /");
    assert!(m.run_search.is_none());
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("search works in")));
}

#[test]
fn panes_follow_scroll_and_resume() {
    let mut m = long_output();
    update(&mut m, Msg::Resize(80, 24));
    press(&mut m, "enter k");
    assert!(!m.runs[0].panes[0].is_following());
    feed(&mut m, UPTIME, vec![]);
    let shown = text(&draw(&m, 80, 24));
    assert!(!shown.contains("line 60: ok"), "paused one row up: {shown}");
    assert!(shown.contains("paused"), "{shown}");
    press(&mut m, "G");
    assert!(m.runs[0].panes[0].is_following());
    assert!(text(&draw(&m, 80, 24)).contains("line 60: ok"));
    press(&mut m, "g g");
    assert!(text(&draw(&m, 80, 24)).contains("line 1: ok"));
    press(&mut m, "f");
    assert!(m.runs[0].panes[0].is_following());
}

#[test]
fn dropped_lines_and_dropped_output_are_marked() {
    let mut m = model();
    m.view = View::Runs;
    let hosts = vec![m.inventory.hosts()[0].clone()];
    let start = RunStart {
        id: UPTIME.into(),
        selector: "web01".into(),
        hosts,
        command: "yes".into(),
        prepared: None,
        rerun_of: None,
    };
    let caps = crate::ui::pane::ScrollbackCaps {
        max_lines: 5,
        max_bytes: 1 << 20,
    };
    m.runs.push(RunView::with_caps(&start, caps));
    let lines: String = (1..=12).map(|i| format!("y{i}\n")).collect();
    feed(
        &mut m,
        UPTIME,
        vec![
            out(0, &lines),
            EngineEvent::Dropped {
                host: 0,
                bytes_dropped: 4096,
            },
        ],
    );
    press(&mut m, "enter g g");
    let shown = shot(&mut m, 80, 24);
    assert!(shown.contains("… 8 lines dropped …"), "{shown}");
    assert!(shown.contains("4096 bytes dropped"), "{shown}");
}

/// The df run, finished with a failure, a timeout, an unreachable host and a host that has
/// since left the inventory.
fn rerunnable() -> Model {
    let mut m = model();
    m.view = View::Runs;
    add_run(
        &mut m,
        DF,
        &["db01", "db02", "db03", "web01", "web02"],
        "df -h /",
    );
    feed(
        &mut m,
        DF,
        vec![
            state(0, HostState::Ok),
            state(1, failed(1)),
            state(
                2,
                HostState::Timeout {
                    outcome: ExitOutcome::Code { code: 124 },
                },
            ),
            state(
                3,
                HostState::Unreachable {
                    kind: crate::engine::ErrorKind::Connect,
                    message: "connection refused".into(),
                },
            ),
            state(4, HostState::Cancelled),
        ],
    );
    m
}

#[test]
fn r_reruns_every_host_that_did_not_end_ok_after_confirmation() {
    let mut m = rerunnable();
    // Still in flight: nothing to rerun yet.
    press(&mut m, "r");
    assert_eq!(m.mode, Mode::Normal);
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("still in flight")));
    finish(&mut m, DF, "failed");
    press(&mut m, "r");
    assert_eq!(m.mode, Mode::Confirm);
    let shown = text(&draw(&m, 80, 24));
    assert!(
        shown.contains("Run on 4 hosts: db[02-03],web[01-02]"),
        "{shown}"
    );
    assert!(shown.contains("$ df -h /"), "{shown}");
    let effects = enter(&mut m);
    let start = started(&effects);
    let names: Vec<&str> = start.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["db02", "db03", "web01", "web02"]);
    assert_eq!(start.command, "df -h /");
    // The rerun is the new selected run, in the list above the old one.
    assert_eq!(m.runs.len(), 2);
    assert_eq!(m.run_selected, 1);
}

#[test]
fn rerun_keeps_hosts_no_longer_in_the_inventory_as_ssh_destinations_and_colon_rerun_does_the_same()
{
    let mut m = rerunnable();
    finish(&mut m, DF, "failed");
    // web01 left hosts.toml since the run.
    let kept: Vec<_> = m
        .inventory
        .hosts()
        .iter()
        .filter(|h| h.name != "web01")
        .cloned()
        .collect();
    m.inventory = crate::inventory::Inventory::new(kept);
    press(&mut m, ":");
    type_text(&mut m, "rerun");
    enter(&mut m);
    assert_eq!(m.mode, Mode::Confirm);
    let effects = enter(&mut m);
    let hosts = &started(&effects).hosts;
    assert_eq!(hosts.len(), 4);
    // Like `fleetdeck history rerun`: a name that left hosts.toml is a plain ssh destination.
    let web01 = hosts.iter().find(|h| h.name == "web01").unwrap();
    assert_eq!(web01.transport, crate::inventory::TransportKind::Ssh);
    assert!(web01.tags.is_empty());
    // A run with nothing failed says so and asks nothing.
    let id = m.runs[1].id.clone();
    feed(
        &mut m,
        &id,
        (0..4).map(|i| state(i, HostState::Ok)).collect(),
    );
    finish(&mut m, &id, "ok");
    press(&mut m, "r");
    assert_eq!(m.mode, Mode::Normal);
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("no failed")));
}

#[test]
fn help_in_the_panes_lists_pane_and_runs_keys_from_the_keymap() {
    let mut m = three_runs();
    press(&mut m, "v ?");
    assert_eq!(m.mode, Mode::Help);
    let shown = shot(&mut m, 200, 50);
    for needle in [
        "focus_left",
        "cycle_layout",
        "prev_run",
        "zoom",
        "rerun_failed",
    ]
    .map(|a| {
        crate::ui::keymap::Action::from_name(a)
            .unwrap()
            .description()
    }) {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
}

#[test]
fn the_console_keeps_the_newest_finished_runs_and_every_run_in_flight() {
    use super::runs::KEEP_FINISHED_RUNS;
    let mut m = model();
    add_run(&mut m, "INFLIGHT", &["db01"], "sleep 600");
    for i in 0..KEEP_FINISHED_RUNS + 3 {
        let id = format!("DONE{i:02}");
        add_run(&mut m, &id, &["web01"], "true");
        feed(&mut m, &id, vec![state(0, HostState::Ok)]);
        finish(&mut m, &id, "ok");
    }
    press(&mut m, "space");
    run_command(&mut m, "uptime");
    let id = started(&enter(&mut m)).id.clone();
    let ids: Vec<&str> = m.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), KEEP_FINISHED_RUNS + 2, "{ids:?}");
    assert_eq!(ids[0], "INFLIGHT");
    assert_eq!(ids[1], "DONE03");
    assert_eq!(m.selected_run().unwrap().id, id);
}

#[test]
fn finished_runs_over_the_output_budget_are_dropped_oldest_first() {
    use super::runs::prune_within;
    let mut m = model();
    // Three finished runs of 10 hosts x 64 KiB: with a 1.5 MiB budget the oldest goes.
    let line = vec![b'x'; 1023].into_iter().chain([b'\n']);
    let chunk: Vec<u8> = line.cycle().take(64 * 1024).collect();
    for id in ["BIG0", "BIG1", "BIG2"] {
        let start = RunStart {
            id: id.into(),
            selector: "h[0-9]".into(),
            hosts: (0..10)
                .map(|i| crate::inventory::Host::ad_hoc(&format!("h{i}")))
                .collect(),
            command: "flood".into(),
            prepared: None,
            rerun_of: None,
        };
        m.runs.push(RunView::new(&start));
        let events = (0..10)
            .map(|host| EngineEvent::Output {
                host,
                stream: Stream::Stdout,
                bytes: chunk.clone(),
            })
            .collect();
        feed(&mut m, id, events);
        finish(&mut m, id, "ok");
    }
    let budget = 3 << 19;
    let mut selected = 2;
    prune_within(&mut m.runs, &mut selected, 20, budget);
    let held: usize = m.runs.iter().map(|r| r.output_bytes()).sum();
    let ids: Vec<&str> = m.runs.iter().map(|r| r.id.as_str()).collect();
    assert!(held <= budget, "{held} bytes in {ids:?}");
    assert_eq!(ids, ["BIG1", "BIG2"]);
    assert_eq!(selected, 1, "still the same run");
    // The newest finished run stays even when it alone is over the budget.
    prune_within(&mut m.runs, &mut selected, 20, 1);
    let ids: Vec<&str> = m.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["BIG2"]);
}

// ---- The run queue in the Runs view ----

const QUEUED_HIGH: &str = "01JQUEUEDHIGH000000000000";
const QUEUED_LOW: &str = "01JQUEUEDLOW0000000000000";

/// The queue as the engine would report it: `running` (id, paused) and `queued` (id,
/// priority) in start order, for runs the console knows.
fn queue_snapshot(
    m: &Model,
    running: &[(&str, bool)],
    queued: &[(&str, Priority)],
) -> QueueSnapshot {
    let info = |id: &str| {
        let r = m.runs.iter().find(|r| r.id == id).unwrap();
        (r.command.clone(), r.hosts.len())
    };
    QueueSnapshot {
        queued: queued
            .iter()
            .enumerate()
            .map(|(i, (id, priority))| QueuedRun {
                id: (*id).into(),
                position: i + 1,
                priority: *priority,
                command: info(id).0,
                hosts: info(id).1,
                since: SystemTime::UNIX_EPOCH,
            })
            .collect(),
        running: running
            .iter()
            .map(|(id, paused)| RunningRun {
                id: (*id).into(),
                priority: Priority::Normal,
                command: info(id).0,
                hosts: info(id).1,
                since: SystemTime::UNIX_EPOCH,
                paused: *paused,
            })
            .collect(),
    }
}

/// `three_runs` with two more runs waiting (high, then low) and the restart paused.
fn queued_runs() -> Model {
    let mut m = three_runs();
    add_run(
        &mut m,
        QUEUED_HIGH,
        &["db01", "db02"],
        "pg_dump app > /tmp/app.sql",
    );
    add_run(
        &mut m,
        QUEUED_LOW,
        &["web07", "web08"],
        "apt-get -y upgrade",
    );
    let snap = queue_snapshot(
        &m,
        &[(RESTART, true)],
        &[(QUEUED_HIGH, Priority::High), (QUEUED_LOW, Priority::Low)],
    );
    update(&mut m, Msg::Queue(snap));
    m
}

#[test]
fn run_list_shows_queued_running_and_paused_runs_and_the_status_bar_the_queue_depth() {
    let mut m = queued_runs();
    let shown = shot(&mut m, 200, 50);
    for needle in [
        "◷ queued #1",
        "◷ queued #2",
        "high priority · waits for a free run slot  $ pg_dump",
        "low priority · waits for a free run slot  $ apt-get",
        "⏸ paused",
        "ok 2 · failed 1 · running 1 · pending 2",
        "1 running, 1 paused │ 2 queued",
        "run 01JQUEUEDLOW0000000000000 [queued]",
    ] {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
    // Newest first: the low run was submitted last.
    let row = |needle: &str| shown.lines().position(|l| l.contains(needle)).unwrap();
    assert!(row("queued #2") < row("queued #1"), "{shown}");
    assert!(row("queued #1") < row("paused"), "{shown}");
    assert_eq!(
        m.message,
        Some(Message::Info(format!(
            "run {QUEUED_LOW} queued #2 (low): it starts when a running run ends"
        )))
    );
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("queue_{w}x{h}"), shown);
    }
    // Without colour the same words and symbols are there.
    let mut plain = queued_runs();
    plain.theme = plain.theme.clone().with_ascii_symbols(true);
    let shown = shot(&mut plain, 200, 50);
    assert!(shown.contains("w queued #1"), "{shown}");
    assert!(shown.contains("= paused"), "{shown}");
}

#[test]
fn x_takes_a_queued_run_out_at_once_and_p_pauses_and_resumes_a_running_one() {
    let mut m = queued_runs();
    assert_eq!(m.selected_run().unwrap().id, QUEUED_LOW);
    // A queued run does not pause: it has not started.
    assert!(press(&mut m, "p").is_empty());
    assert_eq!(
        m.message,
        Some(Message::Info(format!(
            "run {QUEUED_LOW} is queued (#2): only a running run pauses; X removes it"
        )))
    );
    // X on a queued run: no popup, nothing of it has run.
    assert_eq!(press(&mut m, "X"), [Effect::CancelRun(QUEUED_LOW.into())]);
    assert_eq!(m.mode, Mode::Normal);
    assert!(m.confirm.is_none());
    // The queue answers, and the engine records it as a cancelled run.
    let snap = queue_snapshot(&m, &[(RESTART, true)], &[(QUEUED_HIGH, Priority::High)]);
    update(&mut m, Msg::Queue(snap));
    let skipped = || HostState::Skipped {
        reason: "run cancelled".into(),
    };
    feed(
        &mut m,
        QUEUED_LOW,
        vec![
            EngineEvent::RunStarted {
                id: QUEUED_LOW.into(),
                hosts: 2,
            },
            state(0, skipped()),
            state(1, skipped()),
        ],
    );
    finish(&mut m, QUEUED_LOW, "cancelled");
    let shown = shot(&mut m, 200, 50);
    assert!(shown.contains("⊘ cancelled"), "{shown}");
    assert!(shown.contains("1 running, 1 paused │ 1 queued"), "{shown}");
    // The paused restart: `]` selects older runs (low, high, restart).
    press(&mut m, "] ]");
    assert_eq!(m.selected_run().unwrap().id, RESTART);
    assert_eq!(press(&mut m, "p"), [Effect::ResumeRun(RESTART.into())]);
    assert_eq!(m.selected_run().unwrap().status(), "running");
    assert_eq!(press(&mut m, "p"), [Effect::PauseRun(RESTART.into())]);
    assert_eq!(m.selected_run().unwrap().status(), "paused");
    let shown = shot(&mut m, 200, 50);
    assert!(shown.contains("pausing run"), "{shown}");
    // The high run starts when a place frees: it leaves the queue.
    feed(
        &mut m,
        QUEUED_HIGH,
        vec![EngineEvent::RunStarted {
            id: QUEUED_HIGH.into(),
            hosts: 2,
        }],
    );
    let high = m.runs.iter().find(|r| r.id == QUEUED_HIGH).unwrap();
    assert_eq!(high.status(), "running");
    let shown = shot(&mut m, 200, 50);
    assert!(shown.contains("2 running, 1 paused"), "{shown}");
    assert!(!shown.contains("queued"), "{shown}");
    // A finished run neither pauses nor cancels.
    press(&mut m, "]");
    assert_eq!(m.selected_run().unwrap().id, DF);
    assert!(press(&mut m, "p X").is_empty());
    assert_eq!(
        m.message,
        Some(Message::Info(format!("run {DF} has already ended")))
    );
}

#[test]
fn the_cancel_popup_says_what_is_stopped_and_the_run_may_end_meanwhile() {
    let mut m = queued_runs();
    press(&mut m, "] ]");
    assert!(press(&mut m, "X").is_empty());
    assert_eq!(m.mode, Mode::Confirm);
    let shown = shot(&mut m, 80, 24);
    assert!(
        shown.contains(&format!("Cancel run {RESTART} on 6 hosts: web[01-06]")),
        "{shown}"
    );
    assert!(
        shown.contains("3 done · 1 running · 2 not started"),
        "{shown}"
    );
    insta::assert_snapshot!("cancel_popup_80x24", shown);
    // The run ends while the popup is open: y has nothing left to cancel.
    finish(&mut m, RESTART, "failed");
    assert!(press(&mut m, "y").is_empty());
    assert_eq!(m.mode, Mode::Normal);
    assert_eq!(
        m.message,
        Some(Message::Info(format!("run {RESTART} has already ended")))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_over_max_running_wait_visibly_then_start() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    let mut settings = Settings::default();
    settings.queue.max_running = 1;
    settings.queue.capacity = 1;
    let go = dir.path().join("go");
    let go_quoted = shlex::try_quote(&go.to_string_lossy())
        .unwrap()
        .into_owned();
    let mut m = local_model();
    press(&mut m, "space");
    run_command(
        &mut m,
        &format!(
            "for i in $(seq 1 1200); do [ -e {go_quoted} ] && exit 0; sleep 0.05; done; exit 1"
        ),
    );
    let first = started(&enter(&mut m)).clone();
    run_command(&mut m, "echo second");
    let second = started(&enter(&mut m)).clone();
    let (tx, mut rx) = mpsc::channel(ENGINE_CHANNEL);
    let session = session_for(&home, &settings, &first.hosts);
    let mut changes = session.changes();
    for start in [first.clone(), second.clone()] {
        submit_run(&home, &settings, start, &session, tx.clone()).unwrap();
        update(&mut m, Msg::Queue(session.snapshot().queue));
    }
    assert_eq!(
        m.message,
        Some(Message::Info(format!(
            "run {} queued #1 (normal): it starts when a running run ends",
            second.id
        )))
    );
    // One more than the queue holds is refused, and the console says why.
    run_command(&mut m, "echo third");
    let third = started(&enter(&mut m)).clone();
    let refused = submit_run(&home, &settings, third.clone(), &session, tx.clone()).unwrap_err();
    assert_eq!(refused, "queue full (1 waiting): cancel or wait");
    update(
        &mut m,
        Msg::RunNotStarted {
            run: third.id.clone(),
            error: refused,
        },
    );
    assert_eq!(m.selected_run().unwrap().status(), "not started");
    assert_eq!(
        m.message,
        Some(Message::Error(format!(
            "run {} did not start: queue full (1 waiting): cancel or wait",
            third.id
        )))
    );
    // The queued run stays visible below it.
    press(&mut m, "]");
    drop(tx);
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("◷ queued #1"), "{shown}");
    assert!(shown.contains("1 running │ 1 queued"), "{shown}");
    std::fs::write(&go, b"go").unwrap();
    // The loop's way: engine events and queue changes, until both runs have finished.
    while m.runs_in_flight() > 0 {
        let msg = tokio::time::timeout(Duration::from_secs(60), async {
            tokio::select! {
                Some((run, event)) = rx.recv() => Msg::Engine { run, event },
                Ok(()) = changes.changed() => Msg::Queue(session.snapshot().queue),
            }
        })
        .await
        .expect("the queue went quiet");
        update(&mut m, msg);
    }
    let result = |id: &str| {
        m.runs
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.finished.clone())
            .unwrap()
    };
    let (a, b) = (result(&first.id), result(&second.id));
    assert_eq!((a.status.as_str(), b.status.as_str()), ("ok", "ok"));
    // The second started only once the first had ended (RFC 3339 UTC sorts as text).
    assert!(b.started >= a.finished, "{} < {}", b.started, a.finished);
    let shown = text(&draw(&m, 80, 24));
    assert!(!shown.contains("queued"), "{shown}");
    assert!(session.shutdown(Duration::from_secs(30)).await);
}
