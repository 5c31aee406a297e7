//! The run statistics panel: over the last `STATS_WINDOW`, per command or action its runs,
//! host executions, success rate, average and p95 duration and most frequent failure kind,
//! then the totals, the console's runs running and queued, and runs other processes started
//! without an end. Draws the panel's last answer (`Msg::StatsLoaded`) and the runs the model
//! holds; reads nothing. Each group takes two lines (a side column is too narrow for one);
//! below `FULL_ROWS` rows it shortens to one line each, the totals and the queue first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::state::STATS_WINDOW;
use crate::metrics::stats::{RunStats, Summary};
use crate::ui::app::model::Model;
use crate::ui::printers::history::{clean, shorten};
use crate::ui::theme::{Theme, scope};

/// Rows the two-line table needs: its heading, a group, the totals and the queue.
const FULL_ROWS: usize = 7;
/// Columns of the numbers after a group's name: runs (4), host executions (5), spaces.
const COUNTS_W: usize = 11;

pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.shell.theme;
    let hours = STATS_WINDOW.as_secs() / 3600;
    let title = if area.width >= 30 {
        format!(" run statistics, last {hours}h ")
    } else {
        format!(" runs, last {hours}h ")
    };
    let block = Block::bordered()
        .border_style(theme.border(false))
        .title(title)
        .title_style(theme.style(scope::UI_TITLE));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = lines(model, usize::from(inner.width), usize::from(inner.height));
    frame.render_widget(
        Paragraph::new(lines).style(theme.style(scope::UI_TEXT)),
        inner,
    );
}

/// What the panel says, most important first (a short panel shows the first lines).
fn lines(model: &Model, width: usize, height: usize) -> Vec<Line<'static>> {
    let theme = &model.shell.theme;
    let dim = theme.style(scope::UI_TEXT_DIM);
    let live = live_line(model, width);
    let (stats, warnings) = match &model.metrics.stats.result {
        None => return vec![Line::styled("loading…", dim), live],
        Some(Err(e)) => {
            let text = shorten(&clean(e).replace('\n', " "), width);
            return vec![
                Line::styled(text, theme.style(scope::UI_MESSAGE_ERROR)),
                live,
            ];
        }
        Some(Ok((stats, warnings))) => (stats, *warnings),
    };
    // Runs of this console are in the audit too; the rest started elsewhere (or crashed).
    let elsewhere = stats
        .unfinished
        .iter()
        .filter(|id| !model.runs.list.iter().any(|r| &r.id == *id))
        .count();
    let mut tail = vec![live];
    if elsewhere > 0 {
        let text = format!("{elsewhere} unfinished in other processes");
        tail.push(Line::styled(
            shorten(&text, width),
            theme.style(scope::STATE_RUNNING),
        ));
    }
    if warnings > 0 {
        let text = format!("{warnings} warnings: see `fleetdeck stats`");
        tail.push(Line::styled(shorten(&text, width), dim));
    }
    if stats.totals.runs == 0 {
        let hours = STATS_WINDOW.as_secs() / 3600;
        let mut out = vec![Line::styled(format!("no runs in the last {hours}h"), dim)];
        out.extend(tail);
        return out;
    }
    if height < FULL_ROWS {
        return compact(stats, theme, tail, width);
    }
    full(stats, theme, tail, width, height)
}

/// One line each: the totals, the queue, then groups as long as there is room.
fn compact(
    stats: &RunStats,
    theme: &Theme,
    tail: Vec<Line<'static>>,
    width: usize,
) -> Vec<Line<'static>> {
    let t = &stats.totals;
    let mut totals = format!(
        "{} runs · {} hosts · {}",
        t.runs,
        t.host_executions,
        percent(t)
    );
    // "ok" only when it fits: the number matters more.
    if totals.chars().count() + 3 <= width {
        totals.push_str(" ok");
    }
    let mut out = vec![Line::styled(
        shorten(&totals, width),
        theme.style(scope::UI_TABLE_HEADER),
    )];
    out.extend(tail);
    for g in &stats.groups {
        let counts = format!(" {:>4} {:>4}", g.summary.runs, percent(&g.summary));
        let name_w = width.saturating_sub(counts.chars().count());
        let name = fit(g.subject.name(), name_w);
        out.push(Line::raw(format!("{name}{counts}")));
    }
    out
}

/// Two lines each under a two-line heading, as many groups as fit.
fn full(
    stats: &RunStats,
    theme: &Theme,
    tail: Vec<Line<'static>>,
    width: usize,
    height: usize,
) -> Vec<Line<'static>> {
    let head = theme.style(scope::UI_TABLE_HEADER);
    let name_w = width.saturating_sub(COUNTS_W);
    let mut out = vec![
        Line::styled(
            format!(
                "{} {:>4} {:>5}",
                fit("command / action", name_w),
                "runs",
                "hosts"
            ),
            head,
        ),
        Line::styled(
            shorten(
                &format!("  {:>4} {:>5} {:>5} {}", "ok", "avg", "p95", "top failure"),
                width,
            ),
            head,
        ),
    ];
    // The totals (two lines) and the tail come first; the groups share what is left.
    let mut tail = tail;
    let room = height.saturating_sub(out.len() + 2);
    tail.truncate(room.saturating_sub(2).max(1));
    let room = room.saturating_sub(tail.len());
    let total = stats.groups.len();
    let shown = total.min(room / 2);
    for g in stats.groups.iter().take(shown) {
        out.extend(group_lines(
            g.subject.name(),
            &g.summary,
            theme,
            Style::default(),
            width,
        ));
    }
    // The groups left out are counted when a line is left for it (the totals cover them).
    if shown < total && room > shown * 2 {
        out.push(Line::styled(
            format!("… {} more", total - shown),
            theme.style(scope::UI_TEXT_DIM),
        ));
    }
    out.extend(group_lines("total", &stats.totals, theme, head, width));
    out.extend(tail);
    out
}

/// A group's two lines: its name, runs and host executions; then success, durations and the
/// most frequent failure.
fn group_lines(
    name: &str,
    s: &Summary,
    theme: &Theme,
    style: Style,
    width: usize,
) -> [Line<'static>; 2] {
    let name_w = width.saturating_sub(COUNTS_W);
    let first = format!(
        "{} {:>4} {:>5}",
        fit(name, name_w),
        s.runs,
        s.host_executions
    );
    let numbers = format!(
        "  {:>4} {:>5} {:>5}",
        percent(s),
        duration(s.avg_duration_ms),
        duration(s.p95_duration_ms.map(|ms| ms as f64))
    );
    let mut second = Line::raw(shorten(&numbers, width));
    let room = width.saturating_sub(numbers.chars().count() + 1);
    if let Some((kind, n)) = s.failures_by_count().first()
        && room > 1
    {
        let text = shorten(&format!(" {} {n}", clean(kind)), room + 1);
        second.push_span(ratatui::text::Span::styled(
            text,
            theme.style(scope::STATE_FAILED),
        ));
    }
    [Line::styled(first, style), second]
}

/// "running N · queued M", with the paused ones when there are.
fn live_line(model: &Model, width: usize) -> Line<'static> {
    let c = model.runs.in_flight_counts();
    let mut text = format!("running {}", c.running);
    if c.paused > 0 {
        text.push_str(&format!(" ({} paused)", c.paused));
    }
    text.push_str(&format!(" · queued {}", c.queued));
    let style = if c.running + c.queued > 0 {
        model.shell.theme.style(scope::STATE_RUNNING)
    } else {
        model.shell.theme.style(scope::UI_TEXT_DIM)
    };
    Line::styled(shorten(&text, width), style)
}

/// A name on one line, shortened or padded to `width` characters.
fn fit(name: &str, width: usize) -> String {
    let one_line = clean(name).replace(['\n', '\t'], " ");
    format!("{:<width$}", shorten(&one_line, width))
}

/// Hosts that ended ok, in whole percent; never "100%" unless all did.
fn percent(s: &Summary) -> String {
    match s.success_rate {
        Some(r) if r < 1.0 => format!("{}%", ((r * 100.0).floor() as u64).min(99)),
        Some(_) => "100%".to_string(),
        None => "-".to_string(),
    }
}

/// A duration in at most five characters: 850ms, 12.3s, 4.5m, 2.0h.
fn duration(ms: Option<f64>) -> String {
    let Some(ms) = ms else {
        return "-".to_string();
    };
    let secs = ms / 1000.0;
    if ms < 999.5 {
        format!("{}ms", ms.round() as u64)
    } else if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3600.0 {
        format!("{:.1}m", secs / 60.0)
    } else {
        format!("{:.1}h", secs / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fit_five_columns() {
        assert_eq!(duration(None), "-");
        assert_eq!(duration(Some(849.6)), "850ms");
        assert_eq!(duration(Some(12_340.0)), "12.3s");
        assert_eq!(duration(Some(270_000.0)), "4.5m");
        assert_eq!(duration(Some(7_200_000.0)), "2.0h");
    }

    #[test]
    fn almost_all_ok_is_not_rounded_up_to_all() {
        let s = |r| Summary {
            success_rate: r,
            ..Summary::default()
        };
        assert_eq!(percent(&s(Some(0.996))), "99%");
        assert_eq!(percent(&s(Some(1.0))), "100%");
        assert_eq!(percent(&s(None)), "-");
    }
}
