//! What the wallboard says of a host and of the fleet, before any drawing: each host's one
//! status (symbol, word, theme scope; never colour alone) and the counts line, which is
//! `fleetdeck status`'s (`✖2 ▲5 · 498/500 up · 1 running`). Pure functions of the model.

use std::sync::Arc;
use std::time::SystemTime;

use crate::engine::status::{Freshness, StatusDoc, WriterKind};
use crate::engine::{ConnState, FleetSnapshot};
use crate::inventory::Host;
use crate::metrics::{Availability, HostNow};
use crate::ui::app::connections;
use crate::ui::printers::status_line::{LineStyle, status_line};
use crate::ui::theme::scope;

use super::state::Wallboard;

/// A host's status, worst first (the order the fleet page lists hosts in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostStatus {
    /// The link failed (agent down, refused, auth…): the kind of failure.
    Down(String),
    /// The newest sample is older than three intervals.
    Stale,
    /// A link being made again (or for the first time).
    Connecting { again: bool },
    /// An agent host without `read_token_file`: never contacted by a read-only view.
    NoReadToken,
    /// Sampled, but its metrics are unavailable (not Linux, no source, sampling fails).
    NoMetrics,
    /// Nothing known yet.
    Waiting,
    /// Live: drawn with the link's own label (`● open`, `local`; `live` when untracked).
    Ok(Option<ConnState>),
}

/// A host the reader does not contact (no read token): not a failure of the host.
fn is_no_read_token(state: &ConnState) -> bool {
    matches!(state, ConnState::Unwatched { .. })
}

impl HostStatus {
    pub fn of(conn: Option<&ConnState>, metrics: Option<&HostNow>, now: SystemTime) -> HostStatus {
        let sampled = metrics.is_some_and(|m| m.latest.is_some());
        match conn {
            Some(s) if is_no_read_token(s) => return HostStatus::NoReadToken,
            Some(ConnState::Failed { kind, .. }) => return HostStatus::Down(kind.to_string()),
            Some(ConnState::Connecting) => return HostStatus::Connecting { again: sampled },
            _ => {}
        }
        match metrics {
            Some(m) if m.latest.is_some() && m.is_stale(now) => HostStatus::Stale,
            Some(m) if m.latest.is_none() => match m.availability {
                Availability::NoMetrics(_) | Availability::Failing(_) => HostStatus::NoMetrics,
                _ => HostStatus::Waiting,
            },
            None => HostStatus::Waiting,
            Some(_) => HostStatus::Ok(conn.cloned()),
        }
    }

    /// Symbol and word (ASCII when `ascii`), and the theme scope that colours them.
    pub fn look(&self, ascii: bool) -> (String, &'static str) {
        let pick = |u: &str, a: &str| if ascii { a.to_string() } else { u.to_string() };
        match self {
            HostStatus::Down(kind) => (
                format!("{} down {kind}", pick("✘", "x")),
                scope::STATE_UNREACHABLE,
            ),
            HostStatus::Stale => (format!("{} stale", pick("◷", "?")), scope::METRIC_HIGH),
            HostStatus::Connecting { again } => (
                format!(
                    "{} {}",
                    pick("↻", "~"),
                    if *again { "reconnecting" } else { "connecting" }
                ),
                scope::STATE_RUNNING_CONNECTING,
            ),
            HostStatus::NoReadToken => (
                format!("{} no read token", pick("⊘", "-")),
                scope::METRIC_MISSING,
            ),
            HostStatus::NoMetrics => (
                format!("{} no metrics", pick("—", "-")),
                scope::METRIC_MISSING,
            ),
            HostStatus::Waiting => (format!("{} waiting", pick("·", ".")), scope::METRIC_STALE),
            HostStatus::Ok(None | Some(ConnState::NotTracked)) => {
                ("live".to_string(), scope::STATE_OK)
            }
            HostStatus::Ok(Some(link)) => (connections::label(link, ascii), scope::STATE_OK),
        }
    }

    /// Counted as up: a live link with fresh (or no expected) metrics.
    pub fn is_up(&self) -> bool {
        matches!(self, HostStatus::Ok(_) | HostStatus::NoMetrics)
    }
}

/// Each shown host with its status, worst first, then in inventory order.
pub fn by_trouble(wb: &Wallboard) -> Vec<(&Host, HostStatus)> {
    let mut hosts: Vec<(usize, &Host, HostStatus)> = wb
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (i, h, host_status(wb, h)))
        .collect();
    hosts.sort_by(|a, b| a.2.rank().cmp(&b.2.rank()).then(a.0.cmp(&b.0)));
    hosts.into_iter().map(|(_, h, s)| (h, s)).collect()
}

impl HostStatus {
    fn rank(&self) -> u8 {
        match self {
            HostStatus::Down(_) => 0,
            HostStatus::Stale => 1,
            HostStatus::Connecting { .. } => 2,
            HostStatus::NoReadToken => 3,
            HostStatus::NoMetrics => 4,
            HostStatus::Waiting => 5,
            HostStatus::Ok(_) => 6,
        }
    }
}

pub fn host_status(wb: &Wallboard, host: &Host) -> HostStatus {
    HostStatus::of(
        wb.picture.connections.get(&host.name),
        wb.picture.metrics.host(&host.name),
        wb.now,
    )
}

/// The fleet in the numbers `fleetdeck status` writes and prints (engine::status), so the
/// wallboard and tmux's status bar never disagree: incidents by severity, hosts up, runs.
pub fn status_doc(wb: &Wallboard) -> StatusDoc {
    let snapshot = FleetSnapshot {
        connections: wb.picture.connections.clone(),
        queue: wb.picture.queue.clone(),
        metrics: Arc::clone(&wb.picture.metrics),
        incidents: Arc::clone(&wb.picture.incidents),
        ..FleetSnapshot::default()
    };
    StatusDoc::of(
        &snapshot,
        wb.hosts.iter().map(|h| h.name.as_str()),
        WriterKind::Wallboard,
        std::process::id(),
        wb.now,
    )
}

/// The counts line: `fleetdeck status`'s own (`✖2 ▲5 · 498/500 up · 1 running`).
pub fn counts_line(doc: &StatusDoc, ascii: bool) -> String {
    status_line(doc, Freshness::Live, LineStyle { ascii, tmux: false })
}
