//! The selected run's output in panes: the grid of host panes (titled with the host's state
//! symbol and name; the focused one thick-bordered, or alone when zoomed), the merged stream
//! and the grouped outputs. Drawing is the pane module's (`render_pane_grid`, `render_pane`,
//! `render_grouped`); this file only hands it the run's buffers and states.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::layout::zoomed;
use super::run::RunView;
use crate::ui::app::model::Model;
use crate::ui::app::widgets::pane_styles;
use crate::ui::pane::{Scrollback, render_grouped, render_pane, render_pane_grid};

pub fn grid(frame: &mut Frame, area: Rect, model: &Model, run: &RunView) {
    let theme = &model.shell.theme;
    // Symbol and name: a failed pane is told apart without colour.
    let titles: Vec<String> = run
        .hosts
        .iter()
        .zip(&run.states)
        .map(|(name, state)| format!("{} {name}", theme.state_symbol(state)))
        .collect();
    let panes: Vec<(&str, &Scrollback, &crate::ui::pane::PaneState)> = titles
        .iter()
        .zip(&run.outputs)
        .zip(&run.panes)
        .map(|((t, sb), p)| (t.as_str(), sb, p))
        .collect();
    render_pane_grid(
        area,
        frame.buffer_mut(),
        &panes,
        model.runs.cursor,
        zoomed(&model.runs),
        &pane_styles(theme),
    );
}

pub fn merged(frame: &mut Frame, area: Rect, model: &Model, run: &RunView) {
    let title = format!("merged · {} hosts", run.hosts.len());
    render_pane(
        area,
        frame.buffer_mut(),
        run.merged.scrollback(),
        &run.merged_pane,
        &title,
        true,
        &pane_styles(&model.shell.theme),
    );
}

pub fn grouped(frame: &mut Frame, area: Rect, model: &Model, run: &RunView) {
    let outputs: Vec<&Scrollback> = run.outputs.iter().collect();
    render_grouped(
        area,
        frame.buffer_mut(),
        &run.groups,
        &outputs,
        run.grouped_top,
        "grouped outputs",
        true,
        &pane_styles(&model.shell.theme),
    );
}
