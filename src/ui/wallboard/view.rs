//! Draws the wallboard: a header (the pages with the one on screen, rotation or pause, the
//! clock), the counts line (`✖2 ▲5 · 498/500 up · 1 running`), the page, and a footer with
//! the keys (under `--lock`, how to quit). From 40x10 to 300x80: below 60 columns the header
//! names only the page on screen. Renders the model; never does I/O.
//!
//! ```text
//! ┌ fleetdeck wallboard  [1 fleet] 2 metrics 3 incidents 4 runs   next in 12s  12:00:00 ┐ header
//! ✖2 ▲5 · 498/500 up · 1 running                                                      counts
//! ┌ fleet · 500 hosts · worst first · sampled 1s ago ──────────────────────────────┐
//! │ …                                                                                │ page
//! └──────────────────────────────────────────────────────────────────────────────────┘
//! ←/→ 1-4 page · space pause · q quit                        read-only: no commands run footer
//! ```

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::pages;
use super::state::{UNLOCK_WORD, Wallboard};
use super::status::{counts_line, status_doc};
use crate::ui::app::widgets::metric::age_text;
use crate::ui::theme::{Graphics, scope};

/// Below this width the header shows only the page on screen.
const WIDE: u16 = 60;

pub fn render(frame: &mut Frame, wb: &Wallboard) {
    let area = frame.area();
    frame.render_widget(Block::default().style(wb.theme.background()), area);
    let [header, counts, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(frame, header, wb);
    render_counts(frame, counts, wb);
    pages::render(frame, body, wb);
    render_footer(frame, footer, wb);
}

fn ascii(wb: &Wallboard) -> bool {
    wb.graphics == Graphics::Ascii || wb.theme.ascii_symbols()
}

/// Where rotation stands: `next in 12s`, `paused`, or nothing without rotation.
fn rotation_text(wb: &Wallboard) -> Option<String> {
    if wb.paused {
        return Some(if ascii(wb) { "|| paused" } else { "⏸ paused" }.to_string());
    }
    let at = wb.next_rotation()?;
    let left = at.duration_since(wb.now).unwrap_or(Duration::ZERO);
    // Rounded up: `next in 0s` would be shown for most of the last second.
    Some(format!(
        "next in {}",
        age_text(Duration::from_secs(
            left.as_secs() + u64::from(left.subsec_nanos() > 0)
        ))
    ))
}

fn render_header(frame: &mut Frame, area: Rect, wb: &Wallboard) {
    let theme = &wb.theme;
    let mut right = Vec::new();
    if let Some(text) = rotation_text(wb) {
        right.push(text);
    }
    if !wb.clock.is_empty() {
        right.push(wb.clock.clone());
    }
    let right = format!("{} ", right.join("  "));
    let right_w = right.chars().count() as u16;
    let tabs: Vec<String> = wb
        .pages
        .iter()
        .enumerate()
        .map(|(i, page)| format!(" {} {} ", i + 1, page.name()))
        .collect();
    const NAME: &str = "fleetdeck wallboard ";
    let tabs_w = (NAME.len() + tabs.iter().map(|t| t.chars().count()).sum::<usize>()) as u16;
    let mut left: Vec<Span> = Vec::new();
    if area.width >= WIDE && tabs_w + right_w < area.width {
        left.push(Span::styled(NAME, theme.style(scope::UI_STATUSLINE_VIEW)));
        for (i, text) in tabs.into_iter().enumerate() {
            left.push(Span::styled(text, theme.tab(i == wb.page)));
        }
    } else {
        left.push(Span::styled(
            format!(
                " {} {}/{} ",
                wb.current().name(),
                wb.page + 1,
                wb.pages.len()
            ),
            theme.tab(true),
        ));
    }
    let line = Line::from(left).style(theme.style(scope::UI_STATUSLINE));
    frame.render_widget(
        Paragraph::new(line).style(theme.style(scope::UI_STATUSLINE)),
        area,
    );
    let left_w = Line::from(Span::raw(format!(
        " {} {}/{} ",
        wb.current().name(),
        wb.page + 1,
        wb.pages.len()
    )))
    .width() as u16;
    // What does not fit beside the page's name is left out rather than drawn over it.
    if left_w + right_w <= area.width {
        let at = Rect::new(area.right() - right_w, area.y, right_w, 1);
        frame.render_widget(Line::styled(right, theme.style(scope::UI_STATUSLINE)), at);
    }
}

fn render_counts(frame: &mut Frame, area: Rect, wb: &Wallboard) {
    let theme = &wb.theme;
    let doc = status_doc(wb);
    let style = if doc.incidents.crit > 0 {
        theme.style(scope::METRIC_CRITICAL)
    } else if doc.incidents.warn > 0 || doc.hosts.down > 0 {
        theme.style(scope::METRIC_HIGH)
    } else {
        theme.text()
    };
    let mut spans = vec![Span::styled(counts_line(&doc, ascii(wb)), style)];
    if let Some(problem) = &wb.picture.problem {
        spans.push(Span::styled(
            format!(" · {}", pages::clean(problem)),
            theme.style(scope::UI_MESSAGE_ERROR),
        ));
    }
    frame.render_widget(Line::from(spans), area);
}

fn render_footer(frame: &mut Frame, area: Rect, wb: &Wallboard) {
    let theme = &wb.theme;
    let key: Style = theme.style(scope::UI_HELP_KEY);
    let dim = theme.dim();
    let n = wb.pages.len();
    let arrows = if ascii(wb) { "<-/->" } else { "←/→" };
    if wb.lock.is_some() && area.width < WIDE {
        // A small split has room for one thing: how to get out.
        let line = Line::from(vec![
            Span::styled("locked: type ", theme.style(scope::UI_MESSAGE_ERROR)),
            Span::styled(format!("{UNLOCK_WORD} + enter"), key),
            Span::styled(" to quit", dim),
        ]);
        frame.render_widget(line, area);
        return;
    }
    let mut spans = vec![
        Span::styled(format!("{arrows} 1-{n}"), key),
        Span::styled(" page · ", dim),
        Span::styled("space", key),
        Span::styled(
            if wb.paused {
                " resume · "
            } else {
                " pause · "
            },
            dim,
        ),
    ];
    match &wb.lock {
        Some(_) => {
            spans.push(Span::styled(
                "locked: ",
                theme.style(scope::UI_MESSAGE_ERROR),
            ));
            spans.push(Span::styled(format!("type {UNLOCK_WORD} + enter"), key));
            spans.push(Span::styled(" to quit", dim));
        }
        None => {
            spans.push(Span::styled("q", key));
            spans.push(Span::styled(" quit", dim));
        }
    }
    if area.width >= 100 {
        spans.push(Span::styled(
            " · read-only: runs nothing, agents read with read tokens",
            dim,
        ));
    }
    frame.render_widget(Line::from(spans), area);
}
