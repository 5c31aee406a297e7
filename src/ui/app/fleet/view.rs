//! The Fleet view: the inventory as a table (mark, name, transport, connection, env, cpu, mem,
//! disk, load, last run, tags; columns drop by priority on narrow terminals, see columns.rs),
//! filtered, targeted and sorted, with the cursor row highlighted, marked hosts flagged by a
//! symbol and style, and the cursor host's metrics source or trouble on the bottom border.
//! Only the rows on screen are built, so a frame costs the same for 10 hosts or 10,000.
//! Connection states and metrics come from the model's snapshots, never from a transport.

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::columns::{Column, Columns};
use super::metric_cells::{CellLook, metric_cell};
use crate::metrics::Metric;
use crate::ui::app::connections;
use crate::ui::app::layout::ScreenLayout;
use crate::ui::app::model::Model;
use crate::ui::app::widgets::metric::availability_note;
use crate::ui::app::widgets::{host_column_width, render_table};
use crate::ui::theme::{Graphics, scope};

/// Rows of the table's box that are not host rows: borders and header.
const CHROME_ROWS: u16 = 3;

pub fn render(frame: &mut Frame, layout: &ScreenLayout, model: &Model) {
    let area = layout.body;
    let theme = &model.shell.theme;
    let fleet = &model.fleet;
    let mut title = format!(" fleet {}/{} ", fleet.shown.len(), model.inventory.len());
    if !fleet.filter.is_empty() {
        title.push_str(&format!("/{} ", fleet.filter.text()));
    }
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::from(title))
        .title_style(theme.title(true));
    if fleet.shown.is_empty() {
        let note = if model.inventory.is_empty() {
            "No hosts in hosts.toml yet (`fleetdeck paths` shows where it lives)."
        } else {
            "No host matches; esc clears the filter, :target alone clears the target."
        };
        frame.render_widget(Paragraph::new(note).style(theme.dim()).block(block), area);
        return;
    }
    let now = model.shell.now;
    let frame_metrics = &model.metrics_frame;
    let block = match model.current_host() {
        Some(h) => {
            let note = availability_note(frame_metrics.host(&h.name), now);
            block.title_bottom(Line::styled(format!(" {}: {note} ", h.name), theme.dim()))
        }
        None => block,
    };
    // Marks need a symbol, not only a style, so they show without colour.
    let mark = if theme.ascii_symbols() { "*" } else { "●" };
    let name_w = host_column_width(model.shown_hosts().map(|h| h.name.as_str()));
    let env_w = model
        .shown_hosts()
        .filter_map(|h| h.env.as_ref().map(|e| e.chars().count()))
        .max()
        .unwrap_or(0)
        .clamp(3, 12) as u16;
    let columns = Columns::choose(area.width.saturating_sub(2), name_w, env_w);
    let look = CellLook {
        theme,
        graphics: model.shell.graphics,
        trend: columns.trend,
        now,
    };
    // Only the rows on screen: the window ratatui would scroll to, so the cursor shows.
    let visible = usize::from(area.height.saturating_sub(CHROME_ROWS).max(1));
    let start = fleet.cursor.saturating_sub(visible - 1);
    let hosts = model.inventory.hosts();
    let rows = fleet
        .shown
        .iter()
        .skip(start)
        .take(visible)
        .filter_map(|&i| hosts.get(i))
        .map(|h| {
            let marked = fleet.marked.contains(&h.name);
            let metrics = frame_metrics.host(&h.name);
            let cells = columns.shown.iter().map(|column| match column {
                Column::Mark => Cell::from(if marked { mark } else { " " }),
                Column::Name => Cell::from(h.name.as_str()),
                Column::Transport => Cell::from(h.transport.as_str()),
                Column::Connection => match model.connections.get(&h.name) {
                    Some(state) => {
                        let (_, _, scope) = connections::look(state, theme.ascii_symbols());
                        Cell::from(Line::styled(
                            connections::label(state, theme.ascii_symbols()),
                            theme.style(scope),
                        ))
                    }
                    None => Cell::from(Line::styled("-", theme.dim())),
                },
                Column::Env => Cell::from(h.env.as_deref().unwrap_or("-")),
                Column::Cpu => metric_cell(&look, metrics, Metric::Cpu),
                Column::Mem => metric_cell(&look, metrics, Metric::Mem),
                Column::Disk => metric_cell(&look, metrics, Metric::Disk),
                Column::Load => metric_cell(&look, metrics, Metric::Load),
                // Symbol and word, never colour alone.
                Column::LastRun => match fleet.last_result.get(&h.name) {
                    Some(state) => Cell::from(Line::styled(
                        format!("{} {}", theme.state_symbol(state), state.label()),
                        theme.state(state),
                    )),
                    None => Cell::from(Line::styled("-", theme.dim())),
                },
                Column::Tags => Cell::from(h.tags.iter().cloned().collect::<Vec<_>>().join(",")),
            });
            let row = Row::new(cells.collect::<Vec<_>>());
            if marked {
                row.style(theme.marked())
            } else {
                row.style(theme.text())
            }
        });
    let header = Row::new(columns.shown.iter().map(|c| header_title(model, *c)))
        .style(theme.style(scope::UI_TABLE_HEADER));
    let table = Table::new(rows, columns.constraints())
        .header(header)
        .block(block);
    render_table(frame, area, table, theme, fleet.cursor - start);
}

/// A column's title, with an arrow on the sorted one (`CPU▼`: highest first).
fn header_title(model: &Model, column: Column) -> String {
    let sorted = model.fleet.sort.filter(|s| {
        let name = s.column.name().replace('_', " ");
        column.title().eq_ignore_ascii_case(&name)
    });
    match sorted {
        Some(s) => {
            let ascii = model.shell.graphics == Graphics::Ascii;
            let arrow = match (s.descending, ascii) {
                (true, false) => "▼",
                (false, false) => "▲",
                (true, true) => "v",
                (false, true) => "^",
            };
            format!("{}{arrow}", column.title())
        }
        None => column.title().to_string(),
    }
}
