//! The connection pool: one authenticated connection per (user, host name, port, host-key
//! alias, jump chain), reused by every later command on that host; at most N channels at once
//! on each (OpenSSH's MaxSessions is 10); a global cap on handshakes in flight plus an adaptive
//! per-endpoint cap that shrinks when sshd drops handshakes (MaxStartups); dropped handshakes
//! retried with jittered backoff; dead connections replaced on next use.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use russh::Disconnect;
use russh::client::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::super::{ConnState, ErrorKind, TransportError};
use super::client::{AttemptError, Connector, Route};
use super::config::{ResolvedHost, SshConfigSource};
use super::handler::{ClientHandler, LinkState};

/// Retries of a handshake the server dropped (9 attempts in all): a throttling sshd
/// (MaxStartups) under a large fan-out can drop the same host several times in a row.
const HANDSHAKE_RETRIES: u32 = 8;
/// Longest pause between two handshake attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// First backoff; doubles per retry, with ±50% jitter so retries do not arrive together.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// The per-endpoint handshake cap never shrinks below this.
const MIN_ENDPOINT_HANDSHAKES: usize = 2;
/// The per-endpoint cap grows back by one after this many clean handshakes.
const GROW_AFTER: usize = 4;
/// Channels reserved per connection for process-group kills (beyond the exec channels).
pub const KILL_CHANNELS: usize = 2;
/// `close_idle` passes: each can free the jump hosts of the previous one.
const CLOSE_IDLE_PASSES: usize = 17;
/// How long shutdown waits for each disconnect message to go out.
const DISCONNECT_DEADLINE: Duration = Duration::from_secs(2);

/// A pooled, authenticated connection.
pub struct Conn {
    pub handle: Handle<ClientHandler>,
    /// `h001 (root@127.0.0.1:2222)`, for messages.
    pub label: String,
    /// The pool key (identity of the route).
    pub key: String,
    /// Exec channels in use (MaxSessions).
    pub channels: Arc<Semaphore>,
    /// The current cap of `channels`, lowered when the server refuses a channel.
    channel_cap: AtomicUsize,
    /// Kill channels in use, separate so a cancel never waits behind running commands.
    pub kills: Arc<Semaphore>,
    link: Arc<LinkState>,
    /// When a command last started or ended on it (for `close_idle`).
    last_used: Mutex<Instant>,
    /// The jump host's connection this one is tunnelled through: kept alive with it.
    _via: Option<Arc<Conn>>,
}

impl Conn {
    pub fn is_alive(&self) -> bool {
        !self.handle.is_closed()
    }

    /// Records use now (a command starts or ends).
    pub fn touch(&self) {
        if let Ok(mut t) = self.last_used.lock() {
            *t = Instant::now();
        }
    }

    fn idle_since(&self) -> Instant {
        self.last_used
            .lock()
            .map_or_else(|_| Instant::now(), |t| *t)
    }

    /// The server refused a channel while `permit` was held: keep that permit (one channel
    /// fewer from now on, never below one).
    pub fn channel_refused(&self, permit: OwnedSemaphorePermit) {
        let lowered = self
            .channel_cap
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                (c > 1).then(|| c - 1)
            })
            .is_ok();
        if lowered {
            permit.forget();
        }
    }

    /// Why the connection ended, for "lost mid-command" messages.
    pub fn lost_reason(&self) -> String {
        self.link
            .reason()
            .unwrap_or_else(|| "the connection closed".to_string())
    }
}

/// One pool entry: the live connection, or the last failure (handed to callers that were
/// already waiting while it happened, so a dead host costs one timeout, not one per command).
#[derive(Default)]
struct SlotState {
    conn: Option<Arc<Conn>>,
    /// When the last attempt failed, how, and the label of the host that made it.
    last_failure: Option<(Instant, TransportError, String)>,
}

/// What a slot shows to [`Pool::connection`], readable without waiting for the slot's lock
/// (which is held for a whole handshake). Holds the connection weakly, so showing it never
/// keeps it open.
#[derive(Default)]
struct SlotView {
    conn: Weak<Conn>,
    connecting: bool,
    failure: Option<TransportError>,
}

/// One pool entry: its state (locked across a handshake, so one connects and the others
/// wait for it) and what the console may read of it at any time.
#[derive(Default)]
struct Slot {
    state: tokio::sync::Mutex<SlotState>,
    view: Mutex<SlotView>,
}

impl Slot {
    fn show(&self, change: impl FnOnce(&mut SlotView)) {
        let mut view = match self.view.lock() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        change(&mut view);
    }

    fn state_now(&self) -> ConnState {
        let view = match self.view.lock() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        if view.connecting {
            return ConnState::Connecting;
        }
        if view.conn.upgrade().is_some_and(|c| c.is_alive()) {
            return ConnState::Connected;
        }
        match &view.failure {
            Some(e) => ConnState::Failed {
                kind: e.kind,
                reason: e.message.clone(),
            },
            None => ConnState::Closed,
        }
    }
}

/// Adaptive handshake limit for one endpoint (sshd), shrunk by drops, regrown by successes.
struct Gate {
    sem: Arc<Semaphore>,
    capacity: AtomicUsize,
    successes: AtomicUsize,
    max: usize,
}

impl Gate {
    fn new(max: usize) -> Self {
        Self {
            sem: Arc::new(Semaphore::new(max)),
            capacity: AtomicUsize::new(max),
            successes: AtomicUsize::new(0),
            max,
        }
    }

    async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        self.sem.clone().acquire_owned().await.ok()
    }

    /// A handshake was dropped: hold one permit back for good (down to the minimum).
    fn shrink(&self, permit: Option<OwnedSemaphorePermit>) {
        let shrunk = self
            .capacity
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                (c > MIN_ENDPOINT_HANDSHAKES).then(|| c - 1)
            })
            .is_ok();
        if let (true, Some(p)) = (shrunk, permit) {
            p.forget();
        }
    }

    fn grow(&self) {
        let n = self.successes.fetch_add(1, Ordering::SeqCst) + 1;
        if !n.is_multiple_of(GROW_AFTER) {
            return;
        }
        let grown = self
            .capacity
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                (c < self.max).then_some(c + 1)
            })
            .is_ok();
        if grown {
            self.sem.add_permits(1);
        }
    }
}

pub struct Pool {
    connector: Connector,
    config: Arc<SshConfigSource>,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    /// Host name (alias) → the key of the slot it last used, for `connection`.
    aliases: Mutex<HashMap<String, String>>,
    /// Connections made (handshake and authentication done) over the pool's life.
    connections_made: AtomicUsize,
    gates: Mutex<HashMap<String, Arc<Gate>>>,
    handshakes: Arc<Semaphore>,
    max_handshakes: usize,
    max_channels: usize,
}

impl Pool {
    pub fn new(
        connector: Connector,
        config: Arc<SshConfigSource>,
        max_handshakes: usize,
        max_channels: usize,
    ) -> Self {
        Self {
            connector,
            config,
            slots: Mutex::new(HashMap::new()),
            aliases: Mutex::new(HashMap::new()),
            connections_made: AtomicUsize::new(0),
            gates: Mutex::new(HashMap::new()),
            handshakes: Arc::new(Semaphore::new(max_handshakes)),
            max_handshakes,
            max_channels,
        }
    }

    /// The connection for `r`, through its ProxyJump chain (each hop pooled too), connecting
    /// whatever is not alive. `timeout` bounds each handshake attempt, not the wait for a
    /// handshake slot.
    pub async fn get(
        &self,
        alias: &str,
        r: &ResolvedHost,
        timeout: Duration,
    ) -> Result<Arc<Conn>, TransportError> {
        let chain = self.config.jump_chain(r).map_err(|e| {
            TransportError::new(
                ErrorKind::Connect,
                format!("{alias}: cannot resolve its ProxyJump chain: {e}"),
            )
        })?;
        let mut via: Option<Arc<Conn>> = None;
        for hop in &chain {
            let conn = self
                .get_one(&hop.alias, hop, via, timeout)
                .await
                .map_err(|e| {
                    TransportError::new(
                        e.kind,
                        format!("{alias}: through jump host {}: {}", hop.alias, e.message),
                    )
                })?;
            via = Some(conn);
        }
        self.get_one(alias, r, via, timeout).await
    }

    /// The pooled connection for one host reached directly or through `via`.
    async fn get_one(
        &self,
        alias: &str,
        r: &ResolvedHost,
        via: Option<Arc<Conn>>,
        timeout: Duration,
    ) -> Result<Arc<Conn>, TransportError> {
        let base = format!(
            "{}#{}",
            r.destination(),
            r.host_key_alias.as_deref().unwrap_or("")
        );
        let (key, label) = match &via {
            Some(v) => (
                format!("{base} via {}", v.key),
                format!("{alias} ({} via {})", r.destination(), v.label),
            ),
            None => (base, format!("{alias} ({})", r.destination())),
        };
        let slot = self.slot(&key);
        self.remember_alias(alias, &key);
        let asked = Instant::now();
        let mut state = slot.state.lock().await;
        if let Some(conn) = &state.conn {
            if conn.is_alive() {
                conn.touch();
                return Ok(conn.clone());
            }
            tracing::debug!(host = %conn.label, "pooled connection is dead; reconnecting");
            state.conn = None;
        }
        if let Some((at, err, made_by)) = &state.last_failure
            && *at > asked
        {
            // Another alias of the same user@host:port failed meanwhile: the same failure,
            // told under this host's own name.
            return Err(TransportError::new(
                err.kind,
                err.message.replacen(made_by.as_str(), &label, 1),
            ));
        }
        slot.show(|v| v.connecting = true);
        // Dropped mid-handshake (a cancelled run): the view must not stay "connecting".
        let shown = ConnectingShown(&slot);
        let result = self.connect(r, via, key, label.clone(), timeout).await;
        drop(shown);
        match result {
            Ok(conn) => {
                self.connections_made.fetch_add(1, Ordering::Relaxed);
                slot.show(|v| {
                    v.conn = Arc::downgrade(&conn);
                    v.failure = None;
                });
                state.conn = Some(conn.clone());
                state.last_failure = None;
                Ok(conn)
            }
            Err(e) => {
                slot.show(|v| {
                    v.conn = Weak::new();
                    v.failure = Some(e.clone());
                });
                state.last_failure = Some((Instant::now(), e.clone(), label));
                Err(e)
            }
        }
    }

    fn remember_alias(&self, alias: &str, key: &str) {
        let mut aliases = match self.aliases.lock() {
            Ok(a) => a,
            Err(poisoned) => poisoned.into_inner(),
        };
        if aliases.get(alias).is_none_or(|k| k != key) {
            aliases.insert(alias.to_string(), key.to_string());
        }
    }

    /// The state of the connection host `alias` last used (`Closed` if it never connected).
    /// Never waits: the console asks for every host on each tick.
    pub fn connection(&self, alias: &str) -> ConnState {
        let key = match self.aliases.lock() {
            Ok(a) => a.get(alias).cloned(),
            Err(poisoned) => poisoned.into_inner().get(alias).cloned(),
        };
        let Some(key) = key else {
            return ConnState::Closed;
        };
        let slot = match self.slots.lock() {
            Ok(s) => s.get(&key).cloned(),
            Err(poisoned) => poisoned.into_inner().get(&key).cloned(),
        };
        slot.map_or(ConnState::Closed, |s| s.state_now())
    }

    /// Connections made over the pool's life (each a TCP connection, handshake and login).
    pub fn connections_made(&self) -> usize {
        self.connections_made.load(Ordering::Relaxed)
    }

    fn slot(&self, key: &str) -> Arc<Slot> {
        let mut slots = match self.slots.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        slots.entry(key.to_string()).or_default().clone()
    }

    fn gate(&self, endpoint: &str) -> Arc<Gate> {
        let mut gates = match self.gates.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        gates
            .entry(endpoint.to_string())
            .or_insert_with(|| Arc::new(Gate::new(self.max_handshakes)))
            .clone()
    }

    /// Connects, retrying dropped handshakes. Slots (endpoint, then global) are held for the
    /// whole unauthenticated phase, which is what sshd's MaxStartups counts.
    async fn connect(
        &self,
        r: &ResolvedHost,
        via: Option<Arc<Conn>>,
        key: String,
        label: String,
        timeout: Duration,
    ) -> Result<Arc<Conn>, TransportError> {
        let endpoint = match &via {
            Some(v) => format!("{}:{} via {}", r.hostname, r.port, v.key),
            None => format!("{}:{}", r.hostname, r.port),
        };
        let gate = self.gate(&endpoint);
        let route = match &via {
            Some(v) => Route::Via(v.clone()),
            None => Route::Direct,
        };
        let mut attempt = 0;
        loop {
            let gate_permit = gate.acquire().await;
            let global = self.handshakes.clone().acquire_owned().await.ok();
            // Each attempt is a new TCP connection: `[run] handshakes_per_second` counts it.
            crate::transport::rate::global().acquire().await;
            match self.connector.attempt(r, &route, &label, timeout).await {
                Ok(connected) => {
                    drop(global);
                    drop(gate_permit);
                    gate.grow();
                    tracing::debug!(host = %label, "connected and authenticated");
                    return Ok(Arc::new(Conn {
                        handle: connected.handle,
                        label,
                        key,
                        channels: Arc::new(Semaphore::new(self.max_channels)),
                        channel_cap: AtomicUsize::new(self.max_channels),
                        kills: Arc::new(Semaphore::new(KILL_CHANNELS)),
                        link: connected.link,
                        last_used: Mutex::new(Instant::now()),
                        _via: via,
                    }));
                }
                Err(AttemptError::Fatal(e)) => return Err(e),
                Err(AttemptError::Dropped(why)) => {
                    drop(global);
                    gate.shrink(gate_permit);
                    if attempt >= HANDSHAKE_RETRIES {
                        return Err(TransportError::new(
                            ErrorKind::Connect,
                            format!(
                                "{why}; gave up after {} attempts. If sshd is throttling \
                                 (MaxStartups), lower run.max_handshakes",
                                attempt + 1
                            ),
                        ));
                    }
                    let pause = backoff(attempt);
                    tracing::debug!(host = %label, attempt, ?pause, "handshake dropped; retrying");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Forgets `conn` if it is still the pooled one (it died under a command).
    pub async fn evict(&self, conn: &Arc<Conn>) {
        let slot = self.slot(&conn.key);
        let mut state = slot.state.lock().await;
        if state.conn.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            state.conn = None;
        }
    }

    /// Disconnects pooled connections nobody uses (no command running, no connection
    /// tunnelled through them) that have been idle for `idle_for`, and dead ones; returns how
    /// many. Jump hosts freed by a pass are considered in the next pass.
    pub async fn close_idle(&self, idle_for: Duration) -> usize {
        let mut closed = 0;
        for _ in 0..CLOSE_IDLE_PASSES {
            let slots: Vec<_> = match self.slots.lock() {
                Ok(s) => s.values().cloned().collect(),
                Err(poisoned) => poisoned.into_inner().values().cloned().collect(),
            };
            let mut idle = Vec::new();
            for slot in slots {
                // A locked slot is connecting or being used right now.
                let Ok(mut state) = slot.state.try_lock() else {
                    continue;
                };
                let unused = state.conn.as_ref().is_some_and(|c| {
                    !c.is_alive()
                        || (Arc::strong_count(c) == 1 && c.idle_since().elapsed() >= idle_for)
                });
                if unused && let Some(conn) = state.conn.take() {
                    idle.push(conn);
                }
            }
            if idle.is_empty() {
                break;
            }
            closed += idle.len();
            for conn in idle {
                tracing::debug!(host = %conn.label, "closing idle connection");
                disconnect(&conn).await;
            }
        }
        if let Ok(mut slots) = self.slots.lock() {
            // Forget empty entries nobody waits on (keeps the map bounded by live hosts).
            slots.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot
                        .state
                        .try_lock()
                        .map_or(true, |s| s.conn.is_some() || s.last_failure.is_some())
            });
        }
        closed
    }

    /// Disconnects every pooled connection (targets before the jump hosts they go through).
    pub async fn shutdown(&self) {
        let slots: Vec<_> = match self.slots.lock() {
            Ok(mut s) => s.drain().map(|(_, v)| v).collect(),
            Err(poisoned) => poisoned.into_inner().drain().map(|(_, v)| v).collect(),
        };
        let mut conns = Vec::new();
        for slot in slots {
            // A slot locked right now is mid-connect; its task finishes or fails on its own.
            if let Ok(mut state) = slot.state.try_lock()
                && let Some(conn) = state.conn.take()
            {
                conns.push(conn);
            }
        }
        // Tunnelled connections before the jump hosts they go through (the deepest first);
        // the connections of one depth at once, so hundreds of hosts take one deadline.
        let depth = |c: &Conn| c.key.matches(" via ").count();
        let mut depths: Vec<usize> = conns.iter().map(|c| depth(c)).collect();
        depths.sort_unstable();
        depths.dedup();
        for d in depths.into_iter().rev() {
            let mut bye = tokio::task::JoinSet::new();
            let (now, later): (Vec<_>, Vec<_>) = conns.into_iter().partition(|c| depth(c) == d);
            conns = later;
            for conn in now {
                bye.spawn(async move { disconnect(&conn).await });
            }
            while bye.join_next().await.is_some() {}
        }
    }
}

/// Clears a slot's "connecting" when the handshake ends, however it ends.
struct ConnectingShown<'a>(&'a Slot);

impl Drop for ConnectingShown<'_> {
    fn drop(&mut self) {
        self.0.show(|v| v.connecting = false);
    }
}

/// Says goodbye to the server (bounded); the connection ends when its last handle drops.
async fn disconnect(conn: &Conn) {
    if conn.is_alive() {
        let bye = conn
            .handle
            .disconnect(Disconnect::ByApplication, "fleetdeck is done", "en");
        let _ = tokio::time::timeout(DISCONNECT_DEADLINE, bye).await;
    }
}

/// `BACKOFF_BASE × 2^attempt` up to `BACKOFF_MAX`, jittered to 50-150%.
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_BASE
        .saturating_mul(1 << attempt.min(6))
        .min(BACKOFF_MAX);
    let jitter = 0.5 + random_fraction();
    base.mul_f64(jitter)
}

/// A fraction in [0, 1) from the std hasher's random keys: enough to spread retries.
fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_jittered_within_bounds() {
        for attempt in 0..4 {
            let b = backoff(attempt);
            let base = BACKOFF_BASE * (1 << attempt);
            assert!(b >= base / 2 && b < base * 3 / 2, "{attempt}: {b:?}");
        }
    }

    #[tokio::test]
    async fn gate_shrinks_on_drops_and_regrows() {
        let gate = Gate::new(4);
        for _ in 0..5 {
            let p = gate.acquire().await;
            gate.shrink(p);
        }
        assert_eq!(
            gate.capacity.load(Ordering::SeqCst),
            MIN_ENDPOINT_HANDSHAKES
        );
        assert_eq!(gate.sem.available_permits(), MIN_ENDPOINT_HANDSHAKES);
        for _ in 0..GROW_AFTER * 10 {
            gate.grow();
        }
        assert_eq!(gate.capacity.load(Ordering::SeqCst), 4);
        assert_eq!(gate.sem.available_permits(), 4);
    }
}
