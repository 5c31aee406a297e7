//! What a run leaves behind: a line in history.jsonl (the `RunResult`), its output in
//! runs/<id>.jsonl, and who/what/where/result lines in audit.jsonl.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use super::audit::AuditRecord;
use super::types::{RunResult, Stream};
use crate::config::Home;
use crate::config::settings::StoreSettings;
use crate::store::{JsonlWriter, Rotation, SCHEMA_VERSION, StoreError};

/// Where a run's records go, and how history and audit rotate.
#[derive(Debug, Clone)]
pub struct Records {
    history: PathBuf,
    audit: PathBuf,
    runs_dir: PathBuf,
    /// Markers of the runs in flight (run_marker.rs).
    running_dir: PathBuf,
    rotation: Rotation,
}

/// One line of runs/<id>.jsonl (after "v"/"ts"): a piece of one host's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputRecord {
    pub host: String,
    pub stream: Stream,
    /// UTF-8; invalid bytes are replaced (a character split across pieces is kept whole).
    pub data: String,
}

/// Starts the stderr record that says a host's output stopped being recorded at the cap.
pub const NOT_RECORDED_PREFIX: &str = "[fleetdeck: ";

/// The text of that record: `[fleetdeck: 1234 more bytes not recorded (output cap 65536 bytes)]`.
pub fn not_recorded_note(bytes: u64, cap: usize) -> String {
    format!("{NOT_RECORDED_PREFIX}{bytes} more bytes not recorded (output cap {cap} bytes)]\n")
}

impl Records {
    /// history.jsonl, audit.jsonl and runs/<id>.jsonl under `home`. History and audit rotate
    /// by `store`; a run's output file never rotates (it is bounded by the per-host cap).
    pub fn new(home: &Home, store: &StoreSettings) -> Self {
        Records {
            history: home.history_file(),
            audit: home.audit_file(),
            runs_dir: home.runs_dir(),
            running_dir: home.state_dir.join("running"),
            rotation: Rotation {
                max_bytes: store.rotate_at.0,
                keep: usize::try_from(store.keep).unwrap_or(usize::MAX),
            },
        }
    }

    pub fn history_path(&self) -> PathBuf {
        self.history.clone()
    }

    /// Where runs in flight keep their markers.
    pub fn running_dir(&self) -> PathBuf {
        self.running_dir.clone()
    }

    pub fn audit_path(&self) -> PathBuf {
        self.audit.clone()
    }

    /// runs/<id>.jsonl. Characters that cannot be part of a ULID are replaced by `_`, so an id
    /// can never name a file outside runs/.
    pub fn run_output_path(&self, id: &str) -> PathBuf {
        let safe: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.runs_dir.join(format!("{safe}.jsonl"))
    }

    /// Appends a finished run to history.jsonl.
    pub fn append_history(&self, result: &RunResult) -> Result<(), StoreError> {
        JsonlWriter::open(&self.history, self.rotation, SCHEMA_VERSION)?.append(result)
    }

    /// Appends one line to audit.jsonl.
    pub fn append_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        JsonlWriter::open(&self.audit, self.rotation, SCHEMA_VERSION)?.append(record)
    }

    /// Appends one line to audit.jsonl where failing must not stop what it records (the run or
    /// the operator's action happened, or goes on): a full disk is logged, never fatal.
    pub fn audit(&self, record: &AuditRecord) {
        if let Err(e) = self.append_audit(record) {
            tracing::warn!(run = %record.run_id, action = %record.action, error = %e,
                "cannot write the audit record; what it records goes on");
        }
    }

    /// Opens runs/<id>.jsonl for appending output records.
    pub(crate) fn open_run_output(&self, id: &str) -> Result<JsonlWriter, StoreError> {
        JsonlWriter::open(&self.run_output_path(id), Rotation::NEVER, SCHEMA_VERSION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_stay_inside_runs_dir() {
        let home = Home::under(std::path::Path::new("/tmp/fd-home"));
        let records = Records::new(&home, &StoreSettings::default());
        let path = records.run_output_path("../../etc/passwd");
        assert_eq!(path.parent(), Some(home.runs_dir().as_path()));
        assert_eq!(
            records.run_output_path("01J0ABC").file_name().unwrap(),
            "01J0ABC.jsonl"
        );
    }
}
