//! The History view: runs read from history.jsonl, newest first, narrowed by `/`; enter opens
//! a run's host table, then one host's recorded output; `r` reruns the failed hosts, `a` its
//! action again. State in state.rs, keys in keys.rs, drawing in view.rs, and the reads the
//! event loop performs for it in load.rs (the only file here that reads; keys and drawing
//! never do).

pub mod keys;
pub mod load;
pub mod state;
pub mod view;

#[cfg(test)]
mod tests;

pub use state::{HistoryPage, HistoryState, RunOutput};
