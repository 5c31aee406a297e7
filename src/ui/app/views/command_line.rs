//! The bottom line: the `:` command line or `/` filter being typed (with the cursor and the
//! completion candidates just above), else the last message.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::ui::app::model::{Message, Mode, Model, View};
use crate::ui::theme::scope;

/// `line` is the bottom row; `body` is the view above, whose last row shows candidates.
pub fn render(frame: &mut Frame, line: Rect, body: Rect, model: &Model) {
    let theme = &model.theme;
    let (prompt, text) = match model.mode {
        Mode::Command => (":", model.command.input.as_str()),
        Mode::Filter if model.view == View::History => ("/", model.history.filter.as_str()),
        Mode::Filter if model.view == View::Actions => ("/", model.actions.filter.as_str()),
        Mode::Filter => ("/", model.filter.as_str()),
        Mode::Normal | Mode::Help | Mode::Confirm | Mode::Passphrase => {
            let (style, text) = match &model.message {
                Some(Message::Info(t)) => (theme.style(scope::UI_MESSAGE_INFO), t.as_str()),
                Some(Message::Error(t)) => (theme.style(scope::UI_MESSAGE_ERROR), t.as_str()),
                None => (theme.dim(), ""),
            };
            frame.render_widget(Paragraph::new(text).style(style), line);
            return;
        }
    };
    let style = theme.style(scope::UI_COMMAND_LINE);
    frame.render_widget(
        Paragraph::new(Line::from(vec![Span::raw(prompt), Span::raw(text)])).style(style),
        line,
    );
    let cursor_x =
        line.x + (1 + text.chars().count()).min(line.width.saturating_sub(1) as usize) as u16;
    frame.set_cursor_position(Position::new(cursor_x, line.y));
    if model.mode == Mode::Command && !model.command.candidates.is_empty() && body.height > 0 {
        let row = Rect::new(body.x, body.bottom() - 1, body.width, 1);
        frame.render_widget(Clear, row);
        frame.render_widget(
            Paragraph::new(model.command.candidates.join("  "))
                .style(theme.style(scope::UI_COMMAND_LINE_COMPLETION)),
            row,
        );
    }
}
