//! The Runs view's run list: queued, running and recent console runs, newest first, one row
//! each: the status (symbol and word: `◷ queued #2`, `⏸ paused`), a progress gauge (hosts
//! done of all), the counts (or, while queued, the priority) and the command. The selected
//! run's row is highlighted; older rows scroll under the newest. Also the lines of the popup
//! that asks before cancelling a running run.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, Paragraph};

use super::run::RunView;
use crate::engine::{HostState, RunStatus};
use crate::ui::app::model::Model;
use crate::ui::printers::sanitize::sanitize;
use crate::ui::theme::{Theme, scope};

/// Columns of the status word, the gauge (bar and `done/total`) and the counts.
const STATUS_WIDTH: u16 = 14;
const GAUGE_WIDTH: u16 = 13;

/// Symbols of the two run states hosts do not have (unicode, ascii): a clock for waiting, the
/// pause sign.
const QUEUED_SYMBOL: (&str, &str) = ("◷", "w");
const PAUSED_SYMBOL: (&str, &str) = ("⏸", "=");

pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let runs = &model.runs;
    let n = runs.list.len();
    if n == 0 || area.is_empty() {
        return;
    }
    let rows = usize::from(area.height);
    // Display row d shows run n-1-d (newest first); scroll so the selected one shows.
    let selected = n - 1 - runs.selected.min(n - 1);
    let first = (selected + 1).saturating_sub(rows);
    for (y, d) in (first..n).take(rows).enumerate() {
        let Some(run) = runs.list.get(n - 1 - d) else {
            continue;
        };
        let row = Rect {
            y: area.y + y as u16,
            height: 1,
            ..area
        };
        render_row(frame, row, run, d == selected, &model.shell.theme);
    }
}

fn render_row(frame: &mut Frame, row: Rect, run: &RunView, selected: bool, theme: &Theme) {
    let base = if selected {
        theme.text().patch(theme.selection())
    } else {
        theme.text()
    };
    let [status, gauge, rest] = Layout::horizontal([
        Constraint::Length(STATUS_WIDTH),
        Constraint::Length(GAUGE_WIDTH),
        Constraint::Fill(1),
    ])
    .spacing(1)
    .areas(row);
    frame.render_widget(Paragraph::new("").style(base), row);
    let (symbol, style) = status_look(run, theme);
    let marker = if selected { "›" } else { " " };
    let pick = |(unicode, ascii): (&'static str, &'static str)| {
        if theme.ascii_symbols() {
            ascii
        } else {
            unicode
        }
    };
    let word = match run.queued.filter(|_| run.in_flight()) {
        Some((position, _)) => format!("{} queued #{position}", pick(QUEUED_SYMBOL)),
        None if run.status() == "paused" => format!("{} paused", pick(PAUSED_SYMBOL)),
        None => format!("{symbol} {}", run.status()),
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(marker, base),
            Span::styled(word, base.patch(style)),
        ])),
        status,
    );
    let c = run.counts();
    let total = run.hosts.len();
    let ratio = if total == 0 {
        1.0
    } else {
        c.done() as f64 / total as f64
    };
    let bar = theme.style(scope::UI_GAUGE);
    // Thick and thin lines, so progress shows without colour too.
    let (filled, unfilled) = if theme.ascii_symbols() {
        ("#", "-")
    } else {
        (symbols::line::THICK_HORIZONTAL, symbols::line::HORIZONTAL)
    };
    frame.render_widget(
        LineGauge::default()
            .ratio(ratio.clamp(0.0, 1.0))
            .label(Span::styled(format!("{}/{total}", c.done()), base))
            .filled_symbol(filled)
            .unfilled_symbol(unfilled)
            .filled_style(bar)
            .unfilled_style(theme.dim()),
        gauge,
    );
    let command = sanitize(run.command.as_bytes(), false);
    let text = match run.queued.filter(|_| run.in_flight()) {
        Some((_, priority)) => format!(
            "{} priority · waits for a free run slot  $ {command}",
            priority.as_str()
        ),
        None => format!(
            "ok {} · failed {} · running {} · pending {}  $ {command}",
            c.ok, c.failed, c.running, c.pending,
        ),
    };
    frame.render_widget(Paragraph::new(text).style(base), rest);
}

/// The symbol and style of the run's status word: a finished run's [`RunStatus`] itself; a
/// run in flight by what it does now (running, or waiting: queued, paused); a run that never
/// started like one whose hosts could not be reached.
fn status_look(run: &RunView, theme: &Theme) -> (&'static str, Style) {
    let status = match (&run.finished, &run.start_error) {
        (Some(result), _) => Some(result.status),
        (None, Some(_)) => Some(RunStatus::Unreachable),
        (None, None) => None,
    };
    if let Some(status) = status {
        return (theme.run_status_symbol(status), theme.run_status(status));
    }
    let state = if run.queued.is_some() || run.paused {
        HostState::Pending
    } else {
        HostState::Running
    };
    (theme.state_symbol(&state), theme.state(&state))
}

/// The popup before cancelling running run `id`: what it runs, on how many hosts, how far it
/// got, and what cancelling does.
pub fn cancel_lines<'a>(model: &Model, id: &str) -> Vec<Line<'a>> {
    let Some(run) = model.runs.list.iter().find(|r| r.id == id) else {
        return vec![
            Line::raw(format!("run {id} has ended")),
            Line::raw("n / esc close"),
        ];
    };
    let c = run.counts();
    let n = run.hosts.len();
    let noun = if n == 1 { "host" } else { "hosts" };
    vec![
        Line::raw(format!("Cancel run {id} on {n} {noun}: {}", run.folded)),
        Line::raw(format!("$ {}", sanitize(run.command.as_bytes(), false))),
        Line::raw(format!(
            "{} done · {} running · {} not started",
            c.done(),
            c.running,
            c.pending
        )),
        Line::raw("Running commands stop, the rest are skipped; recorded as cancelled."),
        Line::raw(""),
        Line::raw("y cancel the run · n / esc keep it running"),
    ]
}
