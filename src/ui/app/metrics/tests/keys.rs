//! The Metrics view's keys and what it asks the event loop for.

use ratatui::crossterm::event::KeyCode;

use super::{answer_series, fleet_of, test_frame, with_frame};
use crate::metrics::{Metric, Window};
use crate::ui::app::model::View;
use crate::ui::app::popup::{ConfirmKind, Popup};
use crate::ui::app::shell::Message;
use crate::ui::app::tests::{current, draw, key, press, text, tick, type_text};
use crate::ui::app::update::{Effect, Msg, update};

fn load_series(effects: &[Effect]) -> Vec<(String, Window)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadSeries { host, window } => Some((host.clone(), *window)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_cursor_moves_over_cells_and_names_the_host() {
    // 200 hosts in a 40x12 terminal: 38 cells a row (one column each), the rows scroll.
    let mut m = fleet_of(200);
    update(&mut m, Msg::Resize(40, 12));
    press(&mut m, "3");
    assert_eq!(current(&m), "h0001");
    press(&mut m, "l l");
    assert_eq!(current(&m), "h0003");
    press(&mut m, "j");
    assert_eq!(current(&m), "h0041", "one row down is 38 cells on");
    press(&mut m, "right down");
    assert_eq!(current(&m), "h0080");
    press(&mut m, "k h left");
    assert_eq!(current(&m), "h0040");
    press(&mut m, "G");
    assert_eq!(current(&m), "h0200");
    press(&mut m, "j");
    assert_eq!(current(&m), "h0200");
    press(&mut m, "g g");
    assert_eq!(current(&m), "h0001");
    press(&mut m, "C-d");
    assert_eq!(current(&m), "h0115", "half of the 7 rows on screen: 3 rows");
    // The cursor is the Fleet view's: the table shows the same host (enter goes there too).
    press(&mut m, "enter");
    assert_eq!(m.shell.view, View::Fleet);
    assert_eq!(current(&m), "h0115");
    let shown = text(&draw(&m, 40, 12));
    assert!(shown.contains("h0115"), "{shown}");
}

#[test]
fn the_bottom_border_names_the_focused_host_and_its_values() {
    let mut m = with_frame();
    update(&mut m, Msg::Resize(80, 24));
    press(&mut m, "3 l");
    let shown = text(&draw(&m, 80, 24));
    assert!(
        shown.contains("web02: cpu 97% mem 88% disk 71% load 7.90 · agent sample 1s ago"),
        "{shown}"
    );
    press(&mut m, "l l l l l l");
    let shown = text(&draw(&m, 80, 24));
    assert!(
        shown.contains("web08 · stale: node_exporter sample 10m ago (connection refused)"),
        "{shown}"
    );
}

#[test]
fn m_cycles_the_heatmap_metric() {
    let mut m = with_frame();
    update(&mut m, Msg::Resize(80, 24));
    press(&mut m, "3");
    assert_eq!(m.metrics.metric, Metric::Cpu);
    let cell = |m: &crate::ui::app::Model| draw(m, 80, 24)[(4, 2)].symbol().to_string();
    // web02's cell (the second; two columns each, the glyph after the mark column).
    assert_eq!(cell(&m), "9");
    press(&mut m, "m");
    assert_eq!(m.metrics.metric, Metric::Mem);
    assert_eq!(cell(&m), "8");
    press(&mut m, "m m");
    assert_eq!(m.metrics.metric, Metric::Load);
    assert_eq!(cell(&m), "7");
    press(&mut m, "m");
    assert_eq!(m.metrics.metric, Metric::Cpu);
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t == "heatmap: cpu"));
}

#[test]
fn zoom_goes_through_the_windows_and_stops_at_the_ends() {
    let mut m = with_frame();
    press(&mut m, "3");
    let effects = press(&mut m, "+");
    assert_eq!(m.metrics.window, Window::Min15);
    assert!(effects.is_empty(), "{effects:?}");
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("already show 15m")));
    let effects = press(&mut m, "-");
    assert_eq!(m.metrics.window, Window::Hour1);
    assert_eq!(
        load_series(&effects),
        [("web01".to_string(), Window::Hour1)]
    );
    press(&mut m, "- -");
    assert_eq!(m.metrics.window, Window::Day7);
    press(&mut m, "-");
    assert_eq!(m.metrics.window, Window::Day7);
    press(&mut m, "= +");
    assert_eq!(m.metrics.window, Window::Hour1);
}

#[test]
fn marks_are_the_fleets_and_bang_runs_on_them() {
    let mut m = with_frame();
    press(&mut m, "3 space space");
    assert_eq!(
        m.fleet.marked.iter().collect::<Vec<_>>(),
        ["web01", "web02"]
    );
    assert_eq!(current(&m), "web03", "marking moves on");
    press(&mut m, "1");
    assert_eq!(
        m.fleet.marked.len(),
        2,
        "the Fleet view sees the same marks"
    );
    press(&mut m, "3 !");
    type_text(&mut m, "uptime");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    let Popup::Confirm(confirm) = &m.shell.popup else {
        panic!("expected a confirmation, got {:?}", m.shell.popup);
    };
    let ConfirmKind::Run(start) = &confirm.kind else {
        panic!("expected a run");
    };
    assert_eq!(start.selector, "web[01-02]");
    // Without marks, `!` runs on what the heatmap shows: the filtered hosts.
    update(&mut m, Msg::Key(key(KeyCode::Esc)));
    press(&mut m, "u /");
    type_text(&mut m, "db");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert_eq!(m.shell.view, View::Metrics);
    assert_eq!(m.fleet.shown.len(), 3);
    press(&mut m, "V");
    assert_eq!(m.fleet.marked.len(), 3);
}

#[test]
fn the_series_is_asked_for_once_per_frame_and_only_on_the_metrics_view() {
    let mut m = with_frame();
    // The Fleet view needs no series.
    assert!(load_series(&update(&mut m, Msg::Metrics(test_frame()))).is_empty());
    let effects = press(&mut m, "3");
    assert_eq!(
        load_series(&effects),
        [("web01".to_string(), Window::Min15)]
    );
    answer_series(&mut m);
    assert!(m.metrics.charts.is_some());
    // Ticks and redraws ask for nothing; a new frame asks once.
    assert!(load_series(&update(&mut m, tick("12:00:01"))).is_empty());
    let effects = update(&mut m, Msg::Metrics(test_frame()));
    assert_eq!(load_series(&effects).len(), 1);
    assert!(load_series(&update(&mut m, tick("12:00:02"))).is_empty());
    // A new focus asks at once; an answer for a host no longer focused is dropped.
    let effects = press(&mut m, "l");
    assert_eq!(
        load_series(&effects),
        [("web02".to_string(), Window::Min15)]
    );
    update(
        &mut m,
        Msg::Series {
            host: "web01".into(),
            window: Window::Min15,
            points: super::series(crate::ui::app::tests::test_now()),
            at: crate::ui::app::tests::test_now(),
        },
    );
    let charts = m.metrics.charts.as_ref().expect("charts");
    assert_eq!(charts.host, "web01", "kept, but not drawn for web02");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("Reading the series"), "{shown}");
}

#[test]
fn a_new_frame_resorts_a_fleet_sorted_by_a_metric_and_keeps_the_cursor_host() {
    let mut m = with_frame();
    press(&mut m, "s");
    let names: Vec<&str> = m.shown_hosts().map(|h| h.name.as_str()).take(3).collect();
    assert_eq!(names, ["web02", "web05", "web03"]);
    assert_eq!(current(&m), "web01", "the cursor stays on its host");
    press(&mut m, "g g j j");
    assert_eq!(current(&m), "web03");
    // web03 cools down: it moves, the cursor goes with it.
    let mut frame = (*test_frame()).clone();
    if let Some(h) = frame.hosts.get_mut("web03")
        && let Some(s) = h.latest.as_mut()
    {
        s.cpu_pct = Some(1.0);
    }
    update(&mut m, Msg::Metrics(std::sync::Arc::new(frame)));
    assert_eq!(current(&m), "web03");
    let names: Vec<&str> = m.shown_hosts().map(|h| h.name.as_str()).take(6).collect();
    assert_eq!(
        names,
        ["web02", "web05", "web04", "web01", "web06", "web03"]
    );
}
