//! The seven databases: create, migrate, write and read, health, failures.

use std::net::TcpListener;

use chrono::{DateTime, Utc};
use productsmanager_core::db::{Backend, Database, HealthStatus, MigrationState};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, Sdk, both_backends, with_pool};
use uuid::Uuid;

/// One row per database: (insert with `$1` = id and `$2` = text, read the text back with `created_at`).
fn story_row(db: Database) -> (&'static str, &'static str) {
    match db {
        Database::Core => (
            "insert into app_settings (id, key, value) values ($1, $2, '\"on\"')",
            "select key, created_at from app_settings where id = $1",
        ),
        Database::Catalog => (
            "insert into brands (id, name, slug) values ($1, $2, $2)",
            "select name, created_at from brands where id = $1",
        ),
        Database::Imports => (
            "insert into mapping_templates (id, name, definition) values ($1, $2, '{}')",
            "select name, created_at from mapping_templates where id = $1",
        ),
        Database::Exports => (
            "insert into export_platforms (id, name, platform) values ($1, $2, 'csv')",
            "select name, created_at from export_platforms where id = $1",
        ),
        Database::Media => (
            "insert into product_qrcodes (id, product_id, format, content, object_key, size_bytes) \
             values ($1, $1, 'svg', $2, $2, 1)",
            "select content, created_at from product_qrcodes where id = $1",
        ),
        Database::Code2Asin => (
            "insert into code2asin_suppliers (id, supplier_id, marketplace) values ($1, $1, $2)",
            "select marketplace, created_at from code2asin_suppliers where id = $1",
        ),
        Database::Analytics => (
            "insert into search_analytics (id, query, normalized_query, result_count, latency_ms) \
             values ($1, $2, $2, 0, 1.5)",
            "select query, created_at from search_analytics where id = $1",
        ),
    }
}

async fn write_and_read(sdk: &Sdk, db: Database) -> Result<(), productsmanager_core::db::DbError> {
    let (insert, select) = story_row(db);
    let id = Uuid::now_v7();
    let text = format!("story-{}-{}", db.name(), id.simple());
    let pool = sdk.pool(db);
    let (read, created_at): (String, DateTime<Utc>) = with_pool!(pool, |p| async {
        sqlx::query(insert).bind(id).bind(&text).execute(p).await?;
        sqlx::query_as(select).bind(id).fetch_one(p).await
    }
    .await)
    .map_err(|e| productsmanager_core::db::DbError::from_sqlx(db, e))?;
    assert_eq!(read, text, "{db}");
    let age = Utc::now() - created_at;
    assert!(age.num_seconds().abs() < 60, "{db}: created_at {created_at} is not now");
    Ok(())
}

/// The backend-neutral story: create the seven databases, migrate, write and read a row in each, health.
async fn story(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "story").await else { return };
    let sdk = env.sdk().await;
    for db in Database::ALL {
        assert_eq!(sdk.pool(db).backend(), backend);
        write_and_read(&sdk, db).await.unwrap();
    }
    let health = sdk.health().await;
    assert!(health.is_up(), "{health:?}");
    assert_eq!(health.databases.len(), 7);
    for (db, report) in Database::ALL.iter().zip(&health.databases) {
        assert_eq!(report.database, *db);
        assert_eq!(report.status, HealthStatus::Up);
        assert!(report.latency_ms >= 0.0 && report.error.is_none());
    }
    sdk.close().await;
}

async fn migrating_twice_is_a_no_op(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "migrating_twice_is_a_no_op").await else { return };
    let sdk = env.sdk().await;
    let applied = sdk.migrate().await.unwrap();
    assert!(applied.iter().all(|(_, n)| *n == 0), "{applied:?}");
    sdk.close().await;
    // A second start on migrated databases applies nothing either, and the data survives.
    let sdk = env.sdk().await;
    for status in sdk.migration_status().await.unwrap() {
        assert_eq!(status.state, MigrationState::Current, "{status:?}");
        assert!(status.pending.is_empty() && status.unknown.is_empty());
        assert!(!status.applied.is_empty());
    }
    sdk.close().await;
}

async fn schema_newer_than_binary_is_refused(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "schema_newer_than_binary_is_refused").await else { return };
    let sdk = env.sdk().await;
    const RECORD_FUTURE_MIGRATION: &str = "insert into _sqlx_migrations \
        (version, description, success, checksum, execution_time) values ($1, $2, $3, $4, $5)";
    with_pool!(sdk.pool(Database::Catalog), |p| sqlx::query(RECORD_FUTURE_MIGRATION)
        .bind(9_999_i64)
        .bind("from a newer release")
        .bind(true)
        .bind(vec![0_u8; 48])
        .bind(0_i64)
        .execute(p)
        .await
        .map(|done| done.rows_affected()))
    .unwrap();
    sdk.close().await;

    let error = Sdk::builder(env.config().clone()).build().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict);
    let message = error.to_string();
    assert!(message.contains("`catalog`") && message.contains("9999"), "{message}");

    let sdk = Sdk::builder(env.config().clone()).migrate(false).build().await.unwrap();
    let statuses = sdk.migration_status().await.unwrap();
    let catalog = statuses.iter().find(|s| s.database == Database::Catalog).unwrap();
    assert_eq!(catalog.state, MigrationState::TooNew);
    assert_eq!(catalog.unknown, vec![9_999]);
    sdk.close().await;
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn one_unreachable_database_is_named_and_the_others_work(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "one_unreachable_database").await else { return };
    let port = closed_port();
    env.config_mut().database.media.url = Some(format!("postgres://pm@127.0.0.1:{port}/pm_media"));
    // A closed port refuses at once, so these bound nothing on it; they also bound the health checks of the six
    // databases that are up, which on a loaded machine (the whole suite running) can take more than 2 s.
    env.config_mut().database.connect_timeout_secs = 10;
    env.config_mut().database.media.acquire_timeout_secs = 2;

    let started = std::time::Instant::now();
    let sdk = env.sdk().await;
    assert!(started.elapsed().as_secs() < 30, "start waited too long on the closed port");

    let health = sdk.health().await;
    assert!(!health.is_up());
    assert_eq!(health.down(), vec![Database::Media]);
    let media = &health.databases[Database::Media.index()];
    assert!(media.error.as_deref().unwrap_or("").contains("media"), "{media:?}");
    for db in Database::ALL.into_iter().filter(|db| *db != Database::Media) {
        write_and_read(&sdk, db).await.unwrap();
    }
    let error = write_and_read(&sdk, Database::Media).await.unwrap_err();
    assert_eq!(error.database(), Database::Media);
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    // Still unreachable: the retry reports it as pending.
    assert!(sdk.retry_pending_migrations().await.contains(&Database::Media));
    sdk.close().await;
}

async fn unwritable_data_folder_is_named(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "unwritable_data_folder_is_named").await else { return };
    // A folder below a regular file cannot be created, even by root.
    let file = env.folder().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    env.config_mut().data_dir = file.join("data");
    let error = Sdk::builder(env.config().clone()).build().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid);
    assert!(error.to_string().contains("`data_dir`"), "{error}");
}

both_backends!(
    story,
    migrating_twice_is_a_no_op,
    schema_newer_than_binary_is_refused,
    one_unreachable_database_is_named_and_the_others_work,
    unwritable_data_folder_is_named,
);

#[tokio::test]
async fn postgres_databases_are_created_with_the_configured_prefix() {
    let Some(env) = TestDatabases::named(Backend::Postgres, "postgres_databases_are_created").await else { return };
    let sdk = env.sdk().await;
    let prefix = env.config().database.prefix.clone();
    const NAMES: &str = "select datname from pg_database where datname like $1 order by datname";
    let names: Vec<String> = with_pool!(sdk.pool(Database::Core), |p| sqlx::query_scalar(NAMES)
        .bind(format!("{prefix}%"))
        .fetch_all(p)
        .await)
    .unwrap();
    let mut expected: Vec<String> = Database::ALL.iter().map(|db| format!("{prefix}{}", db.name())).collect();
    expected.sort();
    assert_eq!(names, expected);
    sdk.close().await;
}

#[tokio::test]
async fn sqlite_databases_are_seven_files_in_wal_mode() {
    let env = TestDatabases::named(Backend::Sqlite, "sqlite files").await.unwrap();
    let sdk = env.sdk().await;
    for db in Database::ALL {
        assert!(env.folder().join(format!("pm_{}.db", db.name())).is_file(), "{db}");
        let (mode, fk): (String, i64) = with_pool!(sdk.pool(db), |p| {
            let mode = sqlx::query_scalar("pragma journal_mode").fetch_one(p).await.unwrap();
            let fk = sqlx::query_scalar("pragma foreign_keys").fetch_one(p).await.unwrap();
            (mode, fk)
        });
        assert_eq!((mode.as_str(), fk), ("wal", 1), "{db}");
    }
    sdk.close().await;
}

/// Issue 30: a connection the server refuses for want of room ("too many clients", SQLSTATE 53300) says so and
/// what to do, where it said "query failed"; and `doctor` compares what this process may open with what the server
/// allows.
#[tokio::test]
async fn too_many_clients_is_named_with_its_remedies() {
    let Some(env) = TestDatabases::named(Backend::Postgres, "too_many_clients_is_named").await else { return };
    let sdk = env.sdk().await;
    // A role allowed no connection at all: the server answers it as it answers any client over its limit.
    let role = format!("{}limited", env.config().database.prefix);
    let create = format!("create role \"{role}\" login connection limit 0");
    let productsmanager_core::db::DbPool::Postgres(core) = sdk.pool(Database::Core) else { panic!("not PostgreSQL") };
    sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(core).await.unwrap();
    let mut url = url::Url::parse(env.config().database.url.as_deref().unwrap()).unwrap();
    url.set_username(&role).unwrap();
    let refused = <sqlx::PgConnection as sqlx::Connection>::connect(url.as_str()).await.unwrap_err();
    let error = productsmanager_core::db::DbError::from_sqlx(Database::Catalog, refused);
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    let text = error.to_string();
    assert!(
        text.contains("too many clients") && text.contains("max_connections") && text.contains("PgBouncer"),
        "{text}"
    );
    assert!(text.contains("catalog"), "{text}");

    // Through a pool, which retries such a server until its timeout: the health check names the cause.
    let mut limited = env.config().clone();
    limited.database.url = Some(url.to_string());
    limited.database.connect_timeout_secs = 2;
    for db in Database::ALL {
        limited.database.settings_mut(db).acquire_timeout_secs = 2;
    }
    let limited = productsmanager_core::Sdk::builder(limited).migrate(false).build().await.unwrap();
    let health = limited.health().await;
    let catalog = health.databases.iter().find(|d| d.database == Database::Catalog).unwrap();
    assert_eq!(catalog.status, HealthStatus::Down);
    let said = catalog.error.clone().unwrap_or_default();
    assert!(said.contains("too many clients") && said.contains("PgBouncer"), "{said}");
    limited.close().await;

    let report = sdk.doctor().await;
    let budget: Vec<_> = report.findings.iter().filter(|f| f.check.starts_with("connections to ")).collect();
    assert_eq!(budget.len(), 1, "{:?}", report.findings);
    assert!(
        budget[0].detail.contains("this process may open 21")
            && budget[0].detail.contains("processes like this one fit"),
        "{}",
        budget[0].detail
    );
    let drop = format!("drop role \"{role}\"");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(core).await.unwrap();
    sdk.close().await;
}
