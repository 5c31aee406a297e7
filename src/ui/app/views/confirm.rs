//! The confirmation popup: before a run, the host count, folded node set and environments
//! (and, for protected environments, the name to type); before quitting with runs in flight.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::super::widgets::popup::render_popup;

use crate::ui::app::model::Model;
use crate::ui::app::popup::{Confirm, ConfirmKind};
use crate::ui::printers::sanitize::sanitize;
use crate::ui::theme::scope;

pub fn render(frame: &mut Frame, screen: Rect, model: &Model, confirm: &Confirm) {
    let theme = &model.shell.theme;
    let (title, lines) = match &confirm.kind {
        ConfirmKind::Quit => (
            " quit? ",
            vec![
                Line::raw(format!(
                    "{} run(s) in flight will be cancelled (remote commands stopped) and recorded.",
                    model.runs_in_flight()
                )),
                Line::raw(""),
                Line::raw("y quit · n / esc stay"),
            ],
        ),
        ConfirmKind::CancelRun(id) => (
            " cancel run? ",
            crate::ui::app::runs::list_view::cancel_lines(model, id),
        ),
        ConfirmKind::Run(start) if start.prepared.is_some() => (
            " run action? ",
            crate::ui::app::actions::form_view::confirm_lines(model, confirm, start, screen),
        ),
        ConfirmKind::Run(start) => {
            let n = start.hosts.len();
            let noun = if n == 1 { "host" } else { "hosts" };
            let mut lines = vec![
                Line::raw(format!("Run on {n} {noun}: {}", start.selector)),
                Line::raw(format!("environments: {}", confirm.envs.join(", "))),
                Line::raw(format!("$ {}", sanitize(start.command.as_bytes(), false))),
                Line::raw(""),
            ];
            match &confirm.required {
                Some(required) => {
                    lines.push(Line::styled(
                        format!("protected environment: type `{required}` then enter"),
                        theme.style(scope::UI_MESSAGE_ERROR),
                    ));
                    lines.push(Line::raw(format!("> {}", confirm.typed)));
                    lines.push(Line::raw("esc cancels"));
                }
                None => lines.push(Line::raw("enter / y run · esc / n cancel")),
            }
            (" run? ", lines)
        }
    };
    let height = lines.len() as u16 + 2;
    render_popup(frame, screen, theme, title, lines, height);
}
