//! One file per page, each a render function of the model into its area (trippy's layout):
//! fleet.rs, metrics.rs, incidents.rs, runs.rs. Shared here: the panel box with the age of its
//! data in its title, and whether the area is so small that boxes are left out.

pub mod fleet;
pub mod incidents;
pub mod metrics;
pub mod runs;

use std::time::{Duration, SystemTime};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Block;

use super::page::Page;
use super::state::Wallboard;
use crate::ui::app::widgets::metric::age_text;

pub fn render(frame: &mut Frame, area: Rect, wb: &Wallboard) {
    match wb.current() {
        Page::Fleet => fleet::render(frame, area, wb),
        Page::Metrics => metrics::render(frame, area, wb),
        Page::Incidents => incidents::render(frame, area, wb),
        Page::Runs => runs::render(frame, area, wb),
    }
}

/// Below this many rows or columns a page draws without borders (a small tmux split).
const BOXED_MIN_ROWS: u16 = 8;
const BOXED_MIN_COLS: u16 = 36;

/// A page's panel: a bordered box with `title`, or in a small area only the title on the
/// first line; returns the area left for the content.
pub(super) fn panel(frame: &mut Frame, area: Rect, wb: &Wallboard, title: String) -> Rect {
    let theme = &wb.theme;
    if area.is_empty() {
        return area;
    }
    if area.height < BOXED_MIN_ROWS || area.width < BOXED_MIN_COLS {
        let line = Line::styled(title.trim().to_string(), theme.title(true));
        frame.render_widget(line, Rect { height: 1, ..area });
        return Rect {
            y: area.y + 1,
            height: area.height.saturating_sub(1),
            ..area
        };
    }
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::from(title))
        .title_style(theme.title(true));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// `5s ago` from `at` to `now` (`never` without a time).
pub(super) fn ago(at: Option<SystemTime>, now: SystemTime) -> String {
    match at {
        Some(at) => format!(
            "{} ago",
            age_text(now.duration_since(at).unwrap_or(Duration::ZERO))
        ),
        None => "never".to_string(),
    }
}

/// The age of an RFC 3339 time at `now` (`?` when it cannot be read).
pub(super) fn age_of(ts: &str, now: SystemTime) -> String {
    match time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339) {
        Ok(at) => age_text(
            now.duration_since(SystemTime::from(at))
                .unwrap_or(Duration::ZERO),
        ),
        Err(_) => "?".to_string(),
    }
}

/// Text from a file or a source made safe for one line of the terminal.
pub(super) fn clean(text: &str) -> String {
    crate::ui::printers::sanitize::sanitize(text.as_bytes(), false).replace(['\n', '\r', '\t'], " ")
}
