//! Reading newest first from the end of a file, in blocks, without scanning the whole file.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::StoreError;
use super::line::{MAX_LINE_BYTES, Parsed, parse_line, too_long_message};
use super::lock::LockFile;
use super::report::{CorruptLine, LineNumbering, ReadReport};
use super::rotate::rotated_path;

/// How much is read from the end at a time (more when a single line is longer).
pub const TAIL_BLOCK_BYTES: usize = 64 * 1024;

/// The newest `n` records of `path`, newest first, read backwards from the end in blocks of
/// [`TAIL_BLOCK_BYTES`], going on into the rotated files (`name.1.jsonl`, `name.2.jsonl`, …)
/// while fewer than `n` were found. The cost depends on `n` and the line lengths, not the file
/// size.
///
/// Line numbers count back from the end ([`LineNumbering::FromEnd`]): 1 is the last line of
/// the current file, and the count goes on through the rotated files. Corrupt lines met on
/// the way are reported (with their file); lines older than the `n`-th record are not looked
/// at. `torn_tail` is set when the last line of a file is cut short (after a crash, or while
/// another process is still writing it). A missing file (and no rotated ones) gives an empty
/// report.
pub fn read_newest(path: &Path, n: usize) -> Result<ReadReport<Value>, StoreError> {
    read_newest_as(path, n)
}

/// [`read_newest`], deserializing each record as `T`.
pub fn read_newest_as<T: DeserializeOwned>(
    path: &Path,
    n: usize,
) -> Result<ReadReport<T>, StoreError> {
    let mut scan = Scan {
        want: n,
        lines_back: 0,
        report: ReadReport::new(LineNumbering::FromEnd),
    };
    if n == 0 {
        return Ok(scan.report);
    }
    // Held shared, so that no writer rotates files while we move from one to the next.
    let lock = LockFile::open_existing_for(path)?;
    let _shared = lock.as_ref().map(LockFile::shared).transpose()?;
    for index in 0.. {
        let file_path = rotated_path(path, index);
        let file = match File::open(&file_path) {
            Ok(file) => file,
            // The current file may be missing (rotated away, nothing appended since).
            Err(e) if e.kind() == io::ErrorKind::NotFound && index == 0 => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => break,
            Err(e) => return Err(StoreError::io(&file_path, "open", e)),
        };
        scan.file(&file, &file_path)?;
        if scan.done() {
            break;
        }
    }
    Ok(scan.report)
}

struct Scan<T> {
    want: usize,
    /// Lines seen so far, counting back from the end of the current file.
    lines_back: u64,
    report: ReadReport<T>,
}

impl<T: DeserializeOwned> Scan<T> {
    fn done(&self) -> bool {
        self.report.records.len() >= self.want
    }

    /// Walks `file` backwards line by line until enough records are found or its start.
    fn file(&mut self, file: &File, path: &Path) -> Result<(), StoreError> {
        let read_err = |e| StoreError::io(path, "read", e);
        let len = file.metadata().map_err(read_err)?.len();
        if len == 0 {
            return Ok(());
        }
        // `buf` holds the file bytes from `buf_start` up to the end of the next line to
        // report (its `\n` excluded).
        let mut buf_start = len;
        let mut buf = Vec::new();
        prepend_block(file, &mut buf, &mut buf_start, TAIL_BLOCK_BYTES).map_err(read_err)?;
        let mut terminated = buf.last() == Some(&b'\n');
        if terminated {
            buf.pop();
        }
        // The line being collected outgrew MAX_LINE_BYTES; its bytes are being dropped.
        let mut overlong = false;
        while !self.done() {
            if let Some(i) = buf.iter().rposition(|&b| b == b'\n') {
                self.line(&buf[i + 1..], terminated, overlong, path);
                buf.truncate(i);
                terminated = true;
                overlong = false;
            } else if buf_start == 0 {
                self.line(&buf, terminated, overlong, path);
                break;
            } else {
                if buf.len() > MAX_LINE_BYTES {
                    overlong = true;
                    buf.clear();
                }
                // Read more at once when one line spans blocks, so long lines stay linear.
                let step = TAIL_BLOCK_BYTES.max(buf.len());
                prepend_block(file, &mut buf, &mut buf_start, step).map_err(read_err)?;
            }
        }
        Ok(())
    }

    fn line(&mut self, bytes: &[u8], terminated: bool, overlong: bool, path: &Path) {
        self.lines_back += 1;
        let parsed = if overlong || bytes.len() > MAX_LINE_BYTES {
            Parsed::Corrupt(too_long_message())
        } else {
            parse_line(bytes, terminated)
        };
        match parsed {
            Parsed::Blank => {}
            Parsed::Record(record) => self.report.records.push((self.lines_back, record)),
            Parsed::Corrupt(message) => self.report.corrupt.push(CorruptLine {
                file: path.to_path_buf(),
                line: self.lines_back,
                numbering: LineNumbering::FromEnd,
                message,
            }),
            Parsed::Torn => self.report.torn_tail = true,
        }
    }
}

/// Reads up to `step` bytes before `*buf_start` and puts them in front of `buf`.
fn prepend_block(
    file: &File,
    buf: &mut Vec<u8>,
    buf_start: &mut u64,
    step: usize,
) -> io::Result<()> {
    let step = u64::try_from(step).unwrap_or(u64::MAX).min(*buf_start);
    let start = *buf_start - step;
    // `step` is at most the `usize` it came from.
    let mut block = vec![0u8; usize::try_from(step).unwrap_or(usize::MAX)];
    file.read_exact_at(&mut block, start)?;
    block.extend_from_slice(buf);
    *buf = block;
    *buf_start = start;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{JsonlWriter, Rotation, SCHEMA_VERSION, read_all};
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::json;
    use std::fs;
    use std::io::{BufWriter, Write};

    fn ns(report: &ReadReport<Value>) -> Vec<u64> {
        report
            .records
            .iter()
            .map(|(_, v)| v["n"].as_u64().unwrap())
            .collect()
    }

    fn line(n: u64) -> String {
        format!("{{\"v\":1,\"ts\":\"2026-01-01T00:00:00.000Z\",\"n\":{n}}}\n")
    }

    #[test]
    fn newest_first_within_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        fs::write(&path, (1..=10).map(line).collect::<String>()).unwrap();
        let report = read_newest(&path, 3).unwrap();
        assert_eq!(ns(&report), [10, 9, 8]);
        let numbers: Vec<u64> = report.records.iter().map(|(l, _)| *l).collect();
        assert_eq!(numbers, [1, 2, 3]);
        assert_eq!(report.numbering, LineNumbering::FromEnd);
        assert!(report.is_clean());
        // Asking for more than there is gives everything.
        assert_eq!(
            ns(&read_newest(&path, 100).unwrap()),
            (1..=10).rev().collect::<Vec<_>>()
        );
    }

    #[test]
    fn empty_missing_and_zero() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.jsonl");
        let report = read_newest(&missing, 20).unwrap();
        assert!(report.records.is_empty() && report.is_clean());
        let empty = dir.path().join("empty.jsonl");
        fs::write(&empty, "").unwrap();
        assert!(read_newest(&empty, 20).unwrap().records.is_empty());
        fs::write(&empty, "\n\n  \n").unwrap();
        let report = read_newest(&empty, 20).unwrap();
        assert!(report.records.is_empty() && report.is_clean());
        fs::write(&empty, line(1)).unwrap();
        assert!(read_newest(&empty, 0).unwrap().records.is_empty());
    }

    #[test]
    fn continues_across_rotated_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let record = |n: u64| json!({"ts": "2026-01-01T00:00:00.000Z", "n": n + 100});
        let line_len = line(100).len() as u64;
        let mut w = JsonlWriter::open(
            &path,
            Rotation {
                max_bytes: line_len * 4,
                keep: 3,
            },
            SCHEMA_VERSION,
        )
        .unwrap();
        for n in 1..=14 {
            w.append(&record(n)).unwrap();
        }
        // history.jsonl: 113 114 · .1: 109-112 · .2: 105-108 · .3: 101-104
        assert_eq!(ns(&read_newest(&path, 2).unwrap()), [114, 113]);
        let report = read_newest(&path, 5).unwrap();
        assert_eq!(ns(&report), [114, 113, 112, 111, 110]);
        let numbers: Vec<u64> = report.records.iter().map(|(l, _)| *l).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5]);
        let all = read_newest(&path, 100).unwrap();
        assert_eq!(ns(&all), (101..=114).rev().collect::<Vec<_>>());
        // The current file gone (rotated, nothing appended since): still reads the rest.
        fs::remove_file(&path).unwrap();
        assert_eq!(ns(&read_newest(&path, 2).unwrap()), [112, 111]);
    }

    #[test]
    fn torn_tail_corrupt_lines_and_a_record_missing_only_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let text = format!(
            "{}{}not json\n\n{}{{\"v\":1,\"ts",
            line(1),
            line(2),
            line(3)
        );
        fs::write(&path, &text).unwrap();
        let report = read_newest(&path, 10).unwrap();
        assert!(report.torn_tail);
        assert_eq!(ns(&report), [3, 2, 1]);
        let numbers: Vec<u64> = report.records.iter().map(|(l, _)| *l).collect();
        assert_eq!(numbers, [2, 5, 6]);
        assert_eq!(report.corrupt.len(), 1);
        assert_eq!(report.corrupt[0].line, 4);
        assert_eq!(report.corrupt[0].file, path);
        assert!(
            report.corrupt[0]
                .to_string()
                .contains("line 4 counting back")
        );

        fs::write(&path, format!("{}{}", line(1), line(2).trim_end())).unwrap();
        let report = read_newest(&path, 10).unwrap();
        assert!(report.is_clean());
        assert_eq!(ns(&report), [2, 1]);
    }

    #[test]
    fn does_not_read_older_than_needed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        // Garbage at the start would be reported if it were read.
        let mut text = "garbage\n".repeat(10_000);
        text.extend((1..=100).map(line));
        fs::write(&path, text).unwrap();
        let report = read_newest(&path, 20).unwrap();
        assert!(report.is_clean());
        assert_eq!(ns(&report), (81..=100).rev().collect::<Vec<_>>());
    }

    #[test]
    fn lines_longer_than_a_block() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let big = |n: u64| {
            format!(
                "{{\"v\":1,\"ts\":\"x\",\"n\":{n},\"pad\":\"{}\"}}\n",
                "p".repeat(3 * TAIL_BLOCK_BYTES + n as usize)
            )
        };
        let text: String = (1..=4).map(big).collect();
        fs::write(&path, &text).unwrap();
        assert_eq!(ns(&read_newest(&path, 3).unwrap()), [4, 3, 2]);
        // Over MAX_LINE_BYTES: reported, skipped, the line before it still found.
        let long = format!("{{\"pad\":\"{}\"}}\n", "q".repeat(MAX_LINE_BYTES + 10));
        fs::write(&path, format!("{}{long}{}", line(1), line(3))).unwrap();
        let report = read_newest(&path, 5).unwrap();
        assert_eq!(ns(&report), [3, 1]);
        assert_eq!(report.corrupt.len(), 1);
        assert_eq!(report.corrupt[0].line, 2);
    }

    #[test]
    fn fifty_thousand_records_newest_twenty() {
        #[derive(Deserialize)]
        struct Rec {
            n: u64,
            host: String,
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let mut out = BufWriter::new(fs::File::create(&path).unwrap());
        for n in 1..=50_000u64 {
            writeln!(
                out,
                "{{\"v\":1,\"ts\":\"2026-01-01T00:00:00.000Z\",\"host\":\"web{:03}\",\"n\":{n}}}",
                n % 997
            )
            .unwrap();
        }
        out.into_inner().unwrap().sync_all().unwrap();
        let report = read_newest_as::<Rec>(&path, 20).unwrap();
        let got: Vec<u64> = report.records.iter().map(|(_, r)| r.n).collect();
        assert_eq!(got, (49_981..=50_000).rev().collect::<Vec<_>>());
        assert_eq!(report.records[0].1.host, format!("web{:03}", 50_000 % 997));
        // Agrees with reading everything.
        let all = read_all(&path).unwrap();
        let tail: Vec<u64> = all
            .records
            .iter()
            .rev()
            .take(20)
            .map(|(_, v)| v["n"].as_u64().unwrap())
            .collect();
        assert_eq!(got, tail);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever a file holds, reading it backwards finds what reading it forwards finds,
        /// in reverse, with matching line numbers.
        #[test]
        fn backwards_agrees_with_forwards(
            lines in proptest::collection::vec(
                prop_oneof![
                    (0u64..1000).prop_map(|n| line(n).trim_end().to_owned()),
                    "[ {}\\[\\]\":,a-z0-9\r]{0,12}",
                    Just(String::new()),
                    Just("{\"v\":1,\"ts".to_owned()),
                ],
                0..40,
            ),
            trailing_newline in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("h.jsonl");
            let mut text = lines.join("\n");
            if trailing_newline && !lines.is_empty() {
                text.push('\n');
            }
            fs::write(&path, &text).unwrap();
            let forward = read_all(&path).unwrap();
            let backward = read_newest(&path, usize::MAX).unwrap();
            let total = if text.is_empty() {
                0
            } else {
                text.matches('\n').count() as u64 + u64::from(!text.ends_with('\n'))
            };
            let mut expect: Vec<(u64, Value)> = forward
                .records
                .iter()
                .map(|(l, v)| (total - l + 1, v.clone()))
                .collect();
            expect.reverse();
            prop_assert_eq!(&backward.records, &expect);
            let mut corrupt: Vec<u64> = forward.corrupt.iter().map(|c| total - c.line + 1).collect();
            corrupt.reverse();
            let back_corrupt: Vec<u64> = backward.corrupt.iter().map(|c| c.line).collect();
            prop_assert_eq!(back_corrupt, corrupt);
            prop_assert_eq!(backward.torn_tail, forward.torn_tail);
        }
    }
}
