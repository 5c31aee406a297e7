//! The one error type of the store; every variant names the file it is about.

use std::path::{Path, PathBuf};

/// Why a JSONL file could not be written or read. Damaged lines are not errors: readers report
/// them in [`ReadReport`](super::ReadReport) and carry on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file system call failed; `action` says what was being done ("open", "rotate", …).
    #[error("{}: {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The record did not serialize to a JSON object (JSONL lines are objects).
    #[error("{}: record is not a JSON object", path.display())]
    NotAnObject { path: PathBuf },
    /// The record could not be serialized (or carries a conflicting `"v"`).
    #[error("{}: cannot serialize record: {source}", path.display())]
    Serialize {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The serialized line is longer than readers accept ([`MAX_LINE_BYTES`](super::MAX_LINE_BYTES)).
    #[error("{}: record is {bytes} bytes, more than the {max} a line may hold", path.display())]
    TooLarge {
        path: PathBuf,
        bytes: usize,
        max: usize,
    },
}

impl StoreError {
    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    /// The file this error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. }
            | Self::NotAnObject { path }
            | Self::Serialize { path, .. }
            | Self::TooLarge { path, .. } => path,
        }
    }
}
