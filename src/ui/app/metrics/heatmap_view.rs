//! The heatmap: one cell per host shown, in the fleet's order, with a digit for the level of
//! the chosen metric (tenths of a percentage, the load itself) in that level's colour, `·` for
//! no fresh sample, `×` for no metrics, `-` for a metric the source does not give; marks as a
//! symbol beside the digit (or underlined when cells are one column wide), the cursor
//! highlighted, the legend on the top border and the focused host on the bottom one. Cells are
//! written straight into the buffer (no widget per host): 1,000 hosts cost 1,000 cell writes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Block;

use super::grid::Grid;
use crate::metrics::{HostNow, Metric};
use crate::ui::app::model::Model;
use crate::ui::app::widgets::metric::{Reading, availability_note, level, level_style, value_text};
use crate::ui::theme::{Graphics, Theme, scope};

const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

pub fn render(frame: &mut Frame, area: Rect, grid: &Grid, model: &Model) {
    let theme = &model.shell.theme;
    let ascii = model.shell.graphics == Graphics::Ascii;
    let metric = model.metrics.metric;
    let fleet = &model.fleet;
    let title = format!(
        " metrics · {} · {}/{} hosts ",
        metric.name(),
        fleet.shown.len(),
        model.inventory.len()
    );
    let legend = legend(metric, ascii);
    let mut block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::styled(title.clone(), theme.title(true)));
    if title.chars().count() + legend.chars().count() + 4 <= usize::from(area.width) {
        block = block.title(Line::styled(legend, theme.dim()).right_aligned());
    }
    if let Some(h) = model.current_host() {
        let marked = fleet.marked.contains(&h.name);
        // A narrow border has room for the heatmap's metric only.
        let metrics: &[Metric] = if area.width < 60 {
            std::slice::from_ref(&model.metrics.metric)
        } else {
            &Metric::LEVELS
        };
        let host = model.metrics_frame.host(&h.name);
        let line = focus_line(&h.name, marked, host, metrics, model);
        block = block.title_bottom(Line::styled(line, theme.text()));
    }
    frame.render_widget(block, area);
    if fleet.shown.is_empty() {
        let note = "No host shown; esc clears the filter, :target alone clears the target.";
        let inner = super::areas::inner(area);
        frame.render_widget(
            ratatui::widgets::Paragraph::new(note).style(theme.dim()),
            inner,
        );
        return;
    }
    let cursor = fleet.cursor;
    let first = grid.first_row(cursor) * grid.cols;
    let end = (first + grid.visible_rows() * grid.cols).min(fleet.shown.len());
    let hosts = model.inventory.hosts();
    let mark = if ascii { "*" } else { "●" };
    let marked_style = theme.marked();
    let selection = theme.selection();
    let buf = frame.buffer_mut();
    for index in first..end {
        let Some(host) = fleet.shown.get(index).and_then(|&i| hosts.get(i)) else {
            continue;
        };
        let Some((x, y)) = grid.position(index, cursor) else {
            continue;
        };
        let reading = Reading::of(
            model.metrics_frame.host(&host.name),
            metric,
            model.shell.now,
        );
        let (glyph, mut style) = cell(theme, reading, metric, ascii);
        let marked = fleet.marked.contains(&host.name);
        if index == cursor {
            style = style.patch(selection);
        }
        if grid.cell_w == 2 {
            if marked {
                buf[(x, y)].set_symbol(mark).set_style(marked_style);
            }
            buf[(x + 1, y)].set_symbol(glyph).set_style(style);
        } else {
            if marked {
                // No room for a symbol: underlined, and bold in the marked style.
                style = style.add_modifier(Modifier::UNDERLINED | Modifier::BOLD);
            }
            buf[(x, y)].set_symbol(glyph).set_style(style);
        }
    }
}

/// A cell's glyph and style for what is known of the host.
pub(crate) fn cell(
    theme: &Theme,
    reading: Reading,
    metric: Metric,
    ascii: bool,
) -> (&'static str, Style) {
    match reading {
        Reading::Fresh(v) => {
            let level = level(metric, v);
            (DIGITS[usize::from(level)], level_style(theme, level))
        }
        Reading::NotGiven => ("-", theme.dim()),
        Reading::Stale { .. } | Reading::Waiting => (
            if ascii { "." } else { "·" },
            theme.style(scope::METRIC_STALE),
        ),
        Reading::Unavailable => (
            if ascii { "x" } else { "×" },
            theme.style(scope::METRIC_MISSING),
        ),
    }
}

/// What the glyphs mean, for the top border.
fn legend(metric: Metric, ascii: bool) -> String {
    let digit = if metric.is_percent() {
        format!("digit: {metric}% in tenths")
    } else {
        format!("digit: {metric} (9: 9+)")
    };
    let (stale, none) = if ascii { (".", "x") } else { ("·", "×") };
    format!(" {digit}  {stale} stale  {none} none ")
}

/// The focused host's line: its name, its fresh values, where they come from or why not.
fn focus_line(
    name: &str,
    marked: bool,
    host: Option<&HostNow>,
    metrics: &[Metric],
    model: &Model,
) -> String {
    let now = model.shell.now;
    let mut line = format!(" {name}{}", if marked { " (marked)" } else { "" });
    let mut values = Vec::new();
    for &metric in metrics {
        if let Some(v) = Reading::of(host, metric, now).fresh() {
            values.push(format!("{metric} {}", value_text(metric, v)));
        }
    }
    if !values.is_empty() {
        line.push_str(": ");
        line.push_str(&values.join(" "));
    }
    line.push_str(" · ");
    line.push_str(&availability_note(host, now));
    line.push(' ');
    line
}
