//! The pieces every view's drawing shares: the titled view box, a note where a list is empty,
//! pane styles, a host's state cell, the HOST column's width, the one way a table is drawn,
//! centred popups (popup.rs) and how a metric is written (metric.rs). They import no view, so
//! any view (and the shell) can use them.

pub(crate) mod metric;
pub(crate) mod popup;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Text};
use ratatui::widgets::{Block, Cell, Paragraph, Wrap};

use crate::engine::HostState;
use crate::ui::pane::PaneStyles;
use crate::ui::theme::{Theme, scope};

/// The focused, titled border every view's main box has.
pub(crate) fn view_block<'a>(theme: &Theme, title: impl Into<Line<'a>>) -> Block<'a> {
    Block::bordered()
        .border_style(theme.border(true))
        .title(title)
        .title_style(theme.title(true))
}

/// A dim, wrapped note inside `block`, where a list or pane has nothing to show.
pub(crate) fn render_note<'a>(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    block: Block<'a>,
    text: impl Into<Text<'a>>,
) {
    frame.render_widget(
        Paragraph::new(text)
            .style(theme.dim())
            .wrap(Wrap { trim: true })
            .block(block),
        area,
    );
}

/// The theme's styles for output panes (the Runs view's and a History host's).
pub(crate) fn pane_styles(theme: &Theme) -> PaneStyles {
    PaneStyles {
        border: theme.border(false),
        border_focused: theme.border(true),
        title: theme.title(true),
        stderr: theme.style(scope::OUTPUT_STDERR),
        marker: theme.style(scope::OUTPUT_MARKER),
        search_match: theme.search_match(false),
        search_current: theme.search_match(true),
    }
}

/// A host's state as symbol and word, never colour alone.
pub(crate) fn state_cell<'a>(theme: &Theme, state: &HostState) -> Cell<'a> {
    Cell::from(Line::styled(
        format!("{} {}", theme.state_symbol(state), state.label()),
        theme.state(state),
    ))
}

/// The HOST column's width: the longest name, kept between 4 and 32 columns.
pub(crate) fn host_column_width<'a>(names: impl Iterator<Item = &'a str>) -> u16 {
    let longest = names.map(|n| n.chars().count()).max().unwrap_or(0);
    longest.clamp(4, 32) as u16
}

/// Draws a view's table the one way every view does: spacing, highlighted cursor row.
pub(crate) fn render_table(
    frame: &mut Frame,
    area: Rect,
    table: ratatui::widgets::Table<'_>,
    theme: &Theme,
    cursor: usize,
) {
    let table = table
        .column_spacing(1)
        .row_highlight_style(theme.selection());
    // A fresh state each frame keeps the render pure; ratatui scrolls it so the cursor shows.
    let mut state = ratatui::widgets::TableState::default();
    state.select(Some(cursor));
    frame.render_stateful_widget(table, area, &mut state);
}
