//! The engine: runs a command across hosts through transports, with a sliding fan-out window,
//! batches and max-fail, bounded output per host, and records of what happened. It never
//! touches the terminal: front ends receive `EngineEvent`s.

pub mod types;

pub use types::{EngineEvent, HostResult, HostState, Limit, RunId, RunRequest, RunResult, Stream};
