//! The full-screen console (`fleetdeck tui`), shaped like television and gitui: input, ticks
//! and engine events become [`Msg`]s handled by one [`update`], which returns
//! [`Effect`]s for the loop to perform; [`views::render`] draws a [`Model`] and never does I/O.
//!
//! The console is a shell and its rooms. The shell (shell.rs) holds what every view shares:
//! the view shown, the [`Popup`] that has the keys (popup.rs: filter and search prompts, the
//! `:` command line, help, confirmations, the passphrase), keymap, theme, message line and
//! the [`ScreenLayout`] that drawing and keys both place things by (layout.rs). Each view is
//! a folder with its state, keys, drawing and tests: fleet/ (table with metrics, `/` filter,
//! sort, marks, `:target`), runs/ (runs from the console: table, pane grid, merged and grouped
//! outputs, search, rerun, cancel, pause), metrics/ (heatmap, top lists, the focused host's
//! charts), incidents/ (the incident book: grouped list, detail, ack, resolve, note),
//! history/ (recorded runs and their output) and actions/ (templates, the parameter form).
//! Shared parts: the text input of every `/` prompt (text_input.rs), list and pane keys
//! (pane_keys.rs), the `:` commands (commands.rs), confirmations (confirm.rs), and the shell's
//! drawing (views/).

pub mod actions;
mod commands;
mod confirm;
pub mod connections;
pub mod event_loop;
pub mod fleet;
pub mod history;
pub mod incident_task;
pub mod incidents;
pub mod layout;
pub mod metrics;
pub mod model;
pub mod msg;
mod pane_keys;
pub mod passphrase;
pub mod popup;
pub mod run_task;
pub mod runs;
pub mod secret;
pub mod shell;
pub mod terminal;
pub mod text_input;
pub mod update;
pub mod view_id;
pub mod views;
pub mod widgets;

#[cfg(test)]
mod connection_tests;
#[cfg(test)]
mod help_tests;
#[cfg(test)]
mod tests;

pub use layout::ScreenLayout;
pub use model::{Model, View};
pub use popup::Popup;
pub use shell::{Message, Shell};
pub use update::{Effect, Msg, update};
