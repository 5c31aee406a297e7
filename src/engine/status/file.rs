//! status.json on disk: written whole and atomically (a temp file beside it, then a rename, so
//! a reader never sees half a file), read in one go, and judged live or stale.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::doc::StatusDoc;

/// A file older than this, or whose writer is gone, is stale: a live writer rewrites it at
/// least every `REFRESH_AFTER` (10 s), so this is three missed refreshes.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// Writes `doc` to `path` atomically with mode 0600. No fsync: the file is rewritten every few
/// seconds and a torn one after a power cut reads as "unreadable" until the next write.
pub fn write_status(path: &Path, doc: &StatusDoc) -> Result<(), String> {
    let mut text = serde_json::to_vec(doc).map_err(|e| format!("cannot encode status: {e}"))?;
    text.push(b'\n');
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp.{}", std::process::id()));
    let write = || -> io::Result<()> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&text)?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("{}: cannot write the status file: {e}", path.display())
    })
}

/// The status at `path`; `None` when no front end has written one.
pub fn read_status(path: &Path) -> Result<Option<StatusDoc>, String> {
    let text = match fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    serde_json::from_slice(&text).map(Some).map_err(|e| {
        format!(
            "{}: unreadable ({e}); the next write of a running console, watcher or wallboard \
             replaces it",
            path.display()
        )
    })
}

/// Whether the counts are being kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Live,
    /// Not refreshed for `age` (since `ts`), or its writer is gone.
    Stale {
        age: Duration,
        writer_gone: bool,
    },
}

/// `doc` at `now`, given whether its writer's process still runs.
pub fn freshness(doc: &StatusDoc, now: SystemTime, writer_alive: bool) -> Freshness {
    // A clock that went back makes the file look new, not negative.
    let age = now.duration_since(doc.ts).unwrap_or_default();
    if !writer_alive || age > STALE_AFTER {
        Freshness::Stale {
            age,
            writer_gone: !writer_alive,
        }
    } else {
        Freshness::Live
    }
}

/// Whether process `pid` exists (on this machine, in this pid namespace) and has not ended: a
/// zombie nobody reaped yet (an orphan under a pid 1 that reaps late) counts as gone.
pub fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled; nothing is
    // sent.
    let rc = unsafe { libc::kill(pid, 0) };
    // EPERM: it exists, as another user.
    let exists = rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    exists && !is_zombie(pid)
}

/// `/proc/PID/stat`'s state is Z (or X); false where there is no /proc.
fn is_zombie(pid: libc::pid_t) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The command name in parentheses may hold spaces and parentheses: the state follows the
    // last `)`.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state == "Z" || state == "X")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::status::WriterKind;
    use crate::engine::status::{HostCounts, IncidentCounts, RunCounts, STATUS_VERSION};

    fn doc(ts: SystemTime) -> StatusDoc {
        StatusDoc {
            v: STATUS_VERSION,
            ts,
            writer: WriterKind::Console,
            pid: std::process::id(),
            incidents: IncidentCounts {
                crit: 1,
                warn: 0,
                info: 0,
            },
            hosts: HostCounts {
                up: 1,
                down: 0,
                unknown: 0,
                total: 1,
            },
            runs: RunCounts::default(),
        }
    }

    #[test]
    fn written_atomically_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/status.json");
        assert_eq!(read_status(&path).unwrap(), None);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        write_status(&path, &doc(now)).unwrap();
        assert_eq!(read_status(&path).unwrap(), Some(doc(now)));
        // No temp file left beside it.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["status.json"]);
        fs::write(&path, "{\"v\":1,").unwrap();
        let err = read_status(&path).unwrap_err();
        assert!(err.contains("status.json: unreadable"), "{err}");
    }

    #[test]
    fn stale_when_old_or_orphaned() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let d = doc(t);
        assert_eq!(
            freshness(&d, t + Duration::from_secs(29), true),
            Freshness::Live
        );
        assert_eq!(
            freshness(&d, t + Duration::from_secs(31), true),
            Freshness::Stale {
                age: Duration::from_secs(31),
                writer_gone: false
            }
        );
        assert_eq!(
            freshness(&d, t + Duration::from_secs(2), false),
            Freshness::Stale {
                age: Duration::from_secs(2),
                writer_gone: true
            }
        );
        // A clock gone backwards.
        assert_eq!(
            freshness(&d, t - Duration::from_secs(5), true),
            Freshness::Live
        );
    }

    #[test]
    fn this_process_is_alive_and_pid_zero_is_not() {
        assert!(pid_alive(std::process::id()));
        assert!(!pid_alive(0));
        assert!(!pid_alive(u32::MAX));
    }

    #[test]
    fn an_unreaped_child_counts_as_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not reaped yet: a zombie once it exits.
        let start = std::time::Instant::now();
        while pid_alive(pid) {
            assert!(start.elapsed() < Duration::from_secs(30), "still alive");
            std::thread::sleep(Duration::from_millis(10));
        }
        child.wait().unwrap();
        assert!(!pid_alive(pid));
    }
}
