//! The tab bar of the six views, with the keys that switch to them.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Tabs;

use crate::ui::app::model::{Model, View};

pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.shell.theme;
    // Narrow terminals show every view's number but only the active view's name.
    let narrow = area.width < 60;
    let titles = View::ALL.iter().enumerate().map(|(i, v)| {
        if narrow && *v != model.shell.view {
            Line::from(format!("{}", i + 1))
        } else {
            Line::from(format!("{} {}", i + 1, v.title()))
        }
    });
    let selected = View::ALL.iter().position(|v| *v == model.shell.view);
    let tabs = Tabs::new(titles)
        .select(selected)
        .style(theme.tab(false))
        .highlight_style(theme.tab(true))
        .divider("│")
        .padding("", "");
    frame.render_widget(tabs, area);
}
