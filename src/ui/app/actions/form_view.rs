//! The parameter form and its live preview, and the action's confirmation text. The form: a
//! field per parameter (secrets masked, pickers in ‹ ›, each field's problem under it); the
//! preview: each distinct text exactly as it runs (quoting visible) with the folded hosts
//! running it, `raw` values flagged, refused hosts with the reason, the guards; or, while
//! the values are not valid, what is wrong. Secret values are never drawn.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::form::{ActionForm, guard_summary, masked};
use crate::action::plan::{Plan, PlanError};
use crate::action::{Confirm as Level, FormKind, ParamType, TargetEnvs, Template};
use crate::ui::app::model::Model;
use crate::ui::app::popup::Confirm;
use crate::ui::app::runs::RunStart;
use crate::ui::printers::sanitize::sanitize;
use crate::ui::theme::{Theme, scope};

use crate::ui::app::widgets::view_block;

/// Rows the fields take: one each, and a second for a problem or the focused field's help.
fn field_rows(form: &ActionForm) -> usize {
    form.fields
        .iter()
        .enumerate()
        .map(|(i, f)| 1 + usize::from(f.error.is_some() || i == form.focus))
        .sum()
}

pub fn render(frame: &mut Frame, area: Rect, model: &Model, form: &ActionForm) {
    let theme = &model.shell.theme;
    let t = &form.template;
    let fix_for = match form.for_incidents.as_slice() {
        [] => String::new(),
        [one] => format!("· fix for incident {one} "),
        [first, rest @ ..] => format!("· fix for incidents {first} +{} ", rest.len()),
    };
    let title = format!(
        " action {} · {} host(s) {} {fix_for}",
        t.name,
        form.hosts.len(),
        sanitize(form.selector.as_bytes(), false)
    );
    let outer = view_block(theme, title);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let field_rows = field_rows(form).max(1) as u16 + 2;
    let [fields_area, preview_area, keys_area] = Layout::vertical([
        Constraint::Max(field_rows.min(inner.height / 2).max(3)),
        Constraint::Min(2),
        Constraint::Length(1),
    ])
    .areas(inner);
    render_fields(frame, fields_area, theme, form);
    let lines = match &form.plan {
        Ok(plan) => preview_lines(theme, t, plan, &model.protected_envs),
        Err(e) => problem_lines(theme, form, e),
    };
    let block = Block::bordered()
        .border_style(theme.border(false))
        .title(" preview ")
        .title_style(theme.title(false));
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.text())
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(block),
        preview_area,
    );
    frame.render_widget(
        Paragraph::new("enter submit · tab/S-tab field · ←/→ choose · C-u clear · esc close")
            .style(theme.dim()),
        keys_area,
    );
}

fn render_fields(frame: &mut Frame, area: Rect, theme: &Theme, form: &ActionForm) {
    let t = &form.template;
    let error = theme.style(scope::UI_MESSAGE_ERROR);
    let name_w = t
        .params
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0);
    let ascii = theme.ascii_symbols();
    let mut lines = Vec::new();
    // The focused field's rows, kept in sight when the fields do not all fit.
    let mut focus_rows = (0, 0);
    for (i, (p, field)) in t.params.iter().zip(&form.fields).enumerate() {
        let focused = i == form.focus;
        let first = lines.len();
        let marker = match (focused, ascii) {
            (true, true) => ">",
            (true, false) => "▸",
            (false, _) => " ",
        };
        let value = if p.secret {
            masked(&field.text)
        } else {
            sanitize(field.text.as_bytes(), false)
        };
        let value = match &p.kind {
            ParamType::Enum { .. } | ParamType::Bool => format!("‹ {value} ›"),
            _ if focused => format!("{value}▏"),
            _ => value,
        };
        let name_style = if focused {
            theme.selection()
        } else {
            theme.text()
        };
        let mut spans = vec![
            Span::raw(format!("{marker} ")),
            Span::styled(format!("{:name_w$}", p.name), name_style),
            Span::raw(" "),
            Span::styled(value, theme.text().add_modifier(Modifier::BOLD)),
        ];
        if field.text.is_empty()
            && let Some(d) = &p.default
        {
            spans.push(Span::styled(format!(" (default {d})"), theme.dim()));
        }
        lines.push(Line::from(spans));
        // A second row only where it tells something: the problem, or what the focused
        // field takes.
        let pad = " ".repeat(name_w + 3);
        match &field.error {
            Some(e) => lines.push(Line::styled(
                format!("{pad}{} {e}", if ascii { "x" } else { "✗" }),
                error,
            )),
            None if focused => lines.push(Line::styled(format!("{pad}{}", about(p)), theme.dim())),
            None => {}
        }
        if focused {
            focus_rows = (first, lines.len());
        }
    }
    let visible = area.height.saturating_sub(2) as usize;
    let scroll = focus_rows.1.saturating_sub(visible).min(focus_rows.0) as u16;
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(format!(" parameters ({}) ", t.params.len()))
        .title_style(theme.title(true));
    let body = if lines.is_empty() {
        Paragraph::new("no parameters: enter submits").style(theme.dim())
    } else {
        Paragraph::new(lines).scroll((scroll, 0))
    };
    frame.render_widget(body.block(block), area);
}

/// What a field takes: type, required, secret, raw; and its description.
fn about(p: &crate::action::Param) -> String {
    let mut bits = vec![p.type_summary()];
    if p.required {
        bits.push("required".to_string());
    }
    if p.secret {
        bits.push("secret: sent on stdin, never shown".to_string());
    }
    if p.kind == ParamType::Raw {
        bits.push("RAW: inserted unquoted".to_string());
    }
    let mut text = bits.join(", ");
    if !p.description.is_empty() {
        text.push_str(&format!(" — {}", p.description));
    }
    text
}

/// The plan as the operator reviews it.
fn preview_lines<'a>(
    theme: &Theme,
    t: &Template,
    plan: &Plan,
    protected: &[String],
) -> Vec<Line<'a>> {
    let error = theme.style(scope::UI_MESSAGE_ERROR);
    let mut lines = Vec::new();
    lines.extend(raw_lines(plan, error));
    for g in &plan.preview.groups {
        let what = match g.kind {
            FormKind::Command => "command",
            FormKind::AgentOp => "agent operation",
        };
        lines.push(Line::styled(
            format!("{} host(s) {} run the {what}:", g.count, g.hosts),
            theme.style(scope::UI_TABLE_HEADER),
        ));
        for (i, line) in g.text.lines().enumerate() {
            let lead = if i == 0 { "$ " } else { "  " };
            lines.push(Line::raw(format!(
                "  {lead}{}",
                sanitize(line.as_bytes(), false)
            )));
        }
    }
    for name in &plan.preview.secret_params {
        lines.push(Line::styled(
            format!("secret `{name}`: sent on stdin, never shown or recorded"),
            theme.dim(),
        ));
    }
    if !plan.refused.is_empty() {
        lines.push(Line::styled(
            format!("refused, will not run: {} host(s)", plan.refused.len()),
            error,
        ));
        for r in &plan.refused {
            lines.push(Line::styled(format!("  {}: {}", r.host, r.reason), error));
        }
    }
    lines.push(Line::raw(format!("guards: {}", guard_summary(plan))));
    // The same rule as the confirmation that follows (action::TargetEnvs).
    let envs = TargetEnvs::of(&plan.request.targets, protected);
    let mut confirm = format!("confirm: {}", level_text(t.confirm, &t.name));
    if !envs.protected.is_empty() {
        confirm.push_str(&format!(
            " · protected env {}: its name is typed",
            envs.protected.join(",")
        ));
    }
    lines.push(Line::styled(confirm, theme.dim()));
    lines
}

/// `raw` parameters first and loud: their values go into the command unquoted.
fn raw_lines<'a>(plan: &Plan, error: Style) -> Vec<Line<'a>> {
    raw_texts(plan)
        .into_iter()
        .map(|text| Line::styled(text, error.add_modifier(Modifier::BOLD)))
        .collect()
}

fn raw_texts(plan: &Plan) -> Vec<String> {
    plan.preview
        .raw_params
        .iter()
        .map(|(name, value)| {
            format!(
                "⚠ RAW `{name}` = {} is inserted UNQUOTED: check it",
                sanitize(value.as_bytes(), false)
            )
        })
        .collect()
}

fn level_text(level: Level, name: &str) -> String {
    match level {
        Level::None => "none (the preview is shown, enter starts)".to_string(),
        Level::Yes => "yes/no".to_string(),
        Level::Typed => format!("typed: the name `{name}` is typed"),
    }
}

/// Why there is no preview yet: every problem.
fn problem_lines<'a>(theme: &Theme, form: &ActionForm, e: &PlanError) -> Vec<Line<'a>> {
    let error = theme.style(scope::UI_MESSAGE_ERROR);
    let mut lines = vec![Line::styled("not ready to run:", error)];
    for p in &e.problems {
        let text = sanitize(form.problem_text(p).as_bytes(), false);
        lines.push(Line::styled(format!("  • {text}"), error));
    }
    if e.problems.is_empty() {
        lines.push(Line::styled("  • the values are not complete", error));
    }
    lines
}

/// The confirmation of an action's run: the blast radius (host count, folded node set,
/// environments), what runs, refused hosts, guards, and what to type. Lines are wrapped to
/// the popup's width here so the instruction at the end is never cut off by wrapping.
pub fn confirm_lines<'a>(
    model: &Model,
    confirm: &Confirm,
    start: &RunStart,
    screen: Rect,
) -> Vec<Line<'a>> {
    let theme = &model.shell.theme;
    let error = theme.style(scope::UI_MESSAGE_ERROR);
    let width = (screen.width.min(crate::ui::app::widgets::popup::WIDTH) as usize)
        .saturating_sub(2)
        .max(10);
    let Some(prepared) = &start.prepared else {
        return Vec::new();
    };
    let plan = &prepared.plan;
    let name = plan
        .request
        .action
        .as_ref()
        .map_or(String::new(), |a| a.name.clone());
    let mut lines: Vec<Line> = Vec::new();
    let push = |lines: &mut Vec<Line<'a>>, text: String, style: Style| {
        for chunk in wrap(&text, width) {
            lines.push(Line::styled(chunk, style));
        }
    };
    let n = start.hosts.len();
    push(
        &mut lines,
        format!(
            "Action `{name}` on {n} host(s): {}",
            crate::inventory::nodeset::fold(start.hosts.iter().map(|h| h.name.as_str()))
        ),
        theme.text(),
    );
    push(
        &mut lines,
        format!("environments: {}", confirm.envs.join(", ")),
        theme.text(),
    );
    for text in raw_texts(plan) {
        push(&mut lines, text, error.add_modifier(Modifier::BOLD));
    }
    for g in &plan.preview.groups {
        let text = sanitize(g.text.as_bytes(), false);
        let first = text.lines().next().unwrap_or_default();
        let more = if text.lines().count() > 1 { " …" } else { "" };
        push(
            &mut lines,
            format!("{} {}: $ {first}{more}", g.count, g.hosts),
            theme.text(),
        );
    }
    if !plan.refused.is_empty() {
        let hosts: Vec<&str> = plan.refused.iter().map(|r| r.host.as_str()).collect();
        push(
            &mut lines,
            format!(
                "refused, not run: {} ({})",
                crate::inventory::nodeset::fold(hosts.iter().copied()),
                hosts.len()
            ),
            error,
        );
    }
    push(
        &mut lines,
        format!("guards: {}", guard_summary(plan)),
        theme.dim(),
    );
    push(&mut lines, String::new(), theme.text());
    // What to type or press is never cut: on a short screen the details above give way
    // (the form's preview shows them in full).
    let head = lines.len();
    match &confirm.required {
        Some(required) => {
            let why = if plan.confirm == Level::Typed && required != &name {
                "protected environment and confirm = typed"
            } else if plan.confirm == Level::Typed {
                "confirm = typed"
            } else {
                "protected environment"
            };
            push(&mut lines, format!("{why}: type this, then enter:"), error);
            push(
                &mut lines,
                format!("  {required}"),
                error.add_modifier(Modifier::BOLD),
            );
            push(&mut lines, format!("> {}", confirm.typed), theme.text());
            push(&mut lines, "esc cancels".to_string(), theme.text());
        }
        None => push(
            &mut lines,
            "enter / y run · esc / n cancel".to_string(),
            theme.text(),
        ),
    }
    let room = (screen.height as usize).saturating_sub(2);
    let tail = lines.len() - head;
    if lines.len() > room && room > tail {
        lines.drain(room - tail..head);
    }
    lines
}

/// `text` wrapped at spaces into lines of at most `width` characters (a longer word is cut);
/// an empty text is one empty line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    // Leading spaces (an indent) are kept on the first line.
    let body = text.trim_start_matches(' ');
    let mut line = " ".repeat((text.len() - body.len()).min(width / 2));
    let mut len = line.len();
    let mut lines = Vec::new();
    let mut first = true;
    for word in body.split(' ') {
        let mut chars: Vec<char> = word.chars().collect();
        if !first && len + 1 + chars.len() > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        } else if !first {
            line.push(' ');
            len += 1;
        }
        first = false;
        while len + chars.len() > width {
            let rest = chars.split_off(width - len);
            line.extend(chars);
            lines.push(std::mem::take(&mut line));
            len = 0;
            chars = rest;
        }
        len += chars.len();
        line.extend(chars);
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(
            wrap("type `prod restart` then", 12),
            ["type `prod", "restart`", "then"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("ab abcdefgh", 4), ["ab", "abcd", "efgh"]);
        assert_eq!(wrap("  ab cd", 10), ["  ab cd"]);
    }
}
