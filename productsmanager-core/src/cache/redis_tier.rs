//! L2 on Redis, and the listener that drops invalidated keys from this instance's L1.
//!
//! One `ConnectionManager` (RESP3) carries commands and the invalidation subscription; it reconnects by itself
//! and renews the subscription after a reconnect. Every operation has a short deadline and, after a failure, L2
//! is skipped for [`BACKOFF`], so a dead Redis costs a request at most one deadline per second, never an error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{PushInfo, PushKind};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::{CacheError, L1Entry};

/// Deadline of one Redis operation; a local Redis answers in well under a millisecond.
const DEADLINE: Duration = Duration::from_millis(250);
/// How long L2 is skipped after a failure before it is tried again.
const BACKOFF: Duration = Duration::from_secs(1);

pub(super) struct RedisTier {
    manager: ConnectionManager,
    /// `{namespace}cache:` before every key.
    key_prefix: String,
    /// Channel carrying invalidated keys.
    channel: String,
    /// False from the first failure (or a lost connection) until Redis answers again: the outage is logged once,
    /// and meanwhile L1 entries are trusted only briefly (invalidations from other instances cannot arrive).
    healthy: Arc<AtomicBool>,
    /// This instance's L1, emptied when Redis answers again after an outage.
    l1: moka::future::Cache<String, L1Entry>,
    /// L2 is skipped until then after a failure.
    skip_until: Mutex<Option<Instant>>,
}

impl RedisTier {
    pub(super) fn connect(
        url: &str,
        namespace: &str,
        l1: moka::future::Cache<String, L1Entry>,
    ) -> Result<Self, CacheError> {
        // RESP3 lets the subscription share the command connection (pushes arrive between replies).
        let url = if url.contains("protocol=") {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&protocol=resp3")
        } else {
            format!("{url}?protocol=resp3")
        };
        let client = redis::Client::open(url.as_str()).map_err(|e| CacheError::RedisUrl(e.to_string()))?;
        let (pushes, received) = unbounded_channel();
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(DEADLINE))
            .set_connection_timeout(Some(DEADLINE))
            .set_number_of_retries(2)
            .set_push_sender(pushes)
            .set_automatic_resubscription();
        let manager =
            ConnectionManager::new_lazy_with_config(client, config).map_err(|e| CacheError::RedisUrl(e.to_string()))?;
        let key_prefix = format!("{namespace}cache:");
        let channel = format!("{namespace}cache:invalidate");
        let healthy = Arc::new(AtomicBool::new(true));
        tokio::spawn(listen(received, l1.clone(), channel.clone(), healthy.clone()));
        tokio::spawn(subscribe(manager.clone(), channel.clone()));
        Ok(RedisTier { manager, key_prefix, channel, healthy, l1, skip_until: Mutex::new(None) })
    }

    /// Whether Redis is known to be down (a failed command or a lost connection since it last answered).
    pub(super) fn is_down(&self) -> bool {
        !self.healthy.load(Ordering::Relaxed)
    }

    fn skipping(&self) -> bool {
        let Ok(mut until) = self.skip_until.lock() else { return false };
        match *until {
            Some(at) if Instant::now() < at => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    /// Runs one command with the deadline; records the outcome for the log-once and back-off logic.
    async fn run<T: redis::FromRedisValue>(&self, what: &'static str, command: redis::Cmd) -> Result<T, ()> {
        if self.skipping() {
            return Err(());
        }
        let mut connection = self.manager.clone();
        let outcome = match tokio::time::timeout(DEADLINE, command.query_async::<T>(&mut connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} ms", DEADLINE.as_millis())),
        };
        match outcome {
            Ok(value) => {
                if !self.healthy.swap(true, Ordering::Relaxed) {
                    // What L1 holds was loaded while invalidations could not arrive.
                    self.l1.invalidate_all();
                    tracing::info!("Redis cache reachable again; L2 in use");
                }
                Ok(value)
            }
            Err(reason) => {
                metrics::counter!("cache_l2_errors_total", "operation" => what).increment(1);
                if self.healthy.swap(false, Ordering::Relaxed) {
                    tracing::warn!(error = %reason, "Redis cache unavailable; serving from L1 and the databases");
                }
                if let Ok(mut until) = self.skip_until.lock() {
                    *until = Some(Instant::now() + BACKOFF);
                }
                Err(())
            }
        }
    }

    /// One `PING` with the deadline, past the back-off (a health check must ask Redis itself): the round trip.
    pub(super) async fn ping(&self) -> Result<Duration, String> {
        let mut connection = self.manager.clone();
        let started = Instant::now();
        match tokio::time::timeout(DEADLINE, redis::cmd("PING").query_async::<String>(&mut connection)).await {
            Ok(Ok(_)) => Ok(started.elapsed()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} ms", DEADLINE.as_millis())),
        }
    }

    pub(super) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ()> {
        let mut command = redis::cmd("GET");
        command.arg(format!("{}{key}", self.key_prefix));
        self.run("get", command).await
    }

    pub(super) async fn set(&self, key: &str, bytes: &[u8], ttl: Duration) -> Result<(), ()> {
        let mut command = redis::cmd("SET");
        command.arg(format!("{}{key}", self.key_prefix)).arg(bytes).arg("EX").arg(ttl.as_secs().max(1));
        self.run("set", command).await
    }

    /// Deletes the key from L2, then tells every instance (this one included) to drop it from L1. The message
    /// carries the key without the namespace, as L1 stores it.
    pub(super) async fn invalidate(&self, key: &str) -> Result<(), ()> {
        let mut delete = redis::cmd("DEL");
        delete.arg(format!("{}{key}", self.key_prefix));
        self.run::<()>("del", delete).await?;
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(&self.channel).arg(key);
        self.run::<()>("publish", publish).await
    }
}

/// Subscribes to the invalidation channel, retrying until Redis answers; after that the connection manager
/// renews the subscription on every reconnect.
async fn subscribe(mut manager: ConnectionManager, channel: String) {
    loop {
        match tokio::time::timeout(DEADLINE, manager.subscribe(&channel)).await {
            Ok(Ok(())) => return,
            _ => tokio::time::sleep(BACKOFF).await,
        }
    }
}

/// Drops invalidated keys from L1; empties L1 when the connection is lost, since invalidations sent while we were
/// disconnected never reach us.
async fn listen(
    mut received: UnboundedReceiver<PushInfo>,
    l1: moka::future::Cache<String, L1Entry>,
    channel: String,
    healthy: Arc<AtomicBool>,
) {
    while let Some(push) = received.recv().await {
        match push.kind {
            PushKind::Message => {
                let mut data = push.data.into_iter();
                let (Some(from), Some(payload)) = (data.next(), data.next()) else { continue };
                let from: Result<String, _> = redis::from_redis_value(from);
                let key: Result<String, _> = redis::from_redis_value(payload);
                if let (Ok(from), Ok(key)) = (from, key)
                    && from == channel
                {
                    l1.invalidate(&key).await;
                }
            }
            PushKind::Disconnection => {
                tracing::debug!("Redis connection lost; emptying L1");
                if healthy.swap(false, Ordering::Relaxed) {
                    tracing::warn!("Redis cache connection lost; serving from L1 (briefly) and the databases");
                }
                l1.invalidate_all();
            }
            _ => {}
        }
    }
}
