//! Front ends. `printers` format headless CLI output; they never read files or the network.

pub mod app;
pub mod keymap;
pub mod pane;
pub mod printers;
pub mod theme;
pub mod wallboard;
