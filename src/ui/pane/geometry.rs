//! Rows on screen. A position is an `Anchor`: a line's sequence number and a row inside it
//! (wrapped lines take several rows). Everything here walks from a known anchor over only the
//! lines it needs, so no frame or scroll step looks at the whole buffer:
//!
//! - following, the top is found by walking back from the last line until the pane is full;
//! - paused, the top anchor is stored, and drawing walks forward from it;
//! - with wrap, a line's rows are computed when the walk reaches it (O(1) for ASCII lines,
//!   one pass over the graphemes otherwise); nothing is cached, so a resize or a wrap toggle
//!   has nothing to invalidate.

use std::ops::{ControlFlow, Range};

use ratatui::buffer::CellWidth;
use ratatui::style::Style;
use ratatui::text::Span;

use super::scrollback::{Scrollback, Shown};

/// A row position: line `seq`, row `row` of its wrapped rows. Ordered as on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Anchor {
    pub seq: u64,
    pub row: usize,
}

/// Display width of `s` in terminal cells, counted the way ratatui's buffer draws it.
pub(super) fn text_width(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    let mut width = 0;
    for_each_grapheme(s, |_, _, w| {
        width += w;
        ControlFlow::Continue(())
    });
    width
}

/// Calls `f(offset, len, width)` for each grapheme, as `Buffer::set_stringn` splits them.
/// Pane text holds no control characters (they were made visible on append), so none are
/// skipped and offsets cover the text.
fn for_each_grapheme(text: &str, mut f: impl FnMut(usize, usize, usize) -> ControlFlow<()>) {
    let span = Span::raw(text);
    let base = text.as_ptr() as usize;
    for g in span.styled_graphemes(Style::default()) {
        let offset = g.symbol.as_ptr() as usize - base;
        if f(offset, g.symbol.len(), usize::from(g.symbol.cell_width())).is_break() {
            return;
        }
    }
}

/// How a line is laid out: its first row starts after `indent` columns (a prefix), later rows
/// after `cont` columns, each row `width` columns wide.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowShape {
    pub indent: usize,
    pub cont: usize,
    pub width: usize,
}

impl RowShape {
    /// Continuation rows line up under the text when the prefix leaves room for it.
    pub fn new(prefix: usize, width: usize) -> Self {
        let width = width.max(1);
        RowShape {
            indent: prefix,
            cont: if prefix * 2 <= width { prefix } else { 0 },
            width,
        }
    }

    fn room(&self, row: usize) -> usize {
        let indent = if row == 0 { self.indent } else { self.cont };
        self.width.saturating_sub(indent)
    }
}

/// Calls `f(row, bytes)` for each row `text` wraps into: at least one row (an empty line is
/// one empty row). A grapheme wider than a whole row gets a row of its own (and is clipped).
pub(super) fn for_each_row(
    text: &str,
    shape: RowShape,
    mut f: impl FnMut(usize, Range<usize>) -> ControlFlow<()>,
) {
    if text.is_ascii() {
        let mut start = 0;
        let mut row = 0;
        loop {
            let end = (start + shape.room(row)).min(text.len());
            if f(row, start..end).is_break() || end >= text.len() {
                return;
            }
            start = end;
            row += 1;
        }
    }
    let mut row = 0;
    let mut row_start = 0;
    let mut used = 0;
    let mut stopped = false;
    for_each_grapheme(text, |offset, _, width| {
        let occupied = offset > row_start || (row == 0 && shape.indent > 0);
        if used + width > shape.room(row) && occupied {
            if f(row, row_start..offset).is_break() {
                stopped = true;
                return ControlFlow::Break(());
            }
            row += 1;
            row_start = offset;
            used = 0;
        }
        used += width;
        ControlFlow::Continue(())
    });
    if !stopped {
        let _ = f(row, row_start..text.len());
    }
}

/// Rows `text` wraps into (O(1) for ASCII).
pub(super) fn row_count(text: &str, shape: RowShape) -> usize {
    if text.is_ascii() {
        let first = shape.room(0).min(text.len());
        let rest = text.len() - first;
        let per_row = shape.room(1).max(1);
        return 1 + rest.div_ceil(per_row);
    }
    let mut rows = 0;
    for_each_row(text, shape, |_, _| {
        rows += 1;
        ControlFlow::Continue(())
    });
    rows
}

/// The row holding byte `at` of `text` (the last row for the end of the text).
pub(super) fn row_of(text: &str, shape: RowShape, at: usize) -> usize {
    let mut found = 0;
    for_each_row(text, shape, |row, range| {
        found = row;
        if at < range.end {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    found
}

/// A scrollback seen through a pane `width` columns wide, wrapped or not.
pub(super) struct Geometry<'a> {
    pub sb: &'a Scrollback,
    pub width: usize,
    pub wrap: bool,
}

impl Geometry<'_> {
    pub fn start(&self) -> Anchor {
        Anchor {
            seq: self.sb.start(),
            row: 0,
        }
    }

    /// One past the last row.
    pub fn end(&self) -> Anchor {
        Anchor {
            seq: self.sb.end(),
            row: 0,
        }
    }

    /// Rows line `seq` takes (1 unless wrapped).
    pub fn rows(&self, seq: u64) -> usize {
        if !self.wrap {
            return 1;
        }
        match self.sb.shown(seq) {
            Some(Shown::Line(line)) => row_count(
                line.text(),
                RowShape::new(self.sb.prefix_width(line), self.width),
            ),
            _ => 1,
        }
    }

    /// The row of byte `at` in line `seq`.
    pub fn row_at(&self, seq: u64, at: usize) -> usize {
        match self.sb.shown(seq) {
            Some(Shown::Line(line)) if self.wrap => row_of(
                line.text(),
                RowShape::new(self.sb.prefix_width(line), self.width),
                at,
            ),
            _ => 0,
        }
    }

    /// `a` moved up `n` rows, stopping at the first row.
    pub fn back(&self, a: Anchor, n: usize) -> Anchor {
        let start = self.start();
        if !self.wrap {
            let seq = a.seq.saturating_sub(n as u64).max(start.seq);
            return Anchor { seq, row: 0 };
        }
        let mut a = a;
        let mut n = n;
        loop {
            if n <= a.row {
                a.row -= n;
                return a;
            }
            if a.seq <= start.seq {
                return start;
            }
            n -= a.row + 1;
            a.seq -= 1;
            a.row = self.rows(a.seq) - 1;
        }
    }

    /// `a` moved down `n` rows, stopping at `end()`.
    pub fn forward(&self, a: Anchor, n: usize) -> Anchor {
        let end = self.end();
        if !self.wrap {
            return Anchor {
                seq: a.seq.saturating_add(n as u64).min(end.seq),
                row: 0,
            };
        }
        let mut a = a;
        let mut n = n;
        while a.seq < end.seq {
            let rows = self.rows(a.seq);
            if a.row + n < rows {
                a.row += n;
                return a;
            }
            n -= rows - a.row;
            a = Anchor {
                seq: a.seq + 1,
                row: 0,
            };
        }
        end
    }

    /// The top that shows the last `height` rows: where following keeps the view.
    pub fn bottom(&self, height: usize) -> Anchor {
        self.back(self.end(), height)
    }

    /// `a` made valid now: lines dropped from under it move it to the first row, and a row
    /// past the line's end (after a resize or a wrap toggle) to the line's last row.
    pub fn clamp(&self, a: Anchor) -> Anchor {
        if a.seq < self.sb.start() {
            return self.start();
        }
        if a.seq >= self.sb.end() {
            return self.end();
        }
        let rows = self.rows(a.seq);
        Anchor {
            seq: a.seq,
            row: a.row.min(rows - 1),
        }
    }

    /// Rows from `a` down to `b` when `b` is at most `limit` rows below `a`.
    pub fn distance(&self, a: Anchor, b: Anchor, limit: usize) -> Option<usize> {
        if b < a {
            return None;
        }
        if !self.wrap {
            let d = usize::try_from(b.seq - a.seq).ok()?;
            return (d <= limit).then_some(d);
        }
        let mut rows = 0;
        let mut at = a;
        while at.seq < b.seq {
            rows += self.rows(at.seq) - at.row;
            if rows > limit {
                return None;
            }
            at = Anchor {
                seq: at.seq + 1,
                row: 0,
            };
        }
        rows += b.row.saturating_sub(at.row);
        (rows <= limit).then_some(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, prefix: usize, width: usize) -> Vec<&str> {
        let mut out = Vec::new();
        for_each_row(text, RowShape::new(prefix, width), |_, r| {
            out.push(&text[r]);
            ControlFlow::Continue(())
        });
        out
    }

    #[test]
    fn ascii_rows_and_counts_agree() {
        assert_eq!(rows("abcdefghij", 0, 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(rows("", 0, 4), vec![""]);
        assert_eq!(rows("abcd", 0, 4), vec!["abcd"]);
        // A 2-column prefix: the first row holds less, later rows line up under the text.
        assert_eq!(rows("abcdefgh", 2, 6), vec!["abcd", "efgh"]);
        // A prefix wider than half the row: later rows use the full width.
        assert_eq!(rows("abcdefgh", 4, 6), vec!["ab", "cdefgh"]);
        for (text, prefix, width) in [
            ("abcdefghij", 0, 4),
            ("", 0, 3),
            ("abcdefgh", 2, 6),
            ("abcdefgh", 4, 6),
            ("xy", 9, 4),
        ] {
            assert_eq!(
                row_count(text, RowShape::new(prefix, width)),
                rows(text, prefix, width).len()
            );
        }
    }

    #[test]
    fn wide_characters_move_to_the_next_row() {
        // Each 日 is two columns: three fit in 7 columns, the fourth wraps.
        assert_eq!(rows("日本語日本", 0, 7), vec!["日本語", "日本"]);
        assert_eq!(row_count("日本語日本", RowShape::new(0, 7)), 2);
        assert_eq!(rows("é".repeat(5).as_str(), 0, 2), vec!["éé", "éé", "é"]);
        // Wider than the row: alone on its row, and the walk still ends.
        assert_eq!(rows("日日", 0, 1), vec!["日", "日"]);
        assert_eq!(row_of("日本語日本", RowShape::new(0, 7), 9), 1);
        assert_eq!(row_of("abcdefghij", RowShape::new(0, 4), 10), 2);
        assert_eq!(text_width("日本 x"), 6);
    }
}
