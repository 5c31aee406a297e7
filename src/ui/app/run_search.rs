//! Search in the focused pane (grid or merged stream): `/` opens a prompt on the pane's last
//! row, enter applies it (every match highlighted, the view moved to one only when it is not
//! already in view), n/N jump with context kept around the match. An empty search clears it.
//! The mechanics are `PaneState`'s; this file is the prompt and the messages.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{Message, Model};
use super::runs_keys::with_target;
use super::update::Effect;
use crate::ui::pane::{Jump, MAX_QUERY_CHARS, MatchPos, Scrollback, find_matches};

/// `/`: an empty prompt (the pane's current search stays until enter replaces it).
pub fn open(model: &mut Model) {
    model.dispatcher.reset();
    model.run_search = Some(String::new());
}

/// Keys while the prompt is open: text edits it, enter applies, esc closes it.
pub fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let Some(query) = model.run_search.as_mut() else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => model.run_search = None,
        KeyCode::Char('c') if ctrl => model.run_search = None,
        KeyCode::Enter => {
            let query = std::mem::take(query);
            model.run_search = None;
            apply(model, &query);
        }
        // Like the command line: backspace on an empty prompt closes it.
        KeyCode::Backspace if query.is_empty() => model.run_search = None,
        KeyCode::Backspace => {
            query.pop();
        }
        KeyCode::Char(c) if !ctrl && query.chars().count() < MAX_QUERY_CHARS => query.push(c),
        _ => {}
    }
    Vec::new()
}

fn apply(model: &mut Model, query: &str) {
    let outcome = with_target(model, |pane, sb, view| {
        let jump = pane.set_search(query, sb, view);
        jump.map(|j| (j, position(sb, query, pane.current_match())))
    });
    model.message = Some(match outcome {
        None => Message::Info("no pane to search".to_string()),
        Some(Err(e)) => Message::Error(e.to_string()),
        Some(Ok((Jump::NoQuery, _))) => Message::Info("search cleared".to_string()),
        Some(Ok((Jump::NotFound, _))) => Message::Info(format!("/{query}: no match")),
        Some(Ok((_, (at, total)))) => {
            Message::Info(format!("/{query}: match {at} of {total} (n/N jump)"))
        }
    });
}

/// `n` (`forward`) or `N`.
pub fn jump(model: &mut Model, forward: bool) {
    let outcome = with_target(model, |pane, sb, view| {
        let jump = if forward {
            pane.next_match(sb, view)
        } else {
            pane.prev_match(sb, view)
        };
        let query = pane.search_query().unwrap_or_default().to_string();
        let at = position(sb, &query, pane.current_match());
        (jump, query, at)
    });
    model.message = match outcome {
        None => Some(Message::Info("no pane to search".to_string())),
        Some((Jump::NoQuery, ..)) => Some(Message::Info("no search: / searches".to_string())),
        Some((Jump::NotFound, query, _)) => Some(Message::Info(format!("/{query}: no match"))),
        Some((Jump::Wrapped, query, (at, total))) => {
            let side = if forward { "top" } else { "bottom" };
            Some(Message::Info(format!(
                "/{query}: match {at} of {total} (wrapped to the {side})"
            )))
        }
        Some((Jump::Found, query, (at, total))) => {
            Some(Message::Info(format!("/{query}: match {at} of {total}")))
        }
    };
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
