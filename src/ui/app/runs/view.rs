//! The Runs view: the run list on top (newest first, `[`/`]` select), a line about the
//! selected run, and the run in its layout below: the host table, a grid of host panes (one
//! zoomed), the merged stream or the grouped outputs. The `/` prompt of a pane search sits on
//! the last row while it is typed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Clear, Paragraph, Row, Table};

use super::layout::RunLayout;
use super::run::RunView;
use super::{list_view, panes_view};
use crate::ui::app::layout::ScreenLayout;
use crate::ui::app::model::Model;
use crate::ui::app::text_input::TextInput;
use crate::ui::app::widgets::{host_column_width, render_table, state_cell, view_block};
use crate::ui::printers::sanitize::sanitize;
use crate::ui::theme::{Theme, scope};

pub fn render(frame: &mut Frame, layout: &ScreenLayout, model: &Model) {
    let theme = &model.shell.theme;
    let Some(run) = model.selected_run() else {
        let block = view_block(theme, " runs ");
        let note = "No runs yet. Mark hosts in the fleet view (space), then `!` or :run CMD.";
        frame.render_widget(
            Paragraph::new(note).style(theme.dim()).block(block),
            layout.body,
        );
        return;
    };
    let areas = layout.runs(model.runs.list.len());
    let content = areas.content;
    list_view::render(frame, areas.list, model);
    frame.render_widget(Paragraph::new(detail_line(model, run, theme)), areas.detail);
    match model.runs.layout {
        RunLayout::Table => hosts_table(frame, content, model, run),
        RunLayout::Grid => panes_view::grid(frame, content, model, run),
        RunLayout::Merged => panes_view::merged(frame, content, model, run),
        RunLayout::Grouped => panes_view::grouped(frame, content, model, run),
    }
    if let Some(query) = model.shell.popup.search() {
        search_prompt(frame, content, query, theme);
    }
}

/// `run ID [failed] · 12 hosts: web[01-12] · grid (v)`, or why the run could not start.
fn detail_line<'a>(model: &Model, run: &'a RunView, theme: &Theme) -> Line<'a> {
    let mut spans = vec![
        Span::styled(format!("run {} ", run.id), theme.title(true)),
        Span::styled(format!("[{}] ", run.status()), theme.text()),
    ];
    let text = match &run.start_error {
        Some(e) => format!("could not start: {}", sanitize(e.as_bytes(), false)),
        None => {
            let c = run.counts();
            let n = run.hosts.len();
            let noun = if n == 1 { "host" } else { "hosts" };
            let mut t = format!(
                "· {n} {noun}: {} · {} (v)",
                run.folded,
                model.runs.layout.title()
            );
            if c.other > 0 {
                t.push_str(&format!(" · skipped/cancelled {}", c.other));
            }
            t
        }
    };
    spans.push(Span::styled(text, theme.dim()));
    Line::from(spans)
}

fn search_prompt(frame: &mut Frame, content: Rect, query: &TextInput, theme: &Theme) {
    if content.is_empty() {
        return;
    }
    let row = Rect {
        y: content.bottom() - 1,
        height: 1,
        ..content
    };
    // Over the pane's last row.
    frame.render_widget(Clear, row);
    query.render(frame, row, "/", theme.style(scope::UI_COMMAND_LINE));
}

fn hosts_table(frame: &mut Frame, area: Rect, model: &Model, run: &RunView) {
    let theme = &model.shell.theme;
    let block = view_block(theme, " hosts · enter: output · v: layout ");
    let name_w = host_column_width(run.hosts.iter().map(String::as_str));
    let rows = run.hosts.iter().enumerate().map(|(i, name)| {
        let state = &run.states[i];
        let result = run.results.get(i).and_then(Option::as_ref);
        let exit = result
            .and_then(|r| r.exit_code)
            .map_or_else(|| "-".to_string(), |c| c.to_string());
        let duration = result.map_or_else(
            || "-".to_string(),
            |r| crate::ui::printers::run_summary::human_ms(r.duration_ms),
        );
        let error = result
            .and_then(|r| r.first_error_line.as_deref())
            .map(|l| sanitize(l.as_bytes(), false))
            .unwrap_or_default();
        Row::new(vec![
            state_cell(theme, state),
            Cell::from(name.as_str()),
            Cell::from(exit),
            Cell::from(duration),
            Cell::from(error),
        ])
        .style(theme.text())
    });
    let widths = [
        Constraint::Length(13),
        Constraint::Length(name_w),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Fill(1),
    ];
    let header = Row::new(["STATE", "HOST", "EXIT", "TIME", "FIRST ERROR LINE"])
        .style(theme.style(scope::UI_TABLE_HEADER));
    let table = Table::new(rows, widths).header(header).block(block);
    render_table(frame, area, table, theme, model.runs.cursor);
}
