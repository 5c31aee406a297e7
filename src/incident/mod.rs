//! Incidents: one book for every source of trouble (agent alerts, Alertmanager, metric
//! thresholds, checks), event-sourced in incidents.jsonl; the sources' own parts
//! (`alertmanager`, `threshold`, `check`), the rules that turn incidents into help (`runbook`), the
//! optional `analysis` client and the `notify` sinks.
//!
//! Layout: `model` (what an incident and an observation are), `event` (one line of the
//! book), `fold` (events → incidents, pure), `decide` (what an observation means for the
//! book, pure), `id` (short ids and their prefixes), `scan` and `book` (the file: reading
//! from where it stopped, transactions under a lock, rotation), `stamp`.
//!
//! Sources call [`Book::observe`]; people act through [`Book::ack`], [`Book::resolve`],
//! [`Book::note`]; runbooks and analysis add [`Book::record_action_run`] and
//! [`Book::record_analysis`]. This layer opens no connection: the engine feeds it
//! (engine/incidents.rs turns agent alerts into observations).

pub mod alertmanager;
pub mod analysis;
pub mod book;
pub mod check;
mod config_rules;
pub mod decide;
pub mod event;
pub mod facts;
pub mod fold;
pub mod id;
pub mod model;
pub mod notify;
pub mod runbook;
mod scan;
mod stamp;
pub mod threshold;

pub use book::{Analysis, Book, BookError};
pub use event::{Event, What};
pub use id::IdError;
pub use model::{DedupKey, Incident, Observation, Severity, Source, State, TimelineEntry};

#[cfg(test)]
mod book_tests;
