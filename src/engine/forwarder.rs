//! Between host tasks and the front end: host tasks put state changes and output into their
//! own outbox (never waiting), and one forwarder hands them to the bounded event channel,
//! taking one event per host in turn, so a flooding host cannot starve the others and a slow
//! front end costs only dropped output, never a stalled host.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, mpsc};

use super::output::{Next, Outbox};
use super::types::{EngineEvent, HostState, Stream};

/// Largest output event sent to the front end.
pub const MAX_OUTPUT_EVENT: usize = 32 * 1024;

pub struct Hub {
    inner: Mutex<Inner>,
    wake: Notify,
}

struct Inner {
    boxes: Vec<Outbox>,
    /// Hosts with something queued, in turn order; `queued[i]` says whether `i` is in it.
    ready: VecDeque<usize>,
    queued: Vec<bool>,
    closed: bool,
}

enum Step {
    Send(EngineEvent),
    Wait,
    Done,
}

impl Hub {
    pub fn new(hosts: usize, output_cap: usize) -> Arc<Self> {
        Arc::new(Hub {
            inner: Mutex::new(Inner {
                boxes: (0..hosts).map(|_| Outbox::new(output_cap)).collect(),
                ready: VecDeque::new(),
                queued: vec![false; hosts],
                closed: false,
            }),
            wake: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves plain data behind: keep going.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn push_state(&self, host: usize, state: HostState) {
        self.push(host, |b| b.push_state(state));
    }

    pub fn push_output(&self, host: usize, stream: Stream, bytes: Vec<u8>) {
        self.push(host, |b| b.push_output(stream, bytes));
    }

    fn push(&self, host: usize, f: impl FnOnce(&mut Outbox)) {
        let mut inner = self.lock();
        let Some(outbox) = inner.boxes.get_mut(host) else {
            return;
        };
        f(outbox);
        if !inner.queued[host] {
            inner.queued[host] = true;
            inner.ready.push_back(host);
        }
        drop(inner);
        self.wake.notify_one();
    }

    /// No more pushes will come: the forwarder ends once everything queued is sent.
    pub fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }

    /// Sends queued events until the hub is closed and empty. If the front end has gone away,
    /// events are discarded (the run still finishes and is recorded).
    pub async fn forward(self: Arc<Self>, events: mpsc::Sender<EngineEvent>) {
        let mut listening = true;
        loop {
            match self.step() {
                Step::Send(event) => {
                    if listening && events.send(event).await.is_err() {
                        listening = false;
                    }
                }
                Step::Wait => self.wake.notified().await,
                Step::Done => return,
            }
        }
    }

    fn step(&self) -> Step {
        let mut inner = self.lock();
        let inner = &mut *inner;
        // Each pass removes a host from `ready` or returns, so this ends within ready.len().
        while let Some(host) = inner.ready.pop_front() {
            let outbox = &mut inner.boxes[host];
            let Some(next) = outbox.take_next(MAX_OUTPUT_EVENT) else {
                inner.queued[host] = false;
                continue;
            };
            if outbox.is_empty() {
                inner.queued[host] = false;
            } else {
                inner.ready.push_back(host);
            }
            return Step::Send(match next {
                Next::State(state) => EngineEvent::State { host, state },
                Next::Output(stream, bytes) => EngineEvent::Output {
                    host,
                    stream,
                    bytes,
                },
                Next::Dropped(bytes_dropped) => EngineEvent::Dropped {
                    host,
                    bytes_dropped,
                },
            });
        }
        if inner.closed { Step::Done } else { Step::Wait }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hosts_take_turns() {
        let hub = Hub::new(2, 1 << 20);
        for _ in 0..5 {
            hub.push_output(0, Stream::Stdout, vec![b'a'; MAX_OUTPUT_EVENT]);
            // A different stream each time so nothing is joined.
            hub.push_output(0, Stream::Stderr, vec![b'b'; 10]);
        }
        hub.push_state(1, HostState::Running);
        hub.push_state(1, HostState::Ok);
        hub.close();
        let (tx, mut rx) = mpsc::channel(100);
        hub.forward(tx).await;
        let mut order = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            if let EngineEvent::State { host, .. } | EngineEvent::Output { host, .. } = ev {
                order.push(host);
            }
        }
        assert_eq!(&order[..4], [0, 1, 0, 1]);
        assert_eq!(order.len(), 12);
    }
}
