//! The small centred popups that ask something (run or quit confirmation, a key's
//! passphrase): one framed box of text over the view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::ui::theme::Theme;

/// At most this many columns wide, centred on the screen.
pub(super) const WIDTH: u16 = 70;

/// Draws `lines` in a box titled `title`, `height` rows tall (borders included), centred
/// over whatever is below; returns the box's area (for placing a cursor in it).
pub(super) fn render_popup(
    frame: &mut Frame,
    screen: Rect,
    theme: &Theme,
    title: &str,
    lines: Vec<Line<'_>>,
    height: u16,
) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(screen);
    let [area] = Layout::horizontal([Constraint::Max(WIDTH)])
        .flex(Flex::Center)
        .areas(row);
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
