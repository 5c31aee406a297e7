//! The Actions view: the files that did not load (file:line:column, so a broken template is
//! seen, never silently missing) over the template list (name, category, confirmation, lock,
//! where it applies, description), narrowed by `/`; with a form open, the form instead.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, Wrap};

use super::state::ActionsState;
use crate::action::Template;
use crate::ui::app::layout::ScreenLayout;
use crate::ui::app::model::Model;
use crate::ui::app::widgets::{render_note, render_table, view_block};
use crate::ui::printers::sanitize::sanitize;
use crate::ui::theme::scope;

/// Below this inner width the list keeps only name and description.
const NARROW: u16 = 60;
/// From this width the list shows where each action applies.
const WIDE: u16 = 100;

pub fn render(frame: &mut Frame, layout: &ScreenLayout, model: &Model) {
    let area = layout.body;
    if let Some(form) = &model.actions.form {
        super::form_view::render(frame, area, model, form);
        return;
    }
    let a = &model.actions;
    let list_area = if a.problems.is_empty() {
        area
    } else {
        // Problems first: at most half the body, the list keeps the rest.
        let inner = area.width.saturating_sub(2).max(1) as usize;
        let rows: usize = a
            .problems
            .iter()
            .map(|d| (d.to_string().chars().count() + 2).div_ceil(inner).max(1))
            .sum();
        let wanted = u16::try_from(rows + 2).unwrap_or(u16::MAX);
        let [top, rest] = Layout::vertical([
            Constraint::Max(wanted.min(area.height / 2)),
            Constraint::Min(3),
        ])
        .areas(area);
        render_problems(frame, top, model);
        rest
    };
    render_list(frame, list_area, model);
}

fn render_problems(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.shell.theme;
    let error = theme.style(scope::UI_MESSAGE_ERROR);
    let mark = if theme.ascii_symbols() { "x" } else { "✗" };
    let lines: Vec<Line> = model
        .actions
        .problems
        .iter()
        .map(|d| {
            Line::styled(
                format!("{mark} {}", sanitize(d.to_string().as_bytes(), false)),
                error,
            )
        })
        .collect();
    let title = format!(
        " {} problem(s): these files did not load (R reads again) ",
        lines.len()
    );
    let block = ratatui::widgets::Block::bordered()
        .border_style(error)
        .title(title)
        .title_style(error);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

fn render_list(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.shell.theme;
    let a = &model.actions;
    let mut title = format!(
        " actions {}/{} ",
        a.shown.len(),
        a.catalog.templates().len()
    );
    if !a.filter.is_empty() {
        title.push_str(&format!(
            "/{} ",
            sanitize(a.filter.text().as_bytes(), false)
        ));
    }
    let block = view_block(theme, title);
    if let Some(note) = empty_note(a) {
        render_note(frame, area, theme, block, note);
        return;
    }
    let inner = area.width.saturating_sub(2);
    let name_w = a
        .shown_templates()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 28) as u16;
    let category_w = a
        .shown_templates()
        .map(|t| t.category.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 14) as u16;
    let rows = a.shown_templates().map(|t| {
        let mut cells = vec![t.name.clone()];
        if inner >= NARROW {
            cells.push(t.category.clone());
            cells.push(t.confirm.as_str().to_string());
            cells.push(if t.requires_lock { "yes" } else { "-" }.to_string());
        }
        if inner >= WIDE {
            cells.push(applies(t));
        }
        cells.push(t.description.clone());
        Row::new(cells).style(theme.text())
    });
    let mut widths = vec![Constraint::Length(name_w)];
    let mut titles = vec!["NAME"];
    if inner >= NARROW {
        widths.extend([
            Constraint::Length(category_w),
            Constraint::Length(7),
            Constraint::Length(6),
        ]);
        titles.extend(["CATEGORY", "CONFIRM", "LOCK"]);
    }
    if inner >= WIDE {
        widths.push(Constraint::Length(24));
        titles.push("APPLIES TO");
    }
    widths.push(Constraint::Fill(1));
    titles.push("DESCRIPTION");
    let header = Row::new(titles).style(theme.style(scope::UI_TABLE_HEADER));
    let table = Table::new(rows, widths).header(header).block(block);
    render_table(frame, area, table, theme, a.cursor);
}

/// Where the action applies: `env:a,b tag:c`, or `any host`.
fn applies(t: &Template) -> String {
    let mut parts = Vec::new();
    if !t.envs.is_empty() {
        parts.push(format!("env:{}", t.envs.join(",")));
    }
    if !t.tags.is_empty() {
        parts.push(format!("tag:{}", t.tags.join(",")));
    }
    if t.command.is_none() {
        parts.push("agent only".to_string());
    }
    if parts.is_empty() {
        "any host".to_string()
    } else {
        parts.join(" ")
    }
}

fn empty_note(a: &ActionsState) -> Option<String> {
    if !a.shown.is_empty() {
        return None;
    }
    Some(if a.catalog.is_empty() {
        format!(
            "No action templates in {}. Add one NAME.toml file per action there (docs/actions.md \
             describes the format; examples/actions/ has samples to copy), then R reads the \
             folder again.",
            a.dir.display()
        )
    } else {
        "No action matches; esc clears the filter.".to_string()
    })
}
