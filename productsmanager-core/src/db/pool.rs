//! Pools: one per database, on either backend, handed out by a router.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

use super::{Backend, Database, PoolStats};
use crate::config::{Config, ConfigError, DatabaseLocation, PoolSettings, redact_url};

/// A connection pool on one of the two backends.
#[derive(Debug, Clone)]
pub enum DbPool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl DbPool {
    /// Opens the pool for `db` as configured, without connecting: connections are made on first use, so an
    /// unreachable database does not stop the others from starting.
    pub fn open_lazy(config: &Config, db: Database) -> Result<Self, ConfigError> {
        let settings = config.database.settings(db);
        let url_key = format!("database.{}.url", db.name());
        match config.database_location(db) {
            DatabaseLocation::SqliteFile(path) => {
                let options = SqliteConnectOptions::new().filename(&path);
                Ok(DbPool::Sqlite(sqlite_pool(config, settings, options)))
            }
            DatabaseLocation::Url(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(&url)
                    .map_err(|e| config.setting_error(&url_key, format!("cannot use `{}`: {e}", redact_url(&url))))?;
                Ok(DbPool::Sqlite(sqlite_pool(config, settings, options)))
            }
            DatabaseLocation::Url(url) => {
                let key = if settings.url.is_some() { url_key } else { "database.url".to_string() };
                let options = PgConnectOptions::from_str(&url)
                    .map_err(|e| config.setting_error(&key, format!("cannot use `{}`: {e}", redact_url(&url))))?
                    .application_name("productsmanager");
                let ceiling = config.database.pool_ceiling(db, |other| config.postgres_server(other));
                let pool = pool_options(settings)
                    .max_connections(ceiling)
                    .min_connections(settings.min_idle.min(ceiling))
                    .connect_lazy_with(options);
                Ok(DbPool::Postgres(pool))
            }
        }
    }

    /// Which of the seven databases this pool opens, from its connection options (the database name, or the
    /// SQLite file's name, ends with it: `pm_catalog`, `pm_catalog.db`); none for a pool opened otherwise.
    pub fn database(&self) -> Option<Database> {
        let named = |name: &str| Database::ALL.into_iter().find(|db| name.ends_with(db.name()));
        match self {
            DbPool::Sqlite(p) => {
                let options = p.connect_options();
                options.get_filename().file_stem().and_then(|stem| stem.to_str()).and_then(named)
            }
            DbPool::Postgres(p) => p.connect_options().get_database().and_then(named),
        }
    }

    /// The backend of this pool.
    pub fn backend(&self) -> Backend {
        match self {
            DbPool::Sqlite(_) => Backend::Sqlite,
            DbPool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Open and idle connections right now, and the most allowed.
    pub fn stats(&self) -> PoolStats {
        crate::with_pool!(self, |p| PoolStats {
            open: p.size(),
            idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
            max: p.options().get_max_connections(),
        })
    }

    /// Why the pool got no connection in time, found by connecting once outside it: the pool retries a server
    /// that refuses connections (too many clients, still starting, not listening) until its acquire timeout and
    /// then says only that it timed out. `None` when the direct connection works (the pool is merely busy) or for
    /// SQLite.
    pub async fn why_no_connection(&self, db: Database, seconds: u64) -> Option<super::DbError> {
        use sqlx::ConnectOptions;
        let DbPool::Postgres(pool) = self else { return None };
        let options = pool.connect_options();
        match tokio::time::timeout(Duration::from_secs(seconds.max(1)), options.connect()).await {
            Err(_) => Some(super::DbError::Timeout { database: db, seconds }),
            Ok(Err(e)) => Some(super::DbError::from_sqlx(db, e)),
            Ok(Ok(connection)) => {
                let _ = sqlx::Connection::close(connection).await;
                None
            }
        }
    }

    /// Closes every connection; later acquires fail.
    pub async fn close(&self) {
        crate::with_pool!(self, |p| p.close().await)
    }
}

fn sqlite_pool(config: &Config, settings: &PoolSettings, options: SqliteConnectOptions) -> SqlitePool {
    if let Err(e) = crate::files::private_database_file(options.get_filename()) {
        tracing::warn!(file = %options.get_filename().display(), error = %e, "cannot make the database private");
    }
    // WAL lets readers go on while one writer writes; NORMAL sync is durable in WAL mode except for the last
    // transactions on power loss, the usual trade for a write-heavy embedded database.
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_millis(config.database.sqlite_busy_timeout_ms))
        // A negative size is in KiB.
        .pragma("cache_size", format!("-{}", config.database.sqlite_cache_mib.saturating_mul(1024)));
    pool_options(settings).connect_lazy_with(options)
}

/// The configured pool limits, the same for both backends.
fn pool_options<DB: sqlx::Database>(settings: &PoolSettings) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(settings.max_connections())
        .min_connections(settings.min_idle)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
        .max_lifetime(Duration::from_secs(settings.max_lifetime_secs))
        .idle_timeout(Duration::from_secs(settings.idle_timeout_secs))
        .test_before_acquire(settings.test_before_acquire)
}

/// Hands each service the pool of its database. The default is [`PoolRouter`]; an embedding service can supply
/// its own (for example to share pools it already has) through `SdkBuilder::router`.
pub trait DatabaseRouter: Send + Sync + fmt::Debug {
    /// The pool of `db`.
    fn pool(&self, db: Database) -> &DbPool;
}

/// The default router: one pool per database, each opened from its own URL.
#[derive(Debug, Clone)]
pub struct PoolRouter {
    /// Indexed by [`Database::index`].
    pools: Vec<DbPool>,
}

impl PoolRouter {
    /// Opens the seven pools lazily from the configuration.
    pub fn open(config: &Config) -> Result<Self, ConfigError> {
        let pools = Database::ALL.iter().map(|db| DbPool::open_lazy(config, *db)).collect::<Result<Vec<_>, _>>()?;
        Ok(PoolRouter { pools })
    }

    /// A router over pools the caller already has, given in [`Database::ALL`] order.
    pub fn from_pools(pools: [DbPool; 7]) -> Self {
        PoolRouter { pools: pools.into() }
    }
}

impl DatabaseRouter for PoolRouter {
    fn pool(&self, db: Database) -> &DbPool {
        // Always seven pools, one per variant, so the index is in range.
        &self.pools[db.index()]
    }
}

/// Rows of `select … where <column> in (ids) order by …`: `sql` ends just before the list (`… where id in `),
/// `order` follows it. One query however many ids (keep them to a page: SQLite allows 32,766 binds). The ids are
/// UUIDs or any other key both backends bind (GTIN text…).
pub(crate) async fn rows_by_ids<T, K>(
    pool: &DbPool,
    sql: &'static str,
    ids: &[K],
    order: &'static str,
) -> Result<Vec<T>, sqlx::Error>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    K: Clone
        + Send
        + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + 'static,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    crate::with_pool!(pool, |p| {
        let mut query = sqlx::QueryBuilder::new(sql);
        query.push("(");
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(id.clone());
        }
        query.push(") ").push(order);
        query.build_query_as().fetch_all(p).await
    })
}
