//! The import engine's SQL on the imports database: the job's row and counters, its errors, logs and statistics.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use super::validate::RowError;
use crate::db::DbPool;
use crate::with_pool;

macro_rules! import_job_columns {
    () => {
        "id, state, supplier_id, import_config_id, file_id, mapping_template_id, preset, dry_run, force, payload, \
         rows_total, rows_read, rows_created, rows_updated, rows_skipped, rows_failed, \
         error_report_key, summary, last_error, attempts, created_at, started_at, finished_at, requested_by, \
         checkpoint"
    };
}

/// An `import_jobs` row with the import's own columns.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ImportJobRow {
    pub id: Uuid,
    pub state: String,
    pub supplier_id: Uuid,
    pub import_config_id: Option<Uuid>,
    pub file_id: Option<Uuid>,
    pub mapping_template_id: Option<Uuid>,
    pub preset: Option<String>,
    pub dry_run: bool,
    pub force: bool,
    pub payload: Json<serde_json::Value>,
    pub rows_total: Option<i64>,
    pub rows_read: i64,
    pub rows_created: i64,
    pub rows_updated: i64,
    pub rows_skipped: i64,
    pub rows_failed: i64,
    pub error_report_key: Option<String>,
    pub summary: Option<Json<serde_json::Value>>,
    pub last_error: Option<String>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub requested_by: Option<Uuid>,
    /// The counters as of the last batch ([`Counters`]; written by earlier versions with fewer of them).
    pub checkpoint: Option<Json<serde_json::Value>>,
}

const JOB_BY_ID: &str = concat!("select ", import_job_columns!(), " from import_jobs where id = $1");

const JOBS_OF_SUPPLIER: &str = concat!(
    "select ",
    import_job_columns!(),
    " from import_jobs where supplier_id = $1 and (created_at < $3 or (created_at = $3 and id < $4)) \
     order by created_at desc, id desc limit $2"
);

const RECENT_JOBS: &str = concat!(
    "select ",
    import_job_columns!(),
    " from import_jobs where created_at < $2 or (created_at = $2 and id < $3) order by created_at desc, id desc limit $1"
);

/// A job inserted for an upload: queued for a worker, or running already under `lease_owner` (an import run
/// in-process, so no worker claims it meanwhile).
const INSERT_UPLOAD_JOB: &str = "insert into import_jobs (id, queue, kind, state, priority, run_at, max_attempts, \
     payload, supplier_id, file_id, mapping_template_id, preset, dry_run, force, lease_owner, lease_expires_at, \
     attempts, started_at, requested_by, created_at, updated_at) \
     values ($1, 'imports', 'import', $2, 0, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $3, $3)";

// In-process imports (one attempt) of this supplier and file not finished: running (its process may have stopped),
// or reaped dead when its lease expired.
const UNFINISHED_INLINE: &str = "select j.id, f.sha256, j.preset, j.mapping_template_id, j.payload, j.lease_owner, \
     j.lease_expires_at from import_jobs j join import_files f on f.id = j.file_id \
     where j.supplier_id = $1 and f.name = $2 and f.size_bytes = $3 and j.dry_run = $4 and j.max_attempts = 1 \
     and (j.state = 'running' or (j.state = 'dead' and j.finished_at is null)) \
     order by j.created_at desc limit 10";

const SET_TOTAL: &str = "update import_jobs set rows_total = $2 where id = $1";

const SET_COUNTERS: &str = "update import_jobs set rows_read = $2, rows_written = $3, rows_created = $4, \
     rows_updated = $5, rows_skipped = $6, rows_failed = $7, checkpoint = $8, updated_at = $9, progress = $10 \
     where id = $1";

const SET_REPORT: &str =
    "update import_jobs set summary = $2, error_report_key = $3, updated_at = $4, progress = $5 where id = $1";

const DELETE_ERRORS_AFTER: &str = "delete from import_errors where job_id = $1 and line > $2";

const ERRORS_PAGE: &str = "select line, column_number, column_name, raw_value, code, reason, id from import_errors \
     where job_id = $1 and (line > $2 or (line = $2 and id > $3)) order by line, id limit $4";

/// An earlier import of the same content that the same template or preset read without refusing a row: one that
/// refused rows is read again (the supplier's currency or the template may have been fixed since).
// The options are compared in Rust (SQLite keeps the payload as text, PostgreSQL as jsonb); the latest few imports
// of the same file are enough to look through.
const PREVIOUS_IDENTICAL: &str = "select j.id, j.payload from import_jobs j join import_files f on f.id = j.file_id \
     where j.supplier_id = $1 and f.sha256 = $2 and j.state = 'succeeded' and not j.dry_run and j.id <> $3 \
     and j.rows_failed = 0 and j.preset is not distinct from $4 and j.mapping_template_id is not distinct from $5 \
     and j.import_config_id is not distinct from $6 \
     order by j.created_at desc limit 20";

const INSERT_LOG: &str = "insert into import_logs (id, job_id, level, message, line, context, created_at) \
     values ($1, $2, $3, $4, $5, $6, $7)";

const JOB_STATISTICS: &str = "insert into import_statistics (id, job_id, supplier_id, day, jobs, jobs_failed, \
     rows_read, rows_written, rows_created, rows_updated, rows_skipped, rows_failed, bytes_read, duration_ms, \
     created_at, updated_at) values ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) \
     on conflict (job_id) where job_id is not null do update set jobs_failed = excluded.jobs_failed, \
     rows_read = excluded.rows_read, rows_written = excluded.rows_written, rows_created = excluded.rows_created, \
     rows_updated = excluded.rows_updated, rows_skipped = excluded.rows_skipped, rows_failed = excluded.rows_failed, \
     bytes_read = excluded.bytes_read, duration_ms = excluded.duration_ms, updated_at = excluded.updated_at";

const DAY_STATISTICS: &str = "insert into import_statistics (id, job_id, supplier_id, day, jobs, jobs_failed, \
     rows_read, rows_written, rows_created, rows_updated, rows_skipped, rows_failed, bytes_read, duration_ms, \
     created_at, updated_at) values ($1, null, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
     on conflict (supplier_id, day) where job_id is null do update set jobs = import_statistics.jobs + 1, \
     jobs_failed = import_statistics.jobs_failed + excluded.jobs_failed, \
     rows_read = import_statistics.rows_read + excluded.rows_read, \
     rows_written = import_statistics.rows_written + excluded.rows_written, \
     rows_created = import_statistics.rows_created + excluded.rows_created, \
     rows_updated = import_statistics.rows_updated + excluded.rows_updated, \
     rows_skipped = import_statistics.rows_skipped + excluded.rows_skipped, \
     rows_failed = import_statistics.rows_failed + excluded.rows_failed, \
     bytes_read = import_statistics.bytes_read + excluded.bytes_read, \
     duration_ms = import_statistics.duration_ms + excluded.duration_ms, updated_at = excluded.updated_at";

const SUPPLIER_DAYS: &str = "select day, jobs, jobs_failed, rows_read, rows_written, rows_created, rows_updated, \
     rows_skipped, rows_failed, bytes_read, duration_ms from import_statistics \
     where supplier_id = $1 and job_id is null and day >= $2 order by day";

pub(crate) async fn job(pool: &DbPool, id: Uuid) -> Result<Option<ImportJobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(JOB_BY_ID).bind(id).fetch_optional(p).await)
}

/// Newest first, after `(created_at, id)`.
pub(crate) async fn jobs_of_supplier(
    pool: &DbPool,
    supplier: Uuid,
    limit: i64,
    after: (DateTime<Utc>, Uuid),
) -> Result<Vec<ImportJobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(JOBS_OF_SUPPLIER)
        .bind(supplier)
        .bind(limit)
        .bind(after.0)
        .bind(after.1)
        .fetch_all(p)
        .await)
}

/// Newest first, after `(created_at, id)`.
pub(crate) async fn recent_jobs(
    pool: &DbPool,
    limit: i64,
    after: (DateTime<Utc>, Uuid),
) -> Result<Vec<ImportJobRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(RECENT_JOBS).bind(limit).bind(after.0).bind(after.1).fetch_all(p).await)
}

/// The columns of an upload's job.
#[derive(Debug, Clone)]
pub(crate) struct NewUploadJob<'a> {
    pub id: Uuid,
    pub supplier_id: Uuid,
    pub file_id: Uuid,
    pub mapping_template_id: Option<Uuid>,
    pub preset: Option<&'a str>,
    pub dry_run: bool,
    pub force: bool,
    pub payload: &'a serde_json::Value,
    /// Set: the job is inserted running under this owner, with a lease until the given time.
    pub running: Option<(&'a str, DateTime<Utc>)>,
    pub requested_by: Option<Uuid>,
    pub now: DateTime<Utc>,
}

/// Records an uploaded file and its job in one transaction.
pub(crate) async fn insert_upload(
    pool: &DbPool,
    file: &crate::imports::ImportFile,
    job: &NewUploadJob<'_>,
) -> Result<(), sqlx::Error> {
    let state = if job.running.is_some() { "running" } else { "queued" };
    with_pool!(pool, |p| {
        let mut tx = p.begin().await?;
        sqlx::query(crate::imports::repo::INSERT_FILE)
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
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT_UPLOAD_JOB)
            .bind(job.id)
            .bind(state)
            .bind(job.now)
            // An import run in-process is not retried by workers.
            .bind(if job.running.is_some() { 1_i32 } else { 5 })
            .bind(Json(job.payload))
            .bind(job.supplier_id)
            .bind(job.file_id)
            .bind(job.mapping_template_id)
            .bind(job.preset)
            .bind(job.dry_run)
            .bind(job.force)
            .bind(job.running.map(|(owner, _)| owner))
            .bind(job.running.map(|(_, until)| until))
            .bind(i32::from(job.running.is_some()))
            .bind(job.running.map(|_| job.now))
            .bind(job.requested_by)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    })
}

/// An unfinished in-process import: its job, the file's SHA-256, what it was run with (preset, template,
/// options), and its lease (owner, until) when running.
pub(crate) type UnfinishedImport =
    (Uuid, String, Option<String>, Option<Uuid>, Json<serde_json::Value>, Option<String>, Option<DateTime<Utc>>);

/// The unfinished in-process imports of `supplier`'s file `name` of `size` bytes, newest first.
pub(crate) async fn unfinished_inline(
    pool: &DbPool,
    supplier: Uuid,
    name: &str,
    size: i64,
    dry_run: bool,
) -> Result<Vec<UnfinishedImport>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(UNFINISHED_INLINE)
        .bind(supplier)
        .bind(name)
        .bind(size)
        .bind(dry_run)
        .fetch_all(p)
        .await)
}

pub(crate) async fn set_total(pool: &DbPool, job: Uuid, total: i64) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(SET_TOTAL).bind(job).bind(total).execute(p).await.map(|_| ()))
}

/// The counters of a job, as its checkpoint says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Counters {
    pub line: i64,
    pub read: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub invalid: i64,
    pub gtins_dropped: i64,
    #[serde(default)]
    pub fields_kept: i64,
    #[serde(default)]
    pub merged: i64,
    #[serde(default)]
    pub products_created: i64,
    #[serde(default)]
    pub products_updated: i64,
    #[serde(default)]
    pub variants_created: i64,
    #[serde(default)]
    pub images_dropped: i64,
}

pub(crate) async fn set_counters(
    pool: &DbPool,
    job: Uuid,
    counters: &Counters,
    progress: &super::ImportProgress,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(SET_COUNTERS)
        .bind(job)
        .bind(counters.read)
        .bind(counters.created + counters.updated)
        .bind(counters.created)
        .bind(counters.updated)
        .bind(counters.unchanged)
        .bind(counters.invalid)
        .bind(Json(counters))
        .bind(now)
        .bind(Json(progress))
        .execute(p)
        .await
        .map(|_| ()))
}

pub(crate) async fn set_report(
    pool: &DbPool,
    job: Uuid,
    summary: &serde_json::Value,
    error_report_key: Option<&str>,
    now: DateTime<Utc>,
    progress: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(SET_REPORT)
        .bind(job)
        .bind(Json(summary))
        .bind(error_report_key)
        .bind(now)
        .bind(Json(progress))
        .execute(p)
        .await
        .map(|_| ()))
}

/// Appends a batch's refused rows.
pub(crate) async fn insert_errors(
    pool: &DbPool,
    job: Uuid,
    errors: &[RowError],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for chunk in errors.chunks(1000) {
        with_pool!(pool, |p| {
            let mut sql = QueryBuilder::new(
                "insert into import_errors (id, job_id, line, column_number, column_name, raw_value, code, reason, \
                 created_at) ",
            );
            sql.push_values(chunk, |mut row, error| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(job)
                    .push_bind(i64::try_from(error.line).unwrap_or(i64::MAX))
                    .push_bind(error.column.map(|c| i32::try_from(c).unwrap_or(i32::MAX)))
                    .push_bind(error.column_name.clone())
                    .push_bind(error.raw_value.as_ref().map(|v| truncate(v, 1000)))
                    .push_bind(error.code)
                    .push_bind(error.reason.clone())
                    .push_bind(now);
            });
            sql.build().execute(p).await.map(|_| ())
        })?;
    }
    Ok(())
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Drops the errors recorded after the checkpoint (a batch that did not reach the catalog), before resuming.
pub(crate) async fn delete_errors_after(pool: &DbPool, job: Uuid, line: i64) -> Result<u64, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(DELETE_ERRORS_AFTER)
        .bind(job)
        .bind(line)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
}

/// A stored refused row: line, column number, column name, raw value, code, reason, id.
pub(crate) type StoredError = (i64, Option<i32>, Option<String>, Option<String>, Option<String>, String, Uuid);

/// The errors of a job after `(line, id)`, in file order.
pub(crate) async fn errors_page(
    pool: &DbPool,
    job: Uuid,
    after: (i64, Uuid),
    limit: i64,
) -> Result<Vec<StoredError>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(ERRORS_PAGE)
        .bind(job)
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// The latest succeeded import of the same file content for the supplier, with the same template or preset and the
/// same options (another image base URL, header line or catalog reads the file otherwise), other than `job`.
pub(crate) async fn previous_identical(
    pool: &DbPool,
    supplier: Uuid,
    sha256: &str,
    job: &ImportJobRow,
) -> Result<Option<Uuid>, sqlx::Error> {
    let imports: Vec<(Uuid, Json<serde_json::Value>)> = with_pool!(pool, |p| sqlx::query_as(PREVIOUS_IDENTICAL)
        .bind(supplier)
        .bind(sha256)
        .bind(job.id)
        .bind(job.preset.as_deref())
        .bind(job.mapping_template_id)
        .bind(job.import_config_id)
        .fetch_all(p)
        .await)?;
    Ok(imports.into_iter().find(|(_, options)| options.0 == job.payload.0).map(|(id, _)| id))
}

pub(crate) async fn log(
    pool: &DbPool,
    job: Uuid,
    level: &str,
    message: &str,
    context: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(INSERT_LOG)
        .bind(Uuid::now_v7())
        .bind(job)
        .bind(level)
        .bind(message)
        .bind(None::<i64>)
        .bind(Json(&context))
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
}

/// One import's figures, for the statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct ImportStatistics {
    pub day: NaiveDate,
    pub jobs: i32,
    pub jobs_failed: i32,
    pub rows_read: i64,
    pub rows_written: i64,
    pub rows_created: i64,
    pub rows_updated: i64,
    pub rows_skipped: i64,
    pub rows_failed: i64,
    pub bytes_read: i64,
    pub duration_ms: i64,
}

/// Records a finished job's figures, and adds them to its supplier's day.
pub(crate) async fn record_statistics(
    pool: &DbPool,
    job: Uuid,
    supplier: Uuid,
    figures: &ImportStatistics,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // The two statements take the same figures after their own key columns.
    macro_rules! figures {
        ($query:expr) => {
            $query
                .bind(figures.day)
                .bind(figures.jobs_failed)
                .bind(figures.rows_read)
                .bind(figures.rows_written)
                .bind(figures.rows_created)
                .bind(figures.rows_updated)
                .bind(figures.rows_skipped)
                .bind(figures.rows_failed)
                .bind(figures.bytes_read)
                .bind(figures.duration_ms)
                .bind(now)
        };
    }
    with_pool!(pool, |p| {
        let mut tx = p.begin().await?;
        figures!(sqlx::query(JOB_STATISTICS).bind(Uuid::now_v7()).bind(job).bind(supplier)).execute(&mut *tx).await?;
        figures!(sqlx::query(DAY_STATISTICS).bind(Uuid::now_v7()).bind(supplier)).execute(&mut *tx).await?;
        tx.commit().await
    })
}

/// A supplier's figures per day since `from`.
pub(crate) async fn supplier_days(
    pool: &DbPool,
    supplier: Uuid,
    from: NaiveDate,
) -> Result<Vec<ImportStatistics>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(SUPPLIER_DAYS).bind(supplier).bind(from).fetch_all(p).await)
}

/// Records what a file taught of the supplier's codes (a code learned again takes its new meaning). Duplicates
/// are dropped first, the last one kept: one statement may not update a row twice (PostgreSQL).
pub(crate) async fn learn(
    pool: &DbPool,
    supplier: Uuid,
    job: Uuid,
    entries: &[crate::imports::mapping::VocabularyEntry],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut unique: std::collections::HashMap<(&'static str, String), &crate::imports::mapping::VocabularyEntry> =
        std::collections::HashMap::with_capacity(entries.len());
    for entry in entries {
        unique.insert((entry.kind(), entry.code()), entry);
    }
    let unique: Vec<_> = unique.into_iter().collect();
    // One transaction: a file's codes are learned whole or not at all.
    with_pool!(pool, |p| {
        let mut tx = p.begin().await?;
        for chunk in unique.chunks(1000) {
            let mut sql = QueryBuilder::new(
                "insert into supplier_vocabulary (supplier_id, kind, code, value, import_job_id, updated_at) ",
            );
            sql.push_values(chunk, |mut row, ((kind, code), entry)| {
                row.push_bind(supplier)
                    .push_bind(*kind)
                    .push_bind(code.clone())
                    .push_bind(Json(*entry))
                    .push_bind(job)
                    .push_bind(now);
            });
            sql.push(
                " on conflict (supplier_id, kind, code) do update set value = excluded.value, \
                 import_job_id = excluded.import_job_id, updated_at = excluded.updated_at",
            );
            sql.build().execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

/// Everything the supplier's files taught so far. An entry this version cannot read (written by a later one) is
/// left out.
pub(crate) async fn vocabulary(
    pool: &DbPool,
    supplier: Uuid,
) -> Result<crate::imports::mapping::Vocabulary, sqlx::Error> {
    const VOCABULARY: &str = "select value from supplier_vocabulary where supplier_id = $1";
    let values: Vec<(Json<serde_json::Value>,)> =
        with_pool!(pool, |p| sqlx::query_as(VOCABULARY).bind(supplier).fetch_all(p).await)?;
    let mut vocabulary = crate::imports::mapping::Vocabulary::default();
    let mut unreadable = 0_u64;
    for (Json(value),) in values {
        match serde_json::from_value(value) {
            Ok(entry) => vocabulary.learn(entry),
            Err(_) => unreadable += 1,
        }
    }
    if unreadable > 0 {
        tracing::warn!(%supplier, unreadable, "vocabulary entries this version cannot read are left out");
    }
    Ok(vocabulary)
}
