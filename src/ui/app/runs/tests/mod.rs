//! The Runs view's tests, by topic: starting runs (start.rs), the layouts (layouts.rs), pane
//! keys (panes.rs), the queue and what the console keeps (queue.rs), and runs through the
//! real engine (engine.rs); here, the helpers they share.

mod engine;
mod layouts;
mod panes;
mod queue;
mod start;

pub(crate) use engine::run_through_the_queue;

use std::path::Path;
use std::time::{Duration, SystemTime};

use ratatui::crossterm::event::KeyCode;
use tokio::sync::mpsc;

use crate::config::{Home, Settings};
use crate::engine::ExitOutcome;
use crate::engine::queue::{QueueSnapshot, QueuedRun, RunningRun};
use crate::engine::{ENGINE_CHANNEL, FleetSession, SessionOptions};
use crate::engine::{EngineEvent, HostResult, HostState, Priority, RunResult, Stream};
use crate::inventory::load::parse;
use crate::ui::app::model::{Model, View};
use crate::ui::app::run_task::submit_run;
use crate::ui::app::runs::RunLayout;
use crate::ui::app::runs::{RunStart, RunView};
use crate::ui::app::shell::Message;
use crate::ui::app::tests::{draw, key, model, press, text, type_text};
use crate::ui::app::update::{Effect, Msg, update};
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

const LOCAL_HOSTS: &str = r#"
[[hosts]]
name = "lab[1-2]"
transport = "local"
env = "lab"
"#;

/// Two local hosts, lab1 and lab2 (env lab), the built-in keymap and dark theme, 80x24.
pub(crate) fn local_model() -> Model {
    let inventory = parse(Path::new("hosts.toml"), LOCAL_HOSTS).unwrap();
    let theme = Theme::builtin("dark").unwrap();
    let mut m = Model::new(inventory, builtin().unwrap(), theme, vec!["dark".into()]);
    update(&mut m, crate::ui::app::tests::tick("12:00:00"));
    update(&mut m, Msg::Resize(80, 24));
    m
}

/// A session over `hosts` as the console opens one (local hosts: no ssh config or keys are
/// read). Inside the runtime.
pub(crate) fn session_for(
    home: &Home,
    settings: &Settings,
    hosts: &[crate::inventory::Host],
) -> FleetSession {
    FleetSession::open(home, settings, SessionOptions::new(hosts.to_vec())).unwrap()
}

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
        for_incidents: Vec::new(),
    };
    m.runs.list.push(RunView::new(&start));
    m.runs.selected = m.runs.list.len() - 1;
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
    let run = m.runs.list.iter().find(|r| r.id == id).unwrap();
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
    m.shell.view = View::Runs;
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
