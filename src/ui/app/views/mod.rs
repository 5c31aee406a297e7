//! Pure renders of the model: the shell's parts (tabs, status bar, message or prompt line,
//! popups), and the helpers every view's drawing shares; each view draws in its own folder
//! (fleet/, runs/, history/, actions/). None reads files, the clock or the network (the model
//! carries everything, the clock included).

mod command_line;
mod confirm;
mod help;
mod passphrase;
pub(crate) mod popup;
mod status;
mod tabs;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Text};
use ratatui::widgets::{Block, Cell, Paragraph, Wrap};

use super::model::{Model, View};
use super::popup::Popup;
use crate::engine::HostState;
use crate::ui::pane::PaneStyles;
use crate::ui::theme::{Theme, scope};

/// Draws the whole console: tabs, the view, the status bar, the message or prompt line, and
/// the popup over them when one is open. Areas come from the layout the keys use too.
pub fn render(frame: &mut Frame, model: &Model) {
    let theme = &model.shell.theme;
    let layout = model.shell.layout.for_screen(frame.area());
    frame.render_widget(Block::default().style(theme.background()), layout.screen);
    tabs::render(frame, layout.tabs, model);
    let body = layout.body;
    match model.shell.view {
        View::Fleet => super::fleet::view::render(frame, &layout, model),
        View::Runs => super::runs::view::render(frame, &layout, model),
        View::History => super::history::view::render(frame, &layout, model),
        View::Actions => super::actions::view::render(frame, &layout, model),
        other => not_built(frame, body, model, other),
    }
    status::render(frame, layout.status, model);
    command_line::render(frame, layout.line, body, model);
    match &model.shell.popup {
        Popup::Help { scroll } => help::render(frame, layout.screen, model, *scroll),
        Popup::Confirm(confirm) => confirm::render(frame, layout.screen, model, confirm),
        Popup::Passphrase { prompt, .. } => {
            passphrase::render(frame, layout.screen, model, prompt);
        }
        Popup::None | Popup::Filter | Popup::Command | Popup::Search(_) => {}
    }
}

/// A view that later work fills: says so plainly instead of showing made-up data.
fn not_built(frame: &mut Frame, area: Rect, model: &Model, view: View) {
    let theme = &model.shell.theme;
    let block = view_block(theme, format!(" {} ", view.title()));
    let note = view.not_built_note().unwrap_or_default();
    render_note(frame, area, theme, block, note);
}

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
