//! What a read found: the records, the damaged lines, and whether the last line was torn.

use std::fmt;
use std::path::PathBuf;

/// How the line numbers in a [`ReadReport`] count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineNumbering {
    /// 1 is the first line of the file (reading oldest first: [`read_all`](super::read_all)).
    FromStart,
    /// 1 is the last line of the current file, counting back through every line (blank,
    /// corrupt and torn ones too) and on into the rotated files `name.1.jsonl`, `name.2.jsonl`
    /// … (reading newest first: [`read_newest`](super::read_newest), which does not read the
    /// whole file and so cannot know the numbers counted from the start).
    FromEnd,
}

/// A line that is not a record; it was skipped and reading went on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptLine {
    /// The file the line is in (the current file or one of its rotated predecessors).
    pub file: PathBuf,
    /// The line number, counted as `numbering` says.
    pub line: u64,
    pub numbering: LineNumbering,
    /// Why it is not a record (the parser's message, with a column).
    pub message: String,
}

impl fmt::Display for CorruptLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.numbering {
            LineNumbering::FromStart => {
                write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
            }
            LineNumbering::FromEnd => write!(
                f,
                "{}: line {} counting back from the newest: {}",
                self.file.display(),
                self.line,
                self.message
            ),
        }
    }
}

/// The result of reading a JSONL file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadReport<T> {
    /// `(line number, record)`, in reading order (oldest first for `read_all`, newest first for
    /// `read_newest`); see `numbering`.
    pub records: Vec<(u64, T)>,
    /// Lines that are not records (invalid JSON, not an object, wrong shape for the type read,
    /// too long). A torn last line is not among them.
    pub corrupt: Vec<CorruptLine>,
    /// The last line had no `\n` and was not valid JSON: a write cut short by a crash. It was
    /// skipped. (A last line missing only its `\n` is a record.)
    pub torn_tail: bool,
    pub numbering: LineNumbering,
}

impl<T> ReadReport<T> {
    pub(crate) fn new(numbering: LineNumbering) -> Self {
        Self {
            records: Vec::new(),
            corrupt: Vec::new(),
            torn_tail: false,
            numbering,
        }
    }

    /// Nothing was skipped: no corrupt lines and no torn tail.
    pub fn is_clean(&self) -> bool {
        self.corrupt.is_empty() && !self.torn_tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_lines_name_file_and_line() {
        let mut c = CorruptLine {
            file: PathBuf::from("/d/history.jsonl"),
            line: 17,
            numbering: LineNumbering::FromStart,
            message: "EOF while parsing".into(),
        };
        assert_eq!(c.to_string(), "/d/history.jsonl:17: EOF while parsing");
        c.numbering = LineNumbering::FromEnd;
        assert_eq!(
            c.to_string(),
            "/d/history.jsonl: line 17 counting back from the newest: EOF while parsing"
        );
    }
}
