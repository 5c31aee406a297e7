//! The Runs view: runs started from the console, each host's state and output in a table, a
//! grid of panes, the merged stream or the grouped outputs; pane search; rerun of failed
//! hosts; cancel and pause. State in run.rs (one run) and state.rs (the view), layouts in
//! layout.rs, keys in keys.rs (with search.rs, rerun.rs and control.rs: cancel, pause and
//! the engine's and queue's news), drawing in view.rs, list_view.rs and panes_view.rs. It
//! starts nothing itself: a confirmed run is an `Effect::StartRun` the event loop performs.

pub mod control;
pub mod keys;
pub mod layout;
pub mod list_view;
pub mod panes_view;
pub mod rerun;
pub mod run;
pub mod search;
pub mod state;
pub mod view;

#[cfg(test)]
pub(crate) mod tests;

pub use layout::RunLayout;
pub use run::{RunStart, RunView};
pub use state::RunsState;
