//! A host's outbox: its state changes and output waiting for the front end. Output is bounded
//! (`output_cap` bytes of stdout + stderr together); when the front end falls behind, the
//! oldest bytes are dropped and counted, so a host never waits for the front end. State
//! changes are never dropped.

use std::collections::VecDeque;

use super::types::{HostState, Stream};

/// A `Dropped` event is sent at most once per this many dropped bytes (and once more before
/// the host's final state, so the front end learns the exact total).
pub const DROPPED_REPORT_EVERY: u64 = 64 * 1024;

/// What a host has queued, in order.
#[derive(Debug)]
enum Item {
    State(HostState),
    Output(Stream, Vec<u8>),
}

/// The next thing to tell the front end about one host.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    State(HostState),
    Output(Stream, Vec<u8>),
    /// Total bytes dropped for this host so far.
    Dropped(u64),
}

#[derive(Debug)]
pub struct Outbox {
    items: VecDeque<Item>,
    /// Output bytes in `items`.
    output_bytes: usize,
    cap: usize,
    dropped_total: u64,
    dropped_unreported: u64,
}

impl Outbox {
    pub fn new(cap: usize) -> Self {
        Outbox {
            items: VecDeque::new(),
            output_bytes: 0,
            cap,
            dropped_total: 0,
            dropped_unreported: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.dropped_unreported == 0
    }

    pub fn push_state(&mut self, state: HostState) {
        self.items.push_back(Item::State(state));
    }

    /// Queues output, dropping the oldest queued output beyond the cap.
    pub fn push_output(&mut self, stream: Stream, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        self.output_bytes += bytes.len();
        self.items.push_back(Item::Output(stream, bytes));
        self.drop_oldest();
    }

    fn drop_oldest(&mut self) {
        // Each pass removes a whole item or trims one to fit, so this ends within
        // `items.len() + 1` passes.
        while self.output_bytes > self.cap {
            let excess = self.output_bytes - self.cap;
            let Some(pos) = self
                .items
                .iter()
                .position(|i| matches!(i, Item::Output(..)))
            else {
                break;
            };
            let removed = match &mut self.items[pos] {
                Item::Output(_, bytes) if bytes.len() > excess => {
                    bytes.drain(..excess);
                    excess
                }
                Item::Output(_, bytes) => {
                    let n = bytes.len();
                    self.items.remove(pos);
                    n
                }
                Item::State(_) => break,
            };
            self.output_bytes -= removed;
            let removed = removed as u64;
            self.dropped_total += removed;
            self.dropped_unreported += removed;
        }
    }

    /// The next event for this host: a pending drop report when due, else the oldest item,
    /// with consecutive output of the same stream joined up to `max_chunk` bytes.
    pub fn take_next(&mut self, max_chunk: usize) -> Option<Next> {
        let max_chunk = max_chunk.max(1);
        // The rest is reported before the final state, or when nothing else is queued.
        let at_end = match self.items.front() {
            None => true,
            Some(Item::State(s)) => s.is_terminal(),
            Some(Item::Output(..)) => false,
        };
        if self.dropped_unreported > 0
            && (self.dropped_unreported >= DROPPED_REPORT_EVERY || at_end)
        {
            self.dropped_unreported = 0;
            return Some(Next::Dropped(self.dropped_total));
        }
        match self.items.pop_front()? {
            Item::State(state) => Some(Next::State(state)),
            Item::Output(stream, mut bytes) => {
                if bytes.len() > max_chunk {
                    let rest = bytes.split_off(max_chunk);
                    self.items.push_front(Item::Output(stream, rest));
                } else {
                    self.join_following(stream, &mut bytes, max_chunk);
                }
                self.output_bytes -= bytes.len();
                Some(Next::Output(stream, bytes))
            }
        }
    }

    /// Appends the queued output that directly follows, of the same stream, up to `max_chunk`.
    fn join_following(&mut self, stream: Stream, bytes: &mut Vec<u8>, max_chunk: usize) {
        while let Some(Item::Output(s, next)) = self.items.front_mut() {
            if *s != stream || bytes.len() >= max_chunk {
                return;
            }
            let room = max_chunk - bytes.len();
            if next.len() > room {
                bytes.extend_from_slice(&next[..room]);
                next.drain(..room);
                return;
            }
            bytes.extend_from_slice(next);
            self.items.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(outbox: &mut Outbox, max_chunk: usize) -> Vec<Next> {
        let mut all = Vec::new();
        for _ in 0..10_000 {
            match outbox.take_next(max_chunk) {
                Some(n) => all.push(n),
                None => break,
            }
        }
        all
    }

    #[test]
    fn joins_same_stream_output_and_keeps_order() {
        let mut o = Outbox::new(1 << 20);
        o.push_state(HostState::Running);
        o.push_output(Stream::Stdout, b"ab".to_vec());
        o.push_output(Stream::Stdout, b"cd".to_vec());
        o.push_output(Stream::Stderr, b"e".to_vec());
        o.push_output(Stream::Stdout, b"fghij".to_vec());
        o.push_state(HostState::Ok);
        assert_eq!(
            drain(&mut o, 3),
            [
                Next::State(HostState::Running),
                Next::Output(Stream::Stdout, b"abc".to_vec()),
                Next::Output(Stream::Stdout, b"d".to_vec()),
                Next::Output(Stream::Stderr, b"e".to_vec()),
                Next::Output(Stream::Stdout, b"fgh".to_vec()),
                Next::Output(Stream::Stdout, b"ij".to_vec()),
                Next::State(HostState::Ok),
            ]
        );
        assert!(o.is_empty());
    }

    #[test]
    fn drops_the_oldest_bytes_and_reports_them_before_the_final_state() {
        let mut o = Outbox::new(10);
        o.push_state(HostState::Running);
        o.push_output(Stream::Stdout, b"0123456789".to_vec());
        o.push_output(Stream::Stderr, b"abcd".to_vec());
        o.push_state(HostState::Ok);
        assert_eq!(
            drain(&mut o, 100),
            [
                Next::State(HostState::Running),
                Next::Output(Stream::Stdout, b"456789".to_vec()),
                Next::Output(Stream::Stderr, b"abcd".to_vec()),
                Next::Dropped(4),
                Next::State(HostState::Ok),
            ]
        );
    }

    #[test]
    fn drop_reports_are_rate_limited() {
        let cap = 1000;
        let mut o = Outbox::new(cap);
        let mut events = Vec::new();
        // A flood of small chunks with a front end taking one event now and then.
        for i in 0..20_000u32 {
            o.push_output(Stream::Stdout, vec![b'x'; 100]);
            if i % 50 == 0 {
                events.extend(o.take_next(cap));
            }
        }
        o.push_state(HostState::Ok);
        events.extend(drain(&mut o, cap));
        let reports: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                Next::Dropped(n) => Some(*n),
                _ => None,
            })
            .collect();
        let delivered: usize = events
            .iter()
            .map(|e| match e {
                Next::Output(_, b) => b.len(),
                _ => 0,
            })
            .sum();
        let total_dropped = *reports.last().unwrap();
        assert_eq!(delivered as u64 + total_dropped, 2_000_000);
        assert!(
            reports
                .windows(2)
                .all(|w| w[1] - w[0] >= DROPPED_REPORT_EVERY || w[1] == total_dropped)
        );
        assert!(reports.len() as u64 <= total_dropped / DROPPED_REPORT_EVERY + 1);
        assert_eq!(events.last(), Some(&Next::State(HostState::Ok)));
    }
}
