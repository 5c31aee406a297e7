//! The Fleet table's metric cells: a live value in its level's style with its trend (glyphs
//! or an arrow), a stale one dimmed with its age (`87% 2m`, never as live), `·` for a host
//! not sampled yet, `—` for one without metrics (the detail line under the table says why),
//! `-` for a metric its source does not give.

use std::time::SystemTime;

use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;

use super::columns::Trend;
use crate::metrics::{HostNow, Metric};
use crate::ui::app::widgets::metric::{
    Reading, age_text, level, level_style, trend_arrow, trend_glyphs, value_text,
};
use crate::ui::theme::{Graphics, Theme, scope};

/// How the cells are drawn this frame.
pub struct CellLook<'a> {
    pub theme: &'a Theme,
    pub graphics: Graphics,
    pub trend: Trend,
    pub now: SystemTime,
}

/// The cell of `metric` for a host whose metrics are `host` (none: not in the frame yet).
pub fn metric_cell<'a>(look: &CellLook, host: Option<&HostNow>, metric: Metric) -> Cell<'a> {
    let theme = look.theme;
    let ascii = look.graphics == Graphics::Ascii;
    let line = match Reading::of(host, metric, look.now) {
        Reading::Fresh(v) => {
            let trend = host.map_or(&[][..], |h| h.trend.as_slice());
            let shape = match look.trend {
                Trend::Arrow => trend_arrow(trend, metric, look.graphics).to_string(),
                t => trend_glyphs(trend, metric, t.glyphs(), look.graphics),
            };
            Line::from(vec![
                Span::styled(
                    format!("{:>4}", value_text(metric, v)),
                    level_style(theme, level(metric, v)),
                ),
                Span::raw(" "),
                Span::styled(shape, theme.style(scope::METRIC_CHART)),
            ])
        }
        Reading::Stale { value, age } => {
            let value = value.map_or_else(|| "-".to_string(), |v| value_text(metric, v));
            Line::styled(
                format!("{value:>4} {}", age_text(age)),
                theme.style(scope::METRIC_STALE),
            )
        }
        Reading::NotGiven => Line::styled(format!("{:>4}", "-"), theme.dim()),
        Reading::Waiting => Line::styled(
            format!("{:>4}", if ascii { "." } else { "·" }),
            theme.style(scope::METRIC_STALE),
        ),
        Reading::Unavailable => Line::styled(
            format!("{:>4}", if ascii { "--" } else { "—" }),
            theme.style(scope::METRIC_MISSING),
        ),
    };
    Cell::from(line)
}
