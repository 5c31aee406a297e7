//! Keys shared by the views that show lists and output panes: moving a list cursor
//! (History's run list and host table, the Runs view's host table) and scrolling, following
//! and wrapping one output pane (a History host's recorded output, a Runs pane).

use crate::ui::keymap::Action;
use crate::ui::pane::{PaneState, Scrollback, Viewport};

/// Moves `cursor` over a list of `len` rows (`page_rows` on screen); `false` when `action`
/// does not move a cursor, so the caller can give it another meaning.
pub fn move_cursor(cursor: &mut usize, len: usize, page_rows: usize, action: Action) -> bool {
    let last = len.saturating_sub(1);
    let half = (page_rows / 2).max(1);
    *cursor = match action {
        Action::MoveDown => (*cursor + 1).min(last),
        Action::MoveUp => cursor.saturating_sub(1),
        Action::Top => 0,
        Action::Bottom => last,
        Action::HalfPageDown => (*cursor + half).min(last),
        Action::HalfPageUp => cursor.saturating_sub(half),
        _ => return false,
    };
    true
}

/// Whether `action` scrolls, follows or wraps a pane (what [`scroll_pane`] handles).
pub fn is_pane_key(action: Action) -> bool {
    matches!(
        action,
        Action::MoveDown
            | Action::MoveUp
            | Action::Top
            | Action::Bottom
            | Action::HalfPageDown
            | Action::HalfPageUp
            | Action::Follow
            | Action::Wrap
    )
}

/// Scrolls, follows or wraps `pane` showing `sb` in `view`; `false` when `action` is none of
/// those.
pub fn scroll_pane(pane: &mut PaneState, sb: &Scrollback, view: Viewport, action: Action) -> bool {
    let half = usize::from(view.height / 2).max(1);
    match action {
        Action::Follow => pane.toggle_follow(sb, view),
        // `G` resumes following, like less +F.
        Action::Bottom => pane.follow(),
        Action::Top => pane.scroll_to_top(sb, view),
        Action::MoveDown => pane.scroll_down(sb, view, 1),
        Action::MoveUp => pane.scroll_up(sb, view, 1),
        Action::HalfPageDown => pane.scroll_down(sb, view, half),
        Action::HalfPageUp => pane.scroll_up(sb, view, half),
        Action::Wrap => pane.toggle_wrap(sb, view),
        _ => return false,
    }
    true
}
