//! The engine's metric collectors: which source samples each host (`plan`), the SSH probe
//! over pooled connections (`probe_run`, `ssh`; `probe_only` is the transport a read-only
//! front end holds, able to run nothing but the probe), and the metrics log (`log`: averages
//! appended to metrics/*.jsonl and read back when a session opens). Agent heartbeats are
//! turned into samples where they arrive (session::collect).

pub mod collectors;
pub mod exporter;
pub mod log;
pub mod once;
pub mod plan;
pub mod probe_only;
pub mod probe_run;
mod rounds;
pub mod ssh;

pub use plan::{Plan, plan_for};
pub use probe_only::ProbeOnly;
pub use probe_run::{ProbeFailure, probe};
