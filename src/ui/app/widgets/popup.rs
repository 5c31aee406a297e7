//! Centred popups over the view: the small ones that ask something (run or quit
//! confirmation, a key's passphrase) are one framed box of text; help is placed the same way.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::ui::theme::Theme;

/// At most this many columns wide, centred on the screen.
pub(crate) const WIDTH: u16 = 70;

/// A rectangle at most `width` columns wide and `height` tall, centred on `screen`.
pub(crate) fn centered(screen: Rect, width: u16, height: Constraint) -> Rect {
    let [row] = Layout::vertical([height]).flex(Flex::Center).areas(screen);
    let [area] = Layout::horizontal([Constraint::Max(width)])
        .flex(Flex::Center)
        .areas(row);
    area
}

/// Draws `lines` in a box titled `title`, `height` rows tall (borders included), centred
/// over whatever is below; returns the box's area (for placing a cursor in it).
pub(crate) fn render_popup(
    frame: &mut Frame,
    screen: Rect,
    theme: &Theme,
    title: &str,
    lines: Vec<Line<'_>>,
    height: u16,
) -> Rect {
    let area = centered(screen, WIDTH, Constraint::Length(height));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.text())
            .wrap(Wrap { trim: false })
            .block(super::view_block(theme, title)),
        area,
    );
    area
}
