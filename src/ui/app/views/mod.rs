//! Pure renders of the model: each file draws one part; none reads files, the clock or the
//! network (the model carries everything, the clock included).

mod command_line;
mod confirm;
mod fleet;
mod help;
pub mod history;
mod passphrase;
mod run_list;
mod run_panes;
pub mod runs;
mod status;
mod tabs;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::model::{Mode, Model, View};

/// Draws the whole console: tabs, the view, the status bar, the message or command line, and
/// the help popup over them when it is open.
pub fn render(frame: &mut Frame, model: &Model) {
    let theme = &model.theme;
    let area = frame.area();
    frame.render_widget(Block::default().style(theme.background()), area);
    let [tabs_area, body, status_area, line_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    tabs::render(frame, tabs_area, model);
    match model.view {
        View::Fleet => fleet::render(frame, body, model),
        View::Runs => runs::render(frame, body, model),
        View::History => history::render(frame, body, model),
        other => not_built(frame, body, model, other),
    }
    status::render(frame, status_area, model);
    command_line::render(frame, line_area, body, model);
    if model.mode == Mode::Help {
        help::render(frame, area, model);
    }
    if model.mode == Mode::Confirm {
        confirm::render(frame, area, model);
    }
    if model.mode == Mode::Passphrase {
        passphrase::render(frame, area, model);
    }
}

/// A view that later work fills: says so plainly instead of showing made-up data.
fn not_built(frame: &mut Frame, area: Rect, model: &Model, view: View) {
    let theme = &model.theme;
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(format!(" {} ", view.title()))
        .title_style(theme.title(true));
    let note = view.not_built_note().unwrap_or_default();
    frame.render_widget(
        Paragraph::new(note)
            .style(theme.dim())
            .wrap(Wrap { trim: true })
            .block(block),
        area,
    );
}

/// Draws a view's table the one way every view does: spacing, highlighted cursor row.
pub(super) fn render_table(
    frame: &mut Frame,
    area: Rect,
    table: ratatui::widgets::Table<'_>,
    theme: &crate::ui::theme::Theme,
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
