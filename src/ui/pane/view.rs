//! One output pane: a bordered box titled with its host, a status on the right (follow or
//! paused with the count of new lines, wrap, zoom, the search), and the rows the state shows.
//!
//! Cost: O(rows shown). Following, the top is found by walking back from the newest line
//! until the pane is full; paused, drawing walks forward from the stored top (clamped against
//! the bottom, another walk of one screen). A wrapped line's rows are computed when the walk
//! reaches it. A 200,000-line buffer costs what a 20-line one does.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Widget};

use super::draw::draw_seq;
use super::geometry::Geometry;
use super::scrollback::Scrollback;
use super::state::{PaneState, Viewport};
use super::styles::PaneStyles;
use crate::ui::printers::sanitize::sanitize;

/// The text area of a pane drawn in `area` (inside its border): what `PaneState`'s scroll and
/// search methods take.
pub fn pane_viewport(area: Rect) -> Viewport {
    let inner = Block::bordered().inner(area);
    Viewport {
        width: inner.width,
        height: inner.height,
    }
}

/// Draws `sb` as `state` shows it. `title` is usually the host name (a merged stream's is the
/// run); the focused pane gets the focused border style and a thick border.
pub fn render_pane(
    area: Rect,
    buf: &mut Buffer,
    sb: &Scrollback,
    state: &PaneState,
    title: &str,
    focused: bool,
    styles: &PaneStyles,
) {
    let block = frame(title, &status(sb, state), focused, styles);
    let inner = block.inner(area);
    block.render(area, buf);
    render_rows(inner, buf, sb, state, styles);
}

/// The pane's border and titles.
pub(super) fn frame<'a>(
    title: &str,
    status: &str,
    focused: bool,
    styles: &PaneStyles,
) -> Block<'a> {
    let (border_type, border_style) = if focused {
        (BorderType::Thick, styles.border_focused)
    } else {
        (BorderType::Plain, styles.border)
    };
    let mut block = Block::bordered()
        .border_type(border_type)
        .border_style(border_style)
        .title(Line::from(Span::styled(format!(" {title} "), styles.title)));
    if !status.is_empty() {
        block = block.title_top(
            Line::from(Span::styled(format!(" {status} "), styles.title)).right_aligned(),
        );
    }
    block
}

/// `follow` or `paused +N`, then `wrap`, `zoom` and `/query` when they apply.
fn status(sb: &Scrollback, state: &PaneState) -> String {
    let mut parts = Vec::new();
    if state.is_following() {
        parts.push("follow".to_string());
    } else {
        match state.new_lines_while_paused(sb) {
            0 => parts.push("paused".to_string()),
            n => parts.push(format!("paused +{n}")),
        }
    }
    if state.is_wrapped() {
        parts.push("wrap".to_string());
    }
    if state.is_zoomed() {
        parts.push("zoom".to_string());
    }
    if let Some(query) = state.search_query() {
        // The query is typed text, but a pasted escape must not reach the terminal either.
        parts.push(format!("/{}", sanitize(query.as_bytes(), false)));
    }
    parts.join(" · ")
}

fn render_rows(
    inner: Rect,
    buf: &mut Buffer,
    sb: &Scrollback,
    state: &PaneState,
    styles: &PaneStyles,
) {
    if inner.is_empty() {
        return;
    }
    let wrap = state.is_wrapped();
    let g = Geometry {
        sb,
        width: usize::from(inner.width),
        wrap,
    };
    let top = state.top(&g, usize::from(inner.height));
    let end = g.end().seq;
    let (mut seq, mut skip, mut y) = (top.seq, top.row, 0u16);
    while y < inner.height && seq < end {
        let rows = Rect {
            y: inner.y + y,
            height: inner.height - y,
            ..inner
        };
        let drawn = draw_seq(buf, rows, sb, seq, skip, wrap, styles, state.search());
        y = y.saturating_add(u16::try_from(drawn).unwrap_or(u16::MAX));
        seq += 1;
        skip = 0;
    }
}
