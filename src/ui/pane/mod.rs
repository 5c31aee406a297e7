//! Live output panes: the model and the drawing the console uses for a run's output. Pure:
//! nothing here reads files, the network or the clock.
//!
//! - `Scrollback`: one host's output, bounded in lines and bytes, parsed once on append
//!   (`ansi`: SGR colours kept, every other escape neutralised and shown).
//! - `PaneState`: scroll position, follow, wrap, zoom, search.
//! - `render_pane`, `render_pane_grid`: one pane, or a grid of them (paged when too many).
//! - `MergedStream`: all hosts' lines in arrival order with `host: ` prefixes.
//! - `group_outputs`, `render_grouped`: identical outputs under their folded node set.
//!
//! Drawing costs O(rows shown), whatever the buffer holds (see `geometry`).

mod ansi;
mod draw;
mod geometry;
mod grid;
mod grouped;
mod line;
mod merged;
mod scrollback;
mod search;
mod state;
mod styles;
mod view;

#[cfg(test)]
mod tests;

pub use grid::{GridLayout, MIN_PANE_HEIGHT, MIN_PANE_WIDTH, grid_layout, render_pane_grid};
pub use grouped::{OutputGroup, group_outputs, grouped_row_count, render_grouped};
pub use line::{LineKind, PaneLine};
pub use merged::MergedStream;
pub use scrollback::{Scrollback, ScrollbackCaps};
pub use search::{Jump, MAX_QUERY_CHARS, MatchPos, SearchError, find_matches};
pub use state::{PaneState, SEARCH_CONTEXT, Viewport};
pub use styles::PaneStyles;
pub use view::{pane_viewport, render_pane};
