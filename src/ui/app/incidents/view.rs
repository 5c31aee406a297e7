//! The Incidents view: grouped rows (severity symbol and word, age, count, state, folded
//! hosts, title), or the incident opened (its facts, labels, annotations with the runbook
//! link, analysis entries, linked runs and timeline). Text from sources is sanitized: no
//! control characters reach the terminal. Ages are measured at the model's clock.

use std::time::{Duration, SystemTime};

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::state::{Entry, IncidentsState};
use crate::incident::{Incident, Severity};
use crate::inventory::nodeset::fold;
use crate::ui::app::layout::ScreenLayout;
use crate::ui::app::model::Model;
use crate::ui::app::popup::IncidentPrompt;
use crate::ui::app::widgets::metric::age_text;
use crate::ui::app::widgets::popup::render_popup;
use crate::ui::app::widgets::{render_note, render_table, view_block};
use crate::ui::printers::sanitize::sanitize;
use crate::ui::theme::{Theme, scope};

/// Below this inner width the list drops count and hosts.
const NARROW: u16 = 60;

pub fn render(frame: &mut Frame, layout: &ScreenLayout, model: &Model) {
    let s = &model.incidents;
    match s.opened() {
        Some(incident) => render_detail(frame, layout.body, model, incident),
        None => render_list(frame, layout.body, model),
    }
}

/// Text from a source, made safe to print on one line.
fn clean(text: &str) -> String {
    sanitize(text.as_bytes(), false).replace(['\n', '\r', '\t'], " ")
}

/// Severity as symbol and word, and its style (colour is never the only signal).
pub fn severity_text(theme: &Theme, severity: Severity) -> (String, Style) {
    let ascii = theme.ascii_symbols();
    let (symbol, word, sc) = match severity {
        Severity::Critical => (
            if ascii { "!!" } else { "✖" },
            "crit",
            scope::METRIC_CRITICAL,
        ),
        Severity::Warning => (if ascii { "!" } else { "▲" }, "warn", scope::METRIC_HIGH),
        Severity::Info => (if ascii { "i" } else { "●" }, "info", scope::UI_TEXT_DIM),
    };
    (format!("{symbol} {word}"), theme.style(sc))
}

/// How long ago `ts` (RFC 3339) was, at `now`; `?` when it cannot be read.
fn age(ts: &str, now: SystemTime) -> String {
    let Ok(at) = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
    else {
        return "?".to_string();
    };
    let at = SystemTime::from(at);
    age_text(now.duration_since(at).unwrap_or(Duration::ZERO))
}

fn render_list(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.shell.theme;
    let s = &model.incidents;
    let mut title = format!(
        " incidents {}/{} by {} ",
        s.shown_count(),
        s.frame.incidents.len(),
        s.grouping.name()
    );
    if !s.filter.is_empty() {
        title.push_str(&format!("/{} ", clean(s.filter.text())));
    }
    let mut block = view_block(theme, title);
    if let Some(warning) = warnings(s) {
        block = block.title_bottom(Line::styled(
            format!(" {} ", clean(&warning)),
            theme.style(scope::UI_MESSAGE_ERROR),
        ));
    }
    if s.entries.is_empty() {
        let note = match (&s.frame.problem, s.frame.incidents.is_empty()) {
            (Some(p), _) => format!("The incident book cannot be read: {}", clean(p)),
            (None, true) => "No incidents. Agent alerts, Alertmanager, [[thresholds]] and \
                             [[checks]] open them here."
                .to_string(),
            (None, false) => "No incident matches; esc clears the filter.".to_string(),
        };
        render_note(frame, area, theme, block, note);
        return;
    }
    let narrow = area.width.saturating_sub(2) < NARROW;
    let now = model.shell.now;
    let columns = if narrow { 4 } else { 6 };
    // Only the rows that fit are built (thousands of incidents cost nothing to scroll past):
    // the window ratatui itself would show, the cursor on its last line once it scrolls.
    let height = usize::from(area.height.saturating_sub(3)).max(1);
    let cursor = s.cursor_row();
    let first = (cursor + 1).saturating_sub(height);
    let rows = s.entries.iter().skip(first).take(height).map(|e| match e {
        // The heading's text goes in the widest column (a table has no spanning cells).
        Entry::Group { name, count } => {
            let mut cells = vec![Cell::from(if theme.ascii_symbols() { ">" } else { "▾" })];
            cells.extend((0..columns - 2).map(|_| Cell::from("")));
            cells.push(Cell::from(format!("{} ({count})", clean(name))));
            Row::new(cells).style(theme.style(scope::UI_TABLE_HEADER))
        }
        Entry::Incident(i) => match s.frame.incidents.get(*i) {
            Some(incident) => incident_row(theme, incident, now, narrow),
            None => Row::new(Vec::<Cell>::new()),
        },
    });
    let widths: Vec<Constraint> = if narrow {
        vec![
            Constraint::Length(6),
            Constraint::Length(4),
            Constraint::Length(5),
            Constraint::Fill(1),
        ]
    } else {
        vec![
            Constraint::Length(6),
            Constraint::Length(4),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(18),
            Constraint::Fill(1),
        ]
    };
    let header: Vec<&str> = if narrow {
        vec!["SEV", "AGE", "STATE", "TITLE"]
    } else {
        vec!["SEV", "AGE", "COUNT", "STATE", "HOSTS", "TITLE"]
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.style(scope::UI_TABLE_HEADER)))
        .block(block);
    render_table(frame, area, table, theme, cursor - first);
}

fn incident_row<'a>(theme: &Theme, i: &Incident, now: SystemTime, narrow: bool) -> Row<'a> {
    let (sev, style) = severity_text(theme, i.severity);
    let mut cells = vec![
        Cell::from(Line::styled(sev, style)),
        Cell::from(age(&i.first_seen, now)),
    ];
    if !narrow {
        cells.push(Cell::from(format!("×{}", i.count)));
    }
    cells.push(Cell::from(i.state.as_str()));
    if !narrow {
        cells.push(Cell::from(clean(&fold(i.hosts.iter().map(String::as_str)))));
    }
    cells.push(Cell::from(clean(&i.title)));
    let row = Row::new(cells).style(theme.text());
    if i.state.is_active() {
        row
    } else {
        row.style(theme.dim())
    }
}

fn render_detail(frame: &mut Frame, area: Rect, model: &Model, i: &Incident) {
    let theme = &model.shell.theme;
    let (sev, sev_style) = severity_text(theme, i.severity);
    let dim = theme.dim();
    let head = |t: &str| Line::styled(t.to_string(), theme.style(scope::UI_TABLE_HEADER));
    let field =
        |k: &str, v: String| Line::from(vec![Span::styled(format!("{k:<10} "), dim), Span::raw(v)]);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(sev, sev_style),
            Span::raw(format!(" {} ", i.state)),
            Span::raw(clean(&i.title)),
        ]),
        field("id", i.id.clone()),
        field("source", format!("{} {}", i.source, clean(&i.fingerprint))),
        field(
            "hosts",
            format!(
                "{} ({})",
                clean(&fold(i.hosts.iter().map(String::as_str))),
                i.hosts.len()
            ),
        ),
        field(
            "seen",
            format!(
                "×{} first {} ago, last {} ago",
                i.count,
                age(&i.first_seen, model.shell.now),
                age(&i.last_seen, model.shell.now)
            ),
        ),
    ];
    if !i.labels.is_empty() {
        lines.push(head("labels"));
        for (k, v) in &i.labels {
            lines.push(field(&format!("  {}", clean(k)), clean(v)));
        }
    }
    if !i.annotations.is_empty() {
        lines.push(head("annotations"));
        for (k, v) in &i.annotations {
            lines.push(field(&format!("  {}", clean(k)), clean(v)));
        }
    }
    let facts = i.facts();
    match model.incidents.runbooks.lookup(&facts) {
        Some(m) => {
            lines.push(head("runbook"));
            lines.push(field("  hint", clean(&m.hint)));
            if let Some(action) = &m.action {
                let params: Vec<String> = action
                    .params
                    .iter()
                    .map(|(k, v)| format!("{}={}", clean(k), clean(v)))
                    .collect();
                lines.push(field(
                    "  action",
                    format!(
                        "{} {}  (x opens it for the hosts, prefilled)",
                        clean(&action.name),
                        params.join(" ")
                    ),
                ));
                for u in &action.unfilled {
                    lines.push(field(
                        "  unfilled",
                        format!("{}: {}", clean(&u.param), clean(&u.reason)),
                    ));
                }
            }
            if let Some(url) = &m.runbook_url {
                lines.push(field("  url", clean(url)));
            }
            lines.push(Line::styled(
                format!("  from {}", clean(&m.rule.to_string())),
                dim,
            ));
        }
        None => {
            if let Some(url) = facts.runbook_url() {
                lines.push(field("runbook", clean(url)));
            }
        }
    }
    // The newest analysis, whole (the timeline shows each on one line).
    if let Some(e) = i.timeline.iter().rev().find(|e| e.event == "analysis") {
        lines.push(head("analysis (a suggestion: nothing is run)"));
        for l in e.text.as_deref().unwrap_or_default().lines() {
            lines.push(Line::raw(format!("  {}", clean(l))));
        }
    }
    let runs: Vec<_> = i
        .timeline
        .iter()
        .filter(|e| e.event == "action_run")
        .collect();
    if !runs.is_empty() {
        lines.push(head("runs"));
        for e in runs {
            lines.push(Line::raw(format!(
                "  {} {}",
                e.run_id.as_deref().map(clean).unwrap_or_default(),
                e.text.as_deref().map(clean).unwrap_or_default()
            )));
        }
    }
    lines.push(head("timeline"));
    if i.timeline_dropped > 0 {
        lines.push(Line::styled(
            format!("  ({} older entries left out)", i.timeline_dropped),
            dim,
        ));
    }
    for e in i.timeline.iter().rev() {
        let mut text = format!("  {} {:<10}", short_ts(&e.ts), e.event);
        if let Some(who) = &e.who {
            text.push_str(&format!(" {}", clean(who)));
        }
        if let Some(t) = &e.text {
            let sep = if e.who.is_some() { ": " } else { " " };
            text.push_str(&format!("{sep}{}", clean(t)));
        }
        if let Some(run) = &e.run_id {
            text.push_str(&format!(" (run {})", clean(run)));
        }
        lines.push(Line::raw(text));
    }
    let block = view_block(theme, format!(" incident {} ", i.id));
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.text())
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

/// `2026-12-07T10:00:00.123Z` → `12-07 10:00:00`.
fn short_ts(ts: &str) -> String {
    let t = ts.get(5..19).unwrap_or(ts);
    clean(&t.replacen('T', " ", 1))
}

/// The comment or note prompt, centred over the view.
pub fn render_prompt(frame: &mut Frame, screen: Rect, model: &Model, p: &IncidentPrompt) {
    let theme = &model.shell.theme;
    let (title, asks) = p.act.question();
    let lines = vec![
        Line::raw(format!("{} {}", p.id, clean(&p.title))),
        Line::styled(format!("{asks}; enter writes, esc cancels"), theme.dim()),
        Line::raw(format!("> {}", clean(p.input.text()))),
    ];
    let area = render_popup(frame, screen, theme, &format!(" {title} "), lines, 5);
    let x = area.x + 3 + p.input.text().chars().count() as u16;
    if x < area.right().saturating_sub(1) {
        frame.set_cursor_position(ratatui::layout::Position::new(x, area.y + 3));
    }
}

/// What is wrong behind the list, under it: the book's problem (damaged lines, unreadable) and
/// each `[notify]` sink whose last delivery failed.
pub fn warnings(s: &IncidentsState) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(p) = &s.frame.problem {
        parts.push(format!("book: {p}"));
    }
    parts.extend(
        s.notify
            .iter()
            .filter(|n| n.failing())
            .map(|n| format!("notify {}", n.summary())),
    );
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The status bar's incident counts: `2 crit 1 warn` (active only), or nothing.
pub fn status_counts(s: &IncidentsState) -> Option<String> {
    let [crit, warn, info] = s.frame.active_by_severity();
    let parts: Vec<String> = [(crit, "crit"), (warn, "warn"), (info, "info")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}
