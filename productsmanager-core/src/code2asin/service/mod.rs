//! [`Code2AsinService`]: jobs that turn product codes into ASINs, a window of codes at a time, at Amazon's rate
//! and never over it, reusing answers younger than the cache TTL, writing confident matches to the catalog and
//! keeping the others for review.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::marketplace::Marketplace;
use super::matching::{CatalogSide, score};
use super::model::{
    AmazonApiConfig, Code2AsinCounts, Code2AsinError, Code2AsinJob, Code2AsinLog, Code2AsinResult, Code2AsinStatistics,
    CodeOutcome, CodeSource, JobItem, NewAmazonApiConfig, NewCode2AsinJob, NewSupplierSettings, ReviewState, Secrets,
    SupplierSettings,
};
use super::provider::{Code2AsinProvider, Lookup, LookupError, ProviderKind};
use super::repo::{self, Answer, ConfigRow, ItemRow, JobRow, ResultRow, Window};
use super::sp_api::{CatalogItem, LwaCredentials, SpApiClient, SpApiEndpoints};
use super::{SharedLimiter, check};
use crate::Result;
use crate::auth::SecretBox;
use crate::cache::{CacheKind, TieredCache};
use crate::catalog::{AsinService, GtinProduct, Page, ProductPatch, ProductService};
use crate::code2asin::creators::{CreatorsClient, CreatorsCredentials};
use crate::config::Code2AsinConfig;
use crate::db::{Database, DbError, DbPool};
use crate::jobs::{JobFailure, JobState, JobTable, TaskQueue};

mod configs;
mod results;
mod run;
use crate::storage::ObjectStorage;

/// Codes handled between two checkpoints.
const WINDOW: usize = 100;
/// The Login with Amazon token endpoint.
const LWA_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";
/// Lease of a job run in this process ([`Code2AsinService::run_now`]): a killed run is taken over this soon.
const LOCAL_LEASE: Duration = Duration::from_secs(10);

fn db_error(error: sqlx::Error) -> crate::Error {
    DbError::from_sqlx(Database::Code2Asin, error).into()
}

fn core_error(error: sqlx::Error) -> crate::Error {
    DbError::from_sqlx(Database::Core, error).into()
}

/// What the workers of one process share: the call limiters (one bucket per credential and marketplace) and the
/// API clients (each keeps its access token). Made once per [`Sdk`](crate::Sdk).
#[derive(Debug)]
pub struct Code2AsinRuntime {
    settings: Code2AsinConfig,
    sp_api: SharedLimiter,
    creators: SharedLimiter,
    clients: Mutex<HashMap<Uuid, Arc<dyn Code2AsinProvider>>>,
    /// What Amazon endpoints may be reached ([`crate::net`]).
    outbound: crate::net::OutboundPolicy,
}

impl Code2AsinRuntime {
    /// Limiters at the documented rates (SP-API 2/s burst 2; Creators API 1/s, the rate its client libraries
    /// keep to) times `settings.rate_margin`, shared with every process through the Redis at `redis_url` when
    /// given (keys under `namespace`).
    pub fn new(settings: Code2AsinConfig, redis_url: Option<&str>, namespace: &str) -> Result<Self, String> {
        let margin = settings.rate_margin;
        Ok(Code2AsinRuntime {
            sp_api: SharedLimiter::new(2.0 * margin, 2, redis_url, &format!("{namespace}sp_api:"))?,
            creators: SharedLimiter::new(margin, 1, redis_url, &format!("{namespace}creators:"))?,
            clients: Mutex::new(HashMap::new()),
            settings,
            outbound: crate::net::OutboundPolicy::default(),
        })
    }

    /// The same runtime reaching Amazon's endpoints under `policy` (public addresses only by default).
    pub fn with_outbound(mut self, policy: crate::net::OutboundPolicy) -> Self {
        self.outbound = policy;
        self
    }

    fn limiter(&self, kind: ProviderKind) -> &SharedLimiter {
        match kind {
            ProviderKind::SpApi => &self.sp_api,
            ProviderKind::Creators => &self.creators,
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.settings.retry_base_ms.saturating_mul(1 << attempt.min(16));
        Duration::from_millis(base.min(self.settings.retry_max_ms))
    }
}

/// Code2ASIN jobs, results, reviews and Amazon API configurations. Cheap to clone.
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
/// use productsmanager_core::code2asin::{CodeSource, NewCode2AsinJob};
///
/// let code2asin = sdk.code2asin();
/// let job = code2asin
///     .create_job(NewCode2AsinJob {
///         source: CodeSource::Codes { codes: vec!["4006381333931".into()] },
///         marketplace: "FR".into(),
///         amazon_config_id: None,
///         confidence_threshold: None,
///         requested_by: None,
///     })
///     .await?;
/// let done = code2asin.run_now(job.id, |counts| println!("{}/{:?}", counts.processed, counts.total)).await?;
/// println!("{} matched", done.counts.matched);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Code2AsinService {
    pool: DbPool,
    core: DbPool,
    asins: AsinService,
    products: ProductService,
    secrets: Arc<SecretBox>,
    queue: TaskQueue,
    runtime: Arc<Code2AsinRuntime>,
    storage: ObjectStorage,
    cache: TieredCache,
}

/// What the service reaches besides its own database: the catalog, the master key, the job queue, the process's
/// limiters and clients, the object store (raw responses) and the tiered cache (single lookups).
#[derive(Debug, Clone)]
pub struct Code2AsinDeps {
    pub core: DbPool,
    pub asins: AsinService,
    pub products: ProductService,
    pub secrets: Arc<SecretBox>,
    pub jobs: crate::jobs::JobQueues,
    pub runtime: Arc<Code2AsinRuntime>,
    pub storage: ObjectStorage,
    pub cache: TieredCache,
}

impl Code2AsinService {
    pub fn new(pool: DbPool, deps: Code2AsinDeps) -> Self {
        let Code2AsinDeps { core, asins, products, secrets, jobs, runtime, storage, cache } = deps;
        let queue = jobs.table(JobTable::Code2Asin).clone();
        Code2AsinService { pool, core, asins, products, secrets, queue, runtime, storage, cache }
    }

    /// Queues a job. A file's codes are read now (a bad file is refused before anything is queued); a supplier's
    /// or the catalog's when the job starts. The same codes for the same marketplace while an earlier job of them
    /// has not finished give that job back (a re-run after a crash resumes it).
    pub async fn create_job(&self, input: NewCode2AsinJob) -> Result<Code2AsinJob> {
        Ok(self.submit(input).await?.0)
    }

    /// [`create_job`](Self::create_job), saying whether the job is new (`false`: an unfinished job of the same
    /// codes was given back).
    pub async fn submit(&self, input: NewCode2AsinJob) -> Result<(Code2AsinJob, bool)> {
        let marketplace = find_marketplace(&input.marketplace)?;
        let defaults = match &input.source {
            CodeSource::Supplier { supplier_id } => {
                repo::supplier_marketplace(&self.pool, *supplier_id, marketplace.code).await.map_err(db_error)?
            }
            _ => None,
        };
        if let Some(settings) = defaults.as_ref().filter(|s| !s.is_active) {
            return Err(Code2AsinError::invalid(
                "supplier_id",
                format!("Code2ASIN is switched off for supplier {} in {}", settings.supplier_id, marketplace.code),
            )
            .into());
        }
        let mut input = input;
        if input.amazon_config_id.is_none() {
            input.amazon_config_id = defaults.as_ref().and_then(|s| s.amazon_config_id);
        }
        let threshold =
            input.confidence_threshold.or(defaults.as_ref().and_then(|s| s.confidence_threshold)).unwrap_or(0.85);
        if !(0.0..=1.0).contains(&threshold) {
            return Err(Code2AsinError::invalid("confidence_threshold", "must be between 0 and 1").into());
        }
        if let Some(config) = input.amazon_config_id {
            let config = self.config_row(config).await?;
            if config.marketplace != marketplace.code {
                return Err(Code2AsinError::invalid(
                    "amazon_config_id",
                    format!("configuration {:?} is for marketplace {}", config.name, config.marketplace),
                )
                .into());
            }
        }
        let (payload, supplier_id, dedup_key) = match &input.source {
            CodeSource::Codes { codes } => {
                let codes: Vec<String> = codes.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
                if codes.is_empty() {
                    return Err(Code2AsinError::invalid("codes", "no codes given").into());
                }
                let key = dedup_key(&codes, marketplace.code);
                (serde_json::json!({ "codes": codes }), None, Some(key))
            }
            CodeSource::File { name, content } => {
                let codes = codes_of_file(name, content)?;
                let key = dedup_key(&codes, marketplace.code);
                (serde_json::json!({ "codes": codes, "file": name }), None, Some(key))
            }
            CodeSource::Supplier { supplier_id } => (serde_json::json!({}), Some(*supplier_id), None),
            CodeSource::CatalogMissingAsin => (serde_json::json!({}), None, None),
        };
        let now = Utc::now();
        let row = repo::NewJobRow {
            id: Uuid::now_v7(),
            now,
            dedup_key: dedup_key.as_deref(),
            payload: &payload,
            source: input.source.name(),
            marketplace: marketplace.code,
            provider: None,
            amazon_config_id: input.amazon_config_id,
            supplier_id,
            confidence_threshold: threshold,
            requested_by: input.requested_by,
            codes_total: payload.get("codes").and_then(|c| c.as_array()).map(|c| c.len() as i64),
        };
        let (stored, new) = match repo::insert_job(&self.pool, row).await.map_err(db_error)? {
            Some(stored) => (stored, true),
            None => {
                let key = dedup_key.unwrap_or_default();
                let existing = repo::job_by_dedup_key(&self.pool, &key)
                    .await
                    .map_err(db_error)?
                    .ok_or_else(|| Code2AsinError::not_found("code2asin job", key))?;
                (existing, false)
            }
        };
        self.queue.notify("code2asin");
        Ok((job_of(stored)?, new))
    }

    /// A job.
    pub async fn job(&self, id: Uuid) -> Result<Code2AsinJob> {
        job_of(self.job_row(id).await?)
    }

    async fn job_row(&self, id: Uuid) -> Result<JobRow> {
        repo::job(&self.pool, id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| Code2AsinError::not_found("code2asin job", id).into())
    }

    /// A page of jobs (of one state, or all), newest first.
    pub async fn jobs(&self, state: Option<JobState>, limit: u32, cursor: Option<&str>) -> Result<Page<Code2AsinJob>> {
        let limit = limit.clamp(1, 1000);
        let after = crate::jobs::after_cursor(cursor)?;
        let state = state.map(JobState::as_str).unwrap_or_default();
        let rows = repo::jobs_page(&self.pool, state, after, i64::from(limit) + 1).await.map_err(db_error)?;
        let jobs = rows.into_iter().map(job_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_extra(jobs, limit as usize, |j| crate::jobs::cursor(j.created_at, j.id)))
    }

    /// Stops a queued or running job after the window it is in; [`resume`](Self::resume) continues it from there.
    pub async fn pause(&self, id: Uuid) -> Result<Code2AsinJob> {
        if !repo::pause_job(&self.pool, id, Utc::now()).await.map_err(db_error)? {
            let job = self.job(id).await?;
            return Err(Code2AsinError::conflict(format!(
                "job {id} is {}: only a queued or running job pauses",
                job.state
            ))
            .into());
        }
        self.job(id).await
    }

    /// Queues a paused job again; it continues from its checkpoint.
    pub async fn resume(&self, id: Uuid) -> Result<Code2AsinJob> {
        self.queue.resume(id).await?;
        self.queue.notify("code2asin");
        self.job(id).await
    }

    /// Cancels a queued, paused or running job (what it found so far is kept).
    pub async fn cancel(&self, id: Uuid) -> Result<Code2AsinJob> {
        self.queue.cancel(id).await?;
        self.job(id).await
    }

    /// What became of each code of a job, in input order (optionally of one outcome), after position `after`.
    pub async fn items(
        &self,
        id: Uuid,
        outcome: Option<CodeOutcome>,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<JobItem>> {
        self.job_row(id).await?;
        let outcome = outcome.map(CodeOutcome::as_str).unwrap_or_default();
        let limit = i64::from(limit.clamp(1, 10_000));
        let rows = repo::items_page(&self.pool, id, outcome, after.unwrap_or(-1), limit).await.map_err(db_error)?;
        Ok(rows.into_iter().map(item_of).collect())
    }

    /// A job's log lines (level, code, message, time), oldest first.
    pub async fn logs(&self, id: Uuid, limit: u32) -> Result<Vec<Code2AsinLog>> {
        self.job_row(id).await?;
        repo::job_logs(&self.pool, id, i64::from(limit.clamp(1, 10_000))).await.map_err(db_error)
    }

    /// A job's figures: calls, codes per second, hit rate, errors by kind, cache hits.
    pub async fn job_statistics(&self, id: Uuid) -> Result<Code2AsinStatistics> {
        let job = self.job_row(id).await?;
        let row = repo::job_statistics(&self.pool, id).await.map_err(db_error)?;
        let mut stats = row.map(statistics_of).unwrap_or_default();
        stats.day = None;
        stats.marketplace = job.marketplace;
        Ok(stats)
    }

    /// Figures per day and marketplace since `from`.
    pub async fn daily_statistics(&self, from: chrono::NaiveDate) -> Result<Vec<Code2AsinStatistics>> {
        Ok(repo::day_statistics(&self.pool, from).await.map_err(db_error)?.into_iter().map(statistics_of).collect())
    }

    /// [`run_now`](Self::run_now) for a job whose earlier run was killed: while that run's lease is still alive
    /// (at most 10 s for an in-process run), waits for it, up to `wait`, instead of refusing.
    pub async fn resume_now(
        &self,
        id: Uuid,
        wait: Duration,
        on_progress: impl Fn(&Code2AsinCounts) + Send + Sync,
    ) -> Result<Code2AsinJob> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match self.run_now(id, &on_progress).await {
                Err(e) if e.kind() == crate::ErrorKind::Conflict && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                outcome => return outcome,
            }
        }
    }

    /// Runs a job in this process now, whatever the workers do: takes it (queued, failed, or running under a
    /// lease that expired because its process died), keeps its lease alive, and records the outcome. A job
    /// interrupted earlier continues from its checkpoint.
    pub async fn run_now(
        &self,
        id: Uuid,
        on_progress: impl Fn(&Code2AsinCounts) + Send + Sync,
    ) -> Result<Code2AsinJob> {
        let owner = format!("{}-run-{}", crate::jobs::worker_name(), Uuid::now_v7().simple());
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(LOCAL_LEASE).unwrap_or_default();
        let Some(taken) = repo::take_job(&self.pool, id, &owner, until, now).await.map_err(db_error)? else {
            let job = self.job(id).await?;
            let why = match job.state {
                JobState::Running => "running elsewhere (its lease is alive)".to_string(),
                state => format!("{state}"),
            };
            return Err(Code2AsinError::conflict(format!("job {id} cannot run now: it is {why}")).into());
        };
        // Stops renewing the lease when this call ends or is dropped (the caller gave up on it).
        let _beat = AbortOnDrop(tokio::spawn({
            let (queue, owner) = (self.queue.clone(), owner.clone());
            async move {
                loop {
                    tokio::time::sleep(LOCAL_LEASE / 3).await;
                    if !matches!(queue.heartbeat(id, &owner, LOCAL_LEASE).await, Ok(true)) {
                        break;
                    }
                }
            }
        }));
        let outcome = self.run(&taken, &owner, &on_progress).await;
        let job = self.queue.get(id).await?;
        match outcome {
            Ok(()) => {
                self.queue.complete(id, &owner).await?;
            }
            Err(e) => {
                let failure = match e.kind() {
                    crate::ErrorKind::Invalid | crate::ErrorKind::NotFound => JobFailure::Permanent(e.to_string()),
                    _ => JobFailure::Retryable(e.to_string()),
                };
                self.queue.fail(&job, &owner, failure).await?;
                return Err(e);
            }
        }
        self.job(id).await
    }

    /// Runs a job a worker claimed (as `job.lease_owner`), from its checkpoint to its end. Returns early, with
    /// nothing lost, when the job is paused or cancelled meanwhile.
    pub async fn run_job(
        &self,
        job: &crate::jobs::Job,
        on_progress: impl Fn(&Code2AsinCounts) + Send + Sync,
    ) -> Result<()> {
        let owner = job.lease_owner.clone().ok_or_else(|| Code2AsinError::conflict("the job is not claimed"))?;
        let row = self.job_row(job.id).await?;
        self.run(&row, &owner, &on_progress).await
    }
}

/// A task stopped when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn find_marketplace(code: &str) -> Result<Marketplace> {
    Marketplace::find(code).ok_or_else(|| {
        Code2AsinError::invalid("marketplace", format!("unknown marketplace {code:?}; known: {}", Marketplace::codes()))
            .into()
    })
}

/// Jobs of the same codes for the same marketplace share a key while one of them is unfinished.
fn dedup_key(codes: &[String], marketplace: &str) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for code in codes {
        hash.update(code.as_bytes());
        hash.update(b"\n");
    }
    format!("codes:{marketplace}:{:x}", hash.finalize())
}

/// The codes of a CSV or plain text file: the column named `gtin`, `ean`, `upc`, `isbn`, `code`, `barcode` (any
/// case) when the first line names one, else the first column (of every line but a header). Empty cells are
/// skipped.
pub(crate) fn codes_of_file(name: &str, content: &str) -> Result<Vec<String>> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    // The imports' sniffing: the same delimiters, and an empty file refused naming it.
    let options = crate::imports::parse::CsvOptions::default();
    let sniffed = crate::imports::parse::sniff(name, content.as_bytes(), &options)
        .map_err(|e| Code2AsinError::invalid("file", e.to_string()))?;
    let delimiter = u8::try_from(sniffed.delimiter).unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(content.as_bytes());
    let mut records = reader.records();
    let mut codes = Vec::new();
    let mut column = 0;
    if let Some(header) = records.next() {
        let header = header.map_err(|e| file_error(name, &e))?;
        let named = header.iter().position(|h| {
            matches!(
                h.trim().to_ascii_lowercase().as_str(),
                "gtin" | "ean" | "upc" | "isbn" | "code" | "barcode" | "ean13"
            )
        });
        let first = header.get(0).map(str::trim).unwrap_or_default();
        match named {
            Some(index) => column = index,
            // A first line without a digit in its first cell is a header naming other columns: skipped.
            None if !first.bytes().any(|b| b.is_ascii_digit()) => {}
            None => codes.push(first.to_string()),
        }
    }
    for record in records {
        let record = record.map_err(|e| file_error(name, &e))?;
        if let Some(code) = record.get(column).map(str::trim).filter(|c| !c.is_empty()) {
            codes.push(code.to_string());
        }
    }
    if codes.is_empty() {
        return Err(Code2AsinError::invalid("file", format!("{name}: no codes in the file")).into());
    }
    Ok(codes)
}

fn file_error(name: &str, error: &csv::Error) -> crate::Error {
    let place = error.position().map(|p| format!(" line {}", p.line())).unwrap_or_default();
    Code2AsinError::invalid("file", format!("{name}{place}: {error}")).into()
}

fn counts_of(row: &JobRow) -> Code2AsinCounts {
    Code2AsinCounts {
        total: row.codes_total,
        processed: row.codes_processed,
        matched: row.codes_matched,
        review: row.codes_review,
        not_found: row.codes_not_found,
        restricted: row.codes_restricted,
        invalid: row.codes_invalid,
        cached: row.codes_cached,
        api_calls: row.api_calls,
        rate_limited: row.rate_limited,
    }
}

fn job_of(row: JobRow) -> Result<Code2AsinJob> {
    let state = JobState::parse(&row.state)
        .ok_or_else(|| Code2AsinError::conflict(format!("job {} has an unknown state {:?}", row.id, row.state)))?;
    Ok(Code2AsinJob {
        counts: counts_of(&row),
        id: row.id,
        state,
        source: row.source,
        marketplace: row.marketplace,
        provider: row.provider.as_deref().and_then(ProviderKind::parse),
        amazon_config_id: row.amazon_config_id,
        supplier_id: row.supplier_id,
        confidence_threshold: row.confidence_threshold,
        attempts: row.attempts,
        last_error: row.last_error,
        requested_by: row.requested_by,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
    })
}

fn item_of(row: ItemRow) -> JobItem {
    JobItem {
        position: row.position,
        code: row.code,
        gtin14: row.gtin14,
        outcome: CodeOutcome::parse(&row.outcome).unwrap_or(CodeOutcome::NotFound),
        cached: row.cached,
        asin: row.asin,
        confidence: row.confidence,
        reason: row.reason,
    }
}

fn statistics_of(row: repo::StatisticsRow) -> Code2AsinStatistics {
    let answered = row.hits + row.misses;
    let seconds = row.duration_ms as f64 / 1000.0;
    Code2AsinStatistics {
        day: Some(row.day),
        marketplace: row.marketplace,
        api_calls: row.api_calls,
        codes_looked_up: row.codes_looked_up,
        hits: row.hits,
        misses: row.misses,
        cache_hits: row.cache_hits,
        restricted: row.restricted,
        rate_limited: row.rate_limited,
        errors: row.errors,
        errors_by_kind: row.errors_by_kind.0,
        duration_ms: row.duration_ms,
        codes_per_second: if seconds > 0.0 { (answered + row.restricted) as f64 / seconds } else { 0.0 },
        hit_rate: if answered > 0 { row.hits as f64 / answered as f64 } else { 0.0 },
    }
}
