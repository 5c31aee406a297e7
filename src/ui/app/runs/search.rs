//! Search in the focused pane (grid or merged stream): `/` opens a prompt on the pane's last
//! row, enter applies it (every match highlighted, the view moved to one only when it is not
//! already in view), n/N jump with context kept around the match. An empty search clears it.
//! The mechanics are `PaneState`'s, the typing `TextInput`'s; this file is the prompt and the
//! messages.

use ratatui::crossterm::event::KeyEvent;

use super::keys::with_target;
use super::state::RunsState;
use crate::ui::app::popup::Popup;
use crate::ui::app::shell::Shell;
use crate::ui::app::text_input::{Edit, TextInput};
use crate::ui::pane::{Jump, MAX_QUERY_CHARS, MatchPos, Scrollback, find_matches};

/// `/`: an empty prompt (the pane's current search stays until enter replaces it).
pub fn open(shell: &mut Shell) {
    shell.open(Popup::Search(TextInput::search(MAX_QUERY_CHARS)));
}

/// Keys while the prompt is open: text edits it, enter applies, esc closes it.
pub fn on_key(runs: &mut RunsState, shell: &mut Shell, key: &KeyEvent) {
    let Popup::Search(input) = &mut shell.popup else {
        return;
    };
    match input.on_key(key) {
        Edit::Submit => {
            let query = input.take();
            shell.close();
            apply(runs, shell, &query);
        }
        Edit::Cancel => {
            shell.close();
        }
        Edit::Changed | Edit::Ignored => {}
    }
}

fn apply(runs: &mut RunsState, shell: &mut Shell, query: &str) {
    let outcome = with_target(runs, &shell.layout, |pane, sb, view| {
        let jump = pane.set_search(query, sb, view);
        jump.map(|j| (j, position(sb, query, pane.current_match())))
    });
    match outcome {
        None => shell.info("no pane to search"),
        Some(Err(e)) => shell.error(e.to_string()),
        Some(Ok((Jump::NoQuery, _))) => shell.info("search cleared"),
        Some(Ok((Jump::NotFound, _))) => shell.info(format!("/{query}: no match")),
        Some(Ok((_, (at, total)))) => {
            shell.info(format!("/{query}: match {at} of {total} (n/N jump)"));
        }
    }
}

/// `n` (`forward`) or `N`.
pub fn jump(runs: &mut RunsState, shell: &mut Shell, forward: bool) {
    let outcome = with_target(runs, &shell.layout, |pane, sb, view| {
        let jump = if forward {
            pane.next_match(sb, view)
        } else {
            pane.prev_match(sb, view)
        };
        let query = pane.search_query().unwrap_or_default().to_string();
        let at = position(sb, &query, pane.current_match());
        (jump, query, at)
    });
    match outcome {
        None => shell.info("no pane to search"),
        Some((Jump::NoQuery, ..)) => shell.info("no search: / searches"),
        Some((Jump::NotFound, query, _)) => shell.info(format!("/{query}: no match")),
        Some((Jump::Wrapped, query, (at, total))) => {
            let side = if forward { "top" } else { "bottom" };
            shell.info(format!(
                "/{query}: match {at} of {total} (wrapped to the {side})"
            ));
        }
        Some((Jump::Found, query, (at, total))) => {
            shell.info(format!("/{query}: match {at} of {total}"));
        }
    }
}

/// The current match's number (from 1) and the count of matches. It reads the whole
/// scrollback, which is bounded, once per key press.
fn position(sb: &Scrollback, query: &str, current: Option<MatchPos>) -> (usize, usize) {
    let all = find_matches(sb, query).unwrap_or_default();
    let at = current
        .and_then(|c| all.iter().position(|m| *m == c))
        .map_or(0, |i| i + 1);
    (at, all.len())
}
