//! The History view: loading as effects, key sequences over a list built from real
//! `RunResult` values, rerunning failed hosts through the confirmation, TestBackend snapshots,
//! and the loads themselves reading what the engine recorded. By topic: the list (list.rs),
//! an opened run (open.rs), the loads (load.rs); here, the recorded runs they share.

mod list;
mod load;
mod open;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::config::{Home, Settings};
use crate::engine::{self, ENGINE_CHANNEL, HostResult, HostState, Records, RunResult, Stream};
use crate::engine::{ErrorKind, ExitOutcome};
use crate::inventory::TransportKind;
use crate::ui::app::history::load::{load_history, spawn_load_history, spawn_load_run_output};
use crate::ui::app::history::state::{HistoryPage, ListLoad, OutputLoad, RunOutput};
use crate::ui::app::model::{Model, View};
use crate::ui::app::run_task::submit_run;
use crate::ui::app::shell::Message;
use crate::ui::app::tests::{draw, model, press, text, type_text};
use crate::ui::app::update::{Effect, Msg, update};
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
    let mut web01 = Scrollback::new(crate::ui::app::history::state::OUTPUT_CAPS);
    web01.append(Stream::Stdout, b"nginx restarted\n");
    let mut web02 = Scrollback::new(crate::ui::app::history::state::OUTPUT_CAPS);
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

fn snapshot(m: &Model, name: &str, w: u16, h: u16) {
    let shown = text(&draw(m, w, h));
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), shown);
}

const SIZES: [(u16, u16); 3] = [(80, 24), (200, 50), (40, 12)];
