//! Many panes at once: a grid that fits the area, every pane at least `MIN_PANE_WIDTH` x
//! `MIN_PANE_HEIGHT`. When more panes exist than fit, the page holding the focused pane is
//! shown with a note below it ("+N more · page P/Q"); zoomed, the focused pane fills the area.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::scrollback::Scrollback;
use super::state::PaneState;
use super::styles::PaneStyles;
use super::view::render_pane;

/// Smallest pane: a border and 18 columns of text.
pub const MIN_PANE_WIDTH: u16 = 20;
/// Smallest pane: a border and 3 rows of text.
pub const MIN_PANE_HEIGHT: u16 = 5;

/// Where each shown pane goes, and the note about the panes that did not fit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GridLayout {
    /// (pane index, its area), in pane order.
    pub cells: Vec<(usize, Rect)>,
    pub note: Option<(Rect, String)>,
}

/// Lays out `count` panes in `area` (see the module comment). `focused` is clamped to the
/// panes that exist.
pub fn grid_layout(area: Rect, count: usize, focused: usize, zoomed: bool) -> GridLayout {
    if count == 0 || area.is_empty() {
        return GridLayout::default();
    }
    let focused = focused.min(count - 1);
    if zoomed {
        return GridLayout {
            cells: vec![(focused, area)],
            note: None,
        };
    }
    let max_cols = usize::from((area.width / MIN_PANE_WIDTH).max(1));
    let max_rows = usize::from((area.height / MIN_PANE_HEIGHT).max(1));
    if count <= max_cols * max_rows {
        return GridLayout {
            cells: place(area, 0..count),
            note: None,
        };
    }
    // Paged: the last row of the area says what is not shown.
    let panes = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    let rows = usize::from((panes.height / MIN_PANE_HEIGHT).max(1));
    let per_page = max_cols * rows;
    let page = focused / per_page;
    let pages = count.div_ceil(per_page);
    let first = page * per_page;
    let shown = first..(first + per_page).min(count);
    let note = format!("+{} more · page {}/{pages}", count - shown.len(), page + 1);
    let note_area = Rect {
        y: area.bottom().saturating_sub(1),
        height: 1,
        ..area
    };
    GridLayout {
        cells: place(panes, shown),
        note: Some((note_area, note)),
    }
}

/// Panes `indices` in a grid over `area`: the column count whose cells come closest to a
/// readable shape (terminal cells are about twice as tall as wide) without breaking the
/// minimum size.
fn place(area: Rect, indices: std::ops::Range<usize>) -> Vec<(usize, Rect)> {
    let n = indices.len();
    let max_cols = usize::from((area.width / MIN_PANE_WIDTH).max(1));
    let max_rows = usize::from((area.height / MIN_PANE_HEIGHT).max(1));
    let (width, height) = (usize::from(area.width), usize::from(area.height));
    let best = (1..=max_cols.min(n))
        .filter(|cols| n.div_ceil(*cols) <= max_rows)
        .max_by_key(|cols| {
            let rows = n.div_ceil(*cols);
            let score = (width / cols).min(2 * (height / rows));
            // Ties: fewer empty cells, then fewer columns (max_by_key keeps the last max).
            (
                score,
                std::cmp::Reverse(cols * rows - n),
                std::cmp::Reverse(*cols),
            )
        })
        .unwrap_or(1);
    let cols = best;
    let rows = n.div_ceil(cols);
    indices
        .enumerate()
        .map(|(i, pane)| {
            let (r, c) = (i / cols, i % cols);
            (pane, cell(area, cols, rows, c, r))
        })
        .collect()
}

/// Cell (`c`, `r`) of a `cols` x `rows` split of `area`; leftover columns and rows go to the
/// cells that end at the edge, so the grid fills the area exactly.
fn cell(area: Rect, cols: usize, rows: usize, c: usize, r: usize) -> Rect {
    let edge = |start: u16, len: u16, parts: usize, i: usize| -> u16 {
        let offset = usize::from(len) * i / parts.max(1);
        start + u16::try_from(offset).unwrap_or(len)
    };
    let (x0, x1) = (
        edge(area.x, area.width, cols, c),
        edge(area.x, area.width, cols, c + 1),
    );
    let (y0, y1) = (
        edge(area.y, area.height, rows, r),
        edge(area.y, area.height, rows, r + 1),
    );
    Rect::new(x0, y0, x1 - x0, y1 - y0)
}

/// Draws `panes` (title, output, state) as `grid_layout` places them.
pub fn render_pane_grid(
    area: Rect,
    buf: &mut Buffer,
    panes: &[(&str, &Scrollback, &PaneState)],
    focused: usize,
    zoomed: bool,
    styles: &PaneStyles,
) {
    let layout = grid_layout(area, panes.len(), focused, zoomed);
    for (i, rect) in layout.cells {
        if let Some((title, sb, state)) = panes.get(i) {
            render_pane(rect, buf, sb, state, title, i == focused, styles);
        }
    }
    if let Some((rect, note)) = layout.note {
        // Right-aligned by hand: `set_line` ignores a line's alignment.
        let width = u16::try_from(note.chars().count()).unwrap_or(u16::MAX);
        let x = rect.right().saturating_sub(width).max(rect.x);
        buf.set_line(x, rect.y, &Line::styled(note, styles.title), rect.width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_fill_the_area_and_respect_the_minimum() {
        let area = Rect::new(0, 0, 80, 24);
        let l = grid_layout(area, 4, 0, false);
        let sizes: Vec<(u16, u16)> = l.cells.iter().map(|(_, r)| (r.width, r.height)).collect();
        assert_eq!(sizes, vec![(40, 12); 4]);
        assert_eq!(grid_layout(area, 1, 0, false).cells, vec![(0, area)]);
        let nine = grid_layout(area, 9, 0, false);
        assert_eq!(nine.cells.len(), 9);
        assert!(
            nine.cells
                .iter()
                .all(|(_, r)| r.width >= MIN_PANE_WIDTH && r.height >= MIN_PANE_HEIGHT)
        );
        assert_eq!(grid_layout(area, 0, 0, false), GridLayout::default());
    }

    #[test]
    fn too_many_panes_show_the_focused_page() {
        let area = Rect::new(0, 0, 80, 24);
        // 4 columns x 4 rows (one row kept for the note) = 16 per page.
        let l = grid_layout(area, 50, 20, false);
        assert_eq!(l.cells.first().map(|c| c.0), Some(16));
        assert_eq!(l.cells.len(), 16);
        assert_eq!(
            l.note.as_ref().map(|n| n.1.as_str()),
            Some("+34 more · page 2/4")
        );
        let last = grid_layout(area, 50, 49, false);
        assert_eq!(last.cells.len(), 2);
        assert_eq!(
            last.note.map(|n| n.1),
            Some("+48 more · page 4/4".to_string())
        );
        let zoomed = grid_layout(area, 50, 99, true);
        assert_eq!(zoomed.cells, vec![(49, area)]);
    }
}
