//! The per-sink rate limit: a token bucket of `per_minute` tokens refilled evenly over a
//! minute, so a burst of that many goes out at once and then one every `60 s / per_minute`.
//! What it refuses is counted, to be summed up in one message when a token is free again.
//! Pure: the caller passes the time.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimit {
    capacity: f64,
    tokens: f64,
    per_second: f64,
    last: Instant,
    dropped: u64,
}

impl RateLimit {
    /// `per_minute` messages a minute (at least one).
    pub fn new(per_minute: u32, now: Instant) -> RateLimit {
        let capacity = f64::from(per_minute.max(1));
        RateLimit {
            capacity,
            tokens: capacity,
            per_second: capacity / 60.0,
            last: now,
            dropped: 0,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.last = now;
    }

    /// Takes a token for one message; without one the message is counted as dropped.
    pub fn admit(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.dropped += 1;
            false
        }
    }

    /// Messages dropped and not yet summed up.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// When there is a token for the summary: the count to report (the token is taken and the
    /// count reset); `None` while there are no tokens or nothing was dropped.
    pub fn take_summary(&mut self, now: Instant) -> Option<u64> {
        if self.dropped == 0 {
            return None;
        }
        self.refill(now);
        if self.tokens < 1.0 {
            return None;
        }
        self.tokens -= 1.0;
        Some(std::mem::take(&mut self.dropped))
    }

    /// When the next token will be there.
    pub fn next_token_at(&self) -> Instant {
        let missing = (1.0 - self.tokens).max(0.0);
        self.last + Duration::from_secs_f64(missing / self.per_second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval_and_a_summary() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(3, t0);
        assert!(r.admit(t0) && r.admit(t0) && r.admit(t0));
        assert!(!r.admit(t0) && !r.admit(t0));
        assert_eq!(r.dropped(), 2);
        assert_eq!(r.take_summary(t0), None);
        // 3 a minute: a token every 20 s.
        assert_eq!(r.next_token_at(), t0 + Duration::from_secs(20));
        let t1 = t0 + Duration::from_secs(20);
        assert_eq!(r.take_summary(t1), Some(2));
        assert_eq!(r.dropped(), 0);
        assert!(!r.admit(t1));
        assert!(r.admit(t1 + Duration::from_secs(20)));
        // A long quiet spell refills only up to the burst size.
        let later = t1 + Duration::from_secs(3600);
        assert!(r.admit(later) && r.admit(later) && r.admit(later));
        assert!(!r.admit(later));
    }
}
