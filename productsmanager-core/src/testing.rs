//! Test support: every test gets its own fresh databases, on SQLite and on PostgreSQL.
//!
//! SQLite databases live in a temporary folder. PostgreSQL databases are created on the server named by
//! `PM_TEST_DATABASE_URL` under a random prefix (`pm_t_1a2b3c4d_core`, …) and dropped when the
//! [`TestDatabases`] is dropped, even when the test panics. They are copies (`CREATE DATABASE … TEMPLATE`) of
//! template databases migrated once per schema (`pm_tmpl_<digest of the migrations>_core`, …): a copy costs a
//! fraction of creating and migrating seven databases, which was most of a short test's time on PostgreSQL. Without `PM_TEST_DATABASE_URL` the PostgreSQL half of
//! a test prints that it was not run; with `PM_TEST_REQUIRE_SERVICES=1` (set by `scripts/test.sh`) it fails.
//!
//! ```ignore
//! async fn story(backend: Backend) {
//!     let Some(env) = TestDatabases::new(backend).await else { return };
//!     let sdk = env.sdk().await;
//!     // …
//! }
//! productsmanager_core::both_backends!(story);
//! ```

use std::path::Path;

use crate::config::Config;
use crate::db::{Backend, Database};
use crate::sdk::Sdk;

/// Variable naming the PostgreSQL server for tests (any database on it; ours are created beside it).
pub const POSTGRES_URL_VAR: &str = "PM_TEST_DATABASE_URL";
/// Variable naming the S3-compatible test server (moto) for tests.
pub const S3_ENDPOINT_VAR: &str = "PM_TEST_S3_ENDPOINT";
/// Variable naming the Redis server for tests.
pub const REDIS_URL_VAR: &str = "PM_TEST_REDIS_URL";
/// When `1`, a test whose service variable is missing fails instead of reporting "not run".
pub const REQUIRE_SERVICES_VAR: &str = "PM_TEST_REQUIRE_SERVICES";

/// Prefix of every database a test creates, so leftovers of killed runs can be found and dropped.
pub const TEST_DATABASE_PREFIX: &str = "pm_t_";
/// Prefix of the migrated template databases the tests' PostgreSQL databases are copied from.
pub const TEMPLATE_DATABASE_PREFIX: &str = "pm_tmpl_";

/// The PostgreSQL server for tests, or `None` (after saying so) when none is configured.
pub fn postgres_url(test: &str) -> Option<String> {
    service_var(POSTGRES_URL_VAR, test)
}

/// The Redis server for tests, or `None` (after saying so) when none is configured.
pub fn redis_url(test: &str) -> Option<String> {
    service_var(REDIS_URL_VAR, test)
}

/// A server program the test starts itself (`vsftpd`, `dovecot`), looked up in `PATH`, `/usr/sbin` and `/sbin`;
/// `None` (after saying so) when it is not installed. `scripts/test.sh` installs them.
pub fn server_program(name: &str, test: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|dir| Path::new(dir).join(name))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var(REQUIRE_SERVICES_VAR).as_deref() != Ok("1"),
            "{name} is not installed but {REQUIRE_SERVICES_VAR}=1: {test} must run"
        );
        eprintln!("NOT RUN: {test} (install {name}; ./scripts/test.sh does)");
    }
    found
}

/// A TCP port free on 127.0.0.1 right now (the OS picks it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

fn service_var(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var(REQUIRE_SERVICES_VAR).as_deref() != Ok("1"),
                "{var} is not set but {REQUIRE_SERVICES_VAR}=1: {test} must run"
            );
            eprintln!("NOT RUN: {test} (set {var} to run it; ./scripts/test.sh does)");
            None
        }
    }
}

/// Fresh databases for one test, removed on drop.
#[derive(Debug)]
pub struct TestDatabases {
    backend: Backend,
    config: Config,
    /// Data folder (SQLite files, local object store); removed on drop.
    folder: tempfile::TempDir,
    /// PostgreSQL server URL and the prefix of our databases, when on PostgreSQL.
    postgres: Option<(String, String)>,
}

impl TestDatabases {
    /// Configuration for fresh databases on `backend`; `None` when that backend is not available here.
    pub async fn new(backend: Backend) -> Option<Self> {
        Self::named(backend, &format!("{backend} test")).await
    }

    /// Like [`TestDatabases::new`]; `test` names the test in the "not run" message.
    pub async fn named(backend: Backend, test: &str) -> Option<Self> {
        let folder = match tempfile::Builder::new().prefix("pm-test-").tempdir() {
            Ok(folder) => folder,
            Err(e) => panic!("cannot create a temporary folder: {e}"),
        };
        let mut config = Config::embedded(folder.path());
        // Small pools: many tests run at once against one PostgreSQL server (at most 21 connections per SDK).
        for db in Database::ALL {
            let settings = config.database.settings_mut(db);
            settings.pool_size = 1;
            settings.overflow = 2;
        }
        config.database.connect_timeout_secs = 10;
        // Tests fire requests back to back with one credential; the rate-limit test turns limiting back on.
        config.http.rate_limit_per_second = 0;
        // The fakes (FTP, IMAP, platforms, Amazon, image hosts) listen on 127.0.0.1; the attack suite turns this
        // back off to see the policy refuse.
        config.network.allow_private = true;
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let url = postgres_url(test)?;
                let prefix = format!("{TEST_DATABASE_PREFIX}{}_", &uuid::Uuid::new_v4().simple().to_string()[..10]);
                config.database.url = Some(url.clone());
                config.database.prefix = prefix.clone();
                if let Err(e) = copy_templates(&config, &url, &prefix).await {
                    panic!("cannot create the test databases {prefix}* from their templates: {e}");
                }
                Some((url, prefix))
            }
        };
        Some(TestDatabases { backend, config, folder, postgres })
    }

    /// The backend under test.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The configuration pointing at this test's databases.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Mutable configuration, to adjust before building an SDK.
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// Moves this test's object store to a fresh bucket on the S3 test server (`PM_TEST_S3_ENDPOINT`); false
    /// (after saying so) when none is configured.
    pub async fn use_s3(&mut self, test: &str) -> bool {
        let Some(endpoint) = service_var(S3_ENDPOINT_VAR, test) else { return false };
        let bucket = format!("pm-t-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        // moto takes an unsigned bucket creation.
        let created = reqwest::Client::new().put(format!("{}/{bucket}", endpoint.trim_end_matches('/'))).send().await;
        match created {
            Ok(response) if response.status().is_success() => {}
            other => panic!("cannot create bucket {bucket} on {endpoint}: {other:?}"),
        }
        let storage = &mut self.config.storage;
        storage.backend = crate::config::StorageBackend::S3;
        storage.s3_endpoint = Some(endpoint);
        storage.s3_bucket = Some(bucket);
        storage.s3_region = "us-east-1".to_string();
        storage.s3_access_key_id = Some("test".to_string());
        storage.s3_secret_access_key = Some("test".to_string());
        storage.s3_path_style = true;
        true
    }

    /// The test's own data folder.
    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    /// Builds and migrates an SDK on these databases.
    pub async fn sdk(&self) -> Sdk {
        match Sdk::builder(self.config.clone()).build().await {
            Ok(sdk) => sdk,
            Err(e) => panic!("SDK on {} test databases failed to start: {e}", self.backend),
        }
    }
}

/// Creates this test's seven PostgreSQL databases as copies of the migrated templates, making the templates first
/// when this schema has none yet (one process at a time, under an advisory lock; a template is never connected
/// to while it is copied, which PostgreSQL requires).
async fn copy_templates(config: &Config, server: &str, prefix: &str) -> Result<(), String> {
    use sqlx::Connection;
    let digest = crate::db::migrate::schema_digest(Backend::Postgres);
    let template_prefix = format!("{TEMPLATE_DATABASE_PREFIX}{}_", &digest[..12]);
    let mut admin = sqlx::PgConnection::connect(server).await.map_err(|e| e.to_string())?;
    // Any fixed number: the lock only keeps two test processes from building the same templates at once.
    const TEMPLATE_LOCK: i64 = 0x706d_746d_706c;
    sqlx::query("select pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await
        .map_err(|e| e.to_string())?;
    let built = build_templates(config, &mut admin, &template_prefix).await;
    let unlocked = sqlx::query("select pg_advisory_unlock($1)").bind(TEMPLATE_LOCK).execute(&mut admin).await;
    built?;
    unlocked.map_err(|e| e.to_string())?;
    for db in Database::ALL {
        // Names made here of [a-z0-9_] only; a database name cannot be a bind parameter.
        let sql = format!(r#"create database "{prefix}{name}" template "{template_prefix}{name}""#, name = db.name());
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone())).execute(&mut admin).await.map_err(|e| format!("{sql}: {e}"))?;
    }
    admin.close().await.map_err(|e| e.to_string())
}

/// Makes and migrates the template databases `template_prefix*` that do not exist yet.
async fn build_templates(config: &Config, admin: &mut sqlx::PgConnection, template_prefix: &str) -> Result<(), String> {
    let names: Vec<String> = Database::ALL.iter().map(|db| format!("{template_prefix}{}", db.name())).collect();
    let existing: i64 = sqlx::query_scalar("select count(*) from pg_database where datname = any($1)")
        .bind(&names)
        .fetch_one(&mut *admin)
        .await
        .map_err(|e| e.to_string())?;
    if existing == i64::try_from(names.len()).unwrap_or(i64::MAX) {
        return Ok(());
    }
    let mut template_config = config.clone();
    template_config.database.prefix = template_prefix.to_string();
    let seconds = 60;
    for db in Database::ALL {
        crate::db::migrate::ensure_database_exists(&template_config, db).await.map_err(|e| e.to_string())?;
        let pool = crate::db::DbPool::open_lazy(&template_config, db).map_err(|e| e.to_string())?;
        let migrated = crate::db::migrate::migrate_database(&pool, db, seconds).await;
        pool.close().await;
        migrated.map_err(|e| e.to_string())?;
    }
    Ok(())
}

impl Drop for TestDatabases {
    fn drop(&mut self) {
        let Some((url, prefix)) = self.postgres.take() else { return };
        // Drop runs outside async context guarantees (maybe while panicking inside a runtime), so the databases
        // are dropped from a thread of our own with its own small runtime.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                use sqlx::migrate::MigrateDatabase;
                for db in Database::ALL {
                    let db_url = match url::Url::parse(&url) {
                        Ok(mut parsed) => {
                            parsed.set_path(&format!("/{prefix}{}", db.name()));
                            parsed.to_string()
                        }
                        Err(_) => return,
                    };
                    if let Err(e) = sqlx::Postgres::force_drop_database(&db_url).await {
                        eprintln!("could not drop test database {prefix}{}: {e}", db.name());
                    }
                }
            });
        });
        let _ = dropper.join();
    }
}

/// Declares `mod $name { sqlite, postgres }`: two `#[tokio::test]`s calling `$name(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::db::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::db::Backend::Postgres).await
                }
            }
        )+
    };
}
