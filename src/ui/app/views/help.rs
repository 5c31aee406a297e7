//! The `?` popup: the keys that work on the screen it was opened from (the view, or its output
//! panes), generated from the live keymap (so a remapped key shows as remapped) and left out
//! where the screen does nothing with them; grouped by keymap section, plus the `:` commands.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::ui::app::commands::COMMANDS;
use crate::ui::app::model::Model;
use crate::ui::keymap::help_sections;
use crate::ui::theme::scope;

use super::super::widgets::popup::centered;

pub fn render(frame: &mut Frame, screen: Rect, model: &Model, scroll: u16) {
    let theme = &model.shell.theme;
    let sections = help_sections(&model.shell.keymap, model.screen());
    let key_width = sections
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r.0.chars().count()))
        .max()
        .unwrap_or(0)
        .min(18);
    let mut lines: Vec<Line> = Vec::new();
    for (context, rows) in &sections {
        lines.push(Line::styled(
            context.title(),
            theme.style(scope::UI_HELP_GROUP),
        ));
        for (keys, _, description) in rows {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {keys:<key_width$}  "),
                    theme.style(scope::UI_HELP_KEY),
                ),
                Span::raw(*description),
            ]));
        }
    }
    lines.push(Line::styled("Commands", theme.style(scope::UI_HELP_GROUP)));
    lines.push(Line::raw(format!("  :{}", COMMANDS.join("  :"))));
    let area = centered(screen, 76, Constraint::Percentage(90));
    // Never scroll past the last line (the model does not know the popup's height).
    let inner_rows = area.height.saturating_sub(2) as usize;
    let max_scroll = lines.len().saturating_sub(inner_rows) as u16;
    let scroll = scroll.min(max_scroll);
    let block = Block::bordered()
        .title(" help · j/k scroll · esc closes ")
        .title_style(theme.title(true))
        .border_style(theme.border(true));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.style(scope::UI_POPUP))
            .scroll((scroll, 0))
            .block(block),
        area,
    );
}
