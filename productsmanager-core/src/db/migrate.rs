//! Migrations: `migrations/{sqlite,postgres}/{database}/NNNN_name.sql`, embedded in the binary.
//!
//! The DDL is written per backend (a UUID is a 16-byte BLOB on SQLite and `uuid` on PostgreSQL, timestamps are
//! RFC 3339 text vs `timestamptz`), the DML is shared. A database whose applied migrations include a version this
//! binary does not know was migrated by a newer release: that is refused with [`DbError::SchemaTooNew`] rather
//! than run against a schema we cannot read.

use std::time::Duration;

use serde::Serialize;
use sqlx::migrate::{Migrate, MigrateDatabase, Migrator};
use sqlx::pool::PoolConnection;

use super::{Backend, Database, DbError, DbPool};
use crate::config::{Config, DatabaseLocation};

static SQLITE_MIGRATORS: [Migrator; 7] = [
    sqlx::migrate!("../migrations/sqlite/core"),
    sqlx::migrate!("../migrations/sqlite/catalog"),
    sqlx::migrate!("../migrations/sqlite/imports"),
    sqlx::migrate!("../migrations/sqlite/exports"),
    sqlx::migrate!("../migrations/sqlite/media"),
    sqlx::migrate!("../migrations/sqlite/code2asin"),
    sqlx::migrate!("../migrations/sqlite/analytics"),
];

static POSTGRES_MIGRATORS: [Migrator; 7] = [
    sqlx::migrate!("../migrations/postgres/core"),
    sqlx::migrate!("../migrations/postgres/catalog"),
    sqlx::migrate!("../migrations/postgres/imports"),
    sqlx::migrate!("../migrations/postgres/exports"),
    sqlx::migrate!("../migrations/postgres/media"),
    sqlx::migrate!("../migrations/postgres/code2asin"),
    sqlx::migrate!("../migrations/postgres/analytics"),
];

fn migrator(backend: Backend, db: Database) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATORS[db.index()],
        Backend::Postgres => &POSTGRES_MIGRATORS[db.index()],
    }
}

/// The newest migration version this binary has for a database.
pub fn latest_version(backend: Backend, db: Database) -> i64 {
    migrator(backend, db).iter().map(|m| m.version).max().unwrap_or(0)
}

/// A digest of this binary's migrations on `backend` (every database's versions and checksums): two binaries with
/// the same digest create the same schemas. Names the tests' migrated template databases.
#[cfg(feature = "testing")]
pub(crate) fn schema_digest(backend: Backend) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for db in Database::ALL {
        for migration in migrator(backend, db).iter() {
            hasher.update(db.name());
            hasher.update(migration.version.to_le_bytes());
            hasher.update(&migration.checksum);
        }
    }
    format!("{:x}", hasher.finalize())
}

/// Where a database's schema stands relative to this binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationState {
    /// Every migration is applied.
    Current,
    /// Some migrations of this binary are not applied yet.
    Pending,
    /// The database has migrations this binary does not know (a newer release migrated it).
    TooNew,
}

/// Applied and pending migrations of one database.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationStatus {
    pub database: Database,
    pub backend: Backend,
    pub state: MigrationState,
    /// Versions applied in the database.
    pub applied: Vec<i64>,
    /// Migrations of this binary not yet applied: version and description.
    pub pending: Vec<(i64, String)>,
    /// Applied versions this binary does not have.
    pub unknown: Vec<i64>,
}

/// Creates the PostgreSQL database if it does not exist (SQLite files are created when first opened).
pub(crate) async fn ensure_database_exists(config: &Config, db: Database) -> Result<(), DbError> {
    let DatabaseLocation::Url(url) = config.database_location(db) else {
        return Ok(());
    };
    if url.starts_with("sqlite:") {
        return Ok(());
    }
    let seconds = config.database.connect_timeout_secs;
    let exists =
        within(db, seconds, sqlx::Postgres::database_exists(&url)).await?.map_err(|e| DbError::from_sqlx(db, e))?;
    if exists {
        return Ok(());
    }
    tracing::info!(database = %db, "creating database");
    match within(db, seconds, sqlx::Postgres::create_database(&url)).await? {
        Ok(()) => Ok(()),
        // Another instance created it between our check and our create.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") || e.is_unique_violation() => Ok(()),
        Err(e) => Err(DbError::from_sqlx(db, e)),
    }
}

/// Runs `fut` with the connect timeout; the inner result is left to the caller.
async fn within<T>(db: Database, seconds: u64, fut: impl Future<Output = T>) -> Result<T, DbError> {
    tokio::time::timeout(Duration::from_secs(seconds), fut)
        .await
        .map_err(|_| DbError::Timeout { database: db, seconds })
}

async fn acquire<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
    db: Database,
    seconds: u64,
) -> Result<PoolConnection<DB>, DbError> {
    within(db, seconds, pool.acquire()).await?.map_err(|e| DbError::from_sqlx(db, e))
}

fn status_from_applied(backend: Backend, db: Database, applied: Vec<i64>) -> MigrationStatus {
    let known = migrator(backend, db);
    let pending: Vec<(i64, String)> = known
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| (m.version, m.description.to_string()))
        .collect();
    let unknown: Vec<i64> = applied.iter().copied().filter(|v| !known.version_exists(*v)).collect();
    let state = if !unknown.is_empty() {
        MigrationState::TooNew
    } else if !pending.is_empty() {
        MigrationState::Pending
    } else {
        MigrationState::Current
    };
    MigrationStatus { database: db, backend, state, applied, pending, unknown }
}

/// Reads which migrations are applied (creating the bookkeeping table if this is a new database).
pub(crate) async fn migration_status(pool: &DbPool, db: Database, seconds: u64) -> Result<MigrationStatus, DbError> {
    let backend = pool.backend();
    let table = &migrator(backend, db).table_name;
    let applied = crate::with_pool!(pool, |p| {
        let mut conn = acquire(p, db, seconds).await?;
        conn.ensure_migrations_table(table).await.map_err(|source| DbError::Migration { database: db, source })?;
        conn.list_applied_migrations(table).await.map_err(|source| DbError::Migration { database: db, source })?
    });
    Ok(status_from_applied(backend, db, applied.into_iter().map(|m| m.version).collect()))
}

/// Applies this binary's pending migrations to `db`; returns how many were applied. Running it again is a no-op.
pub(crate) async fn migrate_database(pool: &DbPool, db: Database, seconds: u64) -> Result<usize, DbError> {
    let status = migration_status(pool, db, seconds).await?;
    if let Some(found) = status.unknown.iter().copied().max() {
        return Err(DbError::SchemaTooNew { database: db, found, known: latest_version(status.backend, db) });
    }
    if status.pending.is_empty() {
        return Ok(0);
    }
    let migrator = migrator(status.backend, db);
    let run = crate::with_pool!(pool, |p| {
        let mut conn = acquire(p, db, seconds).await?;
        // `run_direct` rather than `run`: `run` is generic over `Acquire`, which makes this future fail the
        // `Send` check of `tokio::spawn` ("implementation of `Acquire` is not general enough").
        let run = migrator.run_direct(None, &mut *conn, false).await;
        if run.is_err() {
            // A script that failed half-way may leave its transaction open or a pragma changed (SQLite's foreign
            // keys off): the connection is closed, never handed back to the pool.
            drop(conn.detach());
        }
        run
    });
    match run {
        Ok(()) => {
            tracing::info!(database = %db, applied = status.pending.len(), "migrations applied");
            Ok(status.pending.len())
        }
        Err(sqlx::migrate::MigrateError::VersionMismatch(version)) => {
            Err(DbError::MigrationModified { database: db, version })
        }
        Err(sqlx::migrate::MigrateError::VersionMissing(found)) => {
            Err(DbError::SchemaTooNew { database: db, found, known: latest_version(status.backend, db) })
        }
        Err(source) => Err(DbError::Migration { database: db, source }),
    }
}
