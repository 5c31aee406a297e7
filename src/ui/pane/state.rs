//! What the reader did to a pane: scroll position, follow, wrap, zoom and search. Pure state:
//! each change takes the scrollback and the pane's viewport (the console knows its layout, see
//! `pane_viewport` and `grid_layout`), and the renderer reads it without changing it.
//!
//! Follow never fights the reader: while following, the view shows the newest rows; any move
//! up pauses it, and then new output does not move the view (lines dropped from the top move
//! it only as far as they must). Scrolling down stops at the bottom and stays paused; `G`
//! (`follow`) or `f` (`toggle_follow`) resumes.

use super::geometry::{Anchor, Geometry};
use super::scrollback::Scrollback;
use super::search::{self, Jump, MatchPos, Search, SearchError};

/// Rows kept above a match that a jump brings into view (fewer in a small pane).
pub const SEARCH_CONTEXT: usize = 3;

/// The size of a pane's text area (inside its border).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Viewport {
    pub width: u16,
    pub height: u16,
}

#[derive(Debug, Clone)]
pub struct PaneState {
    follow: bool,
    /// The top row while paused (meaningless while following).
    top: Anchor,
    /// `end_seq` when follow paused, to tell how many lines arrived since.
    paused_end: u64,
    wrap: bool,
    zoomed: bool,
    search: Option<Search>,
}

impl Default for PaneState {
    fn default() -> Self {
        Self::new()
    }
}

impl PaneState {
    /// Following, not wrapped, not zoomed, no search.
    pub fn new() -> Self {
        PaneState {
            follow: true,
            top: Anchor::default(),
            paused_end: 0,
            wrap: false,
            zoomed: false,
            search: None,
        }
    }

    pub fn is_following(&self) -> bool {
        self.follow
    }

    pub fn is_wrapped(&self) -> bool {
        self.wrap
    }

    pub fn is_zoomed(&self) -> bool {
        self.zoomed
    }

    /// Lines that arrived since follow paused (0 while following).
    pub fn new_lines_while_paused(&self, sb: &Scrollback) -> u64 {
        if self.follow {
            0
        } else {
            sb.end_seq().saturating_sub(self.paused_end)
        }
    }

    /// `G`: back to the newest output, following it.
    pub fn follow(&mut self) {
        self.follow = true;
    }

    /// `f`: pause where the view is, or resume following.
    pub fn toggle_follow(&mut self, sb: &Scrollback, view: Viewport) {
        if self.follow {
            let top = self.top_row(sb, view);
            self.pause_at(top, sb);
        } else {
            self.follow();
        }
    }

    /// Moves the view up `rows` rows (pausing follow if it moved).
    pub fn scroll_up(&mut self, sb: &Scrollback, view: Viewport, rows: usize) {
        let g = self.geometry(sb, view);
        let top = self.top(&g, usize::from(view.height));
        let to = g.back(top, rows);
        if to != top {
            self.pause_at(to, sb);
        }
    }

    /// Moves the view down `rows` rows, no further than the last row; stays paused.
    pub fn scroll_down(&mut self, sb: &Scrollback, view: Viewport, rows: usize) {
        if self.follow {
            return;
        }
        let g = self.geometry(sb, view);
        let height = usize::from(view.height);
        let top = self.top(&g, height);
        self.top = g.forward(top, rows).min(g.bottom(height));
    }

    /// `g`: the oldest line kept (pausing follow).
    pub fn scroll_to_top(&mut self, sb: &Scrollback, view: Viewport) {
        let g = self.geometry(sb, view);
        let start = g.start();
        if self.follow && g.bottom(usize::from(view.height)) == start {
            return; // everything is on screen already: nothing to pause for
        }
        self.pause_at(start, sb);
    }

    /// `w`: wrap long lines or cut them at the pane's edge. The line at the top stays there.
    pub fn toggle_wrap(&mut self, sb: &Scrollback, view: Viewport) {
        if !self.follow {
            let top = self.top_row(sb, view);
            self.top = Anchor {
                seq: top.seq,
                row: 0,
            };
        }
        self.wrap = !self.wrap;
    }

    /// `z`: this pane fills the grid (the grid reads the flag of the focused pane).
    pub fn toggle_zoom(&mut self) {
        self.zoomed = !self.zoomed;
    }

    /// `/query`: highlights every match and jumps to one: the newest while following, else
    /// the first at or after the top of the view. An empty query clears the search. The view
    /// moves (and follow pauses) only when the match is not already in view.
    pub fn set_search(
        &mut self,
        query: &str,
        sb: &Scrollback,
        view: Viewport,
    ) -> Result<Jump, SearchError> {
        if query.is_empty() {
            self.clear_search();
            return Ok(Jump::NoQuery);
        }
        let mut s = Search::new(query)?;
        let found = if self.follow {
            search::prev_from(sb, &s.regex, sb.end_seq(), 0)
        } else {
            let top = self.top_row(sb, view);
            search::next_from(sb, &s.regex, top.seq, 0)
        };
        s.current = found.map(|(m, _)| m);
        self.search = Some(s);
        Ok(self.land(found, sb, view))
    }

    pub fn clear_search(&mut self) {
        self.search = None;
    }

    pub fn search_query(&self) -> Option<&str> {
        self.search.as_ref().map(|s| s.query.as_str())
    }

    pub fn current_match(&self) -> Option<MatchPos> {
        self.search.as_ref().and_then(|s| s.current)
    }

    /// `n`: the next match after the current one (or after the top of the view).
    pub fn next_match(&mut self, sb: &Scrollback, view: Viewport) -> Jump {
        let (seq, at) = match self.current_match() {
            Some(m) => (m.seq, next_char(sb, m)),
            None => (self.top_row(sb, view).seq, 0),
        };
        let Some(s) = &self.search else {
            return Jump::NoQuery;
        };
        let found = search::next_from(sb, &s.regex, seq, at);
        self.land(found, sb, view)
    }

    /// `N`: the match before the current one (or before the bottom of the view).
    pub fn prev_match(&mut self, sb: &Scrollback, view: Viewport) -> Jump {
        let (seq, at) = match self.current_match() {
            Some(m) => (m.seq, m.start),
            None => {
                let g = self.geometry(sb, view);
                let height = usize::from(view.height);
                let below = g.forward(self.top(&g, height), height);
                (below.seq, 0)
            }
        };
        let Some(s) = &self.search else {
            return Jump::NoQuery;
        };
        let found = search::prev_from(sb, &s.regex, seq, at);
        self.land(found, sb, view)
    }

    pub(super) fn search(&self) -> Option<&Search> {
        self.search.as_ref()
    }

    /// The top row a frame of `height` rows shows now.
    pub(super) fn top(&self, g: &Geometry<'_>, height: usize) -> Anchor {
        let bottom = g.bottom(height);
        if self.follow {
            bottom
        } else {
            g.clamp(self.top).min(bottom)
        }
    }

    fn top_row(&self, sb: &Scrollback, view: Viewport) -> Anchor {
        let g = self.geometry(sb, view);
        self.top(&g, usize::from(view.height))
    }

    fn geometry<'a>(&self, sb: &'a Scrollback, view: Viewport) -> Geometry<'a> {
        Geometry {
            sb,
            width: usize::from(view.width),
            wrap: self.wrap,
        }
    }

    fn pause_at(&mut self, top: Anchor, sb: &Scrollback) {
        if self.follow {
            self.follow = false;
            self.paused_end = sb.end_seq();
        }
        self.top = top;
    }

    /// Makes `found` the current match and brings it into view with context around it.
    fn land(&mut self, found: Option<(MatchPos, bool)>, sb: &Scrollback, view: Viewport) -> Jump {
        let Some((m, wrapped)) = found else {
            return Jump::NotFound;
        };
        if let Some(s) = &mut self.search {
            s.current = Some(m);
        }
        self.reveal(m, sb, view);
        if wrapped { Jump::Wrapped } else { Jump::Found }
    }

    fn reveal(&mut self, m: MatchPos, sb: &Scrollback, view: Viewport) {
        let g = self.geometry(sb, view);
        let height = usize::from(view.height).max(1);
        let target = Anchor {
            seq: m.seq,
            row: g.row_at(m.seq, m.start),
        };
        let top = self.top(&g, height);
        let bottom = g.bottom(height);
        let context = SEARCH_CONTEXT.min((height - 1) / 2);
        if let Some(above) = g.distance(top, target, height - 1) {
            let below = height - 1 - above;
            let room_above = above >= context || top == g.start();
            let room_below = below >= context || top >= bottom;
            if room_above && room_below {
                return;
            }
        }
        let to = g.back(target, context).min(bottom);
        if self.follow && to == bottom {
            return; // following already shows it there
        }
        self.pause_at(to, sb);
    }
}

/// The byte after the first character of `m`: where `n` looks next (matches may overlap).
fn next_char(sb: &Scrollback, m: MatchPos) -> usize {
    sb.get(m.seq)
        .and_then(|l| l.text().get(m.start..))
        .and_then(|rest| rest.chars().next())
        .map_or(m.end, |c| m.start + c.len_utf8())
}
