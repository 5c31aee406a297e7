//! The styles a pane draws with. The console maps its theme's semantic styles onto these; the
//! defaults here serve tests and a console without a theme.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaneStyles {
    pub border: Style,
    /// The focused pane also gets a thick border, so focus is not shown by colour alone.
    pub border_focused: Style,
    /// Pane titles, status words, host prefixes of the merged stream, group headers.
    pub title: Style,
    /// The base of stderr lines (their own colours patch over it); they also start with `!`.
    pub stderr: Style,
    /// fleetdeck's own notes ("… N lines dropped …") and neutralised escapes (`^[`).
    pub marker: Style,
    pub search_match: Style,
    pub search_current: Style,
}

impl Default for PaneStyles {
    fn default() -> Self {
        PaneStyles {
            border: Style::new().fg(Color::DarkGray),
            border_focused: Style::new().fg(Color::Cyan),
            title: Style::new().add_modifier(Modifier::BOLD),
            stderr: Style::new().fg(Color::LightRed),
            marker: Style::new()
                .fg(Color::DarkGray)
                .add_modifier(Modifier::ITALIC),
            search_match: Style::new().fg(Color::Black).bg(Color::Yellow),
            search_current: Style::new()
                .fg(Color::Black)
                .bg(Color::LightMagenta)
                .add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED)),
        }
    }
}

impl PaneStyles {
    /// Without colour (`NO_COLOR`): modifiers only, every distinction still visible.
    pub fn monochrome() -> Self {
        PaneStyles {
            border: Style::new(),
            border_focused: Style::new().add_modifier(Modifier::BOLD),
            title: Style::new().add_modifier(Modifier::BOLD),
            stderr: Style::new(),
            marker: Style::new().add_modifier(Modifier::DIM.union(Modifier::ITALIC)),
            search_match: Style::new().add_modifier(Modifier::REVERSED),
            search_current: Style::new().add_modifier(
                Modifier::REVERSED
                    .union(Modifier::BOLD)
                    .union(Modifier::UNDERLINED),
            ),
        }
    }
}
