//! Incidents: rules that turn facts into help (runbooks, thresholds) and the optional
//! analysis client. The book itself (incidents.jsonl) lives beside these.

pub mod analysis;
pub mod facts;
pub mod runbook;
pub mod threshold;
