//! The fleet page: every shown host, worst first (down, stale, connecting, no read token, no
//! metrics, waiting, then live), with its status as symbol and word, cpu/mem/disk/load as the
//! console's Fleet table writes them (a stale value dimmed with its age, never as live) and
//! the age of its newest sample. Columns drop (load, disk, age, mem) and trends shrink to fit;
//! only the rows on screen are built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::{ago, panel};
use crate::metrics::Metric;
use crate::ui::app::fleet::columns::Trend;
use crate::ui::app::fleet::metric_cells::{CellLook, metric_cell};
use crate::ui::app::widgets::host_column_width;
use crate::ui::app::widgets::metric::age_text;
use crate::ui::theme::{Graphics, scope};
use crate::ui::wallboard::state::Wallboard;
use crate::ui::wallboard::status::by_trouble;

/// `⊘ no read token` is the longest status.
const STATUS_W: u16 = 15;
const AGE_W: u16 = 4;

/// A metric cell's width: value (4), a space, the trend (the console's Fleet table's widths).
fn metric_w(trend: Trend) -> u16 {
    match trend {
        Trend::Glyphs8 => 13,
        Trend::Glyphs4 => 9,
        Trend::Arrow => 7,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    Status,
    Metric(Metric),
    Age,
}

/// The columns for `inner` columns: name and status always; then cpu, mem, age, disk, load;
/// the widest trend that lets all of them fit.
fn choose(inner: u16, name_w: u16) -> (Vec<Col>, Trend) {
    let width = |cols: &[Col], trend: Trend| -> u16 {
        let sum: u16 = cols
            .iter()
            .map(|c| match c {
                Col::Name => name_w,
                Col::Status => STATUS_W,
                Col::Metric(_) => metric_w(trend),
                Col::Age => AGE_W,
            })
            .sum();
        sum + cols.len().saturating_sub(1) as u16
    };
    let wanted = [
        Col::Metric(Metric::Cpu),
        Col::Metric(Metric::Mem),
        Col::Age,
        Col::Metric(Metric::Disk),
        Col::Metric(Metric::Load),
    ];
    let all: Vec<Col> = [Col::Name, Col::Status].into_iter().chain(wanted).collect();
    let trend = [Trend::Glyphs8, Trend::Glyphs4]
        .into_iter()
        .find(|t| width(&all, *t) <= inner)
        .unwrap_or(Trend::Arrow);
    let mut cols = vec![Col::Name, Col::Status];
    for c in wanted {
        cols.push(c);
        if width(&cols, trend) > inner {
            cols.pop();
        }
    }
    // Display order: metrics in their usual order, the age last.
    let rank = |c: &Col| match c {
        Col::Name => 0,
        Col::Status => 1,
        Col::Metric(Metric::Cpu) => 2,
        Col::Metric(Metric::Mem) => 3,
        Col::Metric(Metric::Disk) => 4,
        Col::Metric(_) => 5,
        Col::Age => 6,
    };
    cols.sort_by_key(rank);
    (cols, trend)
}

pub fn render(frame: &mut Frame, area: Rect, wb: &Wallboard) {
    let theme = &wb.theme;
    let title = format!(
        " fleet · {} hosts · worst first · sampled {} ",
        wb.hosts.len(),
        ago(wb.picture.metrics.at, wb.now)
    );
    let inner = panel(frame, area, wb, title);
    if wb.hosts.is_empty() {
        frame.render_widget(
            Paragraph::new("No hosts selected (hosts.toml, or -t).").style(theme.dim()),
            inner,
        );
        return;
    }
    let hosts = by_trouble(wb);
    let name_w = host_column_width(wb.hosts.iter().map(|h| h.name.as_str()));
    let (cols, trend) = choose(inner.width, name_w);
    let look = CellLook {
        theme,
        graphics: wb.graphics,
        trend,
        now: wb.now,
    };
    let ascii = wb.graphics == Graphics::Ascii || theme.ascii_symbols();
    let rows_room = usize::from(inner.height.saturating_sub(1));
    let hidden = hosts.len().saturating_sub(rows_room);
    // The last row says how many did not fit rather than showing one more host.
    let shown = if hidden > 0 {
        rows_room.saturating_sub(1)
    } else {
        rows_room
    };
    let rows: Vec<Row> = hosts
        .iter()
        .take(shown)
        .map(|(h, status)| {
            let metrics = wb.picture.metrics.host(&h.name);
            let cells = cols.iter().map(|c| match c {
                Col::Name => Cell::from(h.name.as_str()),
                Col::Status => {
                    let (text, sc) = status.look(ascii);
                    Cell::from(Line::styled(text, theme.style(sc)))
                }
                Col::Metric(m) => metric_cell(&look, metrics, *m),
                Col::Age => match metrics.and_then(|m| m.latest.as_ref().map(|s| (m, s))) {
                    Some((m, s)) => {
                        let style = if m.is_stale(wb.now) {
                            theme.style(scope::METRIC_STALE)
                        } else {
                            theme.dim()
                        };
                        Cell::from(Line::styled(
                            format!("{:>4}", age_text(s.age(wb.now))),
                            style,
                        ))
                    }
                    None => Cell::from(Line::styled(format!("{:>4}", "-"), theme.dim())),
                },
            });
            Row::new(cells.collect::<Vec<_>>()).style(theme.text())
        })
        .collect();
    let mut table_area = inner;
    if hidden > 0 {
        // A line of its own under the table: a row's first cell is only a name wide.
        let more = hosts.len() - shown;
        table_area.height = table_area.height.saturating_sub(1);
        let at = Rect {
            y: inner.bottom().saturating_sub(1),
            height: 1,
            ..inner
        };
        frame.render_widget(
            Line::styled(format!("+{more} more (worst first above)"), theme.dim()),
            at,
        );
    }
    let widths: Vec<Constraint> = cols
        .iter()
        .map(|c| match c {
            Col::Name => Constraint::Length(name_w),
            Col::Status => Constraint::Length(STATUS_W),
            Col::Metric(_) => Constraint::Length(metric_w(trend)),
            Col::Age => Constraint::Length(AGE_W),
        })
        .collect();
    let header = Row::new(cols.iter().map(|c| match c {
        Col::Name => "NAME".to_string(),
        Col::Status => "STATUS".to_string(),
        Col::Metric(m) => m.name().to_ascii_uppercase(),
        Col::Age => " AGE".to_string(),
    }))
    .style(theme.style(scope::UI_TABLE_HEADER));
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    frame.render_widget(table, table_area);
}
