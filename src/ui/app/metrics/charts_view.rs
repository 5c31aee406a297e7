//! The focused host's charts: cpu, mem, disk, load, net rx and net tx over the window shown,
//! in a grid of 3x2 (or 2x3 where narrow), drawn with braille dots, half blocks or `*` as the
//! terminal allows. Each title carries the newest value, so the numbers are there without
//! colour. Lines borrow the data built when the series arrived; nothing is computed per point
//! here.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};

use super::areas::inner;
use super::series::{ChartLine, Charts};
use crate::metrics::Metric;
use crate::ui::app::model::Model;
use crate::ui::app::widgets::metric::{rate_text, value_text};
use crate::ui::app::widgets::render_note;
use crate::ui::theme::{Theme, scope};

/// More segments than this (a series full of holes) are drawn as dots, one layer.
const MAX_SEGMENTS: usize = 32;
/// Below this height a chart leaves out its time labels.
const TIME_LABELS_MIN_HEIGHT: u16 = 8;

pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.shell.theme;
    let window = model.metrics.window;
    let Some(host) = model.current_host() else {
        let block = panel(theme, " charts ".to_string());
        render_note(frame, area, theme, block, "No host shown.");
        return;
    };
    let title = format!(" {} · last {} · +/- zoom ", host.name, window.label());
    let block = panel(theme, title);
    let charts = model
        .metrics
        .charts
        .as_ref()
        .filter(|c| c.host == host.name && c.window == window);
    let Some(charts) = charts else {
        render_note(frame, area, theme, block, "Reading the series…");
        return;
    };
    if charts.points == 0 {
        let note = format!(
            "No samples of {} in the last {}: {}",
            host.name,
            window.label(),
            crate::ui::app::widgets::metric::availability_note(
                model.metrics_frame.host(&host.name),
                model.shell.now
            )
        );
        render_note(frame, area, theme, block, note);
        return;
    }
    frame.render_widget(block, area);
    let room = inner(area);
    let (cols, rows) = if room.width >= 90 { (3, 2) } else { (2, 3) };
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows); rows as usize]).split(room);
    let mut cells = Vec::with_capacity(Metric::ALL.len());
    for row in row_areas.iter() {
        let split = Layout::horizontal(vec![Constraint::Ratio(1, cols); cols as usize])
            .spacing(2)
            .split(*row);
        cells.extend(split.iter().copied());
    }
    for (metric, cell) in Metric::ALL.iter().zip(cells) {
        let Some(line) = charts.line(*metric) else {
            continue;
        };
        render_chart(frame, cell, model, charts, *metric, line);
    }
}

fn panel(theme: &Theme, title: String) -> Block<'static> {
    Block::bordered()
        .border_style(theme.border(false))
        .title(title)
        .title_style(theme.style(scope::UI_TITLE))
}

fn render_chart(
    frame: &mut Frame,
    area: Rect,
    model: &Model,
    charts: &Charts,
    metric: Metric,
    line: &ChartLine,
) {
    let theme = &model.shell.theme;
    let name = metric.name().replace('_', " ");
    let latest = match line.latest {
        Some(v) if matches!(metric, Metric::NetRx | Metric::NetTx) => {
            format!(" {}/s", rate_text(v))
        }
        Some(v) => format!(" {}", value_text(metric, v)),
        None => String::new(),
    };
    let title = Line::styled(format!("{name}{latest}"), theme.style(scope::UI_TITLE));
    let block = Block::new().title(title);
    if line.is_empty() {
        frame.render_widget(
            Paragraph::new("not reported")
                .style(theme.dim())
                .block(block),
            area,
        );
        return;
    }
    let style = theme.style(scope::METRIC_CHART);
    let marker = model.shell.graphics.marker();
    let datasets: Vec<Dataset> = if line.segments.len() > MAX_SEGMENTS {
        vec![
            Dataset::default()
                .data(&line.data)
                .marker(marker)
                .graph_type(GraphType::Scatter)
                .style(style),
        ]
    } else {
        line.segments
            .iter()
            .map(|r| {
                Dataset::default()
                    .data(&line.data[r.clone()])
                    .marker(marker)
                    .graph_type(GraphType::Line)
                    .style(style)
            })
            .collect()
    };
    let (top, top_label) = y_top(metric, line.max);
    let span = charts.window.span().as_secs_f64();
    let mut x_axis = Axis::default().bounds([-span, 0.0]).style(theme.dim());
    if area.height >= TIME_LABELS_MIN_HEIGHT {
        x_axis = x_axis.labels([format!("-{}", charts.window.label()), "now".to_string()]);
    }
    let y_axis = Axis::default()
        .bounds([0.0, top])
        .labels(["0".to_string(), top_label])
        .style(theme.dim());
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(x_axis)
        .y_axis(y_axis)
        .legend_position(None);
    frame.render_widget(chart, area);
}

/// The y axis's top and its label: 100% for percentages, else a round number above the
/// highest point.
fn y_top(metric: Metric, max: f64) -> (f64, String) {
    match metric {
        Metric::Cpu | Metric::Mem | Metric::Disk => (100.0, "100%".to_string()),
        Metric::Load => {
            let top = (max * 1.1).ceil().max(1.0);
            (top, format!("{top:.0}"))
        }
        Metric::NetRx | Metric::NetTx => {
            let top = (max * 1.1).max(1024.0);
            (top, rate_text(top))
        }
    }
}
