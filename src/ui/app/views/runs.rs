//! The Runs view: the run list on top (newest first, `[`/`]` select), a line about the
//! selected run, and the run in its layout below: the host table, a grid of host panes (one
//! zoomed), the merged stream or the grouped outputs. The `/` prompt of a pane search sits on
//! the last row while it is typed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Clear, Paragraph, Row, Table};

use super::run_list;
use super::run_panes;
use crate::ui::app::model::Model;
use crate::ui::app::run_layout::RunLayout;
use crate::ui::app::runs::RunView;
use crate::ui::printers::sanitize::sanitize;
use crate::ui::theme::{Theme, scope};

/// The most rows the run list takes (older runs scroll).
const MAX_LIST_ROWS: u16 = 8;

/// The list, the selected run's line and the content, for `runs` runs in `body`.
fn split(body: Rect, runs: usize) -> [Rect; 3] {
    let list = u16::try_from(runs)
        .unwrap_or(u16::MAX)
        .min(MAX_LIST_ROWS)
        // Panes need the room more than old runs do: a fifth of the body at most.
        .min((body.height / 5).max(1));
    Layout::vertical([
        Constraint::Length(list),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(body)
}

/// The body of the Runs view for a terminal of size `screen`: without the tab row above and
/// the status and message rows below.
pub fn body_area(screen: Rect) -> Rect {
    Rect::new(
        screen.x,
        screen.y.saturating_add(1),
        screen.width,
        screen.height.saturating_sub(3),
    )
}

/// Where the selected run's table or panes are drawn in `body` when there are `runs` runs
/// (the keys scroll panes by this layout).
pub fn content_area(body: Rect, runs: usize) -> Rect {
    if runs == 0 {
        return body;
    }
    split(body, runs)[2]
}

pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.theme;
    let Some(run) = model.selected_run() else {
        let block = super::view_block(theme, " runs ");
        let note = "No runs yet. Mark hosts in the fleet view (space), then `!` or :run CMD.";
        frame.render_widget(Paragraph::new(note).style(theme.dim()).block(block), area);
        return;
    };
    let [list, detail, content] = split(area, model.runs.len());
    run_list::render(frame, list, model);
    frame.render_widget(Paragraph::new(detail_line(model, run, theme)), detail);
    match model.run_layout {
        RunLayout::Table => hosts_table(frame, content, model, run),
        RunLayout::Grid => run_panes::grid(frame, content, model, run),
        RunLayout::Merged => run_panes::merged(frame, content, model, run),
        RunLayout::Grouped => run_panes::grouped(frame, content, model, run),
    }
    if let Some(query) = &model.run_search {
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
                model.run_layout.title()
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

fn search_prompt(frame: &mut Frame, content: Rect, query: &str, theme: &Theme) {
    if content.is_empty() {
        return;
    }
    let row = Rect {
        y: content.bottom() - 1,
        height: 1,
        ..content
    };
    frame.render_widget(Clear, row);
    // Typed text, but a pasted escape must not reach the terminal.
    let shown = sanitize(query.as_bytes(), false);
    frame.render_widget(
        Paragraph::new(format!("/{shown}")).style(theme.style(scope::UI_COMMAND_LINE)),
        row,
    );
    let x =
        row.x + (1 + shown.chars().count()).min(usize::from(row.width.saturating_sub(1))) as u16;
    frame.set_cursor_position(Position::new(x, row.y));
}

fn hosts_table(frame: &mut Frame, area: Rect, model: &Model, run: &RunView) {
    let theme = &model.theme;
    let block = super::view_block(theme, " hosts · enter: output · v: layout ");
    let name_w = super::host_column_width(run.hosts.iter().map(String::as_str));
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
            super::state_cell(theme, state),
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
    super::render_table(frame, area, table, theme, model.run_cursor);
}
