//! The History view: past runs newest first (start, id, user, status with its symbol, hosts
//! ok, duration, folded targets, command), narrowed by `/`; enter opens a run: its header over
//! the per-host table (state, exit, duration, why), or over one host's recorded output.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::state::{HistoryState, ListLoad, OpenRun, OutputLoad, short_id};
use crate::engine::{HostState, RunResult};
use crate::ui::app::layout::ScreenLayout;
use crate::ui::app::model::Model;
use crate::ui::app::widgets::{
    host_column_width, pane_styles, render_note, render_table, state_cell, view_block,
};
use crate::ui::pane::render_pane;
use crate::ui::printers::history::{elapsed_ms, exit_text, when as printed_when, why_text};
use crate::ui::printers::run_summary::{counts, human_ms};
use crate::ui::printers::sanitize::sanitize;
use crate::ui::theme::{Theme, scope};

/// Below this width the list keeps only status, hosts ok and command.
const NARROW: u16 = 60;
/// From this width the list shows the id and the duration.
const MEDIUM: u16 = 100;
/// From this width the list shows the full start time and the user.
const WIDE: u16 = 140;

pub fn render(frame: &mut Frame, layout: &ScreenLayout, model: &Model) {
    match &model.history.open {
        Some(open) => render_open(frame, layout, model, open),
        None => render_list(frame, layout.body, model),
    }
}

fn render_list(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.shell.theme;
    let h = &model.history;
    let mut title = format!(" history {}/{} ", h.shown.len(), h.runs.len());
    if !h.filter.is_empty() {
        title.push_str(&format!(
            "/{} ",
            sanitize(h.filter.text().as_bytes(), false)
        ));
    }
    let block = view_block(theme, title);
    if let Some(note) = empty_note(h) {
        render_note(frame, area, theme, block, note);
        return;
    }
    let inner_width = area.width.saturating_sub(2);
    let columns = Columns::for_width(inner_width, h);
    let rows = h
        .shown
        .iter()
        .filter_map(|&i| h.runs.get(i))
        .map(|run| Row::new(columns.cells(run, h, theme)).style(theme.text()));
    let header = Row::new(columns.titles()).style(theme.style(scope::UI_TABLE_HEADER));
    let table = Table::new(rows, columns.widths())
        .header(header)
        .block(block);
    render_table(frame, area, table, theme, h.cursor);
}

/// What the list says instead of a table, when it has no rows.
fn empty_note(h: &HistoryState) -> Option<String> {
    if !h.shown.is_empty() {
        return None;
    }
    Some(match (&h.load, h.runs.is_empty()) {
        (ListLoad::NotLoaded | ListLoad::Loading, true) => "reading history…".to_string(),
        (ListLoad::Failed(e), true) => format!("{e}\nR reads it again."),
        (_, true) => "No runs recorded yet. Runs started here (`!`, :run) or with `fleetdeck run` \
                      show up here."
            .to_string(),
        (_, false) => "No run matches; esc clears the filter.".to_string(),
    })
}

/// A column of the run list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    /// `MM-DD HH:MM`.
    Started,
    /// `YYYY-MM-DD HH:MM:SS`.
    StartedFull,
    Id,
    User,
    Status,
    Ok,
    Took,
    Targets,
    Command,
}

/// The list's columns at a given inner width: the command keeps room at every width, the
/// others join as space allows.
struct Columns {
    cols: Vec<Col>,
    id_width: u16,
    user_width: u16,
    ok_width: u16,
    targets_width: u16,
}

impl Columns {
    fn for_width(inner: u16, h: &HistoryState) -> Columns {
        let cols = if inner < NARROW {
            vec![Col::Status, Col::Ok, Col::Command]
        } else if inner < MEDIUM {
            vec![
                Col::Started,
                Col::Status,
                Col::Ok,
                Col::Targets,
                Col::Command,
            ]
        } else if inner < WIDE {
            vec![
                Col::Started,
                Col::Id,
                Col::Status,
                Col::Ok,
                Col::Took,
                Col::Targets,
                Col::Command,
            ]
        } else {
            vec![
                Col::StartedFull,
                Col::Id,
                Col::User,
                Col::Status,
                Col::Ok,
                Col::Took,
                Col::Targets,
                Col::Command,
            ]
        };
        let longest = |f: &dyn Fn(&RunResult) -> usize| {
            h.shown
                .iter()
                .filter_map(|&i| h.runs.get(i))
                .map(f)
                .max()
                .unwrap_or(0)
        };
        let max_targets = if inner < WIDE { 16 } else { 28 };
        Columns {
            cols,
            id_width: h.id_width.max(4) as u16,
            user_width: longest(&|r| r.user.chars().count()).clamp(4, 20) as u16,
            ok_width: longest(&|r| ok_text(r).len()).max(2) as u16,
            targets_width: longest(&|r| r.targets.chars().count()).clamp(7, max_targets) as u16,
        }
    }

    fn titles(&self) -> Vec<&'static str> {
        self.cols
            .iter()
            .map(|c| match c {
                Col::Started => "STARTED UTC",
                Col::StartedFull => "STARTED (UTC)",
                Col::Id => "ID",
                Col::User => "USER",
                Col::Status => "STATUS",
                Col::Ok => "OK",
                Col::Took => "TOOK",
                Col::Targets => "TARGETS",
                Col::Command => "COMMAND",
            })
            .collect()
    }

    fn widths(&self) -> Vec<Constraint> {
        self.cols
            .iter()
            .map(|c| match c {
                Col::Started => Constraint::Length(11),
                Col::StartedFull => Constraint::Length(19),
                Col::Id => Constraint::Length(self.id_width),
                Col::User => Constraint::Length(self.user_width),
                Col::Status => Constraint::Length(13),
                Col::Ok => Constraint::Length(self.ok_width),
                Col::Took => Constraint::Length(6),
                Col::Targets => Constraint::Length(self.targets_width),
                Col::Command => Constraint::Fill(1),
            })
            .collect()
    }

    fn cells<'a>(&self, run: &'a RunResult, h: &HistoryState, theme: &Theme) -> Vec<Cell<'a>> {
        self.cols
            .iter()
            .map(|c| match c {
                // `MM-DD HH:MM` of `YYYY-MM-DD HH:MM:SS`.
                Col::Started => Cell::from(Line::styled(
                    when(&run.started)
                        .get(5..16)
                        .unwrap_or_default()
                        .to_string(),
                    theme.dim(),
                )),
                Col::StartedFull => Cell::from(Line::styled(when(&run.started), theme.dim())),
                Col::Id => Cell::from(clean(short_id(&run.id, h.id_width))),
                Col::User => Cell::from(clean(&run.user)),
                Col::Status => {
                    // Symbol and word, never colour alone.
                    Cell::from(Line::styled(
                        format!("{} {}", theme.run_status_symbol(run.status), run.status),
                        theme.run_status(run.status),
                    ))
                }
                Col::Ok => Cell::from(ok_text(run)),
                Col::Took => Cell::from(
                    elapsed_ms(&run.started, &run.finished).map_or_else(|| "-".into(), human_ms),
                ),
                Col::Targets => Cell::from(clean(&run.targets)),
                Col::Command => Cell::from(clean(&run.command)),
            })
            .collect()
    }
}

/// `ok/total`: hosts that ended ok, of all the run's hosts.
fn ok_text(run: &RunResult) -> String {
    let ok = run
        .hosts
        .iter()
        .filter(|x| x.state == HostState::Ok)
        .count();
    format!("{ok}/{}", run.hosts.len())
}

fn render_open(frame: &mut Frame, layout: &ScreenLayout, model: &Model, open: &OpenRun) {
    let theme = &model.shell.theme;
    let areas = layout.history();
    let (header, rest) = (areas.header, areas.content);
    frame.render_widget(Paragraph::new(header_lines(&open.run, theme)), header);
    if open.pane_open
        && let Some(host) = open.run.hosts.get(open.host_cursor)
    {
        match (&open.output, open.current_output()) {
            (_, Some(sb)) => render_pane(
                rest,
                frame.buffer_mut(),
                sb,
                &open.pane,
                &host.host,
                true,
                &pane_styles(theme),
            ),
            (OutputLoad::Loading, None) => note(frame, rest, theme, &host.host, "reading output…"),
            (OutputLoad::Failed(e), None) => note(frame, rest, theme, &host.host, e),
            (OutputLoad::Loaded(_), None) => {
                note(frame, rest, theme, &host.host, "(no output recorded)");
            }
        }
        return;
    }
    hosts_table(frame, rest, model, open);
}

/// A bordered box with one line of text, where the output pane would be.
fn note(frame: &mut Frame, area: Rect, theme: &Theme, title: &str, text: &str) {
    let block = view_block(theme, format!(" {title} "));
    render_note(frame, area, theme, block, text.to_string());
}

fn header_lines<'a>(run: &RunResult, theme: &Theme) -> Vec<Line<'a>> {
    let first = Line::from(vec![
        Span::styled(format!("run {} ", run.id), theme.title(true)),
        Span::styled(
            format!("{} {} ", theme.run_status_symbol(run.status), run.status),
            theme.run_status(run.status),
        ),
        Span::styled(format!("$ {}", clean(&run.command)), theme.text()),
    ]);
    let took = elapsed_ms(&run.started, &run.finished)
        .map_or_else(String::new, |ms| format!(" │ took {}", human_ms(ms)));
    let second = format!(
        "{} hosts: {} │ {} │ {} UTC{took} │ {}",
        run.hosts.len(),
        clean(&run.targets),
        counts(run),
        when(&run.started),
        clean(&run.user),
    );
    vec![first, Line::styled(second, theme.dim())]
}

fn hosts_table(frame: &mut Frame, area: Rect, model: &Model, open: &OpenRun) {
    let theme = &model.shell.theme;
    let block = view_block(theme, " hosts (enter: output, r: rerun failed, esc: back) ");
    let name_w = host_column_width(open.run.hosts.iter().map(|h| h.host.as_str()));
    // Narrow panes drop exit and time: the why says both for a host that failed.
    let narrow = area.width < NARROW;
    let rows = open.run.hosts.iter().map(|h| {
        let mut cells = vec![state_cell(theme, &h.state), Cell::from(clean(&h.host))];
        if !narrow {
            cells.extend([
                Cell::from(exit_text(h)),
                Cell::from(human_ms(h.duration_ms)),
            ]);
        }
        cells.push(Cell::from(why_text(h)));
        Row::new(cells).style(theme.text())
    });
    let (widths, titles) = if narrow {
        (
            vec![
                Constraint::Length(13),
                Constraint::Length(name_w),
                Constraint::Fill(1),
            ],
            vec!["STATE", "HOST", "WHY"],
        )
    } else {
        (
            vec![
                Constraint::Length(13),
                Constraint::Length(name_w),
                Constraint::Length(4),
                Constraint::Length(7),
                Constraint::Fill(1),
            ],
            vec!["STATE", "HOST", "EXIT", "TIME", "WHY"],
        )
    };
    let header = Row::new(titles).style(theme.style(scope::UI_TABLE_HEADER));
    let table = Table::new(rows, widths).header(header).block(block);
    render_table(frame, area, table, theme, open.host_cursor);
}

/// The start time as the printer shows it, through the sanitizer.
fn when(rfc3339: &str) -> String {
    clean(&printed_when(rfc3339))
}

/// Recorded text goes through the sanitizer: history files can be edited or damaged.
fn clean(text: &str) -> String {
    sanitize(text.as_bytes(), false)
}
