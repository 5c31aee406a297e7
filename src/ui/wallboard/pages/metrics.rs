//! The metrics page: a heatmap per level (cpu, mem, disk, load; only cpu in a small area), one
//! cell per shown host in inventory order (so a host keeps its place), written the console's
//! way (metrics/heatmap_view.rs: a digit for the level, `·` stale or waiting, `×` none), each
//! titled with the fleet's average and highest host over fresh samples and the frame's age.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;

use super::{ago, panel};
use crate::metrics::Metric;
use crate::ui::app::metrics::grid::Grid;
use crate::ui::app::metrics::heatmap_view::cell;
use crate::ui::app::widgets::metric::{Reading, value_text};
use crate::ui::theme::Graphics;
use crate::ui::wallboard::state::Wallboard;

/// Four heatmaps need at least this much room, else cpu alone.
const QUAD_MIN: (u16, u16) = (60, 14);

pub fn render(frame: &mut Frame, area: Rect, wb: &Wallboard) {
    if area.width < QUAD_MIN.0 || area.height < QUAD_MIN.1 {
        heatmap(frame, area, wb, Metric::Cpu);
        return;
    }
    let [top, bottom] = Layout::vertical([Constraint::Fill(1); 2]).areas(area);
    let [a, b] = Layout::horizontal([Constraint::Fill(1); 2]).areas(top);
    let [c, d] = Layout::horizontal([Constraint::Fill(1); 2]).areas(bottom);
    for (area, metric) in [a, b, c, d].into_iter().zip(Metric::LEVELS) {
        heatmap(frame, area, wb, metric);
    }
}

/// Average and highest fresh value of `metric` over the shown hosts: `avg 34% · max 97% web07`.
fn summary(wb: &Wallboard, metric: Metric) -> String {
    let mut sum = 0.0;
    let mut n = 0usize;
    let mut top: Option<(&str, f64)> = None;
    for h in wb.hosts.iter() {
        if let Some(v) = Reading::of(wb.picture.metrics.host(&h.name), metric, wb.now).fresh() {
            sum += v;
            n += 1;
            if top.is_none_or(|(_, t)| v > t) {
                top = Some((&h.name, v));
            }
        }
    }
    match top {
        Some((name, max)) => format!(
            "avg {} · max {} {name}",
            value_text(metric, sum / n as f64),
            value_text(metric, max)
        ),
        None => "no fresh samples".to_string(),
    }
}

fn heatmap(frame: &mut Frame, area: Rect, wb: &Wallboard, metric: Metric) {
    let title = format!(
        " {} · {} · {} ",
        metric.name(),
        ago(wb.picture.metrics.at, wb.now),
        summary(wb, metric)
    );
    let inner = panel(frame, area, wb, title);
    // Cells are written straight into the buffer: only inside a real area.
    if inner.is_empty() {
        return;
    }
    let ascii = wb.graphics == Graphics::Ascii;
    let theme = &wb.theme;
    let grid = Grid::new(inner, wb.hosts.len());
    let room = grid.visible_rows() * grid.cols;
    let buf = frame.buffer_mut();
    for (index, host) in wb.hosts.iter().enumerate().take(room) {
        let Some((x, y)) = grid.position(index, 0) else {
            continue;
        };
        let reading = Reading::of(wb.picture.metrics.host(&host.name), metric, wb.now);
        let (glyph, style) = cell(theme, reading, metric, ascii);
        buf[(x + grid.cell_w - 1, y)]
            .set_symbol(glyph)
            .set_style(style);
    }
    if wb.hosts.len() > room {
        // Said on the last line of the box rather than hidden.
        let note = format!(" +{} not shown ", wb.hosts.len() - room);
        let width = note.chars().count() as u16;
        let at = Rect::new(
            inner.right().saturating_sub(width),
            inner.bottom().saturating_sub(1),
            width.min(inner.width),
            1,
        );
        frame.render_widget(Line::styled(note, theme.dim()), at);
    }
}
