//! The log watcher's check: new lines of a file matching a regex, tailing like `tail -F`.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use regex::Regex;

use super::condition::{Problem, Status};
use crate::protocol::Severity;

/// A line longer than this is cut into pieces of at most this many bytes, each matched on its
/// own (bytes beyond it within one read are skipped), so a file without newlines cannot grow
/// the buffer without bound.
const MAX_LINE: usize = 64 * 1024;

/// Matching lines quoted in an alert's detail, each cut to `QUOTE_CHARS` characters.
const QUOTED_LINES: usize = 5;
const QUOTE_CHARS: usize = 300;

/// Tails one file. Starts at the file's end (old lines are not news); after that reads what
/// was appended, at most `max_read` bytes per check (a bigger burst is read over the next
/// checks). Follows the file like `tail -F`: when it is truncated (size below the offset
/// read) it starts again from the top; when it is replaced (rotated: another inode at the
/// path) the rest of the old file is read first, then the new one from its start.
///
/// A check that finds matching lines is bad ("matched"); once no line has matched for
/// `quiet` it is good again, and its summary counts the matching lines seen meanwhile. A file that stays
/// missing or unreadable for two checks in a row is a warning ("unreadable").
///
/// Blocking (file reads): run it on a blocking thread.
pub(crate) struct LogCheck {
    path: PathBuf,
    pattern: Regex,
    max_read: u64,
    quiet: Duration,
    severity: Severity,
    /// When a line last matched (while bad).
    last_match: Option<Instant>,
    /// The file being read, its identity and how far it was read.
    open: Option<Tailed>,
    /// Whether the first check (which only finds the end) has happened.
    started: bool,
    /// The start of a line whose `\n` has not arrived yet.
    partial: Vec<u8>,
    /// Matching lines seen since the watcher went bad (for the resolved summary).
    matched_since_bad: u64,
    /// Consecutive checks the file could not be opened.
    misses: u32,
}

struct Tailed {
    file: File,
    dev: u64,
    ino: u64,
    offset: u64,
}

/// What one read found.
#[derive(Default)]
struct Found {
    matched: u64,
    quoted: Vec<String>,
}

impl LogCheck {
    pub(crate) fn new(
        path: PathBuf,
        pattern: Regex,
        max_read: u64,
        quiet: Duration,
        severity: Severity,
    ) -> Self {
        LogCheck {
            path,
            pattern,
            max_read,
            quiet,
            severity,
            last_match: None,
            open: None,
            started: false,
            partial: Vec::new(),
            matched_since_bad: 0,
            misses: 0,
        }
    }

    pub(crate) fn check(&mut self) -> Status {
        let first = !self.started;
        self.started = true;
        let mut budget = self.max_read;
        let mut found = Found::default();
        let current = match File::open(&self.path).and_then(|f| {
            let meta = f.metadata()?;
            Ok((f, meta))
        }) {
            Ok(pair) => Some(pair),
            Err(e) => {
                // Rotated away: what the old file still holds is read below.
                self.misses += 1;
                if let Some(mut old) = self.open.take() {
                    self.read(&mut old, &mut budget, &mut found);
                    self.open = Some(old);
                }
                if self.misses >= 2 {
                    return Status::Bad(Problem {
                        key: "unreadable",
                        severity: Severity::Warning,
                        summary: format!("cannot read {}: {e}", self.path.display()),
                        detail: None,
                    });
                }
                return self.status(found);
            }
        };
        self.misses = 0;
        if let Some((file, meta)) = current {
            let same = self
                .open
                .as_ref()
                .is_some_and(|t| t.dev == meta.dev() && t.ino == meta.ino());
            if !same {
                if let Some(mut old) = self.open.take() {
                    self.read(&mut old, &mut budget, &mut found);
                    if old.file.metadata().is_ok_and(|m| m.len() > old.offset) {
                        // The budget ran out inside the old file: finish it next check.
                        self.open = Some(old);
                        return self.status(found);
                    }
                    self.flush_partial(&mut found);
                }
                // At the very first check the existing content is history; a file that
                // appears later (or replaces the old one) is read from its start.
                let offset = if first { meta.len() } else { 0 };
                self.open = Some(Tailed {
                    file,
                    dev: meta.dev(),
                    ino: meta.ino(),
                    offset,
                });
            }
        }
        if let Some(mut tailed) = self.open.take() {
            self.read(&mut tailed, &mut budget, &mut found);
            self.open = Some(tailed);
        }
        self.status(found)
    }

    fn status(&mut self, found: Found) -> Status {
        let pattern = self.pattern.as_str();
        let path = self.path.display();
        if found.matched == 0 {
            if self.last_match.is_some_and(|t| t.elapsed() < self.quiet) {
                // Not quiet for long enough yet: the state stays as it is.
                return Status::Unknown;
            }
            self.last_match = None;
            let seen = std::mem::take(&mut self.matched_since_bad);
            return Status::Good(if seen == 0 {
                format!("no new lines match /{pattern}/ in {path}")
            } else {
                format!("no new lines match /{pattern}/ in {path} ({seen} matched meanwhile)")
            });
        }
        self.matched_since_bad += found.matched;
        self.last_match = Some(Instant::now());
        let lines = if found.matched == 1 { "line" } else { "lines" };
        Status::Bad(Problem {
            key: "matched",
            severity: self.severity,
            summary: format!("{} new {lines} match /{pattern}/ in {path}", found.matched),
            detail: Some(found.quoted.join("\n")),
        })
    }

    /// Reads what `tailed` holds past its offset, within `budget`, and matches whole lines.
    fn read(&mut self, tailed: &mut Tailed, budget: &mut u64, found: &mut Found) {
        let len = match tailed.file.metadata() {
            Ok(meta) => meta.len(),
            Err(e) => {
                tracing::warn!(file = %self.path.display(), error = %e, "log watcher: stat failed");
                return;
            }
        };
        if len < tailed.offset {
            // Truncated (`> file`, copytruncate): start over from the top.
            tailed.offset = 0;
            self.partial.clear();
        }
        let want = (len - tailed.offset).min(*budget);
        if want == 0 {
            return;
        }
        // `want` is at most max_read, which the config bounds to a few MiB.
        let mut buf = vec![0u8; usize::try_from(want).unwrap_or(0)];
        let got = match read_at_most(&tailed.file, &mut buf, tailed.offset) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(file = %self.path.display(), error = %e, "log watcher: read failed");
                return;
            }
        };
        buf.truncate(got);
        tailed.offset += got as u64;
        *budget -= got as u64;
        let mut rest: &[u8] = &buf;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            let (line, after) = rest.split_at(i);
            rest = &after[1..];
            if self.partial.is_empty() {
                self.match_line(line, found);
            } else {
                self.push_partial(line);
                let whole = std::mem::take(&mut self.partial);
                self.match_line(&whole, found);
            }
        }
        self.push_partial(rest);
        if self.partial.len() >= MAX_LINE {
            self.flush_partial(found);
        }
    }

    fn push_partial(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// Matches the pending partial line as it is (the file it came from is done, or it is
    /// too long to wait for).
    fn flush_partial(&mut self, found: &mut Found) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.match_line(&line, found);
        }
    }

    fn match_line(&self, line: &[u8], found: &mut Found) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        if self.pattern.is_match(text) {
            found.matched += 1;
            if found.quoted.len() < QUOTED_LINES {
                found.quoted.push(text.chars().take(QUOTE_CHARS).collect());
            }
        }
    }
}

/// Reads into `buf` from `offset` until it is full or the file ends.
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::{self, OpenOptions};
    use std::io::Write;

    fn append(path: &std::path::Path, text: &str) {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    fn matched(status: Status) -> (u64, Option<String>) {
        match status {
            Status::Bad(p) if p.key == "matched" => {
                let n = p.summary.split(' ').next().unwrap().parse().unwrap();
                (n, p.detail)
            }
            other => panic!("expected matches, got {other:?}"),
        }
    }

    fn check_for(path: &std::path::Path, max_read: u64) -> LogCheck {
        LogCheck::new(
            path.to_path_buf(),
            Regex::new("ERROR").unwrap(),
            max_read,
            Duration::ZERO,
            Severity::Critical,
        )
    }

    #[test]
    fn the_alert_holds_until_the_file_was_quiet_for_long_enough() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, "").unwrap();
        let mut c = LogCheck::new(
            path.clone(),
            Regex::new("ERROR").unwrap(),
            1 << 20,
            Duration::from_secs(3600),
            Severity::Critical,
        );
        c.check();
        append(&path, "ERROR a\n");
        assert_eq!(matched(c.check()).0, 1);
        for _ in 0..3 {
            assert_eq!(c.check(), Status::Unknown, "not quiet for an hour yet");
        }
        append(&path, "ERROR b\n");
        assert_eq!(matched(c.check()).0, 1);
        // Once quiet long enough (here: forced), it resolves and counts both.
        c.quiet = Duration::ZERO;
        match c.check() {
            Status::Good(text) => assert!(text.contains("2 matched meanwhile"), "{text}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn old_lines_are_ignored_new_ones_matched_and_partial_lines_wait() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        append(&path, "ERROR from before the agent started\n");
        let mut c = check_for(&path, 1 << 20);
        assert!(matches!(c.check(), Status::Good(_)));
        append(&path, "ok\nERROR one\nfine\nERROR tw");
        let (n, detail) = matched(c.check());
        assert_eq!(n, 1);
        assert_eq!(detail.as_deref(), Some("ERROR one"));
        append(&path, "o\r\n");
        let (n, detail) = matched(c.check());
        assert_eq!((n, detail.as_deref()), (1, Some("ERROR two")));
        match c.check() {
            Status::Good(text) => assert!(text.contains("2 matched meanwhile"), "{text}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncation_starts_over_from_the_top() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        append(&path, &"filler line\n".repeat(100));
        let mut c = check_for(&path, 1 << 20);
        c.check();
        fs::write(&path, "ERROR after truncation\n").unwrap();
        assert_eq!(matched(c.check()).0, 1);
        assert!(matches!(c.check(), Status::Good(_)));
    }

    #[test]
    fn rotation_reads_the_old_file_to_its_end_then_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        append(&path, "start\n");
        let mut c = check_for(&path, 1 << 20);
        c.check();
        append(&path, "ERROR last words of the old file\n");
        fs::rename(&path, dir.path().join("app.log.1")).unwrap();
        append(&path, "ERROR first of the new file\nok\n");
        let (n, detail) = matched(c.check());
        assert_eq!(n, 2);
        assert_eq!(
            detail.as_deref(),
            Some("ERROR last words of the old file\nERROR first of the new file")
        );
    }

    #[test]
    fn a_rotated_file_is_finished_before_the_new_one_even_over_several_checks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, "").unwrap();
        let mut c = check_for(&path, 100);
        c.check();
        let line = format!("ERROR {}\n", "o".repeat(43));
        append(&path, &line.repeat(3));
        fs::rename(&path, dir.path().join("app.log.1")).unwrap();
        append(&path, "ERROR new\n");
        let mut quoted = Vec::new();
        for _ in 0..5 {
            if let Status::Bad(p) = c.check() {
                quoted.extend(p.detail.unwrap().lines().map(str::to_owned));
            }
        }
        assert_eq!(quoted.len(), 4, "{quoted:?}");
        assert_eq!(quoted[3], "ERROR new");
    }

    #[test]
    fn reads_are_bounded_per_check_and_resume() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, "").unwrap();
        let mut c = check_for(&path, 100);
        c.check();
        // 10 lines of 50 bytes, every one matching: 2 per check.
        let line = format!("ERROR {}\n", "x".repeat(43));
        assert_eq!(line.len(), 50);
        append(&path, &line.repeat(10));
        let mut total = 0;
        let mut checks = 0;
        while checks < 20 {
            checks += 1;
            match c.check() {
                Status::Bad(p) => {
                    total += p.summary.split(' ').next().unwrap().parse::<u64>().unwrap()
                }
                Status::Good(_) => break,
                Status::Unknown => {}
            }
        }
        assert_eq!(total, 10);
        assert_eq!(checks, 6, "five reads of 100 bytes, then a quiet check");
    }

    #[test]
    fn a_missing_file_warns_after_two_checks_and_is_read_from_the_top_when_it_appears() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.log");
        let mut c = check_for(&path, 1 << 20);
        assert!(matches!(c.check(), Status::Good(_)));
        match c.check() {
            Status::Bad(p) => {
                assert_eq!((p.key, p.severity), ("unreadable", Severity::Warning));
                assert!(p.summary.contains("later.log"), "{}", p.summary);
            }
            other => panic!("{other:?}"),
        }
        append(&path, "ERROR early\n");
        assert_eq!(matched(c.check()).0, 1);
    }

    #[test]
    fn an_endless_line_is_matched_in_bounded_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, "").unwrap();
        let mut c = check_for(&path, 1 << 20);
        c.check();
        append(&path, &format!("ERROR {}", "y".repeat(3 * MAX_LINE)));
        let (n, detail) = matched(c.check());
        assert_eq!(n, 1);
        assert_eq!(detail.unwrap().chars().count(), QUOTE_CHARS);
        assert!(c.partial.len() < MAX_LINE);
    }
}
