//! Alerts: watchers and the on-disk alert journal with sequence numbers.
//!
//! Watchers ([`spawn_watchers`], configured by `[[watchers]]` tables: [`WatcherConfig`])
//! check a systemd unit, a process, a log file or a metric at an interval and append an
//! alert to the [`Journal`] when their condition turns bad and a resolved alert when it
//! clears, never at every check. The journal numbers alerts (1, 2, 3, … never reused, also
//! across restarts) and remembers per consumer (a console) what it acknowledged, so the
//! agent server can deliver each alert to each console exactly once: on connect it sends
//! [`Journal::after`] the consumer's [`Journal::acked`] and then live alerts from
//! [`Journal::subscribe`]; the console's `ack` goes to [`Journal::ack`].

mod acks;
mod condition;
mod config;
mod error;
mod journal;
mod logfile;
mod process;
mod systemd;
mod threshold;
mod watchers;

pub use acks::{MAX_CONSUMER_NAME, MAX_CONSUMERS};
pub use config::{
    DEFAULT_MAX_READ, DEFAULT_QUIET, MIN_INTERVAL, MetricName, ProcessMatch, WatcherConfig,
    WatcherKind, check_unique_names,
};
pub use error::JournalError;
pub use journal::{JOURNAL_ROTATION, Journal, MAX_AFTER};
pub use watchers::spawn_watchers;
