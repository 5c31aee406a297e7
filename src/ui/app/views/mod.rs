//! Pure renders of the model: the shell's parts (tabs, status bar, message or prompt line,
//! popups) around the view on screen, which draws in its own folder (fleet/, runs/, metrics/,
//! history/, actions/, incidents/) with the shared pieces in ../widgets. None reads files, the clock or
//! the network (the model carries everything, the clock included).

mod command_line;
mod confirm;
mod help;
mod passphrase;
mod status;
mod tabs;

use ratatui::Frame;
use ratatui::widgets::Block;

use super::model::{Model, View};
use super::popup::Popup;

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
        View::Metrics => super::metrics::view::render(frame, &layout, model),
        View::Incidents => super::incidents::view::render(frame, &layout, model),
    }
    status::render(frame, layout.status, model);
    command_line::render(frame, layout.line, body, model);
    match &model.shell.popup {
        Popup::Help { scroll } => help::render(frame, layout.screen, model, *scroll),
        Popup::Confirm(confirm) => confirm::render(frame, layout.screen, model, confirm),
        Popup::Passphrase { prompt, .. } => {
            passphrase::render(frame, layout.screen, model, prompt);
        }
        Popup::Prompt(prompt) => {
            super::incidents::view::render_prompt(frame, layout.screen, model, prompt);
        }
        Popup::None | Popup::Filter | Popup::Command | Popup::Search(_) => {}
    }
}
