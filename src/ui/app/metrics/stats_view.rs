//! The panel where run statistics go (runs per command or action, success rate, average and
//! p95 duration, failures by kind, runs running and queued), kept apart so that the work on
//! `crate::metrics::stats` fills this one file. Until then it says so instead of showing
//! made-up numbers.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::ui::app::model::Model;
use crate::ui::app::widgets::render_note;
use crate::ui::theme::scope;

pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.shell.theme;
    let block = ratatui::widgets::Block::bordered()
        .border_style(theme.border(false))
        .title(" run statistics ")
        .title_style(theme.style(scope::UI_TITLE));
    render_note(frame, area, theme, block, "Arrive with `fleetdeck stats`.");
}
