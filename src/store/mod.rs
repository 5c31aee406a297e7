//! JSONL: append-only records of what happened (history, audit, incidents, run output,
//! metric samples).
//!
//! One JSON object per line, its first two keys `"v"` (schema version) and `"ts"` (RFC 3339,
//! UTC, milliseconds). [`JsonlWriter`] appends each line in a single `write` on an `O_APPEND`
//! descriptor, so several processes can append to one file, and rotates files by size
//! (`name.jsonl` → `name.1.jsonl` → …) under an `flock` on `name.jsonl.lock`.
//!
//! Readers never fail on damaged content: [`read_all`] / [`JsonlReader`] (oldest first,
//! streaming) and [`read_newest`] (newest first, from the end, across rotated files) skip
//! lines that are not records and say so in a [`ReadReport`], including a torn last line left
//! by a crash mid-write. Secrets are not this module's business: callers leave them out.

mod error;
mod jsonl_reader;
mod jsonl_writer;
mod line;
pub(crate) mod lock;
mod report;
mod rotate;
mod tail;
mod timestamp;

pub use error::StoreError;
pub use jsonl_reader::{Entry, JsonlReader, ReadSummary, for_each_record, read_all, read_all_as};
pub use jsonl_writer::JsonlWriter;
pub use line::MAX_LINE_BYTES;
pub(crate) use line::{Parsed, parse_line};
pub use report::{CorruptLine, LineNumbering, ReadReport};
pub(crate) use rotate::rotate_files;
pub use rotate::{MAX_ROTATED_FILES, Rotation, chain_oldest_first, rotated_path};
pub use tail::{TAIL_BLOCK_BYTES, read_newest, read_newest_as};
pub use timestamp::{now_rfc3339, rfc3339, rfc3339_millis, system_rfc3339};

/// The schema version records are written with unless a caller says otherwise.
pub const SCHEMA_VERSION: u32 = 1;
