//! The on-disk alert journal: append-only JSONL (`alerts.jsonl`, rotated by size) of
//! [`Alert`]s with sequence numbers, and per-consumer acknowledgements (`acks.json`).

use std::collections::VecDeque;
use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::broadcast;

use super::JournalError;
use super::acks::Acks;
use crate::protocol::{Alert, Severity};
use crate::store::lock::LockFile;
use crate::store::{
    Entry, JsonlReader, JsonlWriter, Rotation, SCHEMA_VERSION, now_rfc3339, read_newest_as,
    rotated_path,
};

/// The most alerts [`Journal::after`] returns at once; a consumer further behind asks again
/// from the last one it got.
pub const MAX_AFTER: usize = 1000;

/// The journal file's rotation: 8 MiB per file, 3 rotated files kept (an alert is a few
/// hundred bytes, so well over 100,000 alerts). Alerts rotated out of the last file are gone,
/// also for consumers that never saw them.
pub const JOURNAL_ROTATION: Rotation = Rotation {
    max_bytes: 8 * 1024 * 1024,
    keep: 3,
};

/// How many of the newest alerts are held in memory, so `after` for a consumer that is not
/// far behind needs no disk read.
const CACHED_ALERTS: usize = 2 * MAX_AFTER;

/// Live subscribers lagging by more than this many alerts get `RecvError::Lagged`.
const BROADCAST_CAPACITY: usize = 1024;

/// The alert journal of one agent. Sequence numbers start at 1, increase by one per alert
/// and are never reused, also across restarts: on open the last one is recovered from the
/// newest record (a torn last line left by a crash is skipped) and, should the journal have
/// lost records, from the highest acknowledgement.
///
/// Thread-safe through an internal mutex. Every method does a little file I/O while holding
/// it (append: one write and an `fdatasync`; ack: a small atomic file replace); that is short
/// enough to call from async code for the rare events alerts are. [`after`](Self::after) for
/// a consumer more than a few thousand alerts behind reads the journal files and takes longer.
///
/// One process at a time: the folder is locked (`journal.lock`) while a `Journal` is open.
pub struct Journal {
    dir: PathBuf,
    inner: Mutex<Inner>,
    live: broadcast::Sender<Alert>,
    /// Held for the `flock` on `journal.lock` (released when the file closes).
    _lock: LockFile,
}

struct Inner {
    writer: JsonlWriter,
    last_seq: u64,
    /// The newest alerts, oldest first; every alert newer than the front is in here.
    cache: VecDeque<Alert>,
    cache_len: usize,
    acks: Acks,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.dir)
            // try_lock: formatting must not wait on (or deadlock with) the lock.
            .field(
                "last_seq",
                &self.inner.try_lock().ok().map(|inner| inner.last_seq),
            )
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens (creating it, mode 0700) the journal in `dir`: `alerts.jsonl` (and its rotated
    /// files) and `acks.json`.
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        Journal::open_with(dir, JOURNAL_ROTATION, CACHED_ALERTS)
    }

    /// [`open`](Self::open) with another rotation and cache size (tests use small ones).
    pub(crate) fn open_with(
        dir: &Path,
        rotation: Rotation,
        cache_len: usize,
    ) -> Result<Journal, JournalError> {
        if !dir.is_dir() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| JournalError::io(dir, "create journal folder", e))?;
        }
        let lock = lock_folder(dir)?;
        let path = dir.join("alerts.jsonl");
        let report = read_newest_as::<Alert>(&path, cache_len.max(1))?;
        if report.torn_tail {
            tracing::warn!(file = %path.display(), "alert journal ends in a torn line (a crash mid-write); skipped it");
        }
        for bad in &report.corrupt {
            tracing::warn!(%bad, "alert journal line is not an alert; skipped it");
        }
        let mut cache: VecDeque<Alert> = report.records.into_iter().map(|(_, a)| a).collect();
        // read_newest gives newest first.
        cache.make_contiguous().reverse();
        cache.truncate(cache_len);
        let acks = Acks::load(&dir.join("acks.json"))?;
        let newest = cache.iter().map(|a| a.seq).max().unwrap_or(0);
        let last_seq = newest.max(acks.max());
        let writer = JsonlWriter::open(&path, rotation, SCHEMA_VERSION)?;
        let (live, _) = broadcast::channel(BROADCAST_CAPACITY);
        Ok(Journal {
            dir: dir.to_path_buf(),
            inner: Mutex::new(Inner {
                writer,
                last_seq,
                cache,
                cache_len,
                acks,
            }),
            live,
            _lock: lock,
        })
    }

    /// The folder the journal lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends an alert with the next sequence number and the current time, syncs it to disk,
    /// sends it to live subscribers and returns it. On error nothing was recorded and the
    /// sequence number is not used up.
    pub fn append(
        &self,
        watcher: &str,
        severity: Severity,
        summary: String,
        detail: Option<String>,
        resolved: bool,
    ) -> Result<Alert, JournalError> {
        let mut inner = self.lock();
        let alert = Alert {
            seq: inner.last_seq + 1,
            ts: now_rfc3339(),
            watcher: watcher.to_string(),
            severity,
            summary,
            detail,
            resolved,
        };
        inner.writer.append(&alert)?;
        // Alerts are rare and their delivery is the point: each one goes to the disk now.
        inner.writer.sync()?;
        inner.last_seq = alert.seq;
        inner.cache.push_back(alert.clone());
        while inner.cache.len() > inner.cache_len {
            inner.cache.pop_front();
        }
        // Sent under the lock so subscribers see sequence order. No subscriber is fine.
        let _ = self.live.send(alert.clone());
        Ok(alert)
    }

    /// The alerts with a sequence number above `seq`, oldest first, at most [`MAX_AFTER`].
    /// A consumer sends alerts up to the last one returned, and asks again from there until
    /// this comes back empty.
    pub fn after(&self, seq: u64) -> Result<Vec<Alert>, JournalError> {
        let inner = self.lock();
        if seq >= inner.last_seq {
            return Ok(Vec::new());
        }
        let cached = inner.cache.front().is_some_and(|a| a.seq <= seq + 1);
        if cached {
            return Ok(inner
                .cache
                .iter()
                .filter(|a| a.seq > seq)
                .take(MAX_AFTER)
                .cloned()
                .collect());
        }
        read_after(inner.writer.path(), inner.writer.rotation().keep, seq)
    }

    /// The newest sequence number (0 for an empty journal).
    pub fn last_seq(&self) -> u64 {
        self.lock().last_seq
    }

    /// The sequence number `consumer` acknowledged last (0 if never).
    pub fn acked(&self, consumer: &str) -> u64 {
        self.lock().acks.get(consumer)
    }

    /// Records that `consumer` handled every alert up to and including `seq`, on disk. An
    /// acknowledgement never moves back (a lower `seq` is accepted and changes nothing); one
    /// beyond the newest alert is refused, as are empty or overlong consumer names.
    pub fn ack(&self, consumer: &str, seq: u64) -> Result<(), JournalError> {
        let mut inner = self.lock();
        if seq > inner.last_seq {
            return Err(JournalError::AckBeyondLast {
                consumer: consumer.chars().take(64).collect(),
                seq,
                last: inner.last_seq,
            });
        }
        inner.acks.advance(consumer, seq)?;
        Ok(())
    }

    /// Syncs the journal file to disk. Appends already do; this is for shutdown, where an
    /// error is worth a log line rather than a failure.
    pub fn flush(&self) {
        let inner = self.lock();
        if let Err(e) = inner.writer.sync() {
            tracing::warn!(error = %e, "could not sync the alert journal");
        }
    }

    /// Every alert appended from now on, live. To deliver a backlog and then live alerts
    /// without a gap: subscribe first, then read [`after`](Self::after) the consumer's ack,
    /// then skip live alerts whose `seq` is not above the last one sent. A receiver that
    /// falls more than 1024 alerts behind gets `RecvError::Lagged` and should go back to
    /// `after`.
    pub fn subscribe(&self) -> broadcast::Receiver<Alert> {
        self.live.subscribe()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the state as consistent as the disk: memory
        // is only updated after the file write succeeded.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Reads alerts above `seq` from the journal files, oldest file first.
fn read_after(path: &Path, keep: usize, seq: u64) -> Result<Vec<Alert>, JournalError> {
    let mut out = Vec::new();
    for index in (0..=keep).rev() {
        for entry in JsonlReader::<Alert>::open(&rotated_path(path, index))? {
            match entry? {
                Entry::Record { record, .. } if record.seq > seq => {
                    out.push(record);
                    if out.len() >= MAX_AFTER {
                        return Ok(out);
                    }
                }
                Entry::Record { .. } => {}
                Entry::Corrupt(bad) => {
                    tracing::warn!(%bad, "alert journal line is not an alert; skipped it");
                }
                Entry::TornTail { .. } => {}
            }
        }
    }
    Ok(out)
}

/// Holds an exclusive `flock` on `dir/journal.lock` for as long as the Journal lives: two
/// agents appending to one journal would hand out the same sequence numbers.
/// A lock just given back can still be held for a moment by a child process this one forked
/// (between its fork and its exec, the child shares the lock's file description), so a busy
/// lock is tried again for up to a second before the folder counts as in use.
fn lock_folder(dir: &Path) -> Result<LockFile, JournalError> {
    const TRIES: u32 = 20;
    let lock = LockFile::create_at(dir.join("journal.lock"))?;
    for _ in 0..TRIES {
        if lock.try_hold_exclusive()? {
            return Ok(lock);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err(JournalError::InUse { dir: dir.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::{self, OpenOptions};
    use std::io::Write;

    fn raise(j: &Journal, n: usize) -> Vec<u64> {
        (0..n)
            .map(|i| {
                j.append(
                    "w",
                    Severity::Warning,
                    format!("alert {i}"),
                    None,
                    i % 2 == 1,
                )
                .unwrap()
                .seq
            })
            .collect()
    }

    fn seqs(alerts: &[Alert]) -> Vec<u64> {
        alerts.iter().map(|a| a.seq).collect()
    }

    #[test]
    fn sequence_numbers_continue_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.last_seq(), 0);
        assert_eq!(raise(&j, 3), [1, 2, 3]);
        drop(j);
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.last_seq(), 3);
        assert_eq!(raise(&j, 2), [4, 5]);
        let all = j.after(0).unwrap();
        assert_eq!(seqs(&all), [1, 2, 3, 4, 5]);
        assert_eq!(all[1].summary, "alert 1");
        assert!(all[1].resolved && !all[0].resolved);
        assert!(all[0].ts.ends_with('Z'));
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_its_number_reused_only_if_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        raise(&j, 3);
        drop(j);
        // A crash in the middle of writing alert 4.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join("alerts.jsonl"))
            .unwrap();
        f.write_all(br#"{"v":1,"ts":"2026-11-22T05:00:00.000Z","seq":4,"watch"#)
            .unwrap();
        drop(f);
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.last_seq(), 3);
        assert_eq!(raise(&j, 1), [4]);
        drop(j);
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(seqs(&j.after(0).unwrap()), [1, 2, 3, 4]);
        assert_eq!(j.last_seq(), 4);
    }

    #[test]
    fn acks_persist_never_go_back_and_refuse_the_future() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        raise(&j, 5);
        assert_eq!(j.acked("ops@laptop"), 0);
        j.ack("ops@laptop", 3).unwrap();
        j.ack("ops@laptop", 2).unwrap();
        assert_eq!(j.acked("ops@laptop"), 3);
        let err = j.ack("ops@laptop", 6).unwrap_err();
        assert!(matches!(err, JournalError::AckBeyondLast { .. }), "{err}");
        assert!(err.to_string().contains("ops@laptop"), "{err}");
        j.ack("other", 5).unwrap();
        drop(j);
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!((j.acked("ops@laptop"), j.acked("other")), (3, 5));
        assert_eq!(j.acked("nobody"), 0);
    }

    #[test]
    fn a_consumer_gets_each_alert_exactly_once_across_reconnects_and_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let consumer = "ops@laptop";
        let mut delivered = Vec::new();
        // What a server does on each (re)connect: send everything after the ack, then ack.
        let deliver = |j: &Journal, delivered: &mut Vec<u64>| loop {
            let batch = j.after(j.acked(consumer)).unwrap();
            let Some(last) = batch.last().map(|a| a.seq) else {
                break;
            };
            delivered.extend(seqs(&batch));
            j.ack(consumer, last).unwrap();
        };
        let j = Journal::open(dir.path()).unwrap();
        raise(&j, 2);
        deliver(&j, &mut delivered);
        deliver(&j, &mut delivered);
        raise(&j, 1);
        drop(j);
        let j = Journal::open(dir.path()).unwrap();
        raise(&j, 1);
        deliver(&j, &mut delivered);
        deliver(&j, &mut delivered);
        assert_eq!(delivered, [1, 2, 3, 4]);
    }

    #[test]
    fn after_is_bounded_and_reads_rotated_files_when_the_cache_does_not_reach() {
        let dir = tempfile::tempdir().unwrap();
        let rotation = Rotation {
            max_bytes: 40 * 1024,
            keep: 100,
        };
        let j = Journal::open_with(dir.path(), rotation, 10).unwrap();
        let n = MAX_AFTER + 500;
        raise(&j, n);
        assert!(
            dir.path().join("alerts.1.jsonl").exists(),
            "the test needs rotation"
        );
        let first = j.after(0).unwrap();
        assert_eq!(seqs(&first), (1..=MAX_AFTER as u64).collect::<Vec<_>>());
        let rest = j.after(MAX_AFTER as u64).unwrap();
        assert_eq!(
            seqs(&rest),
            (MAX_AFTER as u64 + 1..=n as u64).collect::<Vec<_>>()
        );
        // From the cache (the newest 10).
        let tail = j.after(n as u64 - 3).unwrap();
        assert_eq!(seqs(&tail), [n as u64 - 2, n as u64 - 1, n as u64]);
        assert!(j.after(n as u64).unwrap().is_empty());
        drop(j);
        // After a restart the numbering goes on from the newest file.
        let j = Journal::open_with(dir.path(), rotation, 10).unwrap();
        assert_eq!(j.last_seq(), n as u64);
    }

    #[test]
    fn numbers_are_not_reused_even_if_the_journal_file_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        raise(&j, 4);
        j.ack("c", 4).unwrap();
        drop(j);
        fs::remove_file(dir.path().join("alerts.jsonl")).unwrap();
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(raise(&j, 1), [5]);
    }

    #[test]
    fn a_second_open_of_the_same_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _j = Journal::open(dir.path()).unwrap();
        let err = Journal::open(dir.path()).unwrap_err();
        assert!(matches!(err, JournalError::InUse { .. }), "{err}");
    }

    #[tokio::test]
    async fn subscribers_get_new_alerts_live_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        raise(&j, 1);
        let mut rx = j.subscribe();
        raise(&j, 2);
        assert_eq!(rx.recv().await.unwrap().seq, 2);
        assert_eq!(rx.recv().await.unwrap().seq, 3);
        assert!(rx.try_recv().is_err());
    }
}
