//! Fleet metrics: what a host's load looks like, from wherever it comes. This first part holds
//! the reading of Linux's own counters: the fixed probe an SSH sampler runs (never a command
//! of a user's choosing), its parser, and the rates computed from two readings. Sources,
//! tiers and views build on it (issue 13).
//!
//! No I/O here: the engine runs the probe through a transport and hands the text over.

pub mod probe;
pub mod rates;
pub mod select;

pub use probe::{ProbeError, Reading, parse_probe, probe_command};
pub use rates::{HostSample, sample_between};
