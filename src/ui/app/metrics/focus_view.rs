//! The small layout's panel of the focused host: cpu, mem, disk and load, each with its value
//! (or its age when stale, or why there is none) and its last eight points as glyphs, from the
//! frame's trend (no series needed).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::metrics::Metric;
use crate::ui::app::model::Model;
use crate::ui::app::widgets::metric::{
    Reading, age_text, level, level_style, trend_glyphs, value_text,
};
use crate::ui::theme::scope;

/// Trend glyphs per line.
const TREND: usize = 8;

pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.shell.theme;
    let Some(host) = model.current_host() else {
        return;
    };
    let block = Block::bordered()
        .border_style(theme.border(false))
        .title(format!(" {} ", host.name))
        .title_style(theme.style(scope::UI_TITLE));
    let now = model.shell.now;
    let metrics = model.metrics_frame.host(&host.name);
    let trend = metrics.map_or(&[][..], |h| h.trend.as_slice());
    let lines: Vec<Line> = Metric::LEVELS
        .iter()
        .map(|&metric| {
            let name = Span::styled(format!("{:<5}", metric.name()), theme.text());
            let rest = match Reading::of(metrics, metric, now) {
                Reading::Fresh(v) => vec![
                    Span::styled(
                        format!("{:>4} ", value_text(metric, v)),
                        level_style(theme, level(metric, v)),
                    ),
                    Span::styled(
                        trend_glyphs(trend, metric, TREND, model.shell.graphics),
                        theme.style(scope::METRIC_CHART),
                    ),
                ],
                Reading::Stale { value, age } => vec![Span::styled(
                    format!(
                        "{:>4} {} ago",
                        value.map_or_else(|| "-".to_string(), |v| value_text(metric, v)),
                        age_text(age)
                    ),
                    theme.style(scope::METRIC_STALE),
                )],
                Reading::NotGiven => vec![Span::styled("not given", theme.dim())],
                Reading::Waiting => {
                    vec![Span::styled(
                        "no sample yet",
                        theme.style(scope::METRIC_STALE),
                    )]
                }
                Reading::Unavailable => {
                    vec![Span::styled(
                        "no metrics",
                        theme.style(scope::METRIC_MISSING),
                    )]
                }
            };
            Line::from([vec![name], rest].concat())
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
