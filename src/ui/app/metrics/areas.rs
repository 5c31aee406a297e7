//! Where the Metrics view's panels sit for a body size: computed here once, used by the keys
//! (the heatmap's grid) and by drawing.
//!
//! ```text
//! wide (≥ 100 x 24)                          medium (≥ 60 x 12)            small
//! ┌ heatmap ─────────────────┐┌ top ───┐     ┌ heatmap ─────────────┐     ┌ heatmap ┐
//! │                          ││        │     └──────────────────────┘     └─────────┘
//! └──────────────────────────┘│        │     ┌ charts ──────┐┌ top ──┐     ┌ focus ──┐
//! ┌ charts of the focused host┐└────────┘     │              ││       │     │ 4 trends│
//! │ cpu     mem     disk      │┌ stats ─┐     │              │└───────┘     └─────────┘
//! │ load    net rx  net tx    ││        │     │              │┌ stats ┐     (when the
//! └───────────────────────────┘└────────┘     └──────────────┘└───────┘     hosts leave room)
//! ```

use ratatui::layout::{Constraint, Layout, Rect};

use super::grid::Grid;

/// The side column's width in wide and medium layouts.
const SIDE_WIDE: u16 = 34;
const SIDE_MEDIUM: u16 = 26;
/// Rows of the run statistics panel in the medium layout.
const STATS_MEDIUM: u16 = 4;
/// Entries per top list at most.
pub const TOP_MAX: usize = 5;
/// The small layout's panel of the focused host's four trends: the trends and borders.
const FOCUS_ROWS: u16 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsAreas {
    /// The heatmap's box.
    pub heatmap: Rect,
    /// The top lists' box, when there is room.
    pub top: Option<Rect>,
    /// The focused host's charts, when there is room.
    pub charts: Option<Rect>,
    /// Where run statistics go, when there is room.
    pub stats: Option<Rect>,
    /// The focused host's trends, in the small layout when the hosts leave room.
    pub focus: Option<Rect>,
}

impl MetricsAreas {
    /// The panels for a body of this size showing `hosts` cells.
    pub fn new(body: Rect, hosts: usize) -> MetricsAreas {
        if body.width < 60 || body.height < 12 {
            let tall = heatmap_height(body, hosts, body.height);
            let (heatmap, focus) = if tall + FOCUS_ROWS <= body.height {
                let [heatmap, focus] =
                    Layout::vertical([Constraint::Length(tall), Constraint::Min(1)]).areas(body);
                (heatmap, Some(focus))
            } else {
                (body, None)
            };
            return MetricsAreas {
                heatmap,
                top: None,
                charts: None,
                stats: None,
                focus,
            };
        }
        if body.width >= 100 && body.height >= 24 {
            let [left, side] =
                Layout::horizontal([Constraint::Min(1), Constraint::Length(SIDE_WIDE)]).areas(body);
            let tall = heatmap_height(left, hosts, left.height / 2);
            let [heatmap, charts] =
                Layout::vertical([Constraint::Length(tall), Constraint::Min(1)]).areas(left);
            let top_h = top_height(side.height.saturating_sub(STATS_MEDIUM + 1));
            let [top, stats] =
                Layout::vertical([Constraint::Length(top_h), Constraint::Min(1)]).areas(side);
            return MetricsAreas {
                heatmap,
                top: Some(top),
                charts: Some(charts),
                stats: Some(stats),
                focus: None,
            };
        }
        let tall = heatmap_height(body, hosts, body.height / 3);
        let [heatmap, rest] =
            Layout::vertical([Constraint::Length(tall), Constraint::Min(1)]).areas(body);
        let [charts, side] =
            Layout::horizontal([Constraint::Min(1), Constraint::Length(SIDE_MEDIUM)]).areas(rest);
        let [top, stats] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(STATS_MEDIUM)]).areas(side);
        MetricsAreas {
            heatmap,
            top: Some(top),
            charts: Some(charts),
            stats: Some(stats),
            focus: None,
        }
    }

    /// The heatmap's grid (inside its borders).
    pub fn grid(&self, hosts: usize) -> Grid {
        Grid::new(inner(self.heatmap), hosts)
    }
}

/// Inside a bordered box.
pub fn inner(area: Rect) -> Rect {
    Rect::new(
        area.x.saturating_add(1),
        area.y.saturating_add(1),
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    )
}

/// The heatmap's box height: its rows at two columns a cell and borders, between 3 and `max`.
fn heatmap_height(area: Rect, hosts: usize, max: u16) -> u16 {
    let per_row = usize::from(area.width.saturating_sub(2) / 2).max(1);
    let rows = u16::try_from(hosts.div_ceil(per_row)).unwrap_or(u16::MAX);
    rows.max(1).saturating_add(2).min(max.max(3))
}

/// The top box's height for `room` rows: four lists of a heading and up to `TOP_MAX` hosts.
fn top_height(room: u16) -> u16 {
    let per_list = (room.saturating_sub(2) / 4).clamp(2, TOP_MAX as u16 + 1);
    per_list * 4 + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_by_size() {
        let wide = MetricsAreas::new(Rect::new(0, 1, 200, 47), 1000);
        assert_eq!(wide.heatmap, Rect::new(0, 1, 166, 15));
        assert_eq!(wide.top, Some(Rect::new(166, 1, 34, 26)));
        assert_eq!(wide.charts, Some(Rect::new(0, 16, 166, 32)));
        assert_eq!(wide.stats, Some(Rect::new(166, 27, 34, 21)));
        let grid = wide.grid(1000);
        assert_eq!((grid.cell_w, grid.cols), (2, 82));

        let medium = MetricsAreas::new(Rect::new(0, 1, 80, 21), 12);
        assert_eq!(medium.heatmap, Rect::new(0, 1, 80, 3));
        assert_eq!(medium.charts, Some(Rect::new(0, 4, 54, 18)));
        assert_eq!(medium.top, Some(Rect::new(54, 4, 26, 14)));
        assert_eq!(medium.stats, Some(Rect::new(54, 18, 26, 4)));

        let small = MetricsAreas::new(Rect::new(0, 1, 40, 9), 12);
        assert_eq!(small.heatmap, Rect::new(0, 1, 40, 3));
        assert_eq!(small.focus, Some(Rect::new(0, 4, 40, 6)));
        assert_eq!(small.charts, None);
        // Hosts first: a heatmap that needs the rows gets them all.
        let crowded = MetricsAreas::new(Rect::new(0, 1, 40, 9), 200);
        assert_eq!(crowded.heatmap, Rect::new(0, 1, 40, 9));
        assert_eq!(crowded.focus, None);
    }
}
