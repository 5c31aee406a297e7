//! The wallboard on a fixed picture: keys (pages, pause, the lock, every other key ignored),
//! rotation on ticks, statuses and counts, and TestBackend snapshots of every page at 40x10,
//! 80x24 and 200x50.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::page::Page;
use super::state::Wallboard;
use super::status::HostStatus;
use super::update::{Msg, Outcome, update};
use crate::engine::queue::RunningRun;
use crate::engine::{
    ConnState, ErrorKind, FleetSnapshot, HostResult, HostState, IncidentsFrame, QueueSnapshot,
    RunResult, RunStatus,
};
use crate::incident::{Incident, Severity, Source as IncidentSource, State};
use crate::inventory::Host;
use crate::metrics::{Availability, HostNow, MetricsFrame, Sample, Source};
use crate::ui::theme::Theme;

/// 2027-01-15 08:00:00 UTC.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn hosts() -> Vec<Host> {
    [
        "web01", "web02", "web03", "db01", "cache1", "lab1", "web04", "web05", "web06",
    ]
    .iter()
    .map(|n| Host::ad_hoc(n))
    .collect()
}

fn sampled(age_s: u64, cpu: f64, mem: f64, disk: f64, load: f64) -> HostNow {
    let mut s = Sample::empty(Source::Agent, now() - Duration::from_secs(age_s));
    s.cpu_pct = Some(cpu);
    s.mem_pct = Some(mem);
    s.disk_pct = Some(disk);
    s.load1 = Some(load);
    HostNow {
        latest: Some(s),
        availability: Availability::Sampled,
        interval: Some(Duration::from_secs(5)),
        trend: Vec::new(),
    }
}

fn incident(id: &str, title: &str, severity: Severity, hosts: &[&str], state: State) -> Incident {
    Incident {
        id: id.into(),
        source: IncidentSource::Agent,
        fingerprint: format!("{title}/fp"),
        title: title.into(),
        severity,
        hosts: hosts.iter().map(|h| (*h).to_string()).collect(),
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        state,
        count: 2,
        first_seen: "2027-01-15T07:30:00Z".into(),
        last_seen: "2027-01-15T07:55:00Z".into(),
        source_ts: None,
        resolved_at: None,
        timeline: Vec::new(),
        timeline_dropped: 0,
    }
}

fn run(id: &str, finished: &str, status: RunStatus, command: &str) -> Arc<RunResult> {
    Arc::new(RunResult {
        id: id.into(),
        user: "ana@ops1".into(),
        started: "2027-01-15T07:40:00Z".into(),
        finished: finished.into(),
        selector: "web[01-02]".into(),
        targets: "web[01-02]".into(),
        command: command.into(),
        status,
        action: None,
        hosts: vec![HostResult {
            host: "web01".into(),
            state: HostState::Ok,
            exit_code: Some(0),
            duration_ms: 10,
            bytes_out: 1,
            bytes_err: 0,
            first_error_line: None,
            attempts: 1,
        }],
    })
}

/// A fleet with one of every status, two active incidents and a resolved one, two finished
/// runs and one in flight.
fn snapshot() -> FleetSnapshot {
    let mut connections = HashMap::new();
    connections.insert("web01".into(), ConnState::Connected);
    connections.insert("web02".into(), ConnState::Connected);
    connections.insert("web03".into(), ConnState::Connecting);
    connections.insert(
        "db01".into(),
        ConnState::Failed {
            kind: ErrorKind::Connect,
            reason: "connection refused".into(),
        },
    );
    connections.insert(
        "cache1".into(),
        ConnState::Unwatched {
            reason: "cache1: no read token: a read-only view contacts agents only with a \
                     read-scope token"
                .into(),
        },
    );
    connections.insert("lab1".into(), ConnState::Local);
    for h in ["web04", "web05", "web06"] {
        connections.insert(h.into(), ConnState::Connected);
    }
    let mut metrics = HashMap::new();
    metrics.insert("web01".into(), sampled(2, 97.0, 40.0, 55.0, 3.2));
    // Three intervals of 5 s passed long ago: stale.
    metrics.insert("web02".into(), sampled(120, 12.0, 30.0, 20.0, 0.4));
    metrics.insert("web03".into(), sampled(40, 50.0, 50.0, 50.0, 1.0));
    metrics.insert(
        "lab1".into(),
        HostNow {
            availability: Availability::NoMetrics("local host without an exporter".into()),
            ..HostNow::default()
        },
    );
    metrics.insert("web04".into(), sampled(1, 35.0, 62.0, 81.0, 0.9));
    metrics.insert("web05".into(), sampled(1, 5.0, 20.0, 91.0, 12.0));
    metrics.insert("web06".into(), sampled(3, 70.0, 75.0, 40.0, 2.0));
    let incidents = IncidentsFrame {
        incidents: vec![
            incident(
                "w1",
                "disk almost full",
                Severity::Warning,
                &["web05"],
                State::Open,
            ),
            incident(
                "c1",
                "nginx down",
                Severity::Critical,
                &["web01", "web02"],
                State::Acked,
            ),
            incident(
                "r1",
                "old thing",
                Severity::Critical,
                &["db01"],
                State::Resolved,
            ),
        ],
        problem: None,
    };
    FleetSnapshot {
        connections,
        queue: QueueSnapshot {
            queued: Vec::new(),
            running: vec![RunningRun {
                id: "01RUN".into(),
                priority: crate::engine::Priority::Normal,
                command: "apt-get upgrade -y".into(),
                hosts: 3,
                since: now() - Duration::from_secs(75),
                paused: false,
            }],
        },
        recent: vec![
            run(
                "01A",
                "2027-01-15T07:41:30Z",
                RunStatus::Failed,
                "systemctl restart nginx",
            ),
            run("01B", "2027-01-15T07:58:00Z", RunStatus::Ok, "uptime"),
        ],
        heartbeats: HashMap::new(),
        metrics: Arc::new(MetricsFrame {
            at: Some(now() - Duration::from_secs(1)),
            hosts: metrics,
        }),
        incidents: Arc::new(incidents),
        problem: None,
        updated: Some(now()),
    }
}

fn board(pages: &[Page], rotate: u64, locked: bool) -> Wallboard {
    let theme = Theme::builtin("dark").expect("a built-in theme");
    let mut wb = Wallboard::new(
        pages.to_vec(),
        Duration::from_secs(rotate),
        locked,
        hosts().into(),
        theme,
        now(),
    );
    update(&mut wb, Msg::Snapshot(Box::new(snapshot())));
    update(
        &mut wb,
        Msg::Tick {
            now: now(),
            clock: "08:00:00".into(),
        },
    );
    wb
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn draw(wb: &Wallboard, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal
        .draw(|f| super::view::render(f, wb))
        .expect("drawn");
    text(terminal.backend().buffer())
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            let line: String = (0..area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_status_is_a_symbol_and_a_word_and_the_counts_add_up() {
    let wb = board(&Page::ALL, 20, false);
    let status = |name: &str| super::status::host_status(&wb, &Host::ad_hoc(name));
    assert_eq!(status("db01"), HostStatus::Down("connect".into()));
    assert_eq!(status("web02"), HostStatus::Stale);
    assert_eq!(status("web03"), HostStatus::Connecting { again: true });
    assert_eq!(status("cache1"), HostStatus::NoReadToken);
    assert_eq!(status("lab1"), HostStatus::NoMetrics);
    assert!(status("web01").is_up());
    // The line `fleetdeck status` prints for the same picture (a no-read-token host is not
    // watched: unknown, not down).
    let doc = super::status::status_doc(&wb);
    assert_eq!(
        (doc.incidents.crit, doc.incidents.warn),
        (1, 1),
        "resolved ones are not counted"
    );
    assert_eq!(
        super::status::counts_line(&doc, false),
        "✖1 ▲1 · 5/9 up, 1 unknown · 1 running"
    );
    assert_eq!(
        super::status::counts_line(&doc, true),
        "!!1 !1 · 5/9 up, 1 unknown · 1 running"
    );
}

#[test]
fn keys_change_pages_pause_and_quit_and_everything_else_is_ignored() {
    let mut wb = board(&Page::ALL, 20, false);
    assert_eq!(update(&mut wb, key(KeyCode::Right)), Outcome::Redraw);
    assert_eq!(wb.current(), Page::Metrics);
    update(&mut wb, key(KeyCode::Left));
    update(&mut wb, key(KeyCode::Left));
    assert_eq!(wb.current(), Page::Runs, "left from the first wraps");
    update(&mut wb, key(KeyCode::Char('3')));
    assert_eq!(wb.current(), Page::Incidents);
    assert_eq!(update(&mut wb, key(KeyCode::Char('7'))), Outcome::Unchanged);
    assert_eq!(wb.current(), Page::Incidents);
    // What runs something in the console does nothing here, and asks for no redraw.
    let before = (wb.page, wb.paused);
    for code in [
        KeyCode::Char('!'),
        KeyCode::Char(':'),
        KeyCode::Char('r'),
        KeyCode::Char('X'),
        KeyCode::Char('p'),
        KeyCode::Char('a'),
        KeyCode::Char('x'),
        KeyCode::Char('/'),
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::F(1),
    ] {
        assert_eq!(update(&mut wb, key(code)), Outcome::Unchanged, "{code:?}");
    }
    assert_eq!((wb.page, wb.paused), before);
    update(&mut wb, key(KeyCode::Char(' ')));
    assert!(wb.paused);
    assert_eq!(update(&mut wb, key(KeyCode::Char('q'))), Outcome::Quit);
}

#[test]
fn pages_rotate_on_ticks_unless_paused_or_zero() {
    let mut wb = board(&[Page::Fleet, Page::Incidents], 20, false);
    let tick = |wb: &mut Wallboard, s: u64| {
        update(
            wb,
            Msg::Tick {
                now: now() + Duration::from_secs(s),
                clock: String::new(),
            },
        )
    };
    tick(&mut wb, 19);
    assert_eq!(wb.current(), Page::Fleet);
    tick(&mut wb, 20);
    assert_eq!(wb.current(), Page::Incidents);
    tick(&mut wb, 40);
    assert_eq!(wb.current(), Page::Fleet, "it wraps");
    update(&mut wb, key(KeyCode::Char(' ')));
    tick(&mut wb, 100);
    assert_eq!(wb.current(), Page::Fleet, "paused");
    update(&mut wb, key(KeyCode::Char(' ')));
    tick(&mut wb, 119);
    assert_eq!(wb.current(), Page::Fleet, "a resumed page gets a full turn");
    tick(&mut wb, 120);
    assert_eq!(wb.current(), Page::Incidents);

    let mut still = board(&Page::ALL, 0, false);
    update(
        &mut still,
        Msg::Tick {
            now: now() + Duration::from_secs(3600),
            clock: String::new(),
        },
    );
    assert_eq!(still.current(), Page::Fleet, "0s: no rotation");
}

#[test]
fn under_lock_only_the_word_and_enter_quit() {
    let mut wb = board(&Page::ALL, 20, true);
    assert_eq!(update(&mut wb, key(KeyCode::Char('q'))), Outcome::Unchanged);
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut wb, ctrl_c), Outcome::Unchanged);
    for c in "unlok".chars() {
        update(&mut wb, key(KeyCode::Char(c)));
    }
    assert_eq!(update(&mut wb, key(KeyCode::Enter)), Outcome::Unchanged);
    // Enter forgot the typo; arrows still page.
    update(&mut wb, key(KeyCode::Right));
    assert_eq!(wb.current(), Page::Metrics);
    for c in "qqUNLOCK".chars() {
        update(&mut wb, key(KeyCode::Char(c)));
    }
    assert_eq!(update(&mut wb, key(KeyCode::Enter)), Outcome::Quit);
    let screen = draw(&board(&Page::ALL, 20, true), 80, 24);
    assert!(
        screen.contains("locked: type unlock + enter to quit"),
        "{screen}"
    );
}

#[test]
fn a_snapshot_that_shows_nothing_new_asks_for_no_redraw() {
    let mut wb = board(&Page::ALL, 20, false);
    let mut same = snapshot();
    same.metrics = Arc::clone(&wb.picture.metrics);
    same.incidents = Arc::clone(&wb.picture.incidents);
    assert_eq!(
        update(&mut wb, Msg::Snapshot(Box::new(same))),
        Outcome::Unchanged
    );
    let mut moved = snapshot();
    moved.metrics = Arc::clone(&wb.picture.metrics);
    moved.incidents = Arc::clone(&wb.picture.incidents);
    moved.connections.insert("web01".into(), ConnState::Closed);
    assert_eq!(
        update(&mut wb, Msg::Snapshot(Box::new(moved))),
        Outcome::Redraw
    );
}

#[test]
fn an_unreadable_book_is_said_on_the_incidents_page() {
    let mut wb = board(&[Page::Incidents], 20, false);
    let mut snap = snapshot();
    snap.incidents = Arc::new(IncidentsFrame {
        problem: Some("incidents.jsonl: permission denied".into()),
        ..(*snap.incidents).clone()
    });
    update(&mut wb, Msg::Snapshot(Box::new(snap)));
    let screen = draw(&wb, 80, 24);
    assert!(
        screen.contains("⚠ stale: the book cannot be read: incidents.jsonl: permission denied"),
        "{screen}"
    );
}

macro_rules! page_snapshots {
    ($($name:ident: $page:expr, $w:expr, $h:expr;)*) => {$(
        #[test]
        fn $name() {
            let mut wb = board(&Page::ALL, 20, false);
            let index = wb.pages.iter().position(|p| *p == $page).expect("a page");
            wb.show(index);
            insta::assert_snapshot!(draw(&wb, $w, $h));
        }
    )*};
}

page_snapshots! {
    fleet_40x10: Page::Fleet, 40, 10;
    fleet_80x24: Page::Fleet, 80, 24;
    fleet_200x50: Page::Fleet, 200, 50;
    metrics_40x10: Page::Metrics, 40, 10;
    metrics_80x24: Page::Metrics, 80, 24;
    metrics_200x50: Page::Metrics, 200, 50;
    incidents_40x10: Page::Incidents, 40, 10;
    incidents_80x24: Page::Incidents, 80, 24;
    incidents_200x50: Page::Incidents, 200, 50;
    runs_40x10: Page::Runs, 40, 10;
    runs_80x24: Page::Runs, 80, 24;
    runs_200x50: Page::Runs, 200, 50;
}

#[test]
fn five_hundred_hosts_draw_at_every_size_from_a_sliver_to_300x80() {
    let mut wb = board(&Page::ALL, 20, false);
    wb.hosts = (0..500)
        .map(|i| Host::ad_hoc(&format!("web{i:03}")))
        .collect::<Vec<_>>()
        .into();
    for (w, h) in [(1, 1), (12, 4), (40, 10), (60, 15), (120, 40), (300, 80)] {
        for page in 0..wb.pages.len() {
            wb.show(page);
            let screen = draw(&wb, w, h);
            if (w, h) >= (40, 10) {
                assert!(screen.contains("/500 up"), "{w}x{h}:\n{screen}");
            }
        }
    }
    wb.show(0);
    let screen = draw(&wb, 80, 24);
    assert!(screen.contains("more (worst first above)"), "{screen}");
    wb.show(1);
    let screen = draw(&wb, 40, 10);
    assert!(screen.contains("not shown"), "{screen}");
}

#[test]
fn without_unicode_every_mark_is_still_a_symbol_and_a_word() {
    let mut wb = board(&Page::ALL, 20, false);
    wb.theme = wb.theme.clone().with_ascii_symbols(true);
    wb.graphics = crate::ui::theme::Graphics::Ascii;
    let screen = draw(&wb, 80, 24);
    // Borders and the `·` separators are drawn as the console draws them; every symbol that
    // carries meaning is ASCII.
    let marks: String = screen
        .chars()
        .filter(|c| *c != '·' && !('\u{2500}'..='\u{257f}').contains(c))
        .collect();
    assert!(marks.is_ascii(), "{screen}");
    insta::assert_snapshot!(screen);
}
