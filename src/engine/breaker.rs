//! The per-host circuit breaker: after `[breaker] failures` consecutive connection failures
//! (dns, connect, timeout, host key, auth) a host is skipped at once, without touching its
//! transport, until `cooldown` passes; then one attempt probes it (others are still
//! skipped): a connection closes the breaker, a failure opens it for another cool-down.
//! The counts live in the state folder (breakers.json), so the next `fleetdeck run` skips a
//! dead host fast too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::settings::BreakerSettings;
use crate::transport::ErrorKind;

/// Consecutive connection failures per host; open hosts are skipped until a cool-down passes.
#[derive(Clone)]
pub struct Breaker {
    inner: Arc<Inner>,
}

struct Inner {
    /// 0: off.
    threshold: u32,
    cooldown: Duration,
    /// breakers.json; `None`: kept in memory only.
    path: Option<PathBuf>,
    state: Mutex<State>,
    /// Held from taking a snapshot to writing it, so saves land in the order they were taken.
    saving: Mutex<()>,
}

#[derive(Default)]
struct State {
    hosts: BTreeMap<String, HostBreak>,
    /// Changed since the last save.
    dirty: bool,
}

/// One host's record: only hosts with failures have one.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HostBreak {
    failures: u32,
    /// When the breaker last opened (ms since the Unix epoch); a probe goes through after the
    /// cool-down configured now (so a changed `cooldown` applies to open breakers too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opened_ms: Option<u64>,
    /// The last failure's message.
    last: String,
    /// A probe is under way (never saved: a probe does not outlive its process).
    #[serde(skip)]
    probing: bool,
}

/// breakers.json.
#[derive(Serialize, Deserialize)]
struct File {
    v: u32,
    hosts: BTreeMap<String, HostBreak>,
}

/// Permission for one attempt on a host. Report how it went with [`Ticket::record`]; a probe
/// dropped without a report lets the next attempt probe instead.
pub struct Ticket {
    breaker: Breaker,
    host: String,
    probe: bool,
    recorded: bool,
}

/// A breaker's state in the usual words: closed (attempts go through), open (skipped until
/// the cool-down passes), half-open (the cool-down passed: the next attempt is a probe, or
/// one is under way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }
}

/// How an attempt went, as far as the breaker cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The connection was made (the command started).
    Connected,
    /// A connection failure (dns, connect, connect timeout, host key, auth): the message.
    Failed(String),
    /// Neither (cancelled before connecting, a local error): counts for nothing.
    Neither,
}

impl Outcome {
    /// Whether an unreachable host of `kind` counts as a connection failure.
    pub fn counts(kind: ErrorKind) -> bool {
        matches!(
            kind,
            ErrorKind::Dns
                | ErrorKind::Connect
                | ErrorKind::Timeout
                | ErrorKind::HostKey
                | ErrorKind::Auth
        )
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Longest "last failure" kept, in characters: the skip message must stay readable as a
/// host's one-line reason.
const LAST_MAX: usize = 100;

/// The first line of `message` without the `host (user@address): ` it starts with (the skip
/// message names the host already), clipped to LAST_MAX characters (`…` when clipped).
fn short(host: &str, message: &str) -> String {
    let mut line = message.lines().next().unwrap_or("").trim();
    if let Some(rest) = line.strip_prefix(host)
        && let Some((_, after)) = rest.split_once(": ")
    {
        line = after;
    }
    if line.chars().count() <= LAST_MAX {
        return line.to_string();
    }
    let mut clipped: String = line.chars().take(LAST_MAX - 1).collect();
    clipped.push('…');
    clipped
}

/// `12:03:00Z` (UTC), for "next probe after …".
fn clock(ms: u64) -> String {
    let t = time::OffsetDateTime::UNIX_EPOCH + Duration::from_millis(ms);
    format!("{:02}:{:02}:{:02}Z", t.hour(), t.minute(), t.second())
}

impl Breaker {
    /// A breaker kept in memory only.
    pub fn new(settings: &BreakerSettings) -> Self {
        Self::with(settings, None, BTreeMap::new())
    }

    /// A breaker saved in `path` (breakers.json in the state folder), starting from what is
    /// there. A missing file is an empty start; an unreadable or corrupt one is logged and
    /// ignored (it is replaced at the next save).
    pub fn load(settings: &BreakerSettings, path: &Path) -> Self {
        let hosts = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<File>(&bytes) {
                Ok(file) => file.hosts,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "the circuit breaker state is corrupt; starting empty");
                    BTreeMap::new()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read the circuit breaker state; starting empty");
                BTreeMap::new()
            }
        };
        Self::with(settings, Some(path.to_path_buf()), hosts)
    }

    fn with(
        settings: &BreakerSettings,
        path: Option<PathBuf>,
        hosts: BTreeMap<String, HostBreak>,
    ) -> Self {
        Breaker {
            inner: Arc::new(Inner {
                threshold: settings.failures,
                cooldown: settings.cooldown.0,
                path,
                state: Mutex::new(State {
                    hosts,
                    dirty: false,
                }),
                saving: Mutex::new(()),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// May an attempt on `host` go ahead? `Err`: the message the host is skipped with
    /// (`web1: skipped: 3 consecutive connection failures (last: …); next probe after
    /// 12:03:00Z`).
    pub fn admit(&self, host: &str) -> Result<Ticket, String> {
        let ticket = |probe| Ticket {
            breaker: self.clone(),
            host: host.to_string(),
            probe,
            recorded: false,
        };
        let threshold = self.inner.threshold;
        if threshold == 0 {
            return Ok(ticket(false));
        }
        let mut state = self.lock();
        let Some(b) = state.hosts.get_mut(host) else {
            return Ok(ticket(false));
        };
        if b.failures < threshold {
            return Ok(ticket(false));
        }
        let until = self.probe_after(b);
        let skipped = |when: String| {
            format!(
                "{host}: skipped: {} consecutive connection failures (last: {}); {when}",
                b.failures, b.last
            )
        };
        if now_ms() < until {
            return Err(skipped(format!("next probe after {}", clock(until))));
        }
        if b.probing {
            return Err(skipped("a probe is under way".to_string()));
        }
        b.probing = true;
        Ok(ticket(true))
    }

    /// When an open breaker lets the next probe through (ms since the Unix epoch).
    fn probe_after(&self, b: &HostBreak) -> u64 {
        let cooldown = u64::try_from(self.inner.cooldown.as_millis()).unwrap_or(u64::MAX);
        b.opened_ms.unwrap_or(0).saturating_add(cooldown)
    }

    fn record(&self, host: &str, probe: bool, outcome: &Outcome) {
        if self.inner.threshold == 0 {
            return;
        }
        let mut state = self.lock();
        match outcome {
            Outcome::Connected => {
                if state.hosts.remove(host).is_some() {
                    state.dirty = true;
                }
            }
            Outcome::Failed(message) => {
                let b = state.hosts.entry(host.to_string()).or_insert(HostBreak {
                    failures: 0,
                    opened_ms: None,
                    last: String::new(),
                    probing: false,
                });
                b.failures = b.failures.saturating_add(1);
                b.last = short(host, message);
                if b.failures >= self.inner.threshold {
                    b.opened_ms = Some(now_ms());
                }
                if probe {
                    b.probing = false;
                }
                state.dirty = true;
            }
            Outcome::Neither => {
                if probe && let Some(b) = state.hosts.get_mut(host) {
                    b.probing = false;
                }
            }
        }
    }

    /// Consecutive connection failures of `host` and whether its breaker is open (skipping)
    /// now.
    pub fn status(&self, host: &str) -> (u32, bool) {
        let state = self.lock();
        state.hosts.get(host).map_or((0, false), |b| {
            let open = self.inner.threshold > 0
                && b.failures >= self.inner.threshold
                && (now_ms() < self.probe_after(b) || b.probing);
            (b.failures, open)
        })
    }

    /// Where `host`'s breaker stands now, with its consecutive failures (for display:
    /// `[[checks]]` show it per host).
    pub fn state(&self, host: &str) -> (BreakerState, u32) {
        let state = self.lock();
        let Some(b) = state.hosts.get(host) else {
            return (BreakerState::Closed, 0);
        };
        if self.inner.threshold == 0 || b.failures < self.inner.threshold {
            return (BreakerState::Closed, b.failures);
        }
        if b.probing || now_ms() >= self.probe_after(b) {
            return (BreakerState::HalfOpen, b.failures);
        }
        (BreakerState::Open, b.failures)
    }

    /// Writes breakers.json if anything changed (atomically: a crash leaves the old file or
    /// the new one). Failures are logged: the breaker is an optimisation, never a reason to
    /// fail a run.
    pub fn save(&self) {
        let Some(path) = &self.inner.path else {
            return;
        };
        let _saving = self
            .inner
            .saving
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let text = {
            let mut state = self.lock();
            if !state.dirty {
                return;
            }
            state.dirty = false;
            let file = File {
                v: 1,
                hosts: state.hosts.clone(),
            };
            match serde_json::to_vec_pretty(&file) {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot encode the circuit breaker state");
                    return;
                }
            }
        };
        if let Err(e) = crate::config::home::write_private_file(path, &text) {
            tracing::warn!(path = %path.display(), error = %e, "cannot save the circuit breaker state");
        }
    }
}

impl Ticket {
    /// Whether this attempt is the one probe of a half-open breaker.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    pub fn record(mut self, outcome: &Outcome) {
        self.recorded = true;
        self.breaker.record(&self.host, self.probe, outcome);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.recorded && self.probe {
            self.breaker.record(&self.host, true, &Outcome::Neither);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::units::HumanDuration;

    fn settings(failures: u32, cooldown_ms: u64) -> BreakerSettings {
        BreakerSettings {
            failures,
            cooldown: HumanDuration(Duration::from_millis(cooldown_ms)),
        }
    }

    fn fail(b: &Breaker, host: &str) {
        b.admit(host)
            .unwrap()
            .record(&Outcome::Failed(format!("{host}: connect: refused")));
    }

    #[test]
    fn opens_after_consecutive_failures_and_a_connection_resets() {
        let b = Breaker::new(&settings(3, 60_000));
        fail(&b, "web1");
        fail(&b, "web1");
        b.admit("web1").unwrap().record(&Outcome::Connected);
        assert_eq!(b.status("web1"), (0, false));
        for _ in 0..3 {
            fail(&b, "web1");
        }
        assert_eq!(b.status("web1"), (3, true));
        let why = b.admit("web1").err().unwrap();
        assert!(
            why.starts_with(
                "web1: skipped: 3 consecutive connection failures (last: connect: refused); next probe after "
            ),
            "{why}"
        );
        assert!(why.ends_with('Z'), "{why}");
        // Other hosts are not affected.
        assert!(b.admit("web2").is_ok());
    }

    /// Moves `host`'s opening back by an hour: its cool-down has passed.
    fn rewind(b: &Breaker, host: &str) {
        let mut state = b.lock();
        let hb = state.hosts.get_mut(host).unwrap();
        hb.opened_ms = hb.opened_ms.map(|t| t - 3_600_000);
    }

    #[test]
    fn half_open_lets_one_probe_through() {
        let b = Breaker::new(&settings(1, 60_000));
        fail(&b, "db1");
        assert!(b.admit("db1").err().unwrap().contains("next probe after"));
        rewind(&b, "db1");
        assert_eq!(b.status("db1"), (1, false));
        let probe = b.admit("db1").unwrap();
        assert!(probe.is_probe());
        let why = b.admit("db1").err().unwrap();
        assert!(why.ends_with("a probe is under way"), "{why}");
        assert_eq!(b.status("db1"), (1, true));
        // A failed probe re-opens the breaker for another cool-down.
        probe.record(&Outcome::Failed("db1: timeout".into()));
        assert_eq!(b.status("db1"), (2, true));
        assert!(b.admit("db1").err().unwrap().contains("next probe after"));
        rewind(&b, "db1");
        // A probe dropped without a report frees the way for the next one.
        drop(b.admit("db1").unwrap());
        let probe = b.admit("db1").unwrap();
        assert!(probe.is_probe());
        probe.record(&Outcome::Connected);
        assert_eq!(b.status("db1"), (0, false));
        assert!(!b.admit("db1").unwrap().is_probe());
    }

    #[test]
    fn a_changed_cooldown_applies_to_open_breakers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("breakers.json");
        let b = Breaker::load(&settings(1, 3_600_000), &path);
        fail(&b, "web1");
        b.save();
        assert_eq!(
            Breaker::load(&settings(1, 3_600_000), &path).status("web1"),
            (1, true)
        );
        assert_eq!(
            Breaker::load(&settings(1, 0), &path).status("web1"),
            (1, false)
        );
    }

    #[test]
    fn the_last_failure_is_kept_short() {
        let b = Breaker::new(&settings(1, 60_000));
        b.admit("web1").unwrap().record(&Outcome::Failed(format!(
            "{}\nsecond line",
            "x".repeat(500)
        )));
        let why = b.admit("web1").err().unwrap();
        assert!(
            why.contains(&format!("(last: {}…); next probe", "x".repeat(99))),
            "{why}"
        );
        assert!(why.chars().count() < 200, "{why}");
    }

    #[test]
    fn off_when_failures_is_zero() {
        let b = Breaker::new(&settings(0, 60_000));
        for _ in 0..10 {
            fail(&b, "web1");
        }
        assert!(b.admit("web1").is_ok());
    }

    #[test]
    fn saved_and_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/breakers.json");
        let b = Breaker::load(&settings(2, 60_000), &path);
        fail(&b, "web1");
        fail(&b, "web1");
        fail(&b, "web2");
        b.save();
        let again = Breaker::load(&settings(2, 60_000), &path);
        assert_eq!(again.status("web1"), (2, true));
        assert_eq!(again.status("web2"), (1, false));
        assert!(again.admit("web1").is_err());

        std::fs::write(&path, b"{ not json").unwrap();
        let corrupt = Breaker::load(&settings(2, 60_000), &path);
        assert_eq!(corrupt.status("web1"), (0, false));
        fail(&corrupt, "web3");
        corrupt.save();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("web3") && !text.contains("web1"), "{text}");
    }
}
