//! Incidents: the sources that raise them (Alertmanager, thresholds), the rules that turn
//! them into help (runbooks), the optional analysis client and the notifiers. The book itself
//! (incidents.jsonl) lives beside these.

pub mod alertmanager;
pub mod analysis;
pub mod facts;
pub mod notify;
pub mod runbook;
pub mod threshold;
