//! The runs page: runs in flight (from the queue a reader sees) and the recent runs recorded
//! in history.jsonl by any fleetdeck process of this home, newest first: status as symbol and
//! word, when it ended, how long it took, how many hosts, the folded targets and the command
//! (secrets are masked before they are recorded). The title says when the newest run ended.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::{age_of, clean, panel};
use crate::ui::app::widgets::metric::age_text;
use crate::ui::theme::scope;
use crate::ui::wallboard::state::Wallboard;

const NARROW: u16 = 70;

/// A run's length from its RFC 3339 start and end (`?` when unreadable).
fn took(started: &str, finished: &str) -> String {
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    };
    match (parse(started), parse(finished)) {
        (Some(a), Some(b)) => {
            let secs = (b - a).whole_seconds().max(0).unsigned_abs();
            age_text(Duration::from_secs(secs))
        }
        _ => "?".to_string(),
    }
}

pub fn render(frame: &mut Frame, area: Rect, wb: &Wallboard) {
    let theme = &wb.theme;
    let running = &wb.picture.queue.running;
    let recent = &wb.picture.recent;
    let newest = recent.last().map_or_else(
        || "none yet".to_string(),
        |r| format!("{} ago", age_of(&r.finished, wb.now)),
    );
    let title = format!(
        " runs · {} running · {} recent · newest ended {newest} ",
        running.len(),
        recent.len()
    );
    let inner = panel(frame, area, wb, title);
    if running.is_empty() && recent.is_empty() {
        frame.render_widget(
            Paragraph::new("No runs recorded in history.jsonl yet.").style(theme.dim()),
            inner,
        );
        return;
    }
    let narrow = inner.width < NARROW;
    let running_symbol = if theme.ascii_symbols() { ">" } else { "▶" };
    let live = running.iter().map(|r| {
        let age = age_text(wb.now.duration_since(r.since).unwrap_or(Duration::ZERO));
        let mut cells = vec![
            Cell::from(Line::styled(
                format!("{running_symbol} running"),
                theme.style(scope::STATE_RUNNING),
            )),
            Cell::from(format!("{:>4}", "now")),
            Cell::from(format!("{age:>4}")),
        ];
        if !narrow {
            cells.push(Cell::from(format!("{:>5}", r.hosts)));
            cells.push(Cell::from("-"));
        }
        cells.push(Cell::from(clean(&r.command)));
        Row::new(cells).style(theme.text())
    });
    let done = recent.iter().rev().map(|r| {
        let mut cells = vec![
            Cell::from(Line::styled(
                format!(
                    "{} {}",
                    theme.run_status_symbol(r.status),
                    r.status.as_str()
                ),
                theme.run_status(r.status),
            )),
            Cell::from(format!("{:>4}", age_of(&r.finished, wb.now))),
            Cell::from(format!("{:>4}", took(&r.started, &r.finished))),
        ];
        if !narrow {
            cells.push(Cell::from(format!("{:>5}", r.hosts.len())));
            cells.push(Cell::from(clean(&r.targets)));
        }
        cells.push(Cell::from(clean(&r.command)));
        Row::new(cells).style(theme.text())
    });
    let (widths, header) = if narrow {
        (
            vec![
                Constraint::Length(13),
                Constraint::Length(4),
                Constraint::Length(4),
                Constraint::Fill(1),
            ],
            vec!["STATUS", "DONE", "TOOK", "COMMAND"],
        )
    } else {
        (
            vec![
                Constraint::Length(13),
                Constraint::Length(4),
                Constraint::Length(4),
                Constraint::Length(5),
                Constraint::Length(20),
                Constraint::Fill(1),
            ],
            vec!["STATUS", "DONE", "TOOK", "HOSTS", "TARGETS", "COMMAND"],
        )
    };
    let table = Table::new(live.chain(done).collect::<Vec<_>>(), widths)
        .header(Row::new(header).style(theme.style(scope::UI_TABLE_HEADER)))
        .column_spacing(1);
    frame.render_widget(table, inner);
}
