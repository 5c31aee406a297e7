//! The status bar: view, marked count, hosts shown of the total, runs running, queued (the
//! queue's depth) and paused, failures, pooled and failed connections, a chord in progress,
//! clock. Each count is a word, never a colour alone.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::engine::ConnState;
use crate::ui::app::model::Model;
use crate::ui::theme::scope;

pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.shell.theme;
    let bar = theme.style(scope::UI_STATUSLINE);
    let mut left = vec![
        Span::styled(
            format!(" {} ", model.shell.view.title().to_uppercase()),
            theme.style(scope::UI_STATUSLINE_VIEW),
        ),
        Span::raw(format!(
            " {} marked │ {}/{} hosts",
            model.fleet.marked.len(),
            model.fleet.shown.len(),
            model.inventory.len()
        )),
    ];
    let crate::ui::app::runs::state::InFlight {
        running,
        paused,
        queued,
    } = model.runs.in_flight_counts();
    if running > 0 {
        left.push(Span::raw(format!(" │ {running} running")));
    }
    if paused > 0 {
        left.push(Span::raw(format!(", {paused} paused")));
    }
    if queued > 0 {
        left.push(Span::raw(format!(" │ {queued} queued")));
    }
    // Failures of the run shown: what the on-call engineer acts on next.
    let failed = model.selected_run().map_or(0, |r| r.counts().failed);
    if failed > 0 {
        left.push(Span::styled(
            format!(" │ {failed} failed"),
            theme.style(scope::UI_MESSAGE_ERROR),
        ));
    }
    // Only where something connects: an all-local fleet has no connections to count.
    let connecting = model
        .connections
        .by_host
        .values()
        .any(|s| !matches!(s, ConnState::Local | ConnState::NotTracked));
    if connecting {
        left.push(Span::raw(format!(
            " │ {} pooled",
            model.connections.pooled()
        )));
        let failed = model.connections.failed();
        if failed > 0 {
            left.push(Span::styled(
                format!(", {failed} conn failed"),
                theme.style(scope::UI_MESSAGE_ERROR),
            ));
        }
    }
    // Open incidents by severity, in words: what pages the on-call engineer.
    if let Some(counts) = crate::ui::app::incidents::view::status_counts(&model.incidents) {
        let [crit, ..] = model.incidents.frame.active_by_severity();
        let style = if crit > 0 {
            theme.style(scope::UI_MESSAGE_ERROR)
        } else {
            bar
        };
        left.push(Span::styled(format!(" │ {counts}"), style));
    }
    // A notification sink that fails is said everywhere: the page it should send is not going out.
    if model.incidents.notify.iter().any(|n| n.failing()) {
        left.push(Span::styled(
            " │ notify failing (4)",
            theme.style(scope::UI_MESSAGE_ERROR),
        ));
    }
    if let Some(t) = &model.fleet.target {
        left.push(Span::raw(format!(" │ target {}", t.selector)));
    }
    let pending = model.shell.dispatcher.pending_text();
    if !pending.is_empty() {
        left.push(Span::raw(format!(" │ {pending}…")));
    }
    let clock = format!("{} ", model.shell.clock);
    let used: usize = left.iter().map(|s| s.width()).sum();
    let gap = (area.width as usize).saturating_sub(used + clock.chars().count());
    left.push(Span::raw(" ".repeat(gap)));
    left.push(Span::raw(clock));
    frame.render_widget(Paragraph::new(Line::from(left)).style(bar), area);
}
