//! `update`: a key, a clock tick or a new reader snapshot changes the model, and says whether
//! the screen must be redrawn or the wallboard quit. Quitting is the only thing it can ask
//! for: there is no effect that runs, cancels, locks or writes anything.

use std::time::SystemTime;

use ratatui::crossterm::event::KeyEvent;

use super::keys;
use super::state::Wallboard;
use crate::engine::FleetSnapshot;

/// What the loop hands to `update`.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal changed size: everything is drawn again.
    Resize,
    /// The clock (once a second): ages move, pages rotate.
    Tick {
        now: SystemTime,
        clock: String,
    },
    /// The reader's picture changed.
    Snapshot(Box<FleetSnapshot>),
}

/// What the loop does after `update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing shown changed (an ignored key, a snapshot showing nothing new).
    Unchanged,
    Redraw,
    Quit,
}

pub fn update(wb: &mut Wallboard, msg: Msg) -> Outcome {
    match msg {
        Msg::Key(key) => keys::handle(wb, key),
        Msg::Resize => Outcome::Redraw,
        Msg::Tick { now, clock } => {
            wb.now = now;
            wb.clock = clock;
            if wb.next_rotation().is_some_and(|at| now >= at) {
                wb.show(wb.page + 1);
            }
            // Shown ages and the clock move with every second.
            Outcome::Redraw
        }
        Msg::Snapshot(snap) => {
            if wb.picture.take(*snap, wb.now) {
                Outcome::Redraw
            } else {
                Outcome::Unchanged
            }
        }
    }
}
