//! The top lists: the hosts shown with the highest fresh cpu, mem, disk and load, as many as
//! the box holds (at most five each). One pass over the hosts shown, keeping a few entries per
//! list; stale samples never rank.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::areas::{TOP_MAX, inner};
use crate::metrics::Metric;
use crate::ui::app::model::Model;
use crate::ui::app::widgets::metric::{Reading, level, level_style, value_text};
use crate::ui::theme::scope;

pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.shell.theme;
    let block = Block::bordered()
        .border_style(theme.border(false))
        .title(" top ")
        .title_style(theme.style(scope::UI_TITLE));
    let room = inner(area);
    let per_list = (usize::from(room.height) / Metric::LEVELS.len())
        .saturating_sub(1)
        .min(TOP_MAX);
    let tops = top(model, per_list);
    let name_w = usize::from(room.width).saturating_sub(5);
    let mut lines = Vec::new();
    for (metric, entries) in Metric::LEVELS.iter().zip(&tops) {
        lines.push(Line::styled(
            format!("highest {metric}"),
            theme.style(scope::UI_HELP_GROUP),
        ));
        if entries.is_empty() && per_list > 0 {
            lines.push(Line::styled("no fresh samples", theme.dim()));
        }
        for (value, name) in entries {
            let name: String = name.chars().take(name_w).collect();
            lines.push(Line::from(vec![
                Span::styled(format!("{name:<name_w$} "), theme.text()),
                Span::styled(
                    format!("{:>4}", value_text(*metric, *value)),
                    level_style(theme, level(*metric, *value)),
                ),
            ]));
        }
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// For each of `Metric::LEVELS`, up to `n` (value, host) pairs, highest first; ties keep the
/// fleet's order.
fn top(model: &Model, n: usize) -> [Vec<(f64, &str)>; 4] {
    let mut tops: [Vec<(f64, &str)>; 4] = Default::default();
    if n == 0 {
        return tops;
    }
    let now = model.shell.now;
    for host in model.shown_hosts() {
        let Some(metrics) = model.metrics_frame.host(&host.name) else {
            continue;
        };
        for (metric, list) in Metric::LEVELS.iter().zip(tops.iter_mut()) {
            let Some(v) = Reading::of(Some(metrics), *metric, now).fresh() else {
                continue;
            };
            if list.len() == n && list.last().is_some_and(|(low, _)| *low >= v) {
                continue;
            }
            let at = list.partition_point(|(w, _)| *w >= v);
            list.insert(at, (v, host.name.as_str()));
            list.truncate(n);
        }
    }
    tops
}
