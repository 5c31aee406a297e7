//! The run statistics panel: asked for when the Metrics view is shown and after runs finish,
//! never more often than `STATS_INTERVAL`; and snapshots of the panel alone at a few sizes
//! and in each state (loading, failed, empty, filled, cut short).

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use super::super::state::{STATS_INTERVAL, STATS_WINDOW};
use super::super::stats_view;
use super::{answer_stats, test_stats, with_frame, with_runs};
use crate::engine::{EngineEvent, RunResult, RunStatus};
use crate::metrics::stats::RunStats;
use crate::ui::app::Model;
use crate::ui::app::tests::{press, test_now, text};
use crate::ui::app::update::{Effect, Msg, update};

fn load_stats(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::LoadStats { since } if *since == STATS_WINDOW))
        .count()
}

/// A tick `secs` after [`test_now`].
fn tick_at(m: &mut Model, secs: u64) -> Vec<Effect> {
    update(
        m,
        Msg::Tick {
            clock: "12:00:00".into(),
            now: test_now() + Duration::from_secs(secs),
        },
    )
}

fn finish_run(m: &mut Model) -> Vec<Effect> {
    let result = RunResult {
        id: "01JRUNNING".into(),
        user: "me@box".into(),
        started: String::new(),
        finished: String::new(),
        selector: "web01".into(),
        targets: "web01".into(),
        command: "uptime".into(),
        status: RunStatus::Ok,
        hosts: Vec::new(),
        action: None,
    };
    update(
        m,
        Msg::Engine {
            run: "01JRUNNING".into(),
            event: EngineEvent::RunFinished {
                result: Box::new(result),
            },
        },
    )
}

#[test]
fn stats_are_asked_for_when_the_view_is_shown_and_at_most_once_per_interval() {
    let mut m = with_frame();
    tick_at(&mut m, 0);
    assert_eq!(
        load_stats(&tick_at(&mut m, 1)),
        0,
        "not off the Metrics view"
    );
    assert_eq!(load_stats(&press(&mut m, "3")), 1, "shown: asked at once");
    assert_eq!(load_stats(&tick_at(&mut m, 2)), 0);
    answer_stats(&mut m, test_stats());
    // Nothing changed: ticks long after ask for nothing.
    assert_eq!(load_stats(&tick_at(&mut m, 60)), 0);

    // A run finishing while the view is shown: asked again at once (the interval passed)…
    with_runs(&mut m);
    assert_eq!(load_stats(&finish_run(&mut m)), 1);
    // …but a second one within the interval waits for a tick past it.
    assert_eq!(load_stats(&finish_run(&mut m)), 0);
    let secs = STATS_INTERVAL.as_secs();
    assert_eq!(load_stats(&tick_at(&mut m, 60 + secs - 1)), 0);
    assert_eq!(load_stats(&tick_at(&mut m, 60 + secs)), 1);
    assert_eq!(load_stats(&tick_at(&mut m, 60 + secs + 1)), 0);

    // Leaving and coming back reads again (runs of other processes), not within the interval.
    press(&mut m, "1");
    assert_eq!(load_stats(&press(&mut m, "3")), 0, "too soon");
    assert_eq!(load_stats(&tick_at(&mut m, 60 + 2 * secs)), 1);
    press(&mut m, "1");
    assert_eq!(load_stats(&tick_at(&mut m, 200)), 0, "not off the view");
    assert_eq!(load_stats(&press(&mut m, "3")), 1);
}

/// The panel alone in a `width` x `height` box.
fn panel(m: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|f| stats_view::render(f, Rect::new(0, 0, width, height), m))
        .expect("draw");
    text(terminal.backend().buffer())
}

fn filled() -> Model {
    let mut m = with_frame();
    press(&mut m, "3");
    answer_stats(&mut m, test_stats());
    with_runs(&mut m);
    m
}

#[test]
fn stats_panel_side_column() {
    // The wide layout's side column.
    insta::assert_snapshot!(panel(&filled(), 34, 21));
}

#[test]
fn stats_panel_cut_short() {
    // Fewer rows than groups: the totals and the queue stay, the rest is counted.
    insta::assert_snapshot!(panel(&filled(), 34, 11));
}

#[test]
fn stats_panel_wide() {
    insta::assert_snapshot!(panel(&filled(), 70, 16));
}

#[test]
fn stats_panel_small() {
    // The medium layout's 26x4 box and a slightly taller one: one line each.
    let m = filled();
    insta::assert_snapshot!(format!("{}\n{}", panel(&m, 26, 4), panel(&m, 30, 8)));
}

#[test]
fn stats_panel_states() {
    let mut m = with_frame();
    press(&mut m, "3");
    let loading = panel(&m, 34, 5);
    update(
        &mut m,
        Msg::StatsLoaded(Err("cannot read history: permission denied".into())),
    );
    let failed = panel(&m, 34, 5);
    answer_stats(&mut m, RunStats::default());
    let empty = panel(&m, 34, 5);
    // Damaged lines skipped: counted, the details are `fleetdeck stats`'s.
    let warnings = vec!["a".to_string(), "b".to_string()];
    update(&mut m, Msg::StatsLoaded(Ok((test_stats(), warnings))));
    let warned = panel(&m, 34, 11);
    insta::assert_snapshot!(format!("{loading}\n{failed}\n{empty}\n{warned}"));
}
