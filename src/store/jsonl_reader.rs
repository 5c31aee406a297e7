//! Reading a JSONL file oldest first, streaming or all at once.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::StoreError;
use super::line::{MAX_LINE_BYTES, Parsed, parse_line, too_long_message};
use super::report::{CorruptLine, LineNumbering, ReadReport};

/// One line of a file, as [`JsonlReader`] yields it. Blank lines are skipped silently (they
/// still count in line numbers).
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<T> {
    /// A record and its line number (1-based).
    Record { line: u64, record: T },
    /// A line that is not a record; reading goes on after it.
    Corrupt(CorruptLine),
    /// The last line, without `\n` and not valid JSON: a write cut short by a crash.
    TornTail { line: u64 },
}

/// Streams the lines of a JSONL file oldest first without loading it into memory (one line at
/// a time, at most [`MAX_LINE_BYTES`](super::MAX_LINE_BYTES) of it). A missing file yields
/// nothing. Records are deserialized as `T`; a line that is JSON of the wrong shape for `T` is
/// reported as corrupt.
#[derive(Debug)]
pub struct JsonlReader<T> {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    buf: Vec<u8>,
    line: u64,
    _record: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> JsonlReader<T> {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let reader = match File::open(path) {
            Ok(file) => Some(BufReader::with_capacity(64 * 1024, file)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(StoreError::io(path, "open", e)),
        };
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            buf: Vec::new(),
            line: 0,
            _record: PhantomData,
        })
    }

    fn corrupt(&self, message: String) -> Entry<T> {
        Entry::Corrupt(CorruptLine {
            file: self.path.clone(),
            line: self.line,
            numbering: LineNumbering::FromStart,
            message,
        })
    }
}

impl<T: DeserializeOwned> Iterator for JsonlReader<T> {
    type Item = Result<Entry<T>, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let reader = self.reader.as_mut()?;
            let raw = match next_raw_line(reader, &mut self.buf) {
                Ok(raw) => raw,
                Err(e) => {
                    self.reader = None;
                    return Some(Err(StoreError::io(&self.path, "read", e)));
                }
            };
            let terminated = match raw {
                RawLine::Eof => {
                    self.reader = None;
                    return None;
                }
                RawLine::TooLong => {
                    self.line += 1;
                    return Some(Ok(self.corrupt(too_long_message())));
                }
                RawLine::Line { terminated } => terminated,
            };
            self.line += 1;
            return Some(Ok(match parse_line(&self.buf, terminated) {
                Parsed::Blank => continue,
                Parsed::Record(record) => Entry::Record {
                    line: self.line,
                    record,
                },
                Parsed::Corrupt(message) => self.corrupt(message),
                Parsed::Torn => Entry::TornTail { line: self.line },
            }));
        }
    }
}

enum RawLine {
    Eof,
    /// The line is in the buffer (without its `\n`).
    Line {
        terminated: bool,
    },
    /// The line was longer than `MAX_LINE_BYTES`; it was consumed, the buffer is empty.
    TooLong,
}

/// Reads one line into `buf`, keeping at most `MAX_LINE_BYTES` of it.
fn next_raw_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<RawLine> {
    buf.clear();
    let mut started = false;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (started, too_long) {
                (false, _) => RawLine::Eof,
                (true, true) => RawLine::TooLong,
                (true, false) => RawLine::Line { terminated: false },
            });
        }
        started = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let content = &available[..newline.unwrap_or(available.len())];
        if !too_long {
            if buf.len() + content.len() > MAX_LINE_BYTES {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(content);
            }
        }
        let used = newline.map_or(available.len(), |i| i + 1);
        reader.consume(used);
        if newline.is_some() {
            return Ok(if too_long {
                RawLine::TooLong
            } else {
                RawLine::Line { terminated: true }
            });
        }
    }
}

/// Reads every record of `path`, oldest first, as JSON objects. Damaged lines are reported and
/// skipped; a missing file gives an empty report.
pub fn read_all(path: &Path) -> Result<ReadReport<Value>, StoreError> {
    read_all_as(path)
}

/// [`read_all`], deserializing each record as `T`.
pub fn read_all_as<T: DeserializeOwned>(path: &Path) -> Result<ReadReport<T>, StoreError> {
    let mut report = ReadReport::new(LineNumbering::FromStart);
    for entry in JsonlReader::<T>::open(path)? {
        match entry? {
            Entry::Record { line, record } => report.records.push((line, record)),
            Entry::Corrupt(corrupt) => report.corrupt.push(corrupt),
            Entry::TornTail { .. } => report.torn_tail = true,
        }
    }
    Ok(report)
}

/// What [`for_each_record`] saw besides the records it handed over.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadSummary {
    pub records: u64,
    pub corrupt: Vec<CorruptLine>,
    pub torn_tail: bool,
}

/// Streams the records of `path` oldest first into `f(line number, record)` without holding the
/// file in memory.
pub fn for_each_record<T, F>(path: &Path, mut f: F) -> Result<ReadSummary, StoreError>
where
    T: DeserializeOwned,
    F: FnMut(u64, T),
{
    let mut summary = ReadSummary::default();
    for entry in JsonlReader::<T>::open(path)? {
        match entry? {
            Entry::Record { line, record } => {
                summary.records += 1;
                f(line, record);
            }
            Entry::Corrupt(corrupt) => summary.corrupt.push(corrupt),
            Entry::TornTail { .. } => summary.torn_tail = true,
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::fs;

    const GOOD: &str = "{\"v\":1,\"ts\":\"2026-01-01T00:00:00.000Z\",\"n\":";

    fn good(n: u32) -> String {
        format!("{GOOD}{n}}}\n")
    }

    fn numbers(report: &ReadReport<Value>) -> Vec<(u64, u64)> {
        report
            .records
            .iter()
            .map(|(line, v)| (*line, v["n"].as_u64().unwrap()))
            .collect()
    }

    #[test]
    fn torn_last_line_is_skipped_and_flagged_not_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        fs::write(&path, format!("{}{}{GOOD}", good(1), good(2))).unwrap();
        let report = read_all(&path).unwrap();
        assert!(report.torn_tail);
        assert!(report.corrupt.is_empty());
        assert_eq!(numbers(&report), [(1, 1), (2, 2)]);
    }

    #[test]
    fn last_line_missing_only_its_newline_is_a_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        fs::write(&path, format!("{}{}", good(1), good(2).trim_end())).unwrap();
        let report = read_all(&path).unwrap();
        assert!(report.is_clean());
        assert_eq!(numbers(&report), [(1, 1), (2, 2)]);
    }

    #[test]
    fn corrupt_middle_line_is_reported_with_its_number_and_reading_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let text = format!(
            "{}{{\"v\":1,\"ts\":garbage}}\n\n[1,2]\n{}\r\n{}",
            good(1),
            good(3).trim_end(),
            good(4)
        );
        fs::write(&path, text).unwrap();
        let report = read_all(&path).unwrap();
        assert!(!report.torn_tail);
        assert_eq!(numbers(&report), [(1, 1), (5, 3), (6, 4)]);
        let lines: Vec<u64> = report.corrupt.iter().map(|c| c.line).collect();
        assert_eq!(lines, [2, 4]);
        let shown = report.corrupt[0].to_string();
        assert!(
            shown.starts_with(&format!("{}:2: ", path.display())),
            "{shown}"
        );
        assert_eq!(report.corrupt[1].message, "not a JSON object");
    }

    #[test]
    fn invalid_utf8_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let mut bytes = good(1).into_bytes();
        bytes.extend_from_slice(b"{\"a\":\"\xff\xfe\"}\n");
        bytes.extend_from_slice(good(3).as_bytes());
        fs::write(&path, bytes).unwrap();
        let report = read_all(&path).unwrap();
        assert_eq!(numbers(&report), [(1, 1), (3, 3)]);
        assert_eq!(report.corrupt.len(), 1);
        assert_eq!(report.corrupt[0].line, 2);
    }

    #[test]
    fn missing_or_empty_file_is_an_empty_report() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read_all(&dir.path().join("nope.jsonl")).unwrap();
        assert!(missing.records.is_empty() && missing.is_clean());
        let empty = dir.path().join("empty.jsonl");
        fs::write(&empty, "").unwrap();
        assert!(read_all(&empty).unwrap().records.is_empty());
    }

    #[test]
    fn a_folder_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_all(dir.path()).unwrap_err();
        assert_eq!(err.path(), dir.path());
        assert!(err.to_string().contains(&dir.path().display().to_string()));
    }

    #[test]
    fn typed_reading_reports_wrong_shapes_as_corrupt() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Rec {
            v: u32,
            n: u32,
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        fs::write(&path, format!("{}{GOOD}\"x\"}}\n{}", good(1), good(3))).unwrap();
        let report = read_all_as::<Rec>(&path).unwrap();
        assert_eq!(
            report.records,
            [(1, Rec { v: 1, n: 1 }), (3, Rec { v: 1, n: 3 })]
        );
        assert_eq!(report.corrupt.len(), 1);
        assert_eq!(report.corrupt[0].line, 2);
    }

    #[test]
    fn overlong_lines_are_corrupt_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let long = format!("{{\"a\":\"{}\"}}\n", "x".repeat(MAX_LINE_BYTES));
        fs::write(&path, format!("{}{long}{}", good(1), good(3))).unwrap();
        let report = read_all(&path).unwrap();
        assert_eq!(numbers(&report), [(1, 1), (3, 3)]);
        assert_eq!(report.corrupt.len(), 1);
        assert_eq!(report.corrupt[0].line, 2);
        assert!(report.corrupt[0].message.contains("longer than"));
    }

    #[test]
    fn streaming_forms_agree_with_read_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let mut text: String = (0..1000).map(good).collect();
        text.push_str("oops\n");
        text.push_str(&good(1000));
        text.push_str("{\"v\":1,\"ts");
        fs::write(&path, text).unwrap();

        let mut seen = Vec::new();
        let summary = for_each_record(&path, |line, v: Value| {
            seen.push((line, v["n"].as_u64().unwrap()));
        })
        .unwrap();
        assert_eq!(summary.records, 1001);
        assert!(summary.torn_tail);
        assert_eq!(summary.corrupt.len(), 1);
        assert_eq!(summary.corrupt[0].line, 1001);
        assert_eq!(seen, numbers(&read_all(&path).unwrap()));
        assert_eq!(seen[1000], (1002, 1000));

        let last = JsonlReader::<Value>::open(&path)
            .unwrap()
            .last()
            .unwrap()
            .unwrap();
        assert_eq!(last, Entry::TornTail { line: 1003 });
    }
}
