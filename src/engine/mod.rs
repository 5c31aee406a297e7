//! The engine: runs a command across hosts through transports, with a sliding fan-out window,
//! batches and max-fail, bounded output per host, and records of what happened. It never
//! touches the terminal: front ends receive `EngineEvent`s.

mod execution;
pub mod fd_limit;
mod forwarder;
pub mod launch;
mod output;
pub mod records;
mod run_output;
pub mod scheduler;
pub mod types;

pub use fd_limit::raise_fd_limit;
pub use records::{AuditRecord, OutputRecord, Records, current_user};
pub use scheduler::{Transports, new_run_id, run};
pub use types::{EngineEvent, HostResult, HostState, Limit, RunId, RunRequest, RunResult, Stream};
