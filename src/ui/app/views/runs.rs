//! The Runs view: the selected run's header (id, command, folded targets, counts) over its
//! host table (state symbol and word, exit code, duration, first error line), or over the
//! selected host's output pane once enter opened it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use crate::ui::app::model::Model;
use crate::ui::app::runs::RunView;
use crate::ui::pane::{PaneStyles, render_pane};
use crate::ui::printers::sanitize::sanitize;
use crate::ui::theme::{Theme, scope};

/// Rows of the run header above the table or pane.
const HEADER_ROWS: u16 = 2;

/// The output pane's area for a terminal of size `screen` (the update needs its viewport for
/// scrolling): the body without the tabs, status and message rows, below the header.
pub fn pane_area(screen: Rect) -> Rect {
    let body = Rect::new(
        screen.x,
        screen.y.saturating_add(1),
        screen.width,
        screen.height.saturating_sub(3),
    );
    split(body)[1]
}

fn split(body: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Length(HEADER_ROWS), Constraint::Min(1)]).areas(body)
}

pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.theme;
    let Some(run) = model.selected_run() else {
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(" runs ")
            .title_style(theme.title(true));
        let note = "No runs yet. Mark hosts in the fleet view (space), then `!` or :run CMD.";
        frame.render_widget(Paragraph::new(note).style(theme.dim()).block(block), area);
        return;
    };
    let [header, rest] = split(area);
    frame.render_widget(Paragraph::new(header_lines(run, theme)), header);
    if model.pane_open
        && let (Some(sb), Some(name)) = (
            run.outputs.get(model.run_cursor),
            run.hosts.get(model.run_cursor),
        )
    {
        render_pane(
            rest,
            frame.buffer_mut(),
            sb,
            &model.pane,
            name,
            true,
            &pane_styles(theme),
        );
        return;
    }
    hosts_table(frame, rest, model, run);
}

fn header_lines<'a>(run: &'a RunView, theme: &Theme) -> Vec<Line<'a>> {
    let c = run.counts();
    let status = match (&run.finished, &run.start_error) {
        (Some(result), _) => result.status.clone(),
        (None, Some(_)) => "not started".to_string(),
        (None, None) => "running".to_string(),
    };
    let first = Line::from(vec![
        Span::styled(format!("run {} ", run.id), theme.title(true)),
        Span::styled(format!("[{status}] "), theme.text()),
        Span::styled(
            format!("$ {}", sanitize(run.command.as_bytes(), false)),
            theme.text(),
        ),
    ]);
    let mut counts = format!(
        "{} hosts: {} │ ok {} · failed {} · running {} · pending {}",
        run.hosts.len(),
        run.folded,
        c.ok,
        c.failed,
        c.running,
        c.pending
    );
    if c.other > 0 {
        counts.push_str(&format!(" · skipped/cancelled {}", c.other));
    }
    if let Some(e) = &run.start_error {
        counts = format!("could not start: {e}");
    }
    vec![first, Line::styled(counts, theme.dim())]
}

fn hosts_table(frame: &mut Frame, area: Rect, model: &Model, run: &RunView) {
    let theme = &model.theme;
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(" hosts (enter: output, X: cancel) ")
        .title_style(theme.title(true));
    let name_w = run
        .hosts
        .iter()
        .map(|h| h.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 32) as u16;
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
            // Symbol and word, never colour alone.
            Cell::from(Line::styled(
                format!("{} {}", theme.state_symbol(state), state.label()),
                theme.state(state),
            )),
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

/// The theme's styles for output panes.
fn pane_styles(theme: &Theme) -> PaneStyles {
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
