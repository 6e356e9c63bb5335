//! Imports SQL: configurations, taken files, import jobs. Shared by both backends.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::model::{ConfigRow, ImportFile, ImportSchedule, TemplateRow};
use crate::db::DbPool;
use crate::jobs::JobRow;
use crate::with_pool;

macro_rules! config_columns {
    () => {
        "id, name, supplier_id, source_kind, source_settings, credentials_encrypted, mapping_template_id, preset, \
         options, is_active, last_polled_at, created_at, updated_at"
    };
}

macro_rules! file_columns {
    () => {
        "id, import_config_id, supplier_id, name, size_bytes, sha256, object_key, source_kind, source_fingerprint, \
         created_at"
    };
}

const INSERT_CONFIG: &str = concat!(
    "insert into import_configs (id, name, supplier_id, source_kind, source_settings, credentials_encrypted, options, \
     created_at, updated_at, mapping_template_id, preset) values ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) \
     returning ",
    config_columns!()
);

const CONFIG_BY_ID: &str = concat!("select ", config_columns!(), " from import_configs where id = $1");

const ACTIVE_CONFIGS_OF_KIND: &str =
    concat!("select ", config_columns!(), " from import_configs where is_active and source_kind = $1 order by name");

const ALL_CONFIGS: &str = concat!("select ", config_columns!(), " from import_configs order by name");

const DELETE_CONFIG: &str = "delete from import_configs where id = $1";

const MARK_POLLED: &str = "update import_configs set last_polled_at = $2 where id = $1";

/// Also records uploads (no configuration, no fingerprint).
pub(super) const INSERT_FILE: &str = concat!(
    "insert into import_files (id, import_config_id, supplier_id, name, size_bytes, sha256, \
     object_key, source_kind, source_fingerprint, created_at, updated_at) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
     on conflict (import_config_id, source_fingerprint) where import_config_id is not null and source_fingerprint is not null \
     do nothing returning ",
    file_columns!()
);

const FILE_BY_FINGERPRINT: &str =
    concat!("select ", file_columns!(), " from import_files where import_config_id = $1 and source_fingerprint = $2");

const FILE_BY_ID: &str = concat!("select ", file_columns!(), " from import_files where id = $1");

const LAST_FILE_OF_CONFIG: &str = concat!(
    "select ",
    file_columns!(),
    " from import_files where import_config_id = $1 order by created_at desc, id desc limit 1"
);

const FILES_OF_CONFIG: &str =
    concat!("select ", file_columns!(), " from import_files where import_config_id = $1 order by created_at, id");

// A configuration's `auto` (`Preset::Auto`) becomes the preset detected for the file (`$7`): jobs never hold it.
const INSERT_JOB: &str = "insert into import_jobs (id, queue, kind, state, priority, run_at, max_attempts, dedup_key, \
     payload, import_config_id, supplier_id, file_id, created_at, updated_at, mapping_template_id, preset) \
     select $1, 'imports', 'import', 'queued', 0, $2, 5, $3, c.options, $4, $5, $6, $2, $2, c.mapping_template_id, \
     case when c.preset = 'auto' then $7 else c.preset end from import_configs c where c.id = $4 \
     returning id, queue, kind, state, priority, run_at, attempts, max_attempts, last_error, lease_owner, \
     lease_expires_at, payload, progress, created_at, updated_at, started_at, finished_at, requested_by"; // = jobs' job_columns

pub(super) struct NewConfigRow<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub supplier_id: Uuid,
    pub source_kind: &'a str,
    pub source_settings: &'a serde_json::Value,
    pub credentials: Option<Vec<u8>>,
    pub options: &'a serde_json::Value,
    pub mapping_template_id: Option<Uuid>,
    pub preset: Option<&'a str>,
    pub now: DateTime<Utc>,
}

pub(super) async fn insert_config(pool: &DbPool, row: NewConfigRow<'_>) -> Result<ConfigRow, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(INSERT_CONFIG)
        .bind(row.id)
        .bind(row.name)
        .bind(row.supplier_id)
        .bind(row.source_kind)
        .bind(Json(row.source_settings))
        .bind(row.credentials.clone())
        .bind(Json(row.options))
        .bind(row.now)
        .bind(row.mapping_template_id)
        .bind(row.preset)
        .fetch_one(p)
        .await)
}

pub(super) async fn config_by_id(pool: &DbPool, id: Uuid) -> Result<Option<ConfigRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(CONFIG_BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn active_configs_of_kind(pool: &DbPool, kind: &str) -> Result<Vec<ConfigRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ACTIVE_CONFIGS_OF_KIND).bind(kind).fetch_all(p).await)
}

pub(super) async fn all_configs(pool: &DbPool) -> Result<Vec<ConfigRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ALL_CONFIGS).fetch_all(p).await)
}

pub(super) async fn delete_config(pool: &DbPool, id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE_CONFIG).bind(id).execute(p).await.map(|r| r.rows_affected() == 1))
}

pub(super) async fn mark_polled(pool: &DbPool, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(MARK_POLLED).bind(id).bind(now).execute(p).await.map(|_| ()))
}

pub(super) async fn file_by_fingerprint(
    pool: &DbPool,
    config: Uuid,
    fingerprint: &str,
) -> Result<Option<ImportFile>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(FILE_BY_FINGERPRINT).bind(config).bind(fingerprint).fetch_optional(p).await)
}

pub(super) async fn file_by_id(pool: &DbPool, id: Uuid) -> Result<Option<ImportFile>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(FILE_BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn last_file_of_config(pool: &DbPool, config: Uuid) -> Result<Option<ImportFile>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(LAST_FILE_OF_CONFIG).bind(config).fetch_optional(p).await)
}

pub(super) async fn files_of_config(pool: &DbPool, config: Uuid) -> Result<Vec<ImportFile>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(FILES_OF_CONFIG).bind(config).fetch_all(p).await)
}

/// Records a taken file and queues its import job, in one transaction: `None` (and nothing written) when the
/// configuration already took a file with this fingerprint.
pub(super) async fn insert_file_and_job(
    pool: &DbPool,
    file: &ImportFile,
    job_id: Uuid,
    detected_preset: Option<&str>,
) -> Result<Option<(ImportFile, JobRow)>, sqlx::Error> {
    let dedup_key = format!("import-file:{}", file.id);
    with_pool!(pool, |p| {
        let mut tx = p.begin().await?;
        let stored: Option<ImportFile> = sqlx::query_as(INSERT_FILE)
            .bind(file.id)
            .bind(file.import_config_id)
            .bind(file.supplier_id)
            .bind(&file.name)
            .bind(file.size_bytes)
            .bind(&file.sha256)
            .bind(&file.object_key)
            .bind(&file.source_kind)
            .bind(&file.source_fingerprint)
            .bind(file.created_at)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(stored) = stored else { return Ok(None) };
        let job: JobRow = sqlx::query_as(INSERT_JOB)
            .bind(job_id)
            .bind(file.created_at)
            .bind(&dedup_key)
            .bind(file.import_config_id)
            .bind(file.supplier_id)
            .bind(file.id)
            .bind(detected_preset)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some((stored, job)))
    })
}

macro_rules! schedule_columns {
    () => {
        "id, import_config_id, cron, timezone, is_active, next_run_at, last_run_at, created_at"
    };
}

const INSERT_SCHEDULE: &str = concat!(
    "insert into import_schedules (id, import_config_id, cron, timezone, next_run_at, created_at, updated_at) \
     values ($1, $2, $3, $4, $5, $6, $6) returning ",
    schedule_columns!()
);

const DUE_SCHEDULES: &str = concat!(
    "select ",
    schedule_columns!(),
    " from import_schedules where is_active and next_run_at <= $1 order by next_run_at, id"
);

const SCHEDULES_OF_CONFIG: &str = concat!(
    "select ",
    schedule_columns!(),
    " from import_schedules where import_config_id = $1 order by created_at, id"
);

/// Compare-and-set on `next_run_at`: of several schedulers seeing a schedule due, one moves it on and runs it.
const ADVANCE_SCHEDULE: &str = "update import_schedules set next_run_at = $3, last_run_at = $4, updated_at = $4 \
     where id = $1 and next_run_at = $2";

pub(super) async fn insert_schedule(pool: &DbPool, schedule: &ImportSchedule) -> Result<ImportSchedule, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(INSERT_SCHEDULE)
        .bind(schedule.id)
        .bind(schedule.import_config_id)
        .bind(&schedule.cron)
        .bind(&schedule.timezone)
        .bind(schedule.next_run_at)
        .bind(schedule.created_at)
        .fetch_one(p)
        .await)
}

pub(super) async fn due_schedules(pool: &DbPool, now: DateTime<Utc>) -> Result<Vec<ImportSchedule>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(DUE_SCHEDULES).bind(now).fetch_all(p).await)
}

pub(super) async fn schedules_of_config(pool: &DbPool, config: Uuid) -> Result<Vec<ImportSchedule>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(SCHEDULES_OF_CONFIG).bind(config).fetch_all(p).await)
}

pub(super) async fn advance_schedule(
    pool: &DbPool,
    id: Uuid,
    due: DateTime<Utc>,
    next: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(ADVANCE_SCHEDULE)
        .bind(id)
        .bind(due)
        .bind(next)
        .bind(now)
        .execute(p)
        .await
        .map(|d| d.rows_affected() == 1))
}

macro_rules! template_columns {
    () => {
        "id, name, version, description, definition, supplier_id, created_at"
    };
}

/// The next version of a name, in one statement (two saves racing: one fails on `unique (name, version)`).
const INSERT_TEMPLATE: &str = concat!(
    "insert into mapping_templates (id, name, version, description, definition, supplier_id, created_at, updated_at) \
     select $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6, $6 from mapping_templates where name = $2 \
     returning ",
    template_columns!()
);

const TEMPLATE_BY_ID: &str = concat!("select ", template_columns!(), " from mapping_templates where id = $1");

const TEMPLATE_BY_NAME: &str = concat!(
    "select ",
    template_columns!(),
    " from mapping_templates where name = $1 and ($2 is null or version = $2) order by version desc limit 1"
);

/// The latest version of each name.
const LATEST_TEMPLATES: &str = concat!(
    "select ",
    template_columns!(),
    " from mapping_templates t where version = (select max(version) from mapping_templates v where v.name = t.name) \
     order by name"
);

const TEMPLATE_VERSIONS: &str =
    concat!("select ", template_columns!(), " from mapping_templates where name = $1 order by version");

const DELETE_TEMPLATE: &str = "delete from mapping_templates where id = $1";

pub(super) async fn insert_template(
    pool: &DbPool,
    id: Uuid,
    input: &super::NewMappingTemplate,
    definition: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<TemplateRow, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(INSERT_TEMPLATE)
        .bind(id)
        .bind(input.name.trim())
        .bind(&input.description)
        .bind(Json(definition))
        .bind(input.supplier_id)
        .bind(now)
        .fetch_one(p)
        .await)
}

pub(super) async fn template_by_id(pool: &DbPool, id: Uuid) -> Result<Option<TemplateRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(TEMPLATE_BY_ID).bind(id).fetch_optional(p).await)
}

pub(super) async fn template_by_name(
    pool: &DbPool,
    name: &str,
    version: Option<i32>,
) -> Result<Option<TemplateRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(TEMPLATE_BY_NAME).bind(name).bind(version).fetch_optional(p).await)
}

pub(super) async fn latest_templates(pool: &DbPool) -> Result<Vec<TemplateRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(LATEST_TEMPLATES).fetch_all(p).await)
}

pub(super) async fn template_versions(pool: &DbPool, name: &str) -> Result<Vec<TemplateRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(TEMPLATE_VERSIONS).bind(name).fetch_all(p).await)
}

pub(super) async fn delete_template(pool: &DbPool, id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE_TEMPLATE).bind(id).execute(p).await.map(|r| r.rows_affected() == 1))
}

/// The monthly partitions of `import_logs` (PostgreSQL) for the months starting at `months`, created where missing.
/// Rows the default partition already holds for a month are moved into its new partition in the same transaction
/// (PostgreSQL refuses to attach a partition whose range has rows in the default one). Returns the partitions made.
/// SQLite has no partitions: nothing to do.
pub(super) async fn ensure_log_partitions(
    pool: &DbPool,
    months: &[chrono::NaiveDate],
) -> Result<Vec<String>, sqlx::Error> {
    let DbPool::Postgres(pg) = pool else { return Ok(Vec::new()) };
    let mut made = Vec::new();
    for from in months {
        let to = from.checked_add_months(chrono::Months::new(1)).unwrap_or(*from);
        let name = format!("import_logs_{}", from.format("%Y_%m"));
        let exists: bool = sqlx::query_scalar("select to_regclass($1) is not null").bind(&name).fetch_one(pg).await?;
        if exists {
            continue;
        }
        // dialect: DDL takes no bind parameters; the name and bounds are made from dates above, nothing else.
        let mut tx = pg.begin().await?;
        let statements = [
            format!("create table {name} (like import_logs including defaults including constraints)"),
            format!(
                "insert into {name} (id, job_id, level, message, line, context, created_at) \
                 select id, job_id, level, message, line, context, created_at from import_logs_default \
                 where created_at >= '{from}' and created_at < '{to}'"
            ),
            format!("delete from import_logs_default where created_at >= '{from}' and created_at < '{to}'"),
            format!("alter table import_logs attach partition {name} for values from ('{from}') to ('{to}')"),
        ];
        for statement in statements {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        made.push(name);
    }
    Ok(made)
}
