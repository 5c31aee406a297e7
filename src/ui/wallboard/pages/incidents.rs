//! The incidents page: the active incidents (open and acknowledged), critical first, then the
//! newest; severity as symbol and word (the console's `severity_text`), age, count, state,
//! folded hosts and title. The title counts them by severity and says when the book last
//! changed; a book that cannot be read is said on the box, with the incidents last read kept.

use std::cmp::Reverse;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::{age_of, ago, clean, panel};
use crate::incident::{Incident, Severity};
use crate::inventory::nodeset::fold;
use crate::ui::app::incidents::view::severity_text;
use crate::ui::theme::scope;
use crate::ui::wallboard::state::Wallboard;

/// Below this width the list drops count and hosts.
const NARROW: u16 = 60;

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    }
}

pub fn render(frame: &mut Frame, area: Rect, wb: &Wallboard) {
    let theme = &wb.theme;
    let frame_data = &wb.picture.incidents;
    let mut active: Vec<&Incident> = frame_data
        .incidents
        .iter()
        .filter(|i| i.state.is_active())
        .collect();
    // RFC 3339 UTC times sort as text.
    active.sort_by_key(|i| (rank(i.severity), Reverse(i.first_seen.clone())));
    let count = |s: Severity| active.iter().filter(|i| i.severity == s).count();
    let (crit, warn, info) = if theme.ascii_symbols() {
        ("!!", "!", "i")
    } else {
        ("✖", "▲", "●")
    };
    let title = format!(
        " incidents · {crit}{} crit {warn}{} warn {info}{} info · changed {} ",
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info),
        ago(wb.picture.incidents_changed, wb.now)
    );
    let mut inner = panel(frame, area, wb, title);
    if let Some(problem) = &frame_data.problem {
        // Stale without saying so is what a wallboard must never be.
        let line = Line::styled(
            format!("⚠ stale: the book cannot be read: {}", clean(problem)),
            theme.style(scope::UI_MESSAGE_ERROR),
        );
        frame.render_widget(line, Rect { height: 1, ..inner });
        inner.y += 1;
        inner.height = inner.height.saturating_sub(1);
    }
    if active.is_empty() {
        frame.render_widget(
            Paragraph::new("No active incidents.")
                .style(theme.dim())
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let narrow = inner.width < NARROW;
    let rows = active.iter().map(|i| {
        let (sev, style) = severity_text(theme, i.severity);
        let mut cells = vec![
            Cell::from(Line::styled(sev, style)),
            Cell::from(format!("{:>4}", age_of(&i.first_seen, wb.now))),
        ];
        if !narrow {
            cells.push(Cell::from(format!("×{}", i.count)));
        }
        cells.push(Cell::from(i.state.as_str()));
        if !narrow {
            cells.push(Cell::from(clean(&fold(i.hosts.iter().map(String::as_str)))));
        }
        cells.push(Cell::from(clean(&i.title)));
        Row::new(cells).style(theme.text())
    });
    let (widths, header) = if narrow {
        (
            vec![
                Constraint::Length(6),
                Constraint::Length(4),
                Constraint::Length(5),
                Constraint::Fill(1),
            ],
            vec!["SEV", " AGE", "STATE", "TITLE"],
        )
    } else {
        (
            vec![
                Constraint::Length(6),
                Constraint::Length(4),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(18),
                Constraint::Fill(1),
            ],
            vec!["SEV", " AGE", "COUNT", "STATE", "HOSTS", "TITLE"],
        )
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.style(scope::UI_TABLE_HEADER)))
        .column_spacing(1);
    frame.render_widget(table, inner);
}
