//! TestBackend snapshots of the Metrics view: the test fleet (fresh, stale, failing,
//! no-metrics and never-sampled hosts) with the focused host's charts, at 80x24, 200x50 and
//! 40x12; a thousand hosts at 200x50 and 40x12; ASCII and block-element terminals.

use super::{answer_series, answer_stats, fleet_of, test_stats, with_frame, with_runs};
use crate::ui::app::Model;
use crate::ui::app::tests::{draw, press, text};
use crate::ui::app::update::{Msg, update};
use crate::ui::theme::{Graphics, scope};

/// The test fleet on the Metrics view at this size, the cursor on web03 (fresh, trending
/// up) with its charts, web02 and web07 marked; a day of run statistics, a run running and
/// one queued.
fn metrics(width: u16, height: u16) -> Model {
    let mut m = with_frame();
    update(&mut m, Msg::Resize(width, height));
    press(&mut m, "3 l space l l l l space");
    press(&mut m, "g g l l");
    answer_series(&mut m);
    answer_stats(&mut m, test_stats());
    with_runs(&mut m);
    m
}

#[test]
fn metrics_80x24() {
    insta::assert_snapshot!(text(&draw(&metrics(80, 24), 80, 24)));
}

#[test]
fn metrics_200x50() {
    insta::assert_snapshot!(text(&draw(&metrics(200, 50), 200, 50)));
}

#[test]
fn metrics_40x12() {
    insta::assert_snapshot!(text(&draw(&metrics(40, 12), 40, 12)));
}

#[test]
fn metrics_ascii_80x24() {
    let mut m = metrics(80, 24);
    m.shell.graphics = Graphics::Ascii;
    m.shell.theme = m.shell.theme.clone().with_ascii_symbols(true);
    let shown = text(&draw(&m, 80, 24));
    insta::assert_snapshot!(shown);
}

#[test]
fn metrics_blocks_80x24() {
    let mut m = metrics(80, 24);
    m.shell.graphics = Graphics::Blocks;
    let shown = text(&draw(&m, 80, 24));
    assert!(
        !shown
            .chars()
            .any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)),
        "{shown}"
    );
    insta::assert_snapshot!(shown);
}

/// A thousand hosts, the cursor in the middle.
fn thousand(width: u16, height: u16) -> Model {
    let mut m = fleet_of(1000);
    update(&mut m, Msg::Resize(width, height));
    m.fleet.cursor = 500;
    press(&mut m, "3 m space");
    answer_series(&mut m);
    m
}

#[test]
fn metrics_1000_hosts_200x50() {
    let m = thousand(200, 50);
    let shown = text(&draw(&m, 200, 50));
    // Every host has its cell: none scrolled away.
    let grid = super::super::areas::MetricsAreas::new(m.shell.layout.body, 1000).grid(1000);
    assert!(grid.rows() <= grid.visible_rows(), "{grid:?}");
    insta::assert_snapshot!(shown);
}

#[test]
fn metrics_1000_hosts_40x12() {
    insta::assert_snapshot!(text(&draw(&thousand(40, 12), 40, 12)));
}

#[test]
fn colour_is_never_the_only_signal() {
    let m = metrics(80, 24);
    let buf = draw(&m, 80, 24);
    let theme = &m.shell.theme;
    // Row 2 is the heatmap's: web01 12% → 1, web02 97% → 9 marked, … db01 no metrics → ×.
    let glyphs: String = (1..25).map(|x| buf[(x, 2)].symbol().to_string()).collect();
    assert_eq!(glyphs, " 1●9 5 3 7 0●· · × × · ·");
    assert_eq!(
        buf[(4, 2)].style().fg,
        theme.style(scope::METRIC_CRITICAL).fg
    );
    assert_eq!(buf[(2, 2)].style().fg, theme.style(scope::METRIC_LOW).fg);
    assert_eq!(buf[(16, 2)].style().fg, theme.style(scope::METRIC_STALE).fg);
    assert_eq!(
        buf[(20, 2)].style().fg,
        theme.style(scope::METRIC_MISSING).fg
    );
}
