//! Front ends. `printers` format headless CLI output; they never read files or the network.

pub mod printers;
