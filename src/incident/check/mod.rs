//! `[[checks]]`: recurring validations whose failures open incidents. `rule` is the
//! config.toml entry and its validation; `url` fills a check URL's `{name}`/`{address}` for
//! one host. No I/O here: the runner (engine/checks/) probes hosts and writes the book.

pub mod rule;
pub mod url;

#[cfg(test)]
mod tests;

pub use rule::{ActionProbe, Check, HttpProbe, Probe};
