//! `[[thresholds]]`: metric limits that open incidents. `rule` is the config.toml entry and
//! its validation; `eval` the pure evaluator fed with samples, which reports breaches firing
//! and clearing. No I/O here: the collector that feeds it and the book it writes to are
//! elsewhere.

pub mod eval;
pub mod rule;

#[cfg(test)]
mod tests;

pub use eval::{Breach, Evaluator, Observation};
pub use rule::{Bound, Threshold};
