//! The alert journal's error type; every variant says which file or consumer it is about.

use std::path::{Path, PathBuf};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Appending to or reading the JSONL journal failed (the message names the file).
    #[error("alert journal: {0}")]
    Store(#[from] StoreError),
    #[error("alert journal: {}: {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "alert journal: {}: unreadable acknowledgements ({message}); fix or delete the file (consoles then get every alert in the journal again)",
        path.display()
    )]
    BadAcks { path: PathBuf, message: String },
    #[error(
        "alert journal in {}: another process (a second agent?) has it open; stop it or give this agent another data folder",
        dir.display()
    )]
    InUse { dir: PathBuf },
    #[error("consumer `{consumer}` acknowledged alert {seq}, but the newest alert is {last}")]
    AckBeyondLast {
        consumer: String,
        seq: u64,
        last: u64,
    },
    #[error("consumer `{consumer}`: {message}")]
    BadConsumer { consumer: String, message: String },
}

impl JournalError {
    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        JournalError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}
