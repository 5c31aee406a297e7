//! The home's watcher lock: `fleetdeck watch` holds an exclusive flock on state/watch.lock for
//! its life, so two watchers of one home never both send notifications. The file says who
//! holds it (pid, user@machine, start time) for the one turned away. The kernel drops a flock
//! when its holder dies, so a lock left by a crash is simply taken.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::current_user;
use crate::config::home::ensure_private_dir;
use crate::diag::Error;
use crate::store::now_rfc3339;

/// Held while this lives (closing the file releases the flock).
#[derive(Debug)]
pub struct WatchLock {
    _file: File,
}

/// Who holds the lock, as its holder wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub user: String,
    pub started: String,
}

/// The lock, or who has it.
#[derive(Debug)]
pub enum Taken {
    Held(WatchLock),
    /// Another process holds it; its record if it could be read (it may be mid-write).
    Busy(Option<Holder>),
}

/// Takes the lock at `path` without waiting.
pub fn take(path: &Path) -> Result<Taken, Error> {
    if let Some(dir) = path.parent() {
        ensure_private_dir(dir)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io(path, "cannot open the watcher lock", e))?;
    // SAFETY: flock on a descriptor we own and keep open; no memory is involved.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::WouldBlock {
            let mut text = String::new();
            let holder = file
                .read_to_string(&mut text)
                .ok()
                .and_then(|_| serde_json::from_str(text.trim()).ok());
            return Ok(Taken::Busy(holder));
        }
        return Err(Error::io(path, "cannot lock the watcher lock", err));
    }
    let me = Holder {
        pid: std::process::id(),
        user: current_user(),
        started: now_rfc3339(),
    };
    let mut text = serde_json::to_string(&me)
        .map_err(|e| Error::Invalid(format!("cannot encode the watcher lock: {e}")))?;
    text.push('\n');
    let write = |f: &mut File| -> io::Result<()> {
        f.set_len(0)?;
        f.seek(SeekFrom::Start(0))?;
        f.write_all(text.as_bytes())
    };
    write(&mut file).map_err(|e| Error::io(path, "cannot write the watcher lock", e))?;
    Ok(Taken::Held(WatchLock { _file: file }))
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} ({}, since {})",
            self.pid, self.user, self.started
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_told_who_holds_it_until_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/watch.lock");
        let Taken::Held(first) = take(&path).unwrap() else {
            panic!("first take failed");
        };
        // A second open file description excludes like a second process would.
        match take(&path).unwrap() {
            Taken::Busy(Some(h)) => assert_eq!(h.pid, std::process::id()),
            other => panic!("{other:?}"),
        }
        drop(first);
        assert!(matches!(take(&path).unwrap(), Taken::Held(_)));
    }
}
