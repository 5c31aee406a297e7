//! Drawing one stored line into buffer rows: its prefix, its colour runs, neutralised escapes
//! and search matches, cut into wrapped rows. Only the rows asked for are built, from slices of
//! the stored text (no copy of the line).

use std::ops::{ControlFlow, Range};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::geometry::{RowShape, for_each_row, text_width};
use super::line::{LineKind, PaneLine};
use super::scrollback::{Scrollback, Shown};
use super::search::{Search, in_line};
use super::styles::PaneStyles;

/// Draws what sits at `seq`, skipping its first `skip` wrapped rows, into the rows of `area`
/// (one row unless `wrap`). Returns the rows drawn.
#[allow(clippy::too_many_arguments)] // one call site per view; a struct would only rename them
pub(super) fn draw_seq(
    buf: &mut Buffer,
    area: Rect,
    sb: &Scrollback,
    seq: u64,
    skip: usize,
    wrap: bool,
    styles: &PaneStyles,
    search: Option<&Search>,
) -> usize {
    if area.is_empty() {
        return 0;
    }
    match sb.shown(seq) {
        Some(Shown::Evicted(count)) => {
            if skip > 0 {
                return 0;
            }
            let note = Line::styled(format!("… {count} lines dropped …"), styles.marker);
            buf.set_line(area.x, area.y, &note, area.width);
            1
        }
        Some(Shown::Line(line)) => {
            let matches: Vec<(Range<usize>, bool)> = search
                .map(|s| {
                    in_line(&s.regex, line, seq)
                        .map(|m| (m.start..m.end, s.current == Some(m)))
                        .collect()
                })
                .unwrap_or_default();
            draw_line(buf, area, sb, line, skip, wrap, styles, &matches)
        }
        None => 0,
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_line(
    buf: &mut Buffer,
    area: Rect,
    sb: &Scrollback,
    line: &PaneLine,
    skip: usize,
    wrap: bool,
    styles: &PaneStyles,
    matches: &[(Range<usize>, bool)],
) -> usize {
    let shape = RowShape::new(sb.prefix_width(line), usize::from(area.width));
    let base = match line.kind() {
        LineKind::Stdout => Style::default(),
        LineKind::Stderr => styles.stderr,
        LineKind::Marker => styles.marker,
    };
    let mut drawn: u16 = 0;
    for_each_row(line.text(), shape, |row, range| {
        if row < skip {
            return ControlFlow::Continue(());
        }
        if drawn >= area.height {
            return ControlFlow::Break(());
        }
        let mut spans = if row == 0 {
            prefix(sb, line, styles)
        } else {
            vec![Span::raw(" ".repeat(shape.cont))]
        };
        push_text(&mut spans, line, range, base, styles, matches);
        buf.set_line(area.x, area.y + drawn, &Line::from(spans), area.width);
        drawn += 1;
        if wrap {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    });
    usize::from(drawn)
}

/// `host!: ` (merged stream, padded so text lines up) or `! ` (a pane's stderr line).
fn prefix<'a>(sb: &Scrollback, line: &PaneLine, styles: &PaneStyles) -> Vec<Span<'a>> {
    let stderr = line.kind() == LineKind::Stderr;
    let style = if stderr {
        styles.stderr.patch(styles.title)
    } else {
        styles.title
    };
    if sb.prefix_width(line) == 0 {
        return Vec::new();
    }
    let Some(name) = sb.host_name(line.host()) else {
        return vec![Span::styled("! ", styles.stderr)];
    };
    let label = format!("{name}{}:", if stderr { "!" } else { "" });
    let pad = (sb.host_name_width() + 3).saturating_sub(text_width(&label));
    vec![Span::styled(label, style), Span::raw(" ".repeat(pad))]
}

/// Spans for bytes `range` of `line`: run colours over the line's base style, neutralised
/// escapes in the marker style, matches on top.
fn push_text<'a>(
    spans: &mut Vec<Span<'a>>,
    line: &'a PaneLine,
    range: Range<usize>,
    base: Style,
    styles: &PaneStyles,
    matches: &[(Range<usize>, bool)],
) {
    let text = line.text();
    let mut next = matches.partition_point(|(m, _)| m.end <= range.start);
    for (start, end, style, control) in line.runs_in(range) {
        let style = base.patch(if control { styles.marker } else { style });
        let mut at = start;
        while at < end {
            match matches.get(next) {
                Some((m, current)) if m.start < end => {
                    if m.start > at {
                        spans.push(Span::styled(&text[at..m.start], style));
                        at = m.start;
                    }
                    let stop = m.end.min(end);
                    let hit = if *current {
                        styles.search_current
                    } else {
                        styles.search_match
                    };
                    spans.push(Span::styled(&text[at..stop], style.patch(hit)));
                    at = stop;
                    if m.end <= end {
                        next += 1;
                    }
                }
                _ => {
                    spans.push(Span::styled(&text[at..end], style));
                    at = end;
                }
            }
        }
    }
}
