//! The seven logical databases and how services reach them.
//!
//! Each [`Database`] has its own pool, size and migrations, on SQLite (embedded default, one file each) or
//! PostgreSQL (production, one database each, on one server or several). There are no foreign keys across
//! databases; rows link by UUID.
//!
//! Services never hold a global pool: they ask a [`DatabaseRouter`] for the [`DbPool`] of their database and
//! write each query once inside [`with_pool!`](crate::with_pool), which expands the same body for both backends.
//!
//! ```no_run
//! # async fn demo(router: &dyn productsmanager_core::db::DatabaseRouter) -> Result<(), sqlx::Error> {
//! use productsmanager_core::{db::Database, with_pool};
//!
//! const COUNT_BRANDS: &str = "select count(*) from brands";
//! let pool = router.pool(Database::Catalog);
//! let count: i64 = with_pool!(pool, |p| sqlx::query_scalar(COUNT_BRANDS).fetch_one(p).await)?;
//! # Ok(()) }
//! ```

mod health;
pub(crate) mod migrate;
mod pool;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use health::{DatabaseHealth, HealthReport, HealthStatus, PoolStats};
pub use migrate::{MigrationState, MigrationStatus, latest_version};
pub(crate) use pool::rows_by_ids;
pub use pool::{DatabaseRouter, DbPool, PoolRouter};

pub(crate) use health::check_database;
pub(crate) use migrate::{ensure_database_exists, migrate_database, migration_status};

/// The seven logical databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Database {
    /// Users, roles, permissions, notifications, settings, Amazon credentials.
    Core,
    /// Products, suppliers and their offers, categories, brands, prices, stock.
    Catalog,
    /// Import configurations, jobs, files, logs, errors, mapping templates.
    Imports,
    /// Export platforms, jobs and per-product items.
    Exports,
    /// Media files, thumbnails, metadata, QR codes.
    Media,
    /// EAN/UPC → ASIN jobs and results.
    #[serde(rename = "code2asin")]
    Code2Asin,
    /// Metrics, search analytics, user activity.
    Analytics,
}

impl Database {
    /// All seven, in a fixed order (the order of the migrations folders and health reports).
    pub const ALL: [Database; 7] = [
        Database::Core,
        Database::Catalog,
        Database::Imports,
        Database::Exports,
        Database::Media,
        Database::Code2Asin,
        Database::Analytics,
    ];

    /// Lowercase name: `catalog`, `code2asin`, … (database names, folder names, variable names).
    pub fn name(self) -> &'static str {
        match self {
            Database::Core => "core",
            Database::Catalog => "catalog",
            Database::Imports => "imports",
            Database::Exports => "exports",
            Database::Media => "media",
            Database::Code2Asin => "code2asin",
            Database::Analytics => "analytics",
        }
    }

    /// Position in [`Database::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The SQL engine behind a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// Errors of the database layer; each names the database concerned.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Connecting failed (refused, DNS, TLS, authentication, pool closed).
    #[error("database `{database}` is unavailable")]
    Unavailable {
        database: Database,
        #[source]
        source: sqlx::Error,
    },
    /// The server refused a connection: it has as many as it allows (PostgreSQL's `max_connections`, or a
    /// role's or database's connection limit; SQLSTATE 53300).
    #[error(
        "database `{database}`: the server refused a connection: too many clients ({source}); raise the server's \
         max_connections, give this process smaller pools (database.<name>.pool_size and overflow: `doctor` shows \
         the sum) or put PgBouncer in front (README, \"Connection budget\")"
    )]
    TooManyClients {
        database: Database,
        #[source]
        source: sqlx::Error,
    },
    /// No connection or answer within the configured time.
    #[error("database `{database}` did not answer within {seconds} s")]
    Timeout { database: Database, seconds: u64 },
    /// The database was migrated by a newer release than this binary.
    #[error(
        "database `{database}` is at schema version {found}, newer than this binary knows (latest {known}); \
         run a newer productsmanager or point this one at another database"
    )]
    SchemaTooNew { database: Database, found: i64, known: i64 },
    /// A migration that was applied has been edited since.
    #[error("database `{database}`: applied migration {version} differs from the one in this binary")]
    MigrationModified { database: Database, version: i64 },
    /// The database could not be brought to this binary's schema.
    #[error("database `{database}`: migration failed: {source}")]
    Migration {
        database: Database,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// The database was unreachable at start and its migrations have not run yet.
    #[error("database `{database}` has not been migrated yet (it was unreachable at start)")]
    NotMigrated { database: Database },
    /// A row that must exist does not.
    #[error("{what} not found in database `{database}`")]
    NotFound { database: Database, what: &'static str },
    /// A unique or foreign-key constraint refused the write.
    #[error("database `{database}`: the write conflicts with existing data ({constraint})")]
    Constraint { database: Database, constraint: String },
    /// Any other query failure.
    #[error("database `{database}`: query failed")]
    Query {
        database: Database,
        #[source]
        source: sqlx::Error,
    },
}

impl DbError {
    /// Classifies a driver error: lost connections are `Unavailable`, constraint violations `Constraint`.
    pub fn from_sqlx(database: Database, source: sqlx::Error) -> Self {
        match &source {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => DbError::Unavailable { database, source },
            // too_many_connections: the server's limit, a role's or a database's.
            sqlx::Error::Database(e) if e.code().as_deref() == Some("53300") => {
                DbError::TooManyClients { database, source }
            }
            sqlx::Error::Database(e) if e.is_unique_violation() || e.is_foreign_key_violation() => {
                DbError::Constraint { database, constraint: e.constraint().unwrap_or("unique").to_string() }
            }
            _ => DbError::Query { database, source },
        }
    }

    /// The database this error is about.
    pub fn database(&self) -> Database {
        match self {
            DbError::Unavailable { database, .. }
            | DbError::TooManyClients { database, .. }
            | DbError::Timeout { database, .. }
            | DbError::SchemaTooNew { database, .. }
            | DbError::MigrationModified { database, .. }
            | DbError::Migration { database, .. }
            | DbError::NotMigrated { database }
            | DbError::NotFound { database, .. }
            | DbError::Constraint { database, .. }
            | DbError::Query { database, .. } => *database,
        }
    }

    /// How adapters should treat it.
    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind;
        match self {
            DbError::Unavailable { .. }
            | DbError::TooManyClients { .. }
            | DbError::Timeout { .. }
            | DbError::NotMigrated { .. } => ErrorKind::Unavailable,
            DbError::SchemaTooNew { .. } | DbError::MigrationModified { .. } | DbError::Constraint { .. } => {
                ErrorKind::Conflict
            }
            DbError::NotFound { .. } => ErrorKind::NotFound,
            DbError::Migration { .. } | DbError::Query { .. } => ErrorKind::Internal,
        }
    }

    /// The constraint a unique violation broke: its name on PostgreSQL, the driver's message (which names the
    /// table and column or index) on SQLite; `None` for any other error. Repositories match on a column name.
    pub fn unique_violation(error: &sqlx::Error) -> Option<String> {
        match error {
            sqlx::Error::Database(e) if e.is_unique_violation() => {
                Some(e.constraint().map(str::to_string).unwrap_or_else(|| e.message().to_string()))
            }
            _ => None,
        }
    }

    /// Whether the database could not be reached (as opposed to answering with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, DbError::Unavailable { .. } | DbError::Timeout { .. })
    }
}

/// Runs the same body for whichever backend a [`DbPool`] holds, binding the concrete pool to a name.
///
/// The body is compiled twice, once with `&SqlitePool` and once with `&PgPool`, so runtime `sqlx::query*`
/// calls with `$1` placeholders, `returning` and `on conflict … do update` are written once. Where dialects
/// really differ (full-text search, bulk load, queue claiming), give one body per backend and mark each with
/// `// dialect:`:
///
/// ```ignore
/// with_pool!(pool, sqlite |p| { /* dialect: FTS5 */ }, postgres |p| { /* dialect: tsvector */ })
/// ```
#[macro_export]
macro_rules! with_pool {
    ($pool:expr, sqlite |$s:ident| $sqlite:expr, postgres |$g:ident| $postgres:expr $(,)?) => {{
        let timed_pool = $pool;
        let timed_start = ::std::time::Instant::now();
        let timed_result = match timed_pool {
            $crate::db::DbPool::Sqlite($s) => $sqlite,
            $crate::db::DbPool::Postgres($g) => $postgres,
        };
        $crate::db::record_duration(timed_pool, timed_start);
        timed_result
    }};
    ($pool:expr, |$p:ident| $body:expr) => {{
        let timed_pool = $pool;
        let timed_start = ::std::time::Instant::now();
        let timed_result = match timed_pool {
            $crate::db::DbPool::Sqlite($p) => $body,
            $crate::db::DbPool::Postgres($p) => $body,
        };
        $crate::db::record_duration(timed_pool, timed_start);
        timed_result
    }};
}

/// Records how long a database operation (one [`with_pool!`] body: a query, or a transaction's statements) took,
/// as `db_query_duration_seconds{database}` and in this process's latency histogram of that database (which the
/// SDK hands to the analytics every minute: [`take_latency_buckets`]).
#[doc(hidden)]
pub fn record_duration(pool: &DbPool, started: std::time::Instant) {
    let database = pool.database();
    let elapsed = started.elapsed();
    let label = database.map_or("other", Database::name);
    metrics::histogram!("db_query_duration_seconds", "database" => label).record(elapsed.as_secs_f64());
    let database = database.map_or(Database::ALL.len(), Database::index);
    let bucket = crate::analytics::bucket_of(elapsed.as_secs_f64() * 1000.0);
    let bucket = usize::try_from(bucket).unwrap_or(0).min(LATENCY_BUCKETS - 1);
    DB_LATENCY[database][bucket].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Buckets per database in [`DB_LATENCY`]: up to 0.01 ms × 1.05^399, about 3 days.
const LATENCY_BUCKETS: usize = 400;

/// Operations per latency bucket per database (the seven, then `other`) since the last
/// [`take_latency_buckets`]; process-wide, as the pools' queries are.
static DB_LATENCY: [[std::sync::atomic::AtomicU64; LATENCY_BUCKETS]; 8] =
    [const { [const { std::sync::atomic::AtomicU64::new(0) }; LATENCY_BUCKETS] }; 8];

/// Per database, the (bucket, operations) counted since the last call, which resets them; databases without any
/// are left out.
pub fn take_latency_buckets() -> Vec<(&'static str, Vec<(i32, u64)>)> {
    let names = Database::ALL.map(Database::name);
    DB_LATENCY
        .iter()
        .enumerate()
        .filter_map(|(index, buckets)| {
            let counted: Vec<(i32, u64)> = buckets
                .iter()
                .enumerate()
                .filter_map(|(bucket, count)| {
                    let count = count.swap(0, std::sync::atomic::Ordering::Relaxed);
                    (count > 0).then_some((i32::try_from(bucket).unwrap_or(0), count))
                })
                .collect();
            (!counted.is_empty()).then(|| (names.get(index).copied().unwrap_or("other"), counted))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialised_names_are_the_database_names() {
        for db in Database::ALL {
            assert_eq!(serde_json::to_value(db).unwrap(), serde_json::Value::String(db.name().to_string()));
            assert_eq!(Database::ALL[db.index()], db);
        }
    }
}
