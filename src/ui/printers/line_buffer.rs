//! Splits a host's output chunks into lines, so hosts interleave only at line boundaries.

/// A line longer than this is printed in pieces: a host writing megabytes without a newline
/// must not grow memory without bound.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The unfinished line of one host's stream.
#[derive(Debug, Default, Clone)]
pub struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    /// Appends `bytes`; returns the lines completed by them, without their `\n` (and without a
    /// `\r` before it: CRLF output reads as plain lines).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        let mut rest = bytes;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            self.pending.extend_from_slice(&rest[..pos]);
            lines.extend(self.take_long());
            lines.push(strip_cr(std::mem::take(&mut self.pending)));
            rest = &rest[pos + 1..];
        }
        self.pending.extend_from_slice(rest);
        lines.extend(self.take_long());
        lines
    }

    /// The unfinished line, if any (at the end of the host's output).
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        (!self.pending.is_empty()).then(|| strip_cr(std::mem::take(&mut self.pending)))
    }

    /// Full-size pieces of an over-long pending line, cut at a UTF-8 character boundary.
    fn take_long(&mut self) -> Vec<Vec<u8>> {
        let mut pieces = Vec::new();
        while self.pending.len() > MAX_LINE_BYTES {
            let mut cut = MAX_LINE_BYTES;
            // Back up over UTF-8 continuation bytes (at most 3), so a character stays whole.
            while cut > MAX_LINE_BYTES - 3 && (self.pending[cut] & 0xC0) == 0x80 {
                cut -= 1;
            }
            let tail = self.pending.split_off(cut);
            pieces.push(std::mem::replace(&mut self.pending, tail));
        }
        pieces
    }
}

fn strip_cr(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_lines_wait_for_their_end() {
        let mut b = LineBuffer::default();
        assert!(b.push(b"hel").is_empty());
        assert_eq!(b.push(b"lo\nwor"), vec![b"hello".to_vec()]);
        assert_eq!(b.push(b"ld\r\n\n"), vec![b"world".to_vec(), Vec::new()]);
        assert_eq!(b.finish(), None);
        b.push(b"tail");
        assert_eq!(b.finish(), Some(b"tail".to_vec()));
        assert_eq!(b.finish(), None);
    }

    #[test]
    fn long_lines_are_cut_at_character_boundaries() {
        let mut b = LineBuffer::default();
        let text = "é".repeat(MAX_LINE_BYTES); // two bytes each
        let lines = b.push(text.as_bytes());
        assert!(!lines.is_empty());
        for line in &lines {
            assert!(line.len() <= MAX_LINE_BYTES);
            assert!(std::str::from_utf8(line).is_ok());
        }
        let rest = b.finish().unwrap_or_default();
        assert_eq!(lines.concat().len() + rest.len(), text.len());
    }
}
