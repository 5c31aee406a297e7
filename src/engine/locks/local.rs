//! The local half of a host lock: one JSON file per host in `state/locks/`. A lock is taken
//! by hard-linking a fully written temporary file to its name (atomic, and fails if the name
//! exists, like O_EXCL, without a window where a half-written file is visible). Removing a
//! lock (release, reclaim of an expired one) happens under an exclusive flock on
//! `state/locks/.lock`, so two processes reclaiming at once cannot both win.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{LockError, LockHolder};
use crate::config::home::ensure_private_dir;
use crate::store::lock::LockFile;
use crate::transport::ErrorKind;
use crate::transport::lock::safe_name;

/// Schema version of a lock file.
const VERSION: u32 = 1;

/// A lock file as written.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct LockFileBody {
    v: u32,
    #[serde(flatten)]
    holder: LockHolder,
}

/// What taking the local lock found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LocalTake {
    /// New, or renewed (the same run id held it).
    Taken,
    /// Taken over from an expired (or unreadable) lock.
    Reclaimed(Option<LockHolder>),
    /// Someone else holds it.
    Held(LockHolder),
}

/// The lock folder of one home.
#[derive(Debug, Clone)]
pub(crate) struct LocalLocks {
    dir: PathBuf,
}

fn io_error(path: &Path, what: &str, e: &io::Error) -> LockError {
    LockError::new(
        ErrorKind::Io,
        format!("{}: cannot {what}: {e}", path.display()),
    )
}

impl LocalLocks {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn path(&self, host: &str) -> PathBuf {
        self.dir.join(format!("{}.json", safe_name(host)))
    }

    /// The exclusive flock every removal holds.
    fn guard(&self) -> Result<LockFile, LockError> {
        ensure_private_dir(&self.dir).map_err(|e| LockError::new(ErrorKind::Io, e.to_string()))?;
        LockFile::create_at(self.dir.join(".lock"))
            .map_err(|e| LockError::new(ErrorKind::Io, e.to_string()))
    }

    /// Takes `holder.host`'s lock for `holder.run_id`.
    pub(crate) fn take(&self, holder: &LockHolder) -> Result<LocalTake, LockError> {
        ensure_private_dir(&self.dir).map_err(|e| LockError::new(ErrorKind::Io, e.to_string()))?;
        let path = self.path(&holder.host);
        // Bounded: each pass either takes the lock, reports the holder, or removed an expired
        // one that a faster process may have replaced meanwhile.
        let mut reclaimed = None;
        for _ in 0..4 {
            if self.link_new(&path, holder)? {
                return Ok(match reclaimed {
                    Some(old) => LocalTake::Reclaimed(old),
                    None => LocalTake::Taken,
                });
            }
            let guard_file = self.guard()?;
            let _held = guard_file
                .exclusive()
                .map_err(|e| LockError::new(ErrorKind::Io, e.to_string()))?;
            match read(&path)? {
                // Gone meanwhile (released): try again.
                Existing::Missing => {}
                Existing::Holder(h) if h.run_id == holder.run_id => {
                    self.write_over(&path, holder)?;
                    return Ok(LocalTake::Taken);
                }
                Existing::Holder(h) if !h.is_expired() => return Ok(LocalTake::Held(h)),
                found => {
                    remove(&path)?;
                    reclaimed = Some(match found {
                        Existing::Holder(h) => Some(h),
                        _ => None,
                    });
                }
            }
        }
        Err(LockError::new(
            ErrorKind::Io,
            format!(
                "{}: the lock file keeps changing; try again",
                path.display()
            ),
        ))
    }

    /// Writes `holder` to a temporary file and links it to `path`; `false` if `path` exists.
    fn link_new(&self, path: &Path, holder: &LockHolder) -> Result<bool, LockError> {
        let tmp = self.write_tmp(path, holder)?;
        let linked = fs::hard_link(&tmp, path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_error(path, "create the lock file", &e)),
        }
    }

    /// Replaces `path` with `holder` (renewal by the same run), atomically.
    fn write_over(&self, path: &Path, holder: &LockHolder) -> Result<(), LockError> {
        let tmp = self.write_tmp(path, holder)?;
        fs::rename(&tmp, path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io_error(path, "renew the lock file", &e)
        })
    }

    fn write_tmp(&self, path: &Path, holder: &LockHolder) -> Result<PathBuf, LockError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = self
            .dir
            .join(format!(".tmp.{}.{}", std::process::id(), fastrand::u64(..)));
        let body = LockFileBody {
            v: VERSION,
            holder: holder.clone(),
        };
        let text = serde_json::to_vec_pretty(&body)
            .map_err(|e| LockError::new(ErrorKind::Io, format!("cannot encode a lock: {e}")))?;
        let write = || -> io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io_error(path, "write the lock file", &e)
        })?;
        Ok(tmp)
    }

    /// Removes `host`'s lock if `run_id` holds it, or whoever does when `run_id` is `None`
    /// (force). Returns the removed holder (`None`: there was no lock); `Err(Locked)` when
    /// another run holds it.
    pub(crate) fn release(
        &self,
        host: &str,
        run_id: Option<&str>,
    ) -> Result<Option<LockHolder>, LockError> {
        let path = self.path(host);
        if !self.dir.is_dir() {
            return Ok(None);
        }
        let guard_file = self.guard()?;
        let _held = guard_file
            .exclusive()
            .map_err(|e| LockError::new(ErrorKind::Io, e.to_string()))?;
        match read(&path)? {
            Existing::Missing => Ok(None),
            Existing::Holder(h) if run_id.is_some_and(|r| r != h.run_id) => {
                Err(LockError::held(&h))
            }
            Existing::Holder(h) => {
                remove(&path)?;
                Ok(Some(h))
            }
            Existing::Unreadable(_) if run_id.is_some() => Err(LockError::new(
                ErrorKind::Locked,
                format!(
                    "{host}: the lock file {} is unreadable; `fleetdeck locks release -t {host} --force` removes it",
                    path.display()
                ),
            )),
            Existing::Unreadable(_) => {
                remove(&path)?;
                Ok(None)
            }
        }
    }

    /// `host`'s lock file, if there is one (an unreadable file is an error naming it).
    pub(crate) fn read(&self, host: &str) -> Result<Option<LockHolder>, LockError> {
        let path = self.path(host);
        match read(&path)? {
            Existing::Missing => Ok(None),
            Existing::Holder(h) => Ok(Some(h)),
            Existing::Unreadable(why) => Err(LockError::new(ErrorKind::Io, why)),
        }
    }

    /// Every lock file, sorted by host; unreadable files are listed as errors.
    pub(crate) fn list(&self) -> Result<Vec<Result<LockHolder, String>>, LockError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&self.dir, "list the lock folder", &e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&self.dir, "list the lock folder", &e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            match read(&entry.path())? {
                Existing::Missing => {}
                Existing::Holder(h) => out.push(Ok(h)),
                Existing::Unreadable(why) => out.push(Err(why)),
            }
        }
        out.sort_by(|a, b| match (a, b) {
            (Ok(a), Ok(b)) => a.host.cmp(&b.host),
            (Ok(_), Err(_)) => std::cmp::Ordering::Less,
            (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
            (Err(a), Err(b)) => a.cmp(b),
        });
        Ok(out)
    }
}

enum Existing {
    Missing,
    Holder(LockHolder),
    Unreadable(String),
}

fn read(path: &Path) -> Result<Existing, LockError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Existing::Missing),
        Err(e) => return Err(io_error(path, "read the lock file", &e)),
    };
    Ok(match serde_json::from_str::<LockFileBody>(&text) {
        Ok(body) => Existing::Holder(body.holder),
        Err(e) => Existing::Unreadable(format!("{}: not a lock file: {e}", path.display())),
    })
}

fn remove(path: &Path) -> Result<(), LockError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path, "remove the lock file", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn holder(host: &str, run: &str, ttl: Duration) -> LockHolder {
        LockHolder::new(host, "alice@laptop", run, ttl, None)
    }

    #[test]
    fn one_taker_wins_then_release_and_reclaim() {
        let dir = tempfile::tempdir().unwrap();
        let locks = LocalLocks::new(dir.path().join("locks"));
        let a = holder("web 01/..", "A", Duration::from_secs(600));
        assert_eq!(locks.take(&a).unwrap(), LocalTake::Taken);
        assert_eq!(locks.take(&a).unwrap(), LocalTake::Taken, "renewal");
        let b = holder("web 01/..", "B", Duration::from_secs(600));
        assert_eq!(locks.take(&b).unwrap(), LocalTake::Held(a.clone()));
        let refused = locks.release("web 01/..", Some("B")).unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Locked);
        assert!(refused.message.contains("run A"), "{}", refused.message);
        assert_eq!(locks.release("web 01/..", Some("A")).unwrap(), Some(a));
        assert_eq!(locks.release("web 01/..", Some("A")).unwrap(), None);

        let short = holder("db1", "C", Duration::ZERO);
        assert_eq!(locks.take(&short).unwrap(), LocalTake::Taken);
        let d = holder("db1", "D", Duration::from_secs(60));
        assert_eq!(locks.take(&d).unwrap(), LocalTake::Reclaimed(Some(short)));
        let listed = locks.list().unwrap();
        assert_eq!(listed, vec![Ok(d)]);
        // Only lock files in the folder: no temporary files left behind.
        let names: Vec<String> = fs::read_dir(locks.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != ".lock")
            .collect();
        assert_eq!(names, vec!["db1.json".to_string()]);
    }

    #[test]
    fn threads_racing_for_an_expired_lock_have_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        let locks = LocalLocks::new(dir.path().join("locks"));
        locks.take(&holder("h", "old", Duration::ZERO)).unwrap();
        let wins: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let locks = locks.clone();
                    s.spawn(move || {
                        let me = holder("h", &format!("r{i}"), Duration::from_secs(60));
                        !matches!(locks.take(&me).unwrap(), LocalTake::Held(_))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{wins:?}");
    }

    #[test]
    fn a_corrupt_lock_file_is_named_and_force_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let locks = LocalLocks::new(dir.path().join("locks"));
        fs::create_dir_all(locks.dir()).unwrap();
        fs::write(locks.path("x"), "garbage").unwrap();
        let e = locks.read("x").unwrap_err();
        assert!(e.message.contains("x.json"), "{}", e.message);
        assert_eq!(
            locks.release("x", Some("A")).unwrap_err().kind,
            ErrorKind::Locked
        );
        assert_eq!(locks.release("x", None).unwrap(), None);
        assert!(locks.read("x").unwrap().is_none());
    }
}
