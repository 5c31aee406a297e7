//! The History view: loading as effects, key sequences over a list built from real
//! `RunResult` values, rerunning failed hosts through the confirmation, TestBackend snapshots,
//! and the loads themselves reading what the engine recorded.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::history::{HistoryPage, ListLoad, OutputLoad, RunOutput};
use super::history_load::{load_history, spawn_load_history, spawn_load_run_output};
use super::model::{Message, Mode, Model, View};
use super::run_task::submit_run;
use super::tests::{draw, model, press, text, type_text};
use super::update::{Effect, Msg, update};
use crate::config::{Home, Settings};
use crate::engine::{self, ENGINE_CHANNEL, HostResult, HostState, Records, RunResult, Stream};
use crate::engine::{ErrorKind, ExitOutcome};
use crate::inventory::TransportKind;
use crate::ui::pane::Scrollback;

const NEWEST: &str = "01KF3Z5Q8V4W7X9Y2B3C4D5E6F";
const MIDDLE: &str = "01KF3Y2M1C8D0E3F5G7H9J1K2M";
const OLDEST: &str = "01KF3X0A9B6C4D2E1F0G8H7J6K";

fn host(name: &str, state: HostState, exit: Option<i32>, ms: u64, err: Option<&str>) -> HostResult {
    HostResult {
        host: name.into(),
        state,
        exit_code: exit,
        duration_ms: ms,
        bytes_out: 16,
        bytes_err: err.map_or(0, str::len) as u64,
        first_error_line: err.map(Into::into),
        attempts: 1,
    }
}

/// Three recorded runs, newest first: a failed restart (one host ok, one failed, one
/// unreachable, and `gone7`, no longer in the inventory, timed out), an ok `df` on the
/// databases, and a cancelled sleep.
fn recorded_runs() -> Vec<RunResult> {
    let run = |id: &str, started: &str, finished: &str, targets: &str, command: &str| RunResult {
        id: id.into(),
        user: "ana@ops1".into(),
        started: started.into(),
        finished: finished.into(),
        selector: targets.into(),
        targets: targets.into(),
        command: command.into(),
        status: crate::engine::RunStatus::Ok,
        action: None,
        hosts: Vec::new(),
    };
    let mut restart = run(
        NEWEST,
        "2026-01-05T09:30:00.120Z",
        "2026-01-05T09:30:13.870Z",
        "gone7,web[01-03]",
        "systemctl restart nginx",
    );
    restart.status = crate::engine::RunStatus::Failed;
    restart.hosts = vec![
        host("web01", HostState::Ok, Some(0), 1240, None),
        host(
            "web02",
            HostState::Failed {
                outcome: ExitOutcome::Code { code: 1 },
            },
            Some(1),
            1530,
            Some("Job for nginx.service failed"),
        ),
        host(
            "web03",
            HostState::Unreachable {
                kind: ErrorKind::Connect,
                message: "connection refused".into(),
            },
            None,
            12,
            Some("connection refused"),
        ),
        host(
            "gone7",
            HostState::Timeout {
                outcome: ExitOutcome::TimedOut { after_ms: 10_000 },
            },
            None,
            10_000,
            None,
        ),
    ];
    let mut df = run(
        MIDDLE,
        "2026-01-05T08:02:11.000Z",
        "2026-01-05T08:02:11.900Z",
        "db[01-03]",
        "df -h /var | tail -1",
    );
    df.status = crate::engine::RunStatus::Ok;
    df.hosts = ["db01", "db02", "db03"]
        .iter()
        .map(|h| host(h, HostState::Ok, Some(0), 300, None))
        .collect();
    let mut sleep = run(
        OLDEST,
        "2026-01-04T23:15:00.000Z",
        "2026-01-04T23:16:40.000Z",
        "lab1",
        "sleep 600",
    );
    sleep.status = crate::engine::RunStatus::Cancelled;
    sleep.hosts = vec![host("lab1", HostState::Cancelled, None, 100_000, None)];
    vec![restart, df, sleep]
}

/// The restart's recorded output (web02's stderr in red, as a terminal would show it).
fn restart_output() -> Arc<RunOutput> {
    let mut web01 = Scrollback::new(super::history::OUTPUT_CAPS);
    web01.append(Stream::Stdout, b"nginx restarted\n");
    let mut web02 = Scrollback::new(super::history::OUTPUT_CAPS);
    web02.append(Stream::Stdout, b"restarting nginx\n");
    web02.append(
        Stream::Stderr,
        b"Job for nginx.service \x1b[31mfailed\x1b[0m\n",
    );
    for sb in [&mut web01, &mut web02] {
        sb.finish();
    }
    Arc::new(RunOutput {
        hosts: vec![("web01".into(), web01), ("web02".into(), web02)],
        warnings: Vec::new(),
    })
}

/// The console with the History view open and its first load answered with `page`.
fn loaded(page: HistoryPage) -> Model {
    let mut m = model();
    let effects = press(&mut m, "5");
    assert_eq!(effects, [Effect::LoadHistory { request: 1 }]);
    update(
        &mut m,
        Msg::HistoryLoaded {
            request: 1,
            result: Ok(page),
        },
    );
    m
}

fn history_model() -> Model {
    loaded(HistoryPage {
        runs: recorded_runs(),
        warnings: Vec::new(),
    })
}

fn selected_id(m: &Model) -> &str {
    m.history.selected().map_or("", |r| r.id.as_str())
}

/// Opens the newest run and answers its output load.
fn opened(m: &mut Model) {
    press(m, "g g");
    assert_eq!(press(m, "enter"), [Effect::LoadRunOutput(NEWEST.into())]);
    update(
        m,
        Msg::RunOutputLoaded {
            id: NEWEST.into(),
            output: Ok(restart_output()),
        },
    );
}

#[test]
fn the_list_loads_once_when_first_shown_and_again_on_r_and_after_a_run() {
    let mut m = model();
    assert_eq!(m.history.load, ListLoad::NotLoaded);
    assert_eq!(press(&mut m, "5"), [Effect::LoadHistory { request: 1 }]);
    assert_eq!(m.history.load, ListLoad::Loading);
    assert!(text(&draw(&m, 80, 24)).contains("reading history"));
    // Leaving and coming back does not read again while the first read is on its way.
    assert!(press(&mut m, "1").is_empty());
    assert!(press(&mut m, "5").is_empty());
    update(
        &mut m,
        Msg::HistoryLoaded {
            request: 1,
            result: Ok(HistoryPage {
                runs: recorded_runs(),
                warnings: Vec::new(),
            }),
        },
    );
    assert_eq!(m.history.load, ListLoad::Loaded);
    assert_eq!(m.history.shown, [0, 1, 2]);
    assert_eq!(press(&mut m, "R"), [Effect::LoadHistory { request: 2 }]);
    // Via tab too: another view, then back, does not reload a loaded list.
    assert!(press(&mut m, "tab S-tab").is_empty());
    // A stale answer (request 1 again) is dropped; the newest one is taken.
    update(
        &mut m,
        Msg::HistoryLoaded {
            request: 1,
            result: Ok(HistoryPage {
                runs: Vec::new(),
                warnings: Vec::new(),
            }),
        },
    );
    assert_eq!(m.history.runs.len(), 3);
    let mut fewer = recorded_runs();
    fewer.remove(0);
    update(
        &mut m,
        Msg::HistoryLoaded {
            request: 2,
            result: Ok(HistoryPage {
                runs: fewer,
                warnings: Vec::new(),
            }),
        },
    );
    assert_eq!(m.history.runs.len(), 2);
}

#[test]
fn damaged_lines_are_reported_in_the_message_line_and_the_list_still_shows() {
    let m = loaded(HistoryPage {
        runs: recorded_runs(),
        warnings: vec![
            "skipped a damaged line: history.jsonl: line 2 counting back from the newest: \
             expected value at line 1 column 1"
                .into(),
        ],
    });
    assert!(matches!(&m.message, Some(Message::Error(t)) if t.contains("damaged line")));
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("damaged line"), "{shown}");
    assert!(shown.contains("systemctl restart nginx"), "{shown}");
}

#[test]
fn an_unreadable_history_says_why_and_r_tries_again() {
    let mut m = model();
    press(&mut m, "5");
    update(
        &mut m,
        Msg::HistoryLoaded {
            request: 1,
            result: Err("cannot read the run history: /x/history.jsonl: permission denied".into()),
        },
    );
    assert!(matches!(m.history.load, ListLoad::Failed(_)));
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("permission denied"), "{shown}");
    assert_eq!(press(&mut m, "R"), [Effect::LoadHistory { request: 2 }]);
}

#[test]
fn movement_keys_walk_the_list() {
    let mut m = history_model();
    assert_eq!(selected_id(&m), NEWEST);
    press(&mut m, "j");
    assert_eq!(selected_id(&m), MIDDLE);
    press(&mut m, "G");
    assert_eq!(selected_id(&m), OLDEST);
    press(&mut m, "j");
    assert_eq!(selected_id(&m), OLDEST, "the cursor stops at the last run");
    press(&mut m, "k");
    assert_eq!(selected_id(&m), MIDDLE);
    press(&mut m, "g g");
    assert_eq!(selected_id(&m), NEWEST);
    press(&mut m, "C-d");
    assert_eq!(selected_id(&m), OLDEST);
    press(&mut m, "C-u");
    assert_eq!(selected_id(&m), NEWEST);
    // The fleet's cursor is not touched by the history's keys.
    assert_eq!(m.cursor, 0);
}

#[test]
fn slash_filters_fuzzily_over_command_targets_status_user_and_id() {
    let mut m = history_model();
    press(&mut m, "/");
    assert_eq!(m.mode, Mode::Filter);
    type_text(&mut m, "rstrt ngx");
    assert_eq!(m.history.shown, [0], "fuzzy over the command");
    assert!(text(&draw(&m, 80, 24)).contains("/rstrt ngx"));
    press(&mut m, "esc");
    assert_eq!(m.mode, Mode::Normal);
    assert_eq!(
        m.history.shown,
        [0, 1, 2],
        "esc while typing drops the filter"
    );
    for (query, want) in [
        ("tail", vec![1]),
        ("lab1", vec![2]),
        ("cancelled", vec![2]),
        ("ANA@", vec![0, 1, 2]),
        (&MIDDLE[..14], vec![1]),
        ("ok", vec![1]),
        ("zzzz", vec![]),
    ] {
        press(&mut m, "/");
        type_text(&mut m, query);
        press(&mut m, "enter");
        assert_eq!(m.history.shown, want, "filter {query:?}");
        assert_eq!(m.history.filter, query);
        // esc in the list drops the filter first.
        press(&mut m, "esc");
        assert!(m.history.filter.is_empty());
    }
    // The fleet's filter is a different one.
    assert!(m.filter.is_empty());
    press(&mut m, "/");
    type_text(&mut m, "zzzz");
    press(&mut m, "enter");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("No run matches"), "{shown}");
    assert!(press(&mut m, "enter").is_empty(), "nothing to open");
}

#[test]
fn enter_opens_a_run_then_a_hosts_output_and_esc_goes_back() {
    let mut m = history_model();
    opened(&mut m);
    let open = m.history.open.as_ref().unwrap();
    assert!(matches!(open.output, OutputLoad::Loaded(_)));
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains(&format!("run {NEWEST}")), "{shown}");
    assert!(shown.contains("Job for nginx.service failed"), "{shown}");
    assert!(
        shown.contains("unreachable (connect): connection refused"),
        "{shown}"
    );
    press(&mut m, "j enter");
    assert!(m.history.pane_open());
    let pane = text(&draw(&m, 80, 24));
    assert!(pane.contains("restarting nginx"), "{pane}");
    assert!(pane.contains("Job for nginx.service failed"), "{pane}");
    // Pane keys work on the recorded output.
    press(&mut m, "w");
    assert!(m.history.open.as_ref().unwrap().pane.is_wrapped());
    press(&mut m, "esc");
    assert!(!m.history.pane_open());
    assert!(m.history.open.is_some());
    // A host with nothing recorded says so.
    press(&mut m, "G enter");
    assert!(text(&draw(&m, 80, 24)).contains("(no output recorded)"));
    press(&mut m, "esc esc");
    assert!(m.history.open.is_none());
    assert_eq!(m.view, View::History);
    // At the top of the list, esc only says how to quit.
    press(&mut m, "esc");
    assert!(!m.quit);
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("quits")));
}

#[test]
fn output_answers_for_another_run_are_dropped_and_errors_shown() {
    let mut m = history_model();
    press(&mut m, "enter");
    update(
        &mut m,
        Msg::RunOutputLoaded {
            id: MIDDLE.into(),
            output: Ok(restart_output()),
        },
    );
    assert!(matches!(
        m.history.open.as_ref().unwrap().output,
        OutputLoad::Loading
    ));
    press(&mut m, "enter");
    assert!(text(&draw(&m, 80, 24)).contains("reading output"));
    update(
        &mut m,
        Msg::RunOutputLoaded {
            id: NEWEST.into(),
            output: Err(format!("cannot read the output of run {NEWEST}: denied")),
        },
    );
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("denied"), "{shown}");
}

#[test]
fn r_reruns_the_hosts_that_did_not_end_ok_through_the_confirmation() {
    let mut m = history_model();
    assert!(press(&mut m, "r").is_empty());
    assert_eq!(m.mode, Mode::Confirm);
    let popup = text(&draw(&m, 80, 24));
    assert!(
        popup.contains("Run on 3 hosts: gone7,web[02-03]"),
        "{popup}"
    );
    assert!(popup.contains("$ systemctl restart nginx"), "{popup}");
    let effects = press(&mut m, "enter");
    let [Effect::StartRun(start)] = effects.as_slice() else {
        panic!("expected one StartRun, got {effects:?}");
    };
    let names: Vec<&str> = start.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["web02", "web03", "gone7"]);
    // Inventory hosts come as the inventory describes them; a name no longer there is a
    // plain ssh destination, like `fleetdeck history rerun`.
    assert_eq!(start.hosts[0].env.as_deref(), Some("prod"));
    assert_eq!(start.hosts[2].transport, TransportKind::Ssh);
    assert_eq!(start.hosts[2].env, None);
    assert_eq!(start.command, "systemctl restart nginx");
    // The run shows in the Runs view like any run.
    assert_eq!(m.view, View::Runs);
    assert_eq!(m.runs.len(), 1);
}

#[test]
fn r_in_an_opened_run_reruns_that_run_and_an_all_ok_run_has_nothing_to_rerun() {
    let mut m = history_model();
    press(&mut m, "j");
    assert!(press(&mut m, "r").is_empty());
    assert_eq!(m.mode, Mode::Normal);
    assert!(
        matches!(&m.message, Some(Message::Info(t)) if t.contains("nothing to rerun")),
        "{:?}",
        m.message
    );
    press(&mut m, "G enter");
    press(&mut m, "r");
    assert_eq!(m.mode, Mode::Confirm);
    assert!(text(&draw(&m, 80, 24)).contains("Run on 1 host: lab1"));
    press(&mut m, "esc");
    assert!(m.runs.is_empty());
    assert_eq!(m.view, View::History);
}

#[test]
fn a_console_run_finishing_reloads_a_list_already_read() {
    let mut m = model();
    let result = recorded_runs().remove(1);
    let finished = |m: &mut Model| {
        update(
            m,
            Msg::Engine {
                run: result.id.clone(),
                event: engine::EngineEvent::RunFinished {
                    result: Box::new(result.clone()),
                },
            },
        )
    };
    // Never shown: nothing to refresh (it is read when first shown).
    assert!(finished(&mut m).is_empty());
    let mut m = history_model();
    assert_eq!(finished(&mut m), [Effect::LoadHistory { request: 2 }]);
}

fn snapshot(m: &Model, name: &str, w: u16, h: u16) {
    let shown = text(&draw(m, w, h));
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), shown);
}

const SIZES: [(u16, u16); 3] = [(80, 24), (200, 50), (40, 12)];

#[test]
fn list_snapshots() {
    let m = history_model();
    for (w, h) in SIZES {
        snapshot(&m, "history_list", w, h);
    }
}

#[test]
fn filtered_list_snapshots() {
    let mut m = history_model();
    press(&mut m, "/");
    type_text(&mut m, "web");
    press(&mut m, "enter");
    assert_eq!(m.history.shown, [0]);
    for (w, h) in SIZES {
        snapshot(&m, "history_filtered", w, h);
    }
}

#[test]
fn opened_run_snapshots() {
    let mut m = history_model();
    opened(&mut m);
    for (w, h) in SIZES {
        snapshot(&m, "history_open", w, h);
    }
    press(&mut m, "j enter");
    for (w, h) in SIZES {
        update(&mut m, Msg::Resize(w, h));
        snapshot(&m, "history_output", w, h);
    }
}

use super::run_tests::local_model;

/// Runs the confirmed `start` through a fleet session as the console does, feeding its events
/// to `update` until it ends, and returns the effects the update asked for along the way.
async fn run_on_engine(
    m: &mut Model,
    home: &Home,
    settings: &Settings,
    start: super::runs::RunStart,
) -> Vec<Effect> {
    let session = super::run_tests::session_for(home, settings, &start.hosts);
    // The test reads back what is recorded: the run must not go unrecorded.
    home.ensure_writable_dirs().unwrap();
    let (tx, mut rx) = mpsc::channel(ENGINE_CHANNEL);
    submit_run(home, settings, start, &session, tx).unwrap();
    let mut effects = Vec::new();
    loop {
        let (run, event) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("the engine went quiet")
            .expect("the run ended with RunFinished");
        let last = matches!(event, engine::EngineEvent::RunFinished { .. });
        effects.extend(update(m, Msg::Engine { run, event }));
        if last {
            break;
        }
    }
    assert!(session.shutdown(Duration::from_secs(30)).await);
    effects
}

/// Performs a load effect the way the event loop does and feeds the answer to `update`.
async fn perform(m: &mut Model, home: &Home, settings: &Settings, effect: Effect) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    match effect {
        Effect::LoadHistory { request } => spawn_load_history(home, settings, request, tx),
        Effect::LoadRunOutput(id) => spawn_load_run_output(home, settings, id, tx),
        other => panic!("not a load: {other:?}"),
    }
    let msg = tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("the load answered")
        .expect("the load sent its answer");
    assert!(update(m, msg).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loads_read_what_the_engine_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    let settings = Settings::default();
    let mut m = local_model();
    // An empty history first: the view says so.
    let load = press(&mut m, "5");
    for effect in load {
        perform(&mut m, &home, &settings, effect).await;
    }
    assert!(text(&draw(&m, 80, 24)).contains("No runs recorded yet"));

    // A run from the console: lab2 fails.
    press(&mut m, "1 space space :");
    type_text(
        &mut m,
        "run echo hi from $FLEETDECK_HOST; [ $FLEETDECK_HOST = lab1 ] || { echo oops >&2; exit 3; }",
    );
    press(&mut m, "enter");
    let effects = press(&mut m, "enter");
    let [Effect::StartRun(start)] = effects.as_slice() else {
        panic!("the run did not start: {effects:?}");
    };
    let start = start.clone();
    let effects = run_on_engine(&mut m, &home, &settings, start.clone()).await;
    // The finished run asks for the list again (it was read before); perform that.
    assert_eq!(effects, [Effect::LoadHistory { request: 2 }]);
    perform(&mut m, &home, &settings, effects[0].clone()).await;

    press(&mut m, "5");
    assert_eq!(m.history.runs.len(), 1);
    let run = &m.history.runs[0];
    assert_eq!(run.id, start.id);
    assert_eq!(run.status, crate::engine::RunStatus::Failed);
    let list = text(&draw(&m, 80, 24));
    assert!(list.contains("1/2"), "{list}");
    assert!(list.contains("failed"), "{list}");

    let effects = press(&mut m, "enter");
    assert_eq!(effects, [Effect::LoadRunOutput(start.id.clone())]);
    perform(&mut m, &home, &settings, effects[0].clone()).await;
    press(&mut m, "j enter");
    let pane = text(&draw(&m, 80, 24));
    assert!(pane.contains("hi from lab2"), "{pane}");
    assert!(pane.contains("oops"), "{pane}");

    // A damaged line and a torn write: reported, not fatal.
    let history = home.history_file();
    let mut text_now = std::fs::read_to_string(&history).unwrap();
    text_now.insert_str(0, "{not json\n");
    text_now.push_str("{\"v\":1,\"ts\":\"2026");
    std::fs::write(&history, text_now).unwrap();
    press(&mut m, "esc esc");
    let effects = press(&mut m, "R");
    perform(&mut m, &home, &settings, effects[0].clone()).await;
    assert_eq!(m.history.runs.len(), 1);
    let Some(Message::Error(note)) = &m.message else {
        panic!("no warning: {:?}", m.message);
    };
    assert!(note.contains("damaged line"), "{note}");
    assert!(note.contains("1 more"), "{note}");
}

#[test]
fn a_missing_history_is_an_empty_list_and_a_run_without_output_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    let records = Records::new(&home, &Settings::default().store);
    let page = load_history(&records, 10).unwrap();
    assert!(page.runs.is_empty() && page.warnings.is_empty());
    let out = super::history_load::load_run_output(&records, NEWEST).unwrap();
    assert!(out.hosts.is_empty());
}

#[test]
fn run_output_is_bounded_per_host() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    home.ensure_writable_dirs().unwrap();
    let records = Records::new(&home, &Settings::default().store);
    let mut writer = crate::store::JsonlWriter::open(
        &records.run_output_path(NEWEST),
        crate::store::Rotation::NEVER,
        1,
    )
    .unwrap();
    // 3 MiB for one host, in 64 KiB records of numbered lines.
    let chunk: String = (0..1024).map(|i| format!("line {i:058}\n")).collect();
    for _ in 0..48 {
        writer
            .append(&crate::engine::OutputRecord {
                host: "web01".into(),
                stream: Stream::Stdout,
                data: chunk.clone(),
            })
            .unwrap();
    }
    let out = super::history_load::load_run_output(&records, NEWEST).unwrap();
    let sb = out.get("web01").unwrap();
    assert!(
        sb.bytes() <= super::history::OUTPUT_CAPS.max_bytes,
        "{}",
        sb.bytes()
    );
    assert!(sb.lines_dropped() > 0);
}
