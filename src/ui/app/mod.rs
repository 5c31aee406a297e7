//! The full-screen console (`fleetdeck tui`), shaped like television and gitui: input, ticks
//! and engine events become [`Msg`]s handled by one [`update`], which returns
//! [`Effect`]s for the loop to perform; [`views::render`] draws a [`Model`] and never does I/O.
//!
//! Built so far: the Fleet view (table, `/` fuzzy filter, marks), running from the console
//! (`!` / `:run CMD` → confirmation → the engine in a task, `run_task`), the Runs view (run
//! list; host table, pane grid with zoom, merged stream, grouped outputs; pane search; rerun
//! of failed hosts: `runs*.rs`, `run_*.rs`), the Actions view (template list, parameter form
//! with live preview, `:action NAME`: `action*.rs`), the tab bar with honest notes for the views
//! other work brings, `?` help from the live keymap, the `:` command line (`:run`, `:target`,
//! `:theme`, `:help`, `:q`, with completion and history) and the status bar.

pub mod action_form;
mod action_keys;
pub mod actions;
mod commands;
mod confirm;
pub mod connections;
pub mod event_loop;
mod filter;
pub mod history;
mod history_keys;
pub mod history_load;
pub mod model;
mod pane_keys;
pub mod passphrase;
pub mod run_layout;
pub mod run_rerun;
mod run_search;
pub mod run_task;
pub mod runs;
mod runs_keys;
pub mod terminal;
pub mod update;
pub mod views;

#[cfg(test)]
mod action_tests;
#[cfg(test)]
mod connection_tests;
#[cfg(test)]
mod help_tests;
#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod run_tests;
#[cfg(test)]
mod tests;

pub use model::{Message, Mode, Model, View};
pub use update::{Effect, Msg, update};
