//! The home's status snapshot (`status.json` in the data folder): a few counts that long-running
//! front ends (the console, `fleetdeck watch`, the wallboard) rewrite every couple of seconds, so
//! that `fleetdeck status` answers from one small file without contacting a host or folding
//! incidents.jsonl. The model and its counting are pure (doc.rs); file.rs reads and writes it;
//! writer.rs is the task a front end starts next to its session or reader.

mod doc;
mod file;
mod writer;

pub use doc::{
    HostCounts, HostHealth, IncidentCounts, RunCounts, STATUS_VERSION, StatusDoc, WriterKind,
    host_health,
};
pub use file::{Freshness, STALE_AFTER, freshness, pid_alive, read_status, write_status};
pub use writer::{REFRESH_AFTER, WRITE_EVERY, spawn_status_writer};
