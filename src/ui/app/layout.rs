//! Where everything sits on screen, computed in one place from the terminal's size: drawing
//! places the chrome and each view's areas by it, and the keys scroll panes and page lists by
//! the same numbers (the model keeps the layout of the last resize). It computes rectangles
//! only; it draws nothing.
//!
//! ```text
//! ┌ tabs ──────────────────────────────────────────┐  1 row
//! │ body: the view on screen                        │
//! │   runs:    list (≤ 8 rows, ≤ 1/5 of the body)   │
//! │            the selected run's line              │  1 row
//! │            content (table or panes)             │
//! │   history: an opened run's header               │  2 rows
//! │            its host table or output pane        │
//! ├ status bar ────────────────────────────────────┤  1 row
//! └ message or prompt line ────────────────────────┘  1 row
//! ```

use ratatui::layout::{Constraint, Layout, Rect};

/// Rows inside a list's box that are not rows of it: borders and header.
const TABLE_CHROME_ROWS: u16 = 3;
/// The most rows the Runs view's run list takes (older runs scroll).
const MAX_RUN_LIST_ROWS: u16 = 8;
/// Rows of an opened History run's header above its host table or output pane.
const HISTORY_HEADER_ROWS: u16 = 2;

/// The console's chrome for one terminal size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenLayout {
    pub screen: Rect,
    pub tabs: Rect,
    /// Where the view on screen draws.
    pub body: Rect,
    pub status: Rect,
    /// The message, or the `:` / `/` line being typed.
    pub line: Rect,
}

/// The Runs view's areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunsAreas {
    pub list: Rect,
    /// One line about the selected run.
    pub detail: Rect,
    /// The selected run's table or panes.
    pub content: Rect,
}

/// An opened History run's areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryAreas {
    pub header: Rect,
    /// The host table, or one host's output pane.
    pub content: Rect,
}

impl Default for ScreenLayout {
    /// A classic 80x24 terminal, until the first resize says otherwise.
    fn default() -> Self {
        ScreenLayout::new(Rect::new(0, 0, 80, 24))
    }
}

impl ScreenLayout {
    pub fn new(screen: Rect) -> Self {
        let [tabs, body, status, line] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(screen);
        ScreenLayout {
            screen,
            tabs,
            body,
            status,
            line,
        }
    }

    /// This layout when it was made for `screen`, else one for `screen` (a frame drawn at
    /// another size than the last resize, as tests do).
    pub fn for_screen(self, screen: Rect) -> Self {
        if self.screen == screen {
            self
        } else {
            ScreenLayout::new(screen)
        }
    }

    /// Rows a bordered list with a header shows: what `C-d` / `C-u` move by half of.
    pub fn page_rows(&self) -> usize {
        usize::from(self.body.height.saturating_sub(TABLE_CHROME_ROWS).max(1))
    }

    /// The Runs view's areas when it has `runs` runs (with none, the body holds a note).
    pub fn runs(&self, runs: usize) -> RunsAreas {
        if runs == 0 {
            return RunsAreas {
                list: Rect::new(self.body.x, self.body.y, self.body.width, 0),
                detail: Rect::new(self.body.x, self.body.y, self.body.width, 0),
                content: self.body,
            };
        }
        let list = u16::try_from(runs)
            .unwrap_or(u16::MAX)
            .min(MAX_RUN_LIST_ROWS)
            // Panes need the room more than old runs do: a fifth of the body at most.
            .min((self.body.height / 5).max(1));
        let [list, detail, content] = Layout::vertical([
            Constraint::Length(list),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(self.body);
        RunsAreas {
            list,
            detail,
            content,
        }
    }

    /// An opened History run's areas.
    pub fn history(&self) -> HistoryAreas {
        let [header, content] =
            Layout::vertical([Constraint::Length(HISTORY_HEADER_ROWS), Constraint::Min(1)])
                .areas(self.body);
        HistoryAreas { header, content }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chrome_takes_three_rows_and_the_body_the_rest() {
        let l = ScreenLayout::new(Rect::new(0, 0, 80, 24));
        assert_eq!(l.tabs, Rect::new(0, 0, 80, 1));
        assert_eq!(l.body, Rect::new(0, 1, 80, 21));
        assert_eq!(l.status, Rect::new(0, 22, 80, 1));
        assert_eq!(l.line, Rect::new(0, 23, 80, 1));
        assert_eq!(l.page_rows(), 18);
        assert_eq!(ScreenLayout::new(Rect::new(0, 0, 80, 12)).page_rows(), 6);
    }

    #[test]
    fn the_run_list_takes_at_most_a_fifth_of_the_body() {
        let l = ScreenLayout::new(Rect::new(0, 0, 80, 24));
        assert_eq!(l.runs(0).content, l.body);
        let a = l.runs(3);
        assert_eq!(
            (a.list.height, a.detail.height, a.content.height),
            (3, 1, 17)
        );
        assert_eq!(l.runs(30).list.height, 4);
        assert_eq!(l.history().content, Rect::new(0, 3, 80, 19));
    }
}
