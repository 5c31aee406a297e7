//! Per-consumer acknowledgements of the alert journal, kept in one small JSON file that is
//! replaced atomically (written to a temporary file, synced, renamed over the old one).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::JournalError;

/// The acks file's schema version.
const ACKS_VERSION: u32 = 1;

/// Longest consumer name accepted (consumer names come from clients: bounded).
pub const MAX_CONSUMER_NAME: usize = 256;

/// Most consumers remembered; a console is one consumer (`user@machine`), so this is far
/// more than a fleet's on-call team, and bounds what a client can make the agent store.
pub const MAX_CONSUMERS: usize = 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcksFile {
    v: u32,
    acks: BTreeMap<String, u64>,
}

/// The acknowledged sequence number of every consumer, as on disk.
#[derive(Debug)]
pub(crate) struct Acks {
    path: PathBuf,
    acks: BTreeMap<String, u64>,
}

impl Acks {
    /// Reads `path`; a missing file means nobody acknowledged anything yet.
    pub(crate) fn load(path: &Path) -> Result<Acks, JournalError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Acks {
                    path: path.to_path_buf(),
                    acks: BTreeMap::new(),
                });
            }
            Err(e) => return Err(JournalError::io(path, "read acknowledgements", e)),
        };
        let file: AcksFile = serde_json::from_str(&text).map_err(|e| JournalError::BadAcks {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if file.v != ACKS_VERSION {
            return Err(JournalError::BadAcks {
                path: path.to_path_buf(),
                message: format!("schema version {} is not {ACKS_VERSION}", file.v),
            });
        }
        Ok(Acks {
            path: path.to_path_buf(),
            acks: file.acks,
        })
    }

    pub(crate) fn get(&self, consumer: &str) -> u64 {
        self.acks.get(consumer).copied().unwrap_or(0)
    }

    /// The highest sequence number anyone acknowledged (0 if none).
    pub(crate) fn max(&self) -> u64 {
        self.acks.values().copied().max().unwrap_or(0)
    }

    /// Moves `consumer` forward to `seq` and persists it; returns whether anything changed
    /// (an older or equal `seq` changes nothing: acknowledgements never move backwards).
    pub(crate) fn advance(&mut self, consumer: &str, seq: u64) -> Result<bool, JournalError> {
        if consumer.is_empty() || consumer.len() > MAX_CONSUMER_NAME {
            return Err(JournalError::BadConsumer {
                consumer: consumer.chars().take(64).collect(),
                message: format!("a consumer name must be 1 to {MAX_CONSUMER_NAME} bytes"),
            });
        }
        let current = self.acks.get(consumer).copied();
        if current.is_some_and(|c| c >= seq) {
            return Ok(false);
        }
        if current.is_none() && self.acks.len() >= MAX_CONSUMERS {
            return Err(JournalError::BadConsumer {
                consumer: consumer.to_string(),
                message: format!(
                    "the agent already tracks {MAX_CONSUMERS} consumers; remove stale ones from {}",
                    self.path.display()
                ),
            });
        }
        let mut next = self.acks.clone();
        next.insert(consumer.to_string(), seq);
        write_atomically(&self.path, &next)?;
        self.acks = next;
        Ok(true)
    }
}

/// Writes the acks to `path.tmp`, syncs it, renames it over `path` and syncs the folder, so
/// a crash leaves either the old or the new file, never a mix.
fn write_atomically(path: &Path, acks: &BTreeMap<String, u64>) -> Result<(), JournalError> {
    let body = serde_json::to_vec_pretty(&AcksFile {
        v: ACKS_VERSION,
        acks: acks.clone(),
    })
    .map_err(|e| JournalError::io(path, "encode acknowledgements", io::Error::other(e)))?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| JournalError::io(&tmp, "create", e))?;
    file.write_all(&body)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| JournalError::io(&tmp, "write", e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| JournalError::io(path, "replace (rename)", e))?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Makes the rename itself durable; on file systems that refuse to sync a folder the
        // rename has still happened, so a failure here is not worth failing the ack over.
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_persists_and_never_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acks.json");
        let mut acks = Acks::load(&path).unwrap();
        assert_eq!(acks.get("a"), 0);
        assert!(acks.advance("a", 5).unwrap());
        assert!(!acks.advance("a", 3).unwrap());
        assert!(!acks.advance("a", 5).unwrap());
        assert!(acks.advance("b", 2).unwrap());
        let again = Acks::load(&path).unwrap();
        assert_eq!((again.get("a"), again.get("b"), again.max()), (5, 2, 5));
        assert!(!dir.path().join("acks.json.tmp").exists());
    }

    #[test]
    fn bad_names_and_a_damaged_file_are_errors_naming_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acks.json");
        let mut acks = Acks::load(&path).unwrap();
        assert!(acks.advance("", 1).is_err());
        assert!(acks.advance(&"x".repeat(MAX_CONSUMER_NAME + 1), 1).is_err());
        fs::write(&path, "{\"v\":1,\"acks\":{\"a\":").unwrap();
        let err = Acks::load(&path).unwrap_err().to_string();
        assert!(err.contains("acks.json"), "{err}");
        assert!(err.contains("delete"), "{err}");
    }
}
