//! The wallboard (`fleetdeck wallboard`): a read-only team screen for a tmux pane, shaped like
//! the console (Msg → `update` → outcome; a view that renders the model and never does I/O)
//! but holding only a [`FleetReader`](crate::engine::FleetReader): its loop takes a reader, its
//! `update` can ask for nothing but quitting, so no key can start, cancel or lock anything.
//! Pages (page.rs) rotate; state.rs holds the model, keys.rs every key, status.rs each host's
//! status and the counts line, pages/ one file per page, view.rs the frame, event_loop.rs
//! the loop (reader changes, a 1 s tick, keys, SIGTERM/SIGHUP).
//!
//! Nothing here can reach a session; this does not compile (the loop takes a reader, E0308):
//!
//! ```compile_fail,E0308
//! async fn give_it_a_session(
//!     t: &mut ratatui::DefaultTerminal,
//!     wb: &mut fleetdeck::ui::wallboard::Wallboard,
//!     session: fleetdeck::engine::FleetSession,
//! ) {
//!     let _ = fleetdeck::ui::wallboard::event_loop::run(t, wb, session, 30).await;
//! }
//! ```
//!
//! and the only outcome of `update` besides drawing is quitting:
//!
//! ```
//! use fleetdeck::ui::wallboard::update::Outcome;
//! fn what_it_can_ask(o: Outcome) -> &'static str {
//!     match o {
//!         Outcome::Unchanged => "nothing",
//!         Outcome::Redraw => "draw",
//!         Outcome::Quit => "quit",
//!     }
//! }
//! ```

pub mod event_loop;
pub mod keys;
pub mod page;
pub mod pages;
pub mod state;
pub mod status;
pub mod update;
pub mod view;

#[cfg(test)]
mod tests;

pub use page::{Page, Pages};
pub use state::Wallboard;
