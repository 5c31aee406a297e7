//! The engine: runs a command across hosts through transports, with a sliding fan-out window,
//! batches and max-fail, bounded output per host, and records of what happened. It never
//! touches the terminal: front ends receive `EngineEvent`s.

pub mod alertmanager_feed;
pub mod alertmanager_hook;
pub mod audit;
pub mod breaker;
pub mod checks;
pub mod context;
pub mod criteria;
mod execution;
pub mod fd_limit;
mod forwarder;
pub mod host_slots;
pub(crate) mod http_serve;
pub mod incident_notices;
pub mod incidents;
pub mod interrupted;
pub mod launch;
pub mod locks;
mod output;
pub mod prom_listen;
pub mod queue;
pub mod records;
pub mod retry;
pub mod run_marker;
mod run_output;
mod run_stats;
pub mod sampling;
pub mod scheduler;
pub mod session;
pub mod status;
pub mod threshold_feed;
pub mod transports;
pub mod types;

pub use crate::config::current_user;
pub use context::{RunContext, RunControl};
pub use fd_limit::raise_fd_limit;
pub use queue::{QueueSnapshot, RunQueue, Steer, SubmitError};
pub use records::{AuditRecord, OutputRecord, Records};
pub use run_stats::read_stats;
pub use scheduler::{new_run_id, run, run_in};
pub use session::{
    AnalysisAsk, ENGINE_CHANNEL, FleetReader, FleetSession, FleetSnapshot, IncidentOpError,
    IncidentWritten, IncidentsFrame, SessionEvent, SessionOptions, Subscription,
};
pub use transports::Transports;
pub use types::{
    ActionUse, EngineEvent, Guards, HostResult, HostState, Limit, Priority, RetryOn, RetryPolicy,
    RunId, RunRequest, RunResult, RunStatus, SECRET_MASK, Stream, SuccessCriteria,
};

// What front ends show of the transports (connection state, why a host failed, how a command
// ended) is the engine's vocabulary: the UI never names `crate::transport`.
pub use crate::transport::ssh::PassphraseFn;
pub use crate::transport::{ConnState, ErrorKind, ExitOutcome};
