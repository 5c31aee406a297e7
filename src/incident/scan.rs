//! Reading the book's lines from a byte offset on, so a book can catch up with what other
//! processes appended without reading the file again. Only whole lines (ending in `\n`) are
//! taken from the current file: an unterminated last line may still be being written, and
//! is read once its writer (or the next append, which closes a torn line off) ends it.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::event::Event;
use crate::store::{CorruptLine, LineNumbering, MAX_LINE_BYTES, Parsed, parse_line};

/// Where reading stopped in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Bytes consumed (always at a line start).
    pub offset: u64,
    /// Lines consumed (blank and damaged ones included), for line numbers.
    pub line: u64,
}

/// What was read after a position.
pub enum Line {
    Event { line: u64, event: Event },
    Damaged(CorruptLine),
}

/// Reads whole lines of `file` (at `path`) after `from`, handing each to `f`; returns where
/// it stopped. `last_file`: an unterminated last line is left for later (the current file);
/// otherwise (a rotated file, which nobody writes any more) it is reported as torn.
pub fn read_after(
    file: &File,
    path: &Path,
    from: Position,
    last_file: bool,
    mut f: impl FnMut(Line),
) -> io::Result<Position> {
    let mut handle = file;
    handle.seek(SeekFrom::Start(from.offset))?;
    let mut reader = BufReader::with_capacity(256 * 1024, handle);
    let mut pos = from;
    let mut buf = Vec::with_capacity(1024);
    let damaged = |line: u64, message: String| {
        Line::Damaged(CorruptLine {
            file: path.to_path_buf(),
            line,
            numbering: LineNumbering::FromStart,
            message,
        })
    };
    loop {
        buf.clear();
        let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX) + 1;
        let n = (&mut reader).take(limit).read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(pos);
        }
        let terminated = buf.last() == Some(&b'\n');
        if !terminated && buf.len() > MAX_LINE_BYTES {
            // Too long to be a record: skip to its end, bounded memory.
            let mut skipped = n as u64;
            let ended = skip_line(&mut reader, &mut skipped)?;
            if !ended && last_file {
                return Ok(pos);
            }
            pos.offset += skipped;
            pos.line += 1;
            f(damaged(
                pos.line,
                format!("line longer than {MAX_LINE_BYTES} bytes, skipped"),
            ));
            continue;
        }
        if !terminated {
            if last_file {
                return Ok(pos);
            }
            pos.offset += n as u64;
            pos.line += 1;
            f(damaged(
                pos.line,
                "the last line is incomplete (cut by a crash); skipped".to_string(),
            ));
            return Ok(pos);
        }
        pos.offset += n as u64;
        pos.line += 1;
        let content = &buf[..buf.len() - 1];
        match parse_line::<Event>(content, true) {
            Parsed::Blank => {}
            Parsed::Record(event) => f(Line::Event {
                line: pos.line,
                event,
            }),
            Parsed::Corrupt(message) => f(damaged(pos.line, message)),
            Parsed::Torn => f(damaged(pos.line, "not a record".to_string())),
        }
    }
}

/// Consumes the rest of an overlong line; whether it ended in `\n`.
fn skip_line(reader: &mut impl BufRead, skipped: &mut u64) -> io::Result<bool> {
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(false);
        }
        if let Some(i) = available.iter().position(|&b| b == b'\n') {
            reader.consume(i + 1);
            *skipped += i as u64 + 1;
            return Ok(true);
        }
        let len = available.len();
        reader.consume(len);
        *skipped += len as u64;
    }
}
