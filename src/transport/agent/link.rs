//! The lasting link to one agent host: established on first use, then kept up by a task that
//! reconnects with capped, jittered backoff after the connection drops (so heartbeats and
//! alerts resume by themselves). Credentials and pin errors are not retried on a timer: the
//! next job tries again, so a fixed hosts.toml or token file takes effect at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::connect;
use super::endpoint::Endpoint;
use super::feed::Feed;
use super::session::Session;
use crate::transport::{ErrorKind, TransportError};

/// The first pause after a dropped connection or failed attempt; doubled each failure...
const BACKOFF_START: Duration = Duration::from_millis(250);
/// ...up to this.
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// The connect timeout before any job named one.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the link is.
#[derive(Clone)]
pub enum LinkState {
    /// Attempt number `attempt` is under way, with this connect timeout (`u64::MAX`: not
    /// started yet; it will take the newest job's).
    Connecting {
        attempt: u64,
        timeout_ms: u64,
    },
    Up {
        session: Arc<Session>,
        attempt: u64,
    },
    /// Attempt `attempt` failed (or its connection dropped) with `error`.
    Down {
        error: TransportError,
        attempt: u64,
    },
}

/// A host's link, shared by every job on that host.
pub struct Link {
    pub name: String,
    pub endpoint: Endpoint,
    state: watch::Sender<LinkState>,
    wake: Notify,
    connect_timeout_ms: AtomicU64,
    stop: CancellationToken,
}

impl Link {
    /// Starts the link's task (it connects at once).
    pub fn start(
        name: &str,
        endpoint: Endpoint,
        consumer: String,
        feed: Arc<Feed>,
        stop: CancellationToken,
    ) -> Arc<Link> {
        let (state, _) = watch::channel(LinkState::Connecting {
            attempt: 1,
            timeout_ms: u64::MAX,
        });
        let link = Arc::new(Link {
            name: name.to_string(),
            endpoint,
            state,
            wake: Notify::new(),
            connect_timeout_ms: AtomicU64::new(millis(DEFAULT_CONNECT_TIMEOUT)),
            stop,
        });
        tokio::spawn(supervise(link.clone(), consumer, feed));
        link
    }

    pub fn state(&self) -> LinkState {
        self.state.borrow().clone()
    }

    /// Stops the link (its connection closes, its jobs fail as lost).
    pub fn stop(&self) {
        self.stop.cancel();
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// A live session, connecting if needed: the error of an attempt made for this call, a
    /// `Timeout` after `timeout`, or `None` if `cancel` fired first.
    pub async fn session(
        &self,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Option<Arc<Session>>, TransportError> {
        self.connect_timeout_ms
            .store(millis(timeout), Ordering::Relaxed);
        let mut rx = self.state.subscribe();
        // Only an attempt after `floor` answers this call (an older failure may be fixed).
        let floor = match &*rx.borrow_and_update() {
            LinkState::Up { session, .. } if session.is_alive() => {
                return Ok(Some(session.clone()));
            }
            // Just dropped: the next attempt answers.
            LinkState::Up { attempt, .. } => {
                self.wake.notify_one();
                *attempt
            }
            LinkState::Connecting {
                attempt,
                timeout_ms,
            } if *timeout_ms >= millis(timeout) => attempt - 1,
            // An attempt that gives up sooner than this job would must not answer it: the
            // job waits for the next one (woken below when that attempt fails).
            LinkState::Connecting { attempt, .. } => *attempt,
            LinkState::Down { attempt, .. } => {
                self.wake.notify_one();
                *attempt
            }
        };
        let deadline = Instant::now() + timeout;
        loop {
            tokio::select! {
                changed = rx.changed() => if changed.is_err() {
                    return Err(TransportError::new(ErrorKind::Io, format!("{}: the agent transport shut down", self.name)));
                },
                () = sleep_until(deadline) => {
                    return Err(TransportError::new(
                        ErrorKind::Timeout,
                        format!("{}: no connection to the agent at {} within {:.1} s", self.name, self.endpoint.url, timeout.as_secs_f32()),
                    ));
                }
                () = cancel.cancelled() => return Ok(None),
            }
            match &*rx.borrow_and_update() {
                LinkState::Up { session, .. } if session.is_alive() => {
                    return Ok(Some(session.clone()));
                }
                LinkState::Down { error, attempt } if *attempt > floor => {
                    return Err(error.clone());
                }
                // The shorter attempt this job did not join failed: retry now, not after
                // the backoff.
                LinkState::Down { attempt, .. } if *attempt == floor => self.wake.notify_one(),
                _ => {}
            }
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Connects, serves, and reconnects until stopped.
async fn supervise(link: Arc<Link>, consumer: String, feed: Arc<Feed>) {
    let mut attempt = 1u64;
    let mut failures = 0u32;
    loop {
        let timeout_ms = link.connect_timeout_ms.load(Ordering::Relaxed);
        link.state.send_replace(LinkState::Connecting {
            attempt,
            timeout_ms,
        });
        let timeout = Duration::from_millis(timeout_ms);
        let connected = tokio::select! {
            r = async {
                // A new connection: `[run] handshakes_per_second` counts it.
                crate::transport::rate::global().acquire().await;
                connect::connect(&link.name, &link.endpoint, &consumer, timeout).await
            } => r,
            () = link.stop.cancelled() => return,
        };
        let retry_after = match connected {
            Ok((wire, hello)) => {
                failures = 0;
                tracing::debug!(host = %link.name, "agent connected");
                let (session, ended) = Session::start(
                    &link.name,
                    wire,
                    hello,
                    feed.clone(),
                    link.stop.child_token(),
                );
                link.state.send_replace(LinkState::Up { session, attempt });
                let why = ended
                    .await
                    .unwrap_or_else(|_| "the connection task stopped".to_string());
                if link.stop.is_cancelled() {
                    return;
                }
                tracing::info!(host = %link.name, "agent connection lost: {why}; reconnecting");
                link.state.send_replace(LinkState::Down {
                    error: TransportError::new(
                        ErrorKind::Io,
                        format!("{}: connection lost to the agent ({why})", link.name),
                    ),
                    attempt,
                });
                Some(backoff(0))
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                // Wrong credentials or pin do not fix themselves: wait for the next job.
                let retry = !matches!(error.kind, ErrorKind::Auth | ErrorKind::HostKey);
                tracing::debug!(host = %link.name, attempt, "agent connect failed: {error}");
                link.state.send_replace(LinkState::Down { error, attempt });
                retry.then(|| backoff(failures))
            }
        };
        attempt += 1;
        let until = retry_after.map(|d| Instant::now() + d);
        tokio::select! {
            () = link.wake.notified() => {}
            () = sleep_until(until.unwrap_or_else(far)), if until.is_some() => {}
            () = link.stop.cancelled() => return,
        }
    }
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 86_400)
}

/// The pause before attempt number `failures + 1`: doubling from 250 ms, capped at 30 s, and
/// jittered to 50–100 % so a fleet of agents restarting together is not hit in lockstep.
pub fn backoff(failures: u32) -> Duration {
    let base = BACKOFF_START
        .saturating_mul(1u32 << failures.min(16))
        .min(BACKOFF_CAP);
    let mut byte = [0u8; 1];
    let jitter =
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut byte).is_ok() {
            f64::from(byte[0]) / 255.0
        } else {
            0.5
        };
    base.mul_f64(0.5 + jitter / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        for failures in 0..40 {
            let d = backoff(failures);
            let base = BACKOFF_START
                .saturating_mul(1u32 << failures.min(16))
                .min(BACKOFF_CAP);
            assert!(d >= base / 2 && d <= base, "{failures}: {d:?} vs {base:?}");
        }
        assert!(backoff(30) <= BACKOFF_CAP);
    }
}
