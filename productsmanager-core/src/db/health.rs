//! Health of the seven databases: each checked on its own, concurrently, with a timeout, so one that is down
//! is named and the others still answer.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Backend, Database, DbError, DbPool};

/// Up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Up,
    Down,
}

/// Connections of one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PoolStats {
    /// Connections open (idle or in use).
    pub open: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// Most connections the pool may open.
    pub max: u32,
}

/// One database's health.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseHealth {
    pub database: Database,
    pub backend: Backend,
    pub status: HealthStatus,
    /// Round trip of `select 1` through the pool (acquire included), in milliseconds.
    pub latency_ms: f64,
    /// Why it is down; never contains credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub pool: PoolStats,
}

/// Health of all seven databases.
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    /// `up` only when every database is up.
    pub status: HealthStatus,
    pub databases: Vec<DatabaseHealth>,
}

impl HealthReport {
    /// Builds the report from the individual checks.
    pub fn from_checks(databases: Vec<DatabaseHealth>) -> Self {
        let status =
            if databases.iter().all(|d| d.status == HealthStatus::Up) { HealthStatus::Up } else { HealthStatus::Down };
        HealthReport { status, databases }
    }

    /// Whether every database is up.
    pub fn is_up(&self) -> bool {
        self.status == HealthStatus::Up
    }

    /// The databases that are down.
    pub fn down(&self) -> Vec<Database> {
        self.databases.iter().filter(|d| d.status == HealthStatus::Down).map(|d| d.database).collect()
    }
}

const PING: &str = "select 1";

/// How long a ping on a pool without connections may take before a direct connection looks for a refusal.
const PROBE_AFTER: Duration = Duration::from_millis(250);

/// Pings one database. `pending` marks a database whose migrations could not run yet: it answers, but its
/// services cannot work, so it is reported down.
pub(crate) async fn check_database(pool: &DbPool, db: Database, seconds: u64, pending: bool) -> DatabaseHealth {
    let started = Instant::now();
    let outcome = match tokio::time::timeout(Duration::from_secs(seconds), ping_or_refusal(pool, db, seconds)).await {
        Err(_) => Err(DbError::Timeout { database: db, seconds }),
        Ok(Err(e)) => Err(e),
        Ok(Ok(())) if pending => Err(DbError::NotMigrated { database: db }),
        Ok(Ok(())) => Ok(()),
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (status, error) = match outcome {
        Ok(()) => (HealthStatus::Up, None),
        Err(e) => (HealthStatus::Down, Some(describe(&e))),
    };
    DatabaseHealth { database: db, backend: pool.backend(), status, latency_ms, error, pool: pool.stats() }
}

/// The ping. With no connection open yet, a direct connection beside it (when the ping has not answered within
/// [`PROBE_AFTER`]) reports a server that refuses connections (not listening, too many clients) at once: sqlx's
/// pool retries such a server until its acquire timeout, which kept `/health/ready` waiting that long for a
/// database that was plainly down.
async fn ping_or_refusal(pool: &DbPool, db: Database, seconds: u64) -> Result<(), DbError> {
    let ping = async {
        match crate::with_pool!(pool, |p| sqlx::query(PING).execute(p).await.map(|_| ())) {
            Ok(()) => Ok(()),
            Err(sqlx::Error::PoolTimedOut) => {
                Err(pool.why_no_connection(db, seconds).await.unwrap_or(DbError::Timeout { database: db, seconds }))
            }
            Err(e) => Err(DbError::from_sqlx(db, e)),
        }
    };
    if pool.stats().open > 0 {
        return ping.await;
    }
    let refused = async {
        // A server that answers gives the pool its connection before this: no second connection then.
        tokio::time::sleep(PROBE_AFTER).await;
        match pool.why_no_connection(db, seconds).await {
            Some(refusal) => refusal,
            // The server takes connections: the ping decides.
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        answered = ping => answered,
        refusal = refused => Err(refusal),
    }
}

/// The error and its driver cause, for operators. sqlx messages name hosts and codes, not passwords.
fn describe(error: &DbError) -> String {
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}
