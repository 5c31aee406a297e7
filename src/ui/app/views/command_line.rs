//! The bottom line: the `:` command line or the view's `/` filter being typed (with the
//! cursor, and the completion candidates just above), else the last message.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::ui::app::model::{Model, View};
use crate::ui::app::popup::Popup;
use crate::ui::app::shell::Message;
use crate::ui::theme::scope;

/// `line` is the bottom row; `body` is the view above, whose last row shows candidates.
pub fn render(frame: &mut Frame, line: Rect, body: Rect, model: &Model) {
    let theme = &model.shell.theme;
    let style = theme.style(scope::UI_COMMAND_LINE);
    match &model.shell.popup {
        Popup::Command => {}
        Popup::Filter => {
            let filter = match model.shell.view {
                View::History => &model.history.filter,
                View::Actions => &model.actions.filter,
                View::Incidents => &model.incidents.filter,
                _ => &model.fleet.filter,
            };
            filter.render(frame, line, "/", style);
            return;
        }
        _ => {
            let (style, text) = match &model.shell.message {
                Some(Message::Info(t)) => (theme.style(scope::UI_MESSAGE_INFO), t.as_str()),
                Some(Message::Error(t)) => (theme.style(scope::UI_MESSAGE_ERROR), t.as_str()),
                None => (theme.dim(), ""),
            };
            frame.render_widget(Paragraph::new(text).style(style), line);
            return;
        }
    }
    let command = &model.shell.command;
    let text = command.input.as_str();
    frame.render_widget(
        Paragraph::new(Line::from(vec![Span::raw(":"), Span::raw(text)])).style(style),
        line,
    );
    let cursor_x =
        line.x + (1 + text.chars().count()).min(line.width.saturating_sub(1) as usize) as u16;
    frame.set_cursor_position(Position::new(cursor_x, line.y));
    if !command.candidates.is_empty() && body.height > 0 {
        let row = Rect::new(body.x, body.bottom() - 1, body.width, 1);
        frame.render_widget(Clear, row);
        frame.render_widget(
            Paragraph::new(command.candidates.join("  "))
                .style(theme.style(scope::UI_COMMAND_LINE_COMPLETION)),
            row,
        );
    }
}
