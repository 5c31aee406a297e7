//! The wallboard's model: which pages, which is shown and since when, rotation and its pause,
//! the lock, the hosts it shows, and the newest picture a `FleetReader` gave it. Plain data:
//! `update` changes it, the view draws it. It holds no reader and nothing that reaches a host.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::page::Page;
use crate::engine::{ConnState, FleetSnapshot, IncidentsFrame, QueueSnapshot, RunResult};
use crate::inventory::Host;
use crate::metrics::MetricsFrame;
use crate::ui::theme::{Graphics, Theme};

/// The word `--lock` asks for before quitting (then enter).
pub const UNLOCK_WORD: &str = "unlock";

/// What the reader last showed, with when each part last moved (a panel's age).
#[derive(Debug, Clone, Default)]
pub struct Picture {
    pub connections: HashMap<String, ConnState>,
    pub metrics: Arc<MetricsFrame>,
    pub incidents: Arc<IncidentsFrame>,
    /// When the incidents frame last changed (the book's follower publishes only changes).
    pub incidents_changed: Option<SystemTime>,
    /// Finished runs, oldest first.
    pub recent: Vec<Arc<RunResult>>,
    pub queue: QueueSnapshot,
    /// Why some transport could not be set up, if so.
    pub problem: Option<String>,
    /// When the reader last heard anything.
    pub updated: Option<SystemTime>,
}

impl Picture {
    /// Takes in `snap`; false when it shows nothing this picture does not already.
    pub fn take(&mut self, snap: FleetSnapshot, now: SystemTime) -> bool {
        let incidents_moved = !Arc::ptr_eq(&snap.incidents, &self.incidents);
        let moved = snap.connections != self.connections
            || !Arc::ptr_eq(&snap.metrics, &self.metrics)
            || incidents_moved
            || snap.queue != self.queue
            || snap.problem != self.problem
            || snap.recent.len() != self.recent.len()
            || snap
                .recent
                .iter()
                .zip(&self.recent)
                .any(|(a, b)| a.id != b.id);
        if incidents_moved {
            self.incidents_changed = Some(now);
        }
        self.connections = snap.connections;
        self.metrics = snap.metrics;
        self.incidents = snap.incidents;
        self.recent = snap.recent;
        self.queue = snap.queue;
        self.problem = snap.problem;
        self.updated = snap.updated;
        moved
    }
}

/// `--lock`: quitting needs `UNLOCK_WORD` typed, then enter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    /// The last letters typed (at most the word's length).
    pub typed: String,
}

/// The whole wallboard; see the module doc.
#[derive(Debug, Clone)]
pub struct Wallboard {
    pub pages: Vec<Page>,
    /// Index into `pages`.
    pub page: usize,
    /// `None`: no rotation (`--rotate 0s`).
    pub rotate: Option<Duration>,
    pub paused: bool,
    pub lock: Option<Lock>,
    /// The hosts shown (the `-t` selection), in inventory order.
    pub hosts: Arc<[Host]>,
    pub picture: Picture,
    /// The clock every age is measured at (set by ticks).
    pub now: SystemTime,
    /// The wall-clock time shown (`HH:MM:SS`), set by ticks.
    pub clock: String,
    /// When the page on screen was shown (rotation counts from it).
    pub page_since: SystemTime,
    pub theme: Theme,
    pub graphics: Graphics,
}

impl Wallboard {
    pub fn new(
        pages: Vec<Page>,
        rotate: Duration,
        locked: bool,
        hosts: Arc<[Host]>,
        theme: Theme,
        now: SystemTime,
    ) -> Wallboard {
        Wallboard {
            pages: if pages.is_empty() {
                Page::ALL.to_vec()
            } else {
                pages
            },
            page: 0,
            rotate: (!rotate.is_zero()).then_some(rotate),
            paused: false,
            lock: locked.then(Lock::default),
            hosts,
            picture: Picture::default(),
            now,
            clock: String::new(),
            page_since: now,
            theme,
            graphics: Graphics::default(),
        }
    }

    /// The page on screen.
    pub fn current(&self) -> Page {
        self.pages.get(self.page).copied().unwrap_or(Page::Fleet)
    }

    /// Shows page `index` (wrapping), and starts its rotation time anew.
    pub fn show(&mut self, index: usize) {
        self.page = index % self.pages.len().max(1);
        self.page_since = self.now;
    }

    /// When the next page comes, if pages rotate now.
    pub fn next_rotation(&self) -> Option<SystemTime> {
        match self.rotate {
            Some(every) if !self.paused && self.pages.len() > 1 => Some(self.page_since + every),
            _ => None,
        }
    }
}
