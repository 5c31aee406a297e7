//! The Runs view's run list: running and recent console runs, newest first, one row each:
//! the status (symbol and word), a progress gauge (hosts done of all), the counts and the
//! command. The selected run's row is highlighted; older rows scroll under the newest.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, Paragraph};

use crate::engine::HostState;
use crate::transport::{ErrorKind, ExitOutcome};
use crate::ui::app::model::Model;
use crate::ui::app::runs::RunView;
use crate::ui::printers::sanitize::sanitize;
use crate::ui::theme::{Theme, scope};

/// Columns of the status word, the gauge (bar and `done/total`) and the counts.
const STATUS_WIDTH: u16 = 14;
const GAUGE_WIDTH: u16 = 13;

pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let n = model.runs.len();
    if n == 0 || area.is_empty() {
        return;
    }
    let rows = usize::from(area.height);
    // Display row d shows run n-1-d (newest first); scroll so the selected one shows.
    let selected = n - 1 - model.run_selected.min(n - 1);
    let first = (selected + 1).saturating_sub(rows);
    for (y, d) in (first..n).take(rows).enumerate() {
        let Some(run) = model.runs.get(n - 1 - d) else {
            continue;
        };
        let row = Rect {
            y: area.y + y as u16,
            height: 1,
            ..area
        };
        render_row(frame, row, run, d == selected, &model.theme);
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
    let state = status_state(run);
    let marker = if selected { "›" } else { " " };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(marker, base),
            Span::styled(
                format!("{} {}", theme.state_symbol(&state), run.status()),
                base.patch(theme.state(&state)),
            ),
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
    let text = format!(
        "ok {} · failed {} · running {} · pending {}  $ {}",
        c.ok,
        c.failed,
        c.running,
        c.pending,
        sanitize(run.command.as_bytes(), false)
    );
    frame.render_widget(Paragraph::new(text).style(base), rest);
}

/// A host state standing for the run's status, for its symbol and colour.
fn status_state(run: &RunView) -> HostState {
    match run.status() {
        "ok" => HostState::Ok,
        "running" => HostState::Running,
        "cancelled" => HostState::Cancelled,
        "unreachable" | "not started" => HostState::Unreachable {
            kind: ErrorKind::Connect,
            message: String::new(),
        },
        _ => HostState::Failed {
            outcome: ExitOutcome::Code { code: 1 },
        },
    }
}
