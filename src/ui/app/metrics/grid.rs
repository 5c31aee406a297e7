//! The heatmap's geometry inside its box: how wide a cell is, how many fit on a row, which
//! rows are on screen for a cursor, and where a host's cell is. The keys move the cursor by
//! it and the view draws by it, so `j` goes to the cell drawn below.

use ratatui::layout::Rect;

/// Cells laid out left to right, top to bottom, in the fleet's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Inside the heatmap's borders.
    pub inner: Rect,
    /// 2 (a mark column and the glyph) when every host fits that way, else 1.
    pub cell_w: u16,
    /// Cells on a row.
    pub cols: usize,
    /// Hosts laid out.
    pub cells: usize,
}

impl Grid {
    pub fn new(inner: Rect, cells: usize) -> Grid {
        let rows = usize::from(inner.height);
        let wide = usize::from(inner.width / 2);
        let cell_w = if wide > 0 && wide * rows >= cells {
            2
        } else {
            1
        };
        Grid {
            inner,
            cell_w,
            cols: usize::from(inner.width / cell_w).max(1),
            cells,
        }
    }

    /// Rows of cells in all.
    pub fn rows(&self) -> usize {
        self.cells.div_ceil(self.cols)
    }

    /// Rows on screen.
    pub fn visible_rows(&self) -> usize {
        usize::from(self.inner.height).max(1)
    }

    /// The first row drawn, so the cursor's row shows (the same scrolling as a table).
    pub fn first_row(&self, cursor: usize) -> usize {
        (cursor / self.cols).saturating_sub(self.visible_rows() - 1)
    }

    /// Where cell `index` is drawn when the cursor is at `cursor`, if on screen.
    pub fn position(&self, index: usize, cursor: usize) -> Option<(u16, u16)> {
        let row = (index / self.cols).checked_sub(self.first_row(cursor))?;
        if row >= self.visible_rows() || index >= self.cells {
            return None;
        }
        let x = self.inner.x + (index % self.cols) as u16 * self.cell_w;
        let y = self.inner.y + row as u16;
        Some((x, y))
    }

    /// The cursor `rows` rows down (negative: up), in the same column; from the last row
    /// down goes to the last cell, from the first row up to the first, so every press moves.
    pub fn vertical(&self, cursor: usize, rows: isize) -> usize {
        let last = self.cells.saturating_sub(1);
        let step = self.cols.saturating_mul(rows.unsigned_abs());
        let row = cursor / self.cols;
        if rows >= 0 {
            if row + 1 < self.rows() {
                cursor.saturating_add(step).min(last)
            } else {
                last
            }
        } else if row > 0 {
            cursor.saturating_sub(step).max(cursor % self.cols)
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thousand_hosts_fit_two_columns_a_cell_in_a_wide_box() {
        let g = Grid::new(Rect::new(1, 1, 164, 13), 1000);
        assert_eq!((g.cell_w, g.cols, g.rows()), (2, 82, 13));
        // Too many for two columns: one column a cell.
        let g = Grid::new(Rect::new(0, 0, 38, 8), 200);
        assert_eq!((g.cell_w, g.cols, g.rows()), (1, 38, 6));
    }

    #[test]
    fn moving_down_and_up_and_scrolling() {
        let g = Grid::new(Rect::new(0, 0, 10, 2), 23); // 10 a row, 3 rows, 2 shown
        assert_eq!(g.cell_w, 1);
        assert_eq!(g.vertical(5, 1), 15);
        assert_eq!(
            g.vertical(15, 1),
            22,
            "the short last row takes the last cell"
        );
        assert_eq!(g.vertical(21, 1), 22, "the last row goes to the last cell");
        assert_eq!(g.vertical(15, -1), 5);
        assert_eq!(g.vertical(5, -1), 0, "the first row goes to the first cell");
        assert_eq!(g.vertical(15, -5), 5, "a page up stops at the top row");
        assert_eq!(g.first_row(5), 0);
        assert_eq!(g.first_row(22), 1);
        assert_eq!(g.position(22, 22), Some((2, 1)));
        assert_eq!(g.position(3, 22), None);
        assert_eq!(g.position(23, 22), None);
    }
}
