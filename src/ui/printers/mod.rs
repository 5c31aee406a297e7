//! Plain-text and JSON output of the headless commands.

pub mod export;
pub mod history;
pub mod hosts;
pub mod incidents;
pub mod line_buffer;
pub mod metrics;
pub mod paths;
pub mod run_dry;
pub mod run_gather;
pub mod run_json;
pub mod run_progress;
pub mod run_stream;
pub mod run_summary;
pub mod sanitize;
pub mod stats;
pub mod stats_prom;
pub mod status_line;

use std::io::Write;

use crate::diag::Error;

/// Writes to stdout; a closed pipe (`fleetdeck hosts | head`) is a normal end, not an error.
pub fn write_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Invalid(format!("cannot write to stdout: {e}"))),
    }
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let last = row.len().saturating_sub(1);
        for (i, cell) in row.iter().enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        // Trailing spaces from empty last cells would only be noise.
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push('\n');
    }
    out
}
