//! The sidecar lock file (`name.jsonl.lock`) that orders appends against rotation across
//! processes: appenders hold it shared, rotation holds it exclusive.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::StoreError;

/// `history.jsonl` → `history.jsonl.lock`.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// An open lock file. Each `LockFile` is its own open file description, so two of them in one
/// process exclude each other just like two processes do.
#[derive(Debug)]
pub(crate) struct LockFile {
    file: File,
    path: PathBuf,
}

/// Held lock; released on drop.
#[derive(Debug)]
pub(crate) struct LockGuard<'a> {
    lock: &'a LockFile,
}

impl LockFile {
    /// Opens (creating it with mode 0600 if needed) the lock file for the JSONL file `path`.
    pub(crate) fn create_for(path: &Path) -> Result<Self, StoreError> {
        Self::create_at(lock_path(path))
    }

    /// Opens (creating it with mode 0600 if needed) the lock file at `path` itself, for a lock
    /// that guards something other than one JSONL file (a whole folder).
    pub(crate) fn create_at(path: PathBuf) -> Result<Self, StoreError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| StoreError::io(&path, "open lock file", e))?;
        Ok(Self { file, path })
    }

    /// Opens the lock file for `path` read-only, for readers; `None` if there is none (then no
    /// writer of ours has ever written there, so there is nothing to wait for).
    pub(crate) fn open_existing_for(path: &Path) -> Result<Option<Self>, StoreError> {
        let path = lock_path(path);
        match File::open(&path) {
            Ok(file) => Ok(Some(Self { file, path })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            // A lock we may not open (another user's file) must not stop reading.
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Ok(None),
            Err(e) => Err(StoreError::io(&path, "open lock file", e)),
        }
    }

    pub(crate) fn shared(&self) -> Result<LockGuard<'_>, StoreError> {
        self.flock(libc::LOCK_SH, "lock (shared)")
    }

    pub(crate) fn exclusive(&self) -> Result<LockGuard<'_>, StoreError> {
        self.flock(libc::LOCK_EX, "lock (exclusive)")
    }

    /// Takes the exclusive lock without waiting and keeps it for as long as this `LockFile`
    /// is open (closing the file releases it); `false` when another holder has it.
    pub(crate) fn try_hold_exclusive(&self) -> Result<bool, StoreError> {
        match self.flock_raw(libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(StoreError::io(&self.path, "lock (exclusive)", e)),
        }
    }

    fn flock(&self, op: libc::c_int, action: &'static str) -> Result<LockGuard<'_>, StoreError> {
        self.flock_raw(op)
            .map_err(|e| StoreError::io(&self.path, action, e))?;
        Ok(LockGuard { lock: self })
    }

    /// flock(2), retried when a signal interrupts it.
    fn flock_raw(&self, op: libc::c_int) -> io::Result<()> {
        loop {
            // SAFETY: flock on a file descriptor we own for as long as `self` lives.
            let rc = unsafe { libc::flock(self.file.as_raw_fd(), op) };
            if rc == 0 {
                return Ok(());
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: as above. Unlocking cannot meaningfully fail on a valid descriptor; closing
        // the descriptor would release it anyway.
        unsafe {
            libc::flock(self.lock.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_a_second_lock_in_the_same_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let a = LockFile::create_for(&path).unwrap();
        let b = LockFile::create_for(&path).unwrap();
        assert!(dir.path().join("h.jsonl.lock").exists());
        let guard = a.exclusive().unwrap();
        // SAFETY: plain flock probe on an owned descriptor.
        let rc = unsafe { libc::flock(b.file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
        assert_eq!(rc, -1);
        drop(guard);
        let _shared_a = a.shared().unwrap();
        let _shared_b = b.shared().unwrap();
        assert!(LockFile::open_existing_for(&path).unwrap().is_some());
        assert!(
            LockFile::open_existing_for(&dir.path().join("x"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_held_exclusive_lock_refuses_a_second_holder_until_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("folder.lock");
        let a = LockFile::create_at(path.clone()).unwrap();
        assert!(a.try_hold_exclusive().unwrap());
        let b = LockFile::create_at(path.clone()).unwrap();
        assert!(!b.try_hold_exclusive().unwrap());
        drop(a);
        assert!(b.try_hold_exclusive().unwrap());
    }
}
