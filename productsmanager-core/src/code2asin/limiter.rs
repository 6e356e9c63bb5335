//! Calls to Amazon at the documented rate and never over it: one token bucket (GCRA, the `governor` crate) per
//! credential and marketplace, shared by every worker of the process, lowered when the API answers a lower limit in
//! `x-amzn-RateLimit-Limit`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use uuid::Uuid;

type Bucket<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Each (credential, marketplace) with its rate and bucket.
type Buckets<C> = HashMap<(Uuid, String), (f64, Arc<Bucket<C>>)>;

/// Buckets per (credential, marketplace).
#[derive(Debug)]
pub struct CallLimiter<C: Clock = DefaultClock> {
    clock: C,
    rate: f64,
    burst: NonZeroU32,
    buckets: Mutex<Buckets<C>>,
}

impl CallLimiter<DefaultClock> {
    /// `rate` calls per second with bursts of `burst` (SP-API `searchCatalogItems`: 2 and 2).
    pub fn new(rate: f64, burst: u32) -> Self {
        CallLimiter::with_clock(rate, burst, DefaultClock::default())
    }

    /// Waits until a call with this credential in this marketplace is within the limit, and takes it.
    pub async fn acquire(&self, credential: Uuid, marketplace: &str) {
        self.bucket(credential, marketplace).until_ready().await;
    }
}

impl<C: Clock + Clone> CallLimiter<C> {
    /// The same on another clock (tests).
    pub fn with_clock(rate: f64, burst: u32, clock: C) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        CallLimiter { clock, rate: rate.max(0.001), burst, buckets: Mutex::new(HashMap::new()) }
    }

    fn quota(&self, rate: f64) -> Quota {
        let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
        Quota::with_period(period).unwrap_or(Quota::per_second(NonZeroU32::MIN)).allow_burst(self.burst)
    }

    fn bucket(&self, credential: Uuid, marketplace: &str) -> Arc<Bucket<C>> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (_, bucket) = buckets.entry((credential, marketplace.to_string())).or_insert_with(|| {
            (self.rate, Arc::new(RateLimiter::direct_with_clock(self.quota(self.rate), self.clock.clone())))
        });
        bucket.clone()
    }

    /// Takes a call if it is within the limit now; otherwise says how long to wait.
    pub fn try_acquire(&self, credential: Uuid, marketplace: &str) -> Result<(), Duration> {
        self.bucket(credential, marketplace).check().map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// The API said its limit (`x-amzn-RateLimit-Limit`): a lower one than ours replaces ours for this credential
    /// and marketplace; a higher one changes nothing (we keep to the documented rate).
    pub fn observe_limit(&self, credential: Uuid, marketplace: &str, per_second: f64) {
        if !(per_second.is_finite() && per_second > 0.0) {
            return;
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (credential, marketplace.to_string());
        let current = buckets.get(&key).map_or(self.rate, |(rate, _)| *rate);
        if per_second < current {
            let bucket = Arc::new(RateLimiter::direct_with_clock(self.quota(per_second), self.clock.clone()));
            buckets.insert(key, (per_second, bucket));
        }
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    #[test]
    fn a_burst_then_the_rate_per_credential_and_marketplace() {
        let clock = FakeRelativeClock::default();
        let limiter = CallLimiter::with_clock(2.0, 2, clock.clone());
        let (key, fr, de) = (Uuid::nil(), "A13V1IB3VIYZZH", "A1PA6795UKMFR9");
        assert_eq!(limiter.try_acquire(key, fr), Ok(()));
        assert_eq!(limiter.try_acquire(key, fr), Ok(()));
        assert_eq!(limiter.try_acquire(key, fr), Err(Duration::from_millis(500)), "the burst is spent");
        assert_eq!(limiter.try_acquire(key, de), Ok(()), "another marketplace has its own bucket");
        assert_eq!(limiter.try_acquire(Uuid::max(), fr), Ok(()), "another credential too");
        clock.advance(Duration::from_millis(500));
        assert_eq!(limiter.try_acquire(key, fr), Ok(()));
        assert!(limiter.try_acquire(key, fr).is_err(), "one call per 500 ms after the burst");

        // The API says 1 per second: from now on, one call a second after a fresh burst.
        limiter.observe_limit(key, fr, 1.0);
        limiter.observe_limit(key, fr, 5.0); // higher: ignored
        assert_eq!(limiter.try_acquire(key, fr), Ok(()));
        assert_eq!(limiter.try_acquire(key, fr), Ok(()));
        assert_eq!(limiter.try_acquire(key, fr), Err(Duration::from_secs(1)));
    }
}
