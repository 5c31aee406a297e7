//! The connection rate limit (`[run] handshakes_per_second`): a token bucket shared by every
//! transport in the process, taken before each new connection (an SSH handshake, an agent
//! link's connect). Reusing a pooled connection takes nothing. It protects bastions and
//! sshd's MaxStartups from a large fan-out opening hundreds of connections in one instant.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

/// A token bucket: up to `per_second` tokens, refilled at `per_second` a second; each new
/// connection takes one. A caller that finds it empty reserves the next token and sleeps
/// until it is due, so waiters are served in order and never poll.
#[derive(Debug)]
pub struct RateLimiter {
    bucket: Mutex<Bucket>,
    /// Tokens asked for over the limiter's life (also while it is off).
    requests: AtomicU64,
}

#[derive(Debug)]
struct Bucket {
    /// 0: no limit.
    per_second: u32,
    /// May go below zero: tokens reserved by callers that are still waiting.
    tokens: f64,
    refilled: Instant,
}

impl RateLimiter {
    /// `per_second` new connections a second at most (bursts up to that many); 0 is off.
    pub fn new(per_second: u32) -> Self {
        RateLimiter {
            bucket: Mutex::new(Bucket {
                per_second,
                tokens: f64::from(per_second),
                refilled: Instant::now(),
            }),
            requests: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Bucket> {
        // Plain numbers behind the lock: a panic elsewhere leaves nothing half-done.
        self.bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Changes the rate (0: off); the bucket starts full at the new rate.
    pub fn set_rate(&self, per_second: u32) {
        let mut b = self.lock();
        if b.per_second != per_second {
            b.per_second = per_second;
            b.tokens = f64::from(per_second);
            b.refilled = Instant::now();
        }
    }

    pub fn rate(&self) -> u32 {
        self.lock().per_second
    }

    /// New connections that asked for a token so far (whether or not the limit is on).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// How long the caller must wait for its token, the token being taken now. Zero when
    /// the bucket has one (or the limit is off).
    pub fn reserve(&self) -> Duration {
        self.reserve_at(Instant::now())
    }

    /// `reserve` as of `now` (never earlier than a previous call's).
    fn reserve_at(&self, now: Instant) -> Duration {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut b = self.lock();
        if b.per_second == 0 {
            return Duration::ZERO;
        }
        let rate = f64::from(b.per_second);
        let refill = now.saturating_duration_since(b.refilled).as_secs_f64() * rate;
        b.tokens = (b.tokens + refill).min(rate);
        b.refilled = b.refilled.max(now);
        b.tokens -= 1.0;
        if b.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-b.tokens / rate)
        }
    }

    /// Waits for a token. Dropping the future while it waits still spends the token (the
    /// rate stays a ceiling; the next caller waits a little longer than needed).
    pub async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The process-wide limiter used by the SSH and agent transports. Off until
/// [`configure`] sets a rate (front ends do, from config.toml, in `launch::transports`).
pub fn global() -> &'static RateLimiter {
    static GLOBAL: OnceLock<RateLimiter> = OnceLock::new();
    GLOBAL.get_or_init(|| RateLimiter::new(0))
}

/// Sets the process-wide rate: new connections per second, 0 for no limit.
pub fn configure(per_second: u32) {
    global().set_rate(per_second);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds, rounded, for comparing waits computed in floating point.
    fn ms(d: Duration) -> u128 {
        (d.as_micros() + 500) / 1000
    }

    #[test]
    fn a_burst_then_the_rate() {
        let limiter = RateLimiter::new(10);
        let t0 = Instant::now();
        // The full bucket: a burst of 10 costs no wait.
        for _ in 0..10 {
            assert_eq!(limiter.reserve_at(t0), Duration::ZERO);
        }
        // Then one token per 100 ms, each caller reserving the next one.
        let waits: Vec<u128> = (0..5).map(|_| ms(limiter.reserve_at(t0))).collect();
        assert_eq!(waits, [100, 200, 300, 400, 500]);
        // Half a second later those five reservations are paid off: the next waits 100 ms.
        assert_eq!(ms(limiter.reserve_at(t0 + Duration::from_millis(500))), 100);
    }

    #[test]
    fn refills_while_idle_up_to_the_burst() {
        let limiter = RateLimiter::new(4);
        let t0 = Instant::now();
        for _ in 0..4 {
            assert_eq!(limiter.reserve_at(t0), Duration::ZERO);
        }
        assert!(limiter.reserve_at(t0) > Duration::ZERO);
        // A minute idle refills 4 tokens, not 240.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..4 {
            assert_eq!(limiter.reserve_at(later), Duration::ZERO);
        }
        assert_eq!(ms(limiter.reserve_at(later)), 250);
    }

    #[test]
    fn zero_is_off_and_the_rate_can_change() {
        let limiter = RateLimiter::new(0);
        let t0 = Instant::now();
        for _ in 0..1000 {
            assert_eq!(limiter.reserve_at(t0), Duration::ZERO);
        }
        assert_eq!(limiter.requests(), 1000);
        limiter.set_rate(1);
        assert_eq!(limiter.rate(), 1);
        let t1 = Instant::now();
        assert_eq!(limiter.reserve_at(t1), Duration::ZERO);
        assert_eq!(ms(limiter.reserve_at(t1)), 1000);
        limiter.set_rate(0);
        assert_eq!(limiter.reserve_at(t1), Duration::ZERO);
    }

    #[tokio::test]
    async fn acquire_takes_a_token() {
        let limiter = RateLimiter::new(1000);
        // A full bucket: no wait, so this finishes (bounded by the test's own timeout).
        for _ in 0..1000 {
            limiter.acquire().await;
        }
        // The bucket is now empty: the next caller would wait.
        assert!(limiter.reserve() > Duration::ZERO);
    }
}
