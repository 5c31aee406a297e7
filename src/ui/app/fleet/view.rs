//! The Fleet view: the inventory as a table (mark, name, transport, connection, env, last
//! run, tags), filtered and targeted, with the cursor row highlighted and marked hosts flagged
//! by a symbol and style. Connection states come from the model's snapshot, never from a
//! transport.

use ratatui::Frame;
use ratatui::layout::Constraint;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use crate::ui::app::connections;
use crate::ui::app::layout::ScreenLayout;
use crate::ui::app::model::Model;
use crate::ui::app::widgets::render_table;
use crate::ui::theme::scope;

pub fn render(frame: &mut Frame, layout: &ScreenLayout, model: &Model) {
    let area = layout.body;
    let theme = &model.shell.theme;
    let mut title = format!(
        " fleet {}/{} ",
        model.fleet.shown.len(),
        model.inventory.len()
    );
    if !model.fleet.filter.is_empty() {
        title.push_str(&format!("/{} ", model.fleet.filter.text()));
    }
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::from(title))
        .title_style(theme.title(true));
    if model.fleet.shown.is_empty() {
        let note = if model.inventory.is_empty() {
            "No hosts in hosts.toml yet (`fleetdeck paths` shows where it lives)."
        } else {
            "No host matches; esc clears the filter, :target alone clears the target."
        };
        frame.render_widget(Paragraph::new(note).style(theme.dim()).block(block), area);
        return;
    }
    // Marks need a symbol, not only a style, so they show without colour.
    let mark = if theme.ascii_symbols() { "*" } else { "●" };
    // Narrow panes drop the transport and connection columns so names keep their width.
    let narrow = area.width < 60;
    let width_of = |len: usize, min: usize, max: usize| len.clamp(min, max) as u16;
    let name_w = width_of(
        model
            .shown_hosts()
            .map(|h| h.name.chars().count())
            .max()
            .unwrap_or(0),
        4,
        32,
    );
    let env_w = width_of(
        model
            .shown_hosts()
            .filter_map(|h| h.env.as_ref().map(|e| e.chars().count()))
            .max()
            .unwrap_or(0),
        3,
        12,
    );
    let rows = model.shown_hosts().map(|h| {
        let marked = model.fleet.marked.contains(&h.name);
        let tags = h.tags.iter().cloned().collect::<Vec<_>>().join(",");
        // Symbol and word, never colour alone.
        let last = match model.fleet.last_result.get(&h.name) {
            Some(state) => Cell::from(Line::styled(
                format!("{} {}", theme.state_symbol(state), state.label()),
                theme.state(state),
            )),
            None => Cell::from(Line::styled("-", theme.dim())),
        };
        let mut cells = vec![
            Cell::from(if marked { mark } else { " " }),
            Cell::from(h.name.as_str()),
        ];
        if !narrow {
            cells.push(Cell::from(h.transport.as_str()));
            cells.push(match model.connections.get(&h.name) {
                Some(state) => {
                    let (_, _, scope) = connections::look(state, theme.ascii_symbols());
                    Cell::from(Line::styled(
                        connections::label(state, theme.ascii_symbols()),
                        theme.style(scope),
                    ))
                }
                None => Cell::from(Line::styled("-", theme.dim())),
            });
        }
        cells.extend([
            Cell::from(h.env.as_deref().unwrap_or("-")),
            last,
            Cell::from(tags),
        ]);
        let row = Row::new(cells);
        if marked {
            row.style(theme.marked())
        } else {
            row.style(theme.text())
        }
    });
    let mut widths = vec![Constraint::Length(1), Constraint::Length(name_w)];
    let mut titles = vec!["", "NAME"];
    if !narrow {
        widths.push(Constraint::Length(9));
        titles.push("TRANSPORT");
        // `↻ connecting` is the longest label.
        widths.push(Constraint::Length(12));
        titles.push("CONNECTION");
    }
    widths.extend([
        Constraint::Length(env_w),
        Constraint::Length(13),
        Constraint::Fill(1),
    ]);
    titles.extend(["ENV", "LAST RUN", "TAGS"]);
    let header = Row::new(titles).style(theme.style(scope::UI_TABLE_HEADER));
    let table = Table::new(rows, widths).header(header).block(block);
    render_table(frame, area, table, theme, model.fleet.cursor);
}
