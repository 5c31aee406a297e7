//! Console render and keystroke benchmarks (issue 4, BENCHMARKS.md "Console"). Ignored: they
//! measure, they assert nothing about speed. Run them in release, with the figures printed:
//!
//! ```text
//! cargo test --release --test console_bench -- --ignored --nocapture --test-threads 1
//! ```
//!
//! A real `Model` (inventory of 500 hosts, the built-in keymap and dark theme) is fed engine
//! events through `update` exactly as the event loop feeds them, until 200,000 output lines are
//! buffered across the hosts; each frame is `views::render` into a ratatui `TestBackend` of
//! 200x50 (the buffer diff included, the terminal write not): the fleet view, and the Runs
//! view in each of its layouts (host table, one host's pane zoomed, the grid of panes, the
//! merged stream, the grouped outputs). Keystroke-to-frame latency is `update(Msg::Key)` plus
//! that frame, with output events arriving between keys (not timed) as they do while a fleet
//! streams.
//!
//! The metrics scenario (issue 13) builds 1,000 hosts and a metrics frame for them (each with
//! its newest sample and an 8-point trend; some stale, some without metrics) and times frames
//! of the Metrics view (heatmap, top lists, the focused host's six charts over 15 minutes of
//! raw samples) and of the Fleet table with its metric columns, at 200x50; a key in the
//! heatmap (the series copy for the new focus answered in the loop's way, untimed apart); and
//! taking a new frame while sorted by cpu (the re-sort of 1,000 hosts). Run it alone with
//! `cargo test --test console_bench metrics -- --ignored --nocapture`.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use std::collections::HashMap;
use std::sync::Arc;

use fleetdeck::engine::{EngineEvent, HostState, Stream};
use fleetdeck::inventory::load::parse;
use fleetdeck::metrics::{Availability, HostNow, MetricsFrame, Point, Sample, Source, Window};
use fleetdeck::ui::app::runs::RunLayout;
use fleetdeck::ui::app::runs::RunView;
use fleetdeck::ui::app::{Effect, Model, Msg, View, update, views};
use fleetdeck::ui::keymap::builtin;
use fleetdeck::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const HOSTS: usize = 500;
const LINES: usize = 200_000;
/// Lines per `Output` event while filling: the engine coalesces output into chunks like this.
const LINES_PER_EVENT: usize = 16;
const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
/// Frames timed per scenario, after `WARMUP` untimed ones.
const FRAMES: usize = 400;
const WARMUP: usize = 20;
/// Output events (one chunk of `LINES_PER_EVENT` lines each, to different hosts) arriving
/// between two keys in the latency scenarios: ~1 s of a 500-host fleet printing 250 lines/s in
/// total per key would be far more than a person types; this is 800 lines per key.
const EVENTS_BETWEEN_KEYS: usize = 50;

fn inventory_toml() -> String {
    format!(
        "[[hosts]]\nname = \"h[001-{HOSTS:03}]\"\nenv = \"bench\"\ntags = [\"linux\", \"web\"]\ngroups = [\"frontend\"]\n"
    )
}

/// A clock tick showing `clock`, at a fixed wall-clock time.
fn tick(clock: String) -> Msg {
    Msg::Tick {
        clock,
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    }
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn special(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A line as services print them; every eighth carries SGR colours, which panes parse.
fn output_line(host: usize, n: usize) -> String {
    if n.is_multiple_of(8) {
        format!(
            "\x1b[33m2026-11-22T05:{:02}:{:02}.{:03}Z WARN\x1b[0m h{:03} worker[{}]: batch {n} retried after 12.5ms (queue depth {})\n",
            (n / 60) % 60,
            n % 60,
            n % 1000,
            host + 1,
            1000 + host,
            n % 97
        )
    } else {
        format!(
            "2026-11-22T05:{:02}:{:02}.{:03}Z INFO h{:03} worker[{}]: processed batch {n} in 3.{}ms, {} items ok\n",
            (n / 60) % 60,
            n % 60,
            n % 1000,
            host + 1,
            1000 + host,
            n % 10,
            n % 500
        )
    }
}

/// Streams output into the console's run as the engine would.
struct Feeder {
    run: String,
    /// Next line number per host.
    next: Vec<usize>,
    /// Host the next event goes to (round robin).
    host: usize,
}

impl Feeder {
    fn event(&mut self) -> Msg {
        let host = self.host;
        self.host = (self.host + 1) % HOSTS;
        let mut bytes = Vec::with_capacity(LINES_PER_EVENT * 100);
        for _ in 0..LINES_PER_EVENT {
            bytes.extend_from_slice(output_line(host, self.next[host]).as_bytes());
            self.next[host] += 1;
        }
        Msg::Engine {
            run: self.run.clone(),
            event: EngineEvent::Output {
                host,
                stream: Stream::Stdout,
                bytes,
            },
        }
    }
}

/// The model after `:run` on all 500 hosts was confirmed, every host running.
fn console_with_run() -> (Model, Feeder) {
    let inventory = parse(Path::new("hosts.toml"), &inventory_toml()).expect("inventory parses");
    let theme = Theme::builtin("dark").expect("dark theme");
    let names = vec!["dark".into(), "high-contrast".into(), "light".into()];
    let mut m = Model::new(inventory, builtin().expect("keymap"), theme, names);
    update(&mut m, Msg::Resize(WIDTH, HEIGHT));
    update(&mut m, tick("05:00:00".into()));
    update(&mut m, key(':'));
    for c in "run tail -f /var/log/app.log".chars() {
        update(&mut m, key(c));
    }
    update(&mut m, special(KeyCode::Enter));
    assert_eq!(
        m.shell.popup.name(),
        "confirm",
        "the run asks for confirmation"
    );
    let effects = update(&mut m, special(KeyCode::Enter));
    let run = match effects.as_slice() {
        [Effect::StartRun(start)] => {
            assert_eq!(start.hosts.len(), HOSTS);
            start.id.clone()
        }
        other => panic!("expected one StartRun, got {other:?}"),
    };
    for host in 0..HOSTS {
        for state in [HostState::Connecting, HostState::Running] {
            let event = EngineEvent::State { host, state };
            update(
                &mut m,
                Msg::Engine {
                    run: run.clone(),
                    event,
                },
            );
        }
    }
    let feeder = Feeder {
        run,
        next: vec![0; HOSTS],
        host: 0,
    };
    (m, feeder)
}

fn buffered_lines(run: &RunView) -> usize {
    run.outputs.iter().map(|o| o.len()).sum()
}

fn buffered_bytes(run: &RunView) -> usize {
    run.outputs.iter().map(|o| o.bytes()).sum()
}

#[derive(Debug)]
struct Stats {
    median: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats {
        median: at(0.5),
        p99: at(0.99),
        max: samples[samples.len() - 1],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn report(what: &str, s: &Stats) {
    println!(
        "| {what} | {} | {} | {} |",
        ms(s.median),
        ms(s.p99),
        ms(s.max)
    );
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("test terminal")
}

/// Times `FRAMES` full redraws of what the model shows.
fn frames(term: &mut Terminal<TestBackend>, m: &Model) -> Stats {
    let mut samples = Vec::with_capacity(FRAMES);
    for i in 0..WARMUP + FRAMES {
        let t = Instant::now();
        term.draw(|f| views::render(f, m)).expect("draw");
        if i >= WARMUP {
            samples.push(t.elapsed());
        }
    }
    stats(samples)
}

/// Times `update(key)` + one frame, `FRAMES` times, with output arriving between keys.
fn keystrokes(
    term: &mut Terminal<TestBackend>,
    m: &mut Model,
    feeder: &mut Feeder,
    keys: &[char],
) -> Stats {
    let mut samples = Vec::with_capacity(FRAMES);
    for i in 0..WARMUP + FRAMES {
        for _ in 0..EVENTS_BETWEEN_KEYS {
            let event = feeder.event();
            update(m, event);
        }
        let k = keys[i % keys.len()];
        let t = Instant::now();
        update(m, key(k));
        term.draw(|f| views::render(f, m)).expect("draw");
        if i >= WARMUP {
            samples.push(t.elapsed());
        }
    }
    stats(samples)
}

fn screen_text(term: &Terminal<TestBackend>) -> String {
    let buf = term.backend().buffer();
    buf.content().iter().map(|c| c.symbol()).collect()
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn console_frames_and_keystrokes_with_500_hosts_and_200k_lines() {
    let rss_before = rss_kib();
    let (mut m, mut feeder) = console_with_run();

    // Fill: 200,000 lines through update, as the event loop would hand them over.
    let events = LINES / LINES_PER_EVENT;
    let t = Instant::now();
    for _ in 0..events {
        let event = feeder.event();
        update(&mut m, event);
    }
    let fill = t.elapsed();
    let run = m.selected_run().expect("the run");
    assert_eq!(buffered_lines(run), LINES, "every line is buffered");
    let bytes = buffered_bytes(run);
    println!(
        "merged stream of the run: {} lines, {:.1} MiB",
        run.merged.scrollback().len(),
        run.merged.scrollback().bytes() as f64 / (1 << 20) as f64
    );
    println!(
        "filled {LINES} lines ({:.1} MiB buffered) over {HOSTS} hosts in {} events: {:.0} ms, {:.2} µs/event, {:.0} lines/s through update",
        bytes as f64 / (1 << 20) as f64,
        events,
        fill.as_secs_f64() * 1e3,
        fill.as_secs_f64() * 1e6 / events as f64,
        LINES as f64 / fill.as_secs_f64()
    );
    println!(
        "RSS of the bench process: {} KiB before the model, {} KiB with it",
        rss_before.map_or("?".into(), |k| k.to_string()),
        rss_kib().map_or("?".into(), |k| k.to_string())
    );

    let mut term = terminal();
    println!(
        "\n| frame ({WIDTH}x{HEIGHT}, {HOSTS} hosts, {LINES} lines buffered) | median | p99 | max |"
    );
    println!("|---|---:|---:|---:|");

    // Fleet view: the 500-host table.
    update(&mut m, special(KeyCode::Char('1')));
    assert_eq!(m.shell.view, View::Fleet);
    let s = frames(&mut term, &m);
    assert!(screen_text(&term).contains("h001"), "the fleet table shows");
    report("fleet view", &s);

    // Runs view: run list, header and the run's 500-host table.
    update(&mut m, special(KeyCode::Char('2')));
    assert_eq!(m.shell.view, View::Runs);
    assert_eq!(m.runs.layout, RunLayout::Table);
    let s = frames(&mut term, &m);
    assert!(
        screen_text(&term).contains("running"),
        "the runs table shows"
    );
    report("runs view, host table", &s);

    // Enter: the first host's pane zoomed, following its 400 lines.
    update(&mut m, special(KeyCode::Enter));
    assert_eq!(m.runs.layout, RunLayout::Grid);
    let s = frames(&mut term, &m);
    let last = output_line(0, feeder.next[0] - 1);
    let tail = &last[last.len() - 30..last.len() - 1];
    assert!(
        screen_text(&term).contains(tail),
        "the pane shows the newest line"
    );
    report("one host's pane, zoomed (enter)", &s);
    update(&mut m, special(KeyCode::Esc));
    assert_eq!(m.runs.layout, RunLayout::Table);

    // `v` cycles table -> grid -> merged -> grouped.
    for (layout, what) in [
        (RunLayout::Grid, "grid of panes (v)"),
        (RunLayout::Merged, "merged stream (v v)"),
        (RunLayout::Grouped, "grouped outputs (v v v)"),
    ] {
        update(&mut m, key('v'));
        assert_eq!(m.runs.layout, layout);
        let s = frames(&mut term, &m);
        report(what, &s);
    }
    // The grouped view regroups on ticks once output has changed (it hashes every buffered
    // line): time a tick after one more output event each time.
    let mut ticks = Vec::new();
    for i in 0..20 {
        let event = feeder.event();
        update(&mut m, event);
        let t = Instant::now();
        update(&mut m, tick(format!("05:00:{i:02}")));
        ticks.push(t.elapsed());
    }
    let s = stats(ticks);
    println!(
        "\ngrouped view: one tick after new output (regroup of {HOSTS} outputs, {} lines): median {}, max {} (20 ticks)",
        buffered_lines(m.selected_run().expect("the run")),
        ms(s.median),
        ms(s.max)
    );
    update(&mut m, key('v'));
    assert_eq!(m.runs.layout, RunLayout::Table);

    println!(
        "\n| keystroke to frame, output arriving between keys ({EVENTS_BETWEEN_KEYS} events x {LINES_PER_EVENT} lines per key) | median | p99 | max |"
    );
    println!("|---|---:|---:|---:|");
    update(&mut m, special(KeyCode::Char('1')));
    let s = keystrokes(&mut term, &mut m, &mut feeder, &['j']);
    report("fleet view, `j`", &s);
    update(&mut m, special(KeyCode::Char('2')));
    let s = keystrokes(&mut term, &mut m, &mut feeder, &['j']);
    report("runs view host table, `j`", &s);
    // The zoomed pane of a host that keeps streaming: `k` scrolls up (pausing follow), `j` back.
    update(&mut m, special(KeyCode::Enter));
    assert_eq!(m.runs.layout, RunLayout::Grid);
    let s = keystrokes(&mut term, &mut m, &mut feeder, &['k', 'k', 'j']);
    report("zoomed pane, `k`/`j` while its host streams", &s);
    update(&mut m, special(KeyCode::Esc));
    update(&mut m, key('v'));
    assert_eq!(m.runs.layout, RunLayout::Grid);
    let s = keystrokes(&mut term, &mut m, &mut feeder, &['l', 'l', 'h', 'j', 'k']);
    report("grid, focus moves `h`/`j`/`k`/`l`", &s);
    update(&mut m, key('v'));
    assert_eq!(m.runs.layout, RunLayout::Merged);
    let s = keystrokes(&mut term, &mut m, &mut feeder, &['k', 'k', 'j']);
    report("merged stream, `k`/`j`", &s);
    update(&mut m, key('v'));
    assert_eq!(m.runs.layout, RunLayout::Grouped);
    let s = keystrokes(&mut term, &mut m, &mut feeder, &['j', 'j', 'k']);
    report(
        "grouped outputs, `j`/`k` (no tick: groups as of entering)",
        &s,
    );

    let run = m.selected_run().expect("the run");
    println!(
        "\nafter the keystroke scenarios: {} lines ({:.1} MiB) buffered; RSS {} KiB",
        buffered_lines(run),
        buffered_bytes(run) as f64 / (1 << 20) as f64,
        rss_kib().map_or("?".into(), |k| k.to_string())
    );
}

/// The wall-clock time of the metrics scenario (what ticks carry).
fn bench_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// A sample of host `i` taken `age` seconds before [`bench_now`], `shift` moving its values.
fn bench_sample(i: usize, age: u64, shift: usize) -> Sample {
    let spread = |k: usize| ((i * k + shift) % 101) as f64;
    let mut s = Sample::empty(Source::Agent, bench_now() - Duration::from_secs(age));
    s.cpu_pct = Some(spread(37));
    s.mem_pct = Some(spread(53));
    s.disk_pct = Some(spread(11));
    s.load1 = Some(spread(29) / 10.0);
    s.net_rx_bps = Some(spread(7) * 1e4);
    s.net_tx_bps = Some(spread(13) * 1e3);
    s
}

/// Every host's newest sample and 8-point trend; every 17th stale, every 29th without metrics.
fn bench_frame(hosts: usize, shift: usize) -> Arc<MetricsFrame> {
    let hosts = (0..hosts)
        .map(|i| {
            let now = if i % 29 == 0 {
                HostNow {
                    availability: Availability::NoMetrics("not Linux".into()),
                    ..HostNow::default()
                }
            } else {
                let age = if i % 17 == 0 { 300 } else { 1 };
                HostNow {
                    latest: Some(bench_sample(i, age, shift)),
                    availability: Availability::Sampled,
                    interval: Some(Duration::from_secs(1)),
                    trend: (0..8)
                        .map(|k| {
                            Point::from_sample(&bench_sample(i, age + 7 - k, shift + k as usize))
                        })
                        .collect(),
                }
            };
            (format!("h{:04}", i + 1), now)
        })
        .collect::<HashMap<_, _>>();
    Arc::new(MetricsFrame {
        at: Some(bench_now()),
        hosts,
    })
}

/// What the session's `series` gives for the 15-minute window: raw samples every second.
fn bench_series(window: Window) -> Vec<Point> {
    let n = window.span().as_secs().min(900);
    (0..n)
        .map(|k| Point::from_sample(&bench_sample(7, n - k, k as usize)))
        .collect()
}

/// Performs the series loads among `effects` as the event loop does.
fn answer_series(m: &mut Model, effects: Vec<Effect>) {
    for effect in effects {
        if let Effect::LoadSeries { host, window } = effect {
            let points = bench_series(window);
            update(
                m,
                Msg::Series {
                    host,
                    window,
                    points,
                    at: bench_now(),
                },
            );
        }
    }
}

#[test]
#[ignore = "benchmark: run with -- --ignored --nocapture"]
fn metrics_view_frames_with_1000_hosts() {
    const METRIC_HOSTS: usize = 1000;
    let toml = format!("[[hosts]]\nname = \"h[0001-{METRIC_HOSTS:04}]\"\nenv = \"bench\"\n");
    let inventory = parse(Path::new("hosts.toml"), &toml).expect("inventory parses");
    let theme = Theme::builtin("dark").expect("dark theme");
    let mut m = Model::new(inventory, builtin().expect("keymap"), theme, Vec::new());
    update(&mut m, Msg::Resize(WIDTH, HEIGHT));
    update(
        &mut m,
        Msg::Tick {
            clock: "05:00:00".into(),
            now: bench_now(),
        },
    );
    update(&mut m, Msg::Metrics(bench_frame(METRIC_HOSTS, 0)));
    m.fleet.cursor = METRIC_HOSTS / 2;
    let effects = update(&mut m, key('3'));
    assert_eq!(m.shell.view, View::Metrics);
    answer_series(&mut m, effects);
    assert!(m.metrics.charts.is_some(), "the focused host's charts");
    let mut term = terminal();
    println!(
        "\n| {METRIC_HOSTS} hosts, {WIDTH}x{HEIGHT}, one frame (render + buffer diff) | median | p99 | max |"
    );
    println!("|---|---:|---:|---:|");
    let s = frames(&mut term, &m);
    report(
        "metrics view: heatmap, top lists, 6 charts of 900 points",
        &s,
    );
    let shown = screen_text(&term);
    assert!(shown.contains("h0501"), "{shown}");
    update(&mut m, key('1'));
    let s = frames(&mut term, &m);
    report("fleet table with cpu/mem/disk/load and trends", &s);
    update(&mut m, key('3'));

    // A key in the heatmap: the cursor moves, the new focus's series is copied (as the loop
    // does, not timed: the session's copy is measured by the engine's benches), one frame.
    let mut samples = Vec::with_capacity(FRAMES);
    for i in 0..WARMUP + FRAMES {
        let k = ['l', 'j', 'h', 'k'][i % 4];
        let t = Instant::now();
        let effects = update(&mut m, key(k));
        let before_series = t.elapsed();
        answer_series(&mut m, effects);
        let t = Instant::now();
        term.draw(|f| views::render(f, &m)).expect("draw");
        if i >= WARMUP {
            samples.push(before_series + t.elapsed());
        }
    }
    report("heatmap key `h`/`j`/`k`/`l` to frame", &stats(samples));

    // A new frame while the fleet is sorted by cpu: re-sorting 1,000 hosts by fresh values.
    update(&mut m, key('1'));
    update(&mut m, key('s'));
    let mut samples = Vec::with_capacity(FRAMES);
    for i in 0..WARMUP + FRAMES {
        let frame = bench_frame(METRIC_HOSTS, i % 50);
        let t = Instant::now();
        update(&mut m, Msg::Metrics(frame));
        if i >= WARMUP {
            samples.push(t.elapsed());
        }
    }
    report(
        "taking a new frame, fleet sorted by cpu (update only)",
        &stats(samples),
    );
    println!(
        "RSS {} KiB",
        rss_kib().map_or("?".into(), |k| k.to_string())
    );
}
