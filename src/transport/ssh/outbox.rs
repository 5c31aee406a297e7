//! Events waiting for a slow receiver: bounded in bytes, adjacent output of one stream merged
//! into fewer, larger events (a flood of 32 KiB SSH packets becomes 64 KiB events).

use std::collections::VecDeque;

use super::super::ExecEvent;

/// Output bytes held for the event receiver before reading the channel pauses.
const OUTBOX_CAP: usize = 4 * 1024 * 1024;
/// Adjacent chunks of one stream are merged into events of at most this size.
const COALESCE_MAX: usize = 64 * 1024;

/// Events waiting for the receiver; byte-bounded, adjacent output merged.
#[derive(Default)]
pub struct Outbox {
    events: VecDeque<ExecEvent>,
    bytes: usize,
}

impl Outbox {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn has_room(&self) -> bool {
        self.bytes < OUTBOX_CAP
    }

    pub fn push(&mut self, event: ExecEvent) {
        match (&event, self.events.back_mut()) {
            (ExecEvent::Stdout(new), Some(ExecEvent::Stdout(last)))
            | (ExecEvent::Stderr(new), Some(ExecEvent::Stderr(last)))
                if last.len() + new.len() <= COALESCE_MAX =>
            {
                self.bytes += new.len();
                last.extend_from_slice(new);
            }
            _ => {
                self.bytes += event_bytes(&event);
                self.events.push_back(event);
            }
        }
    }

    pub fn pop(&mut self) -> Option<ExecEvent> {
        let event = self.events.pop_front()?;
        self.bytes -= event_bytes(&event);
        Some(event)
    }
}

pub fn event_bytes(event: &ExecEvent) -> usize {
    match event {
        ExecEvent::Stdout(b) | ExecEvent::Stderr(b) => b.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_merges_adjacent_output_and_counts_bytes() {
        let mut o = Outbox::default();
        o.push(ExecEvent::Started { pid: Some(1) });
        o.push(ExecEvent::Stdout(b"ab".to_vec()));
        o.push(ExecEvent::Stdout(b"cd".to_vec()));
        o.push(ExecEvent::Stderr(b"e".to_vec()));
        assert_eq!(o.bytes, 5);
        assert_eq!(o.pop(), Some(ExecEvent::Started { pid: Some(1) }));
        assert_eq!(o.pop(), Some(ExecEvent::Stdout(b"abcd".to_vec())));
        assert_eq!(o.pop(), Some(ExecEvent::Stderr(b"e".to_vec())));
        assert_eq!(o.bytes, 0);
        assert!(o.pop().is_none());
    }
}
