//! Writing runs/<id>.jsonl: host tasks hand output records to one writer thread (file writes
//! stay off the async runtime), each host recording at most `output_cap` bytes and then one
//! note saying how much was not recorded.

use tokio::sync::{mpsc, oneshot};

use super::records::{OutputRecord, not_recorded_note};
use super::types::Stream;
use crate::store::JsonlWriter;

/// Largest piece of output in one record.
pub const RECORD_MAX: usize = 16 * 1024;
/// Records waiting for the writer thread (at most RECORD_MAX each).
const QUEUE: usize = 256;

/// The writer thread of one run's output file.
pub struct RunOutput {
    tx: mpsc::Sender<OutputRecord>,
    done: oneshot::Receiver<()>,
}

impl RunOutput {
    /// Starts the writer thread; `None` (logged) if the thread cannot be started.
    pub fn start(mut writer: JsonlWriter) -> Option<Self> {
        let (tx, mut rx) = mpsc::channel::<OutputRecord>(QUEUE);
        let (done_tx, done) = oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("fleetdeck-run-output".into())
            .spawn(move || {
                let mut failures = 0u64;
                while let Some(record) = rx.blocking_recv() {
                    if let Err(e) = writer.append(&record) {
                        // Say it once: a full disk would otherwise log every chunk.
                        if failures == 0 {
                            tracing::warn!(error = %e, "cannot record run output; the run goes on");
                        }
                        failures += 1;
                    }
                }
                if failures > 0 {
                    tracing::warn!(path = %writer.path().display(), failures, "run output records lost");
                }
                let _ = done_tx.send(());
            });
        match spawned {
            Ok(_) => Some(RunOutput { tx, done }),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the run output writer; output is not recorded");
                None
            }
        }
    }

    pub fn recorder(&self, host: &str, cap: usize) -> HostRecorder {
        HostRecorder {
            tx: Some(self.tx.clone()),
            host: host.to_string(),
            cap,
            recorded: 0,
            not_recorded: 0,
            carry_out: Vec::new(),
            carry_err: Vec::new(),
        }
    }

    /// Waits until every record handed over is written (all recorders must be finished or
    /// dropped first).
    pub async fn finish(self) {
        drop(self.tx);
        let _ = self.done.await;
    }
}

/// One host's side: coalesced output in, records out, up to the cap.
pub struct HostRecorder {
    /// `None`: recording is off (no records, or the writer is gone).
    tx: Option<mpsc::Sender<OutputRecord>>,
    host: String,
    cap: usize,
    recorded: usize,
    not_recorded: u64,
    /// The start of a UTF-8 character split across pieces, per stream.
    carry_out: Vec<u8>,
    carry_err: Vec<u8>,
}

impl HostRecorder {
    /// A recorder that records nothing.
    pub fn off() -> Self {
        HostRecorder {
            tx: None,
            host: String::new(),
            cap: 0,
            recorded: 0,
            not_recorded: 0,
            carry_out: Vec::new(),
            carry_err: Vec::new(),
        }
    }

    pub async fn write(&mut self, stream: Stream, bytes: &[u8]) {
        if self.tx.is_none() {
            return;
        }
        let take = bytes.len().min(self.cap - self.recorded);
        self.not_recorded += (bytes.len() - take) as u64;
        self.recorded += take;
        for piece in bytes[..take].chunks(RECORD_MAX) {
            let carry = match stream {
                Stream::Stdout => &mut self.carry_out,
                Stream::Stderr => &mut self.carry_err,
            };
            let mut buf = std::mem::take(carry);
            buf.extend_from_slice(piece);
            *carry = split_incomplete_char(&mut buf);
            if !buf.is_empty() {
                self.send(stream, String::from_utf8_lossy(&buf).into_owned())
                    .await;
            }
        }
    }

    /// Flushes split characters and, if the cap was reached, the note saying how much output
    /// was not recorded.
    pub async fn finish(&mut self) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let carry = match stream {
                Stream::Stdout => std::mem::take(&mut self.carry_out),
                Stream::Stderr => std::mem::take(&mut self.carry_err),
            };
            if !carry.is_empty() {
                self.send(stream, String::from_utf8_lossy(&carry).into_owned())
                    .await;
            }
        }
        if self.not_recorded > 0 {
            let note = not_recorded_note(self.not_recorded, self.cap);
            self.send(Stream::Stderr, note).await;
        }
        self.tx = None;
    }

    async fn send(&mut self, stream: Stream, data: String) {
        let Some(tx) = &self.tx else { return };
        let record = OutputRecord {
            host: self.host.clone(),
            stream,
            data,
        };
        if tx.send(record).await.is_err() {
            self.tx = None;
        }
    }
}

/// Removes and returns an incomplete UTF-8 character at the end of `buf` (at most 3 bytes),
/// so it can be completed by the next piece instead of turning into replacement characters.
fn split_incomplete_char(buf: &mut Vec<u8>) -> Vec<u8> {
    let len = buf.len();
    for back in 1..=3.min(len) {
        let b = buf[len - back];
        if b & 0xC0 == 0x80 {
            continue; // a continuation byte: keep looking for the lead byte
        }
        let needed = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return Vec::new(), // ASCII or not a lead byte: nothing to carry
        };
        return if back < needed {
            buf.split_off(len - back)
        } else {
            Vec::new()
        };
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_characters_are_carried() {
        let text = "aé€😀".as_bytes().to_vec();
        for cut in 0..=text.len() {
            let mut head = text[..cut].to_vec();
            let carry = split_incomplete_char(&mut head);
            let mut joined = carry.clone();
            joined.extend_from_slice(&text[cut..]);
            assert!(std::str::from_utf8(&head).is_ok(), "cut {cut}");
            assert!(std::str::from_utf8(&joined).is_ok(), "cut {cut}");
        }
        let mut invalid = vec![b'x', 0xFF];
        assert!(split_incomplete_char(&mut invalid).is_empty());
    }
}
