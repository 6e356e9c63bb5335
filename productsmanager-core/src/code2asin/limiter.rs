//! Calls to Amazon at the documented rate and never over it: one token bucket (GCRA, the `governor` crate) per
//! credential and marketplace, shared by every worker of the process, lowered when the API answers a lower limit in
//! `x-amzn-RateLimit-Limit`; with Redis configured, the same bucket is also kept in Redis for every process.

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

    /// The rate of this credential and marketplace now (calls per second).
    pub fn rate_of(&self, credential: Uuid, marketplace: &str) -> f64 {
        let buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        buckets.get(&(credential, marketplace.to_string())).map_or(self.rate, |(rate, _)| *rate)
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

/// Calls across processes: the GCRA state of each (credential, marketplace) kept in Redis and updated by one
/// script, atomically, on Redis's clock, so every worker process sharing a Redis shares the bucket. (Redis documents
/// this pattern; the Redis-backed limiter crates use another major version of the `redis` client than ours.)
const GCRA: &str = r"
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local period = tonumber(ARGV[1])
local tolerance = period * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return wait end
redis.call('SET', KEYS[1], string.format('%.0f', tat + period), 'PX', math.ceil((tolerance + period) / 1000) + 1000)
return 0
";

/// A [`CallLimiter`] in this process and, when Redis is configured, the same bucket shared by every process.
#[derive(Debug)]
pub struct SharedLimiter {
    local: CallLimiter,
    burst: u32,
    /// The connection and the key prefix (`{namespace}code2asin:bucket:`).
    redis: Option<(redis::aio::ConnectionManager, String)>,
    /// Set after Redis failed once: the outage is logged once, calls go on at the local rate.
    redis_failed: std::sync::atomic::AtomicBool,
}

impl SharedLimiter {
    /// `rate` calls per second with bursts of `burst`; across processes through the Redis at `redis_url` when
    /// given (keys under `{namespace}code2asin:bucket:`). The connection is made at the first call.
    pub fn new(rate: f64, burst: u32, redis_url: Option<&str>, namespace: &str) -> Result<Self, String> {
        let redis = match redis_url {
            Some(url) => {
                let client = redis::Client::open(url).map_err(|e| format!("cache.redis_url: {e}"))?;
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_response_timeout(Some(Duration::from_millis(500)))
                    .set_connection_timeout(Some(Duration::from_millis(500)))
                    .set_number_of_retries(1);
                let manager = redis::aio::ConnectionManager::new_lazy_with_config(client, config)
                    .map_err(|e| format!("cache.redis_url: {e}"))?;
                Some((manager, format!("{namespace}code2asin:bucket:")))
            }
            None => None,
        };
        Ok(SharedLimiter {
            local: CallLimiter::new(rate, burst),
            burst: burst.max(1),
            redis,
            redis_failed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whether the bucket is shared through Redis.
    pub fn is_shared(&self) -> bool {
        self.redis.is_some()
    }

    /// Waits until a call with this credential in this marketplace is within the limit, here and (with Redis) in
    /// every process, and takes it. Redis unreachable: this process keeps its own rate.
    pub async fn acquire(&self, credential: Uuid, marketplace: &str) {
        self.local.acquire(credential, marketplace).await;
        let Some((manager, prefix)) = &self.redis else { return };
        let period_us = (1_000_000.0 / self.local.rate_of(credential, marketplace)).ceil() as u64;
        let key = format!("{prefix}{credential}:{marketplace}");
        loop {
            let mut connection = manager.clone();
            let answer: redis::RedisResult<u64> = redis::cmd("EVAL")
                .arg(GCRA)
                .arg(1)
                .arg(&key)
                .arg(period_us)
                .arg(self.burst)
                .query_async(&mut connection)
                .await;
            match answer {
                Ok(0) => {
                    self.redis_failed.store(false, std::sync::atomic::Ordering::Relaxed);
                    return;
                }
                Ok(wait_us) => tokio::time::sleep(Duration::from_micros(wait_us)).await,
                Err(e) => {
                    if !self.redis_failed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        tracing::warn!(error = %e, "Amazon rate limit not shared (Redis unavailable); this process keeps its own rate");
                    }
                    return;
                }
            }
        }
    }

    /// See [`CallLimiter::observe_limit`]; the shared bucket follows at the next call.
    pub fn observe_limit(&self, credential: Uuid, marketplace: &str, per_second: f64) {
        self.local.observe_limit(credential, marketplace, per_second);
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
