//! [`Code2AsinService`]: jobs that turn product codes into ASINs, a window of codes at a time, at Amazon's rate
//! and never over it, reusing answers younger than the cache TTL, writing confident matches to the catalog and
//! keeping the others for review.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::creators::{CreatorsClient, CreatorsCredentials};
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
use crate::config::Code2AsinConfig;
use crate::db::{Database, DbError, DbPool};
use crate::jobs::{JobFailure, JobState, JobTable, TaskQueue};
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
        })
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

    // ---- Amazon API configurations ----

    /// Stores a configuration; its secrets are sealed under the master key, bound to the new row.
    pub async fn add_config(&self, input: NewAmazonApiConfig) -> Result<AmazonApiConfig> {
        let name = input.name.trim();
        if name.is_empty() {
            return Err(Code2AsinError::invalid("name", "must not be empty").into());
        }
        let marketplace = find_marketplace(&input.marketplace)?;
        let provider = input.provider.unwrap_or(ProviderKind::SpApi);
        if input.client_id.trim().is_empty() || input.client_secret.is_empty() {
            return Err(Code2AsinError::invalid("client_id", "the client id and secret are required").into());
        }
        if provider == ProviderKind::SpApi && input.refresh_token.as_deref().is_none_or(str::is_empty) {
            return Err(Code2AsinError::invalid("refresh_token", "SP-API needs the seller's refresh token").into());
        }
        if provider == ProviderKind::Creators && input.partner_tag.as_deref().is_none_or(str::is_empty) {
            return Err(Code2AsinError::invalid("partner_tag", "the Creators API needs the store's partner tag").into());
        }
        for (field, url) in [("endpoint", &input.endpoint), ("token_endpoint", &input.token_endpoint)] {
            if let Some(url) = url {
                url::Url::parse(url).map_err(|e| Code2AsinError::invalid(field, format!("not a URL: {e}")))?;
            }
        }
        if input.rate_limit_per_second.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err(Code2AsinError::invalid("rate_limit_per_second", "must be above 0").into());
        }
        if input.rate_limit_burst.is_some_and(|b| b < 1) {
            return Err(Code2AsinError::invalid("rate_limit_burst", "must be at least 1").into());
        }
        let id = Uuid::now_v7();
        let secrets =
            Secrets { client_secret: input.client_secret.clone(), refresh_token: input.refresh_token.clone() };
        let document =
            serde_json::to_vec(&secrets).map_err(|e| Code2AsinError::invalid("credentials", e.to_string()))?;
        let sealed = self
            .secrets
            .seal(&config_purpose(id), &document)
            .map_err(|e| Code2AsinError::invalid("credentials", e.to_string()))?;
        let row = repo::NewConfigRow {
            id,
            name,
            provider: provider.as_str(),
            marketplace: marketplace.code,
            marketplace_id: marketplace.id,
            endpoint: input.endpoint.as_deref(),
            token_endpoint: input.token_endpoint.as_deref(),
            client_id: input.client_id.trim(),
            partner_tag: input.partner_tag.as_deref(),
            sealed,
            rate_limit_per_second: input.rate_limit_per_second,
            rate_limit_burst: input.rate_limit_burst,
            created_by: input.created_by,
            now: Utc::now(),
        };
        let stored = repo::insert_config(&self.core, row).await.map_err(|e| {
            if matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation()) {
                crate::Error::from(Code2AsinError::conflict(format!("a configuration named {name:?} exists")))
            } else {
                core_error(e)
            }
        })?;
        Ok(config_of(stored))
    }

    /// Every configuration, by name (secrets left out).
    pub async fn configs(&self) -> Result<Vec<AmazonApiConfig>> {
        Ok(repo::all_configs(&self.core).await.map_err(core_error)?.into_iter().map(config_of).collect())
    }

    /// One configuration.
    pub async fn config(&self, id: Uuid) -> Result<AmazonApiConfig> {
        Ok(config_of(self.config_row(id).await?))
    }

    async fn config_row(&self, id: Uuid) -> Result<ConfigRow> {
        repo::config_by_id(&self.core, id)
            .await
            .map_err(core_error)?
            .ok_or_else(|| Code2AsinError::not_found("Amazon API configuration", id).into())
    }

    /// Switches a configuration on or off (jobs pick the active one of their marketplace).
    pub async fn set_config_active(&self, id: Uuid, active: bool) -> Result<AmazonApiConfig> {
        if !repo::set_config_active(&self.core, id, active, Utc::now()).await.map_err(core_error)? {
            return Err(Code2AsinError::not_found("Amazon API configuration", id).into());
        }
        self.forget_client(id);
        self.config(id).await
    }

    /// Removes a configuration.
    pub async fn delete_config(&self, id: Uuid) -> Result<()> {
        if !repo::delete_config(&self.core, id).await.map_err(core_error)? {
            return Err(Code2AsinError::not_found("Amazon API configuration", id).into());
        }
        self.forget_client(id);
        Ok(())
    }

    fn forget_client(&self, id: Uuid) {
        if let Ok(mut clients) = self.runtime.clients.lock() {
            clients.remove(&id);
        }
    }

    /// The configuration a job uses: its own, else the active one of its marketplace (SP-API first).
    async fn config_for(&self, job: &JobRow) -> Result<ConfigRow> {
        if let Some(id) = job.amazon_config_id {
            return self.config_row(id).await;
        }
        let configs = repo::active_configs(&self.core, &job.marketplace).await.map_err(core_error)?;
        let wanted = job.provider.as_deref().and_then(ProviderKind::parse);
        configs.into_iter().find(|c| wanted.is_none_or(|w| c.provider == w.as_str())).ok_or_else(|| {
            Code2AsinError::invalid(
                "marketplace",
                format!(
                    "no active Amazon API configuration for marketplace {}; add one (`productsmanager code2asin \
                     config add` or POST /api/v1/code2asin/configs)",
                    job.marketplace
                ),
            )
            .into()
        })
    }

    /// The client of a configuration, made once per process (it keeps its access token).
    fn client(&self, config: &ConfigRow) -> Result<Arc<dyn Code2AsinProvider>> {
        if let Some(client) = self.runtime.clients.lock().ok().and_then(|c| c.get(&config.id).cloned()) {
            return Ok(client);
        }
        let unreadable =
            |reason: String| Code2AsinError::invalid("credentials", format!("stored credentials {reason}"));
        let document = self
            .secrets
            .open(&config_purpose(config.id), &config.credentials_encrypted)
            .map_err(|e| unreadable(e.to_string()))?;
        let secrets: Secrets = serde_json::from_slice(&document).map_err(|e| unreadable(e.to_string()))?;
        let marketplace = find_marketplace(&config.marketplace)?;
        let timeout = Duration::from_secs(self.runtime.settings.request_timeout_secs);
        let parse = |field: &'static str, url: &str| {
            url::Url::parse(url).map_err(|e| Code2AsinError::invalid(field, format!("not a URL: {e}")))
        };
        let client: Arc<dyn Code2AsinProvider> = match ProviderKind::parse(&config.provider) {
            Some(ProviderKind::SpApi) => {
                let endpoints = SpApiEndpoints {
                    api: parse("endpoint", config.endpoint.as_deref().unwrap_or(marketplace.region.sp_api_host()))?,
                    token: parse("token_endpoint", config.token_endpoint.as_deref().unwrap_or(LWA_TOKEN_URL))?,
                };
                let credentials = LwaCredentials {
                    client_id: config.client_id.clone().unwrap_or_default(),
                    client_secret: secrets.client_secret,
                    refresh_token: secrets.refresh_token.unwrap_or_default(),
                };
                Arc::new(SpApiClient::new(endpoints, credentials, timeout).map_err(Code2AsinError::from)?)
            }
            Some(ProviderKind::Creators) => {
                let api = parse("endpoint", config.endpoint.as_deref().unwrap_or(super::creators::DEFAULT_ENDPOINT))?;
                let token =
                    config.token_endpoint.as_deref().unwrap_or(super::creators::lwa_token_endpoint(marketplace.region));
                let credentials = CreatorsCredentials {
                    client_id: config.client_id.clone().unwrap_or_default(),
                    client_secret: secrets.client_secret,
                    partner_tag: config.partner_tag.clone().unwrap_or_default(),
                };
                let token = parse("token_endpoint", token)?;
                let client = CreatorsClient::new(api, token, marketplace.region, credentials, timeout);
                Arc::new(client.map_err(Code2AsinError::from)?)
            }
            None => {
                return Err(Code2AsinError::invalid(
                    "provider",
                    format!("unknown provider {:?}; use sp_api or creators", config.provider),
                )
                .into());
            }
        };
        // A configuration slower than the documented rate lowers its bucket (a faster one changes nothing).
        if let Some(rate) = config.rate_limit_per_second {
            self.runtime.limiter(client.kind()).observe_limit(
                config.id,
                marketplace.code,
                rate * self.runtime.settings.rate_margin,
            );
        }
        if let Ok(mut clients) = self.runtime.clients.lock() {
            clients.insert(config.id, client.clone());
        }
        Ok(client)
    }

    // ---- jobs ----

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

    async fn run(
        &self,
        job: &JobRow,
        owner: &str,
        on_progress: &(impl Fn(&Code2AsinCounts) + Send + Sync),
    ) -> Result<()> {
        let marketplace = find_marketplace(&job.marketplace)?;
        let config = self.config_for(job).await?;
        let client = self.client(&config)?;
        let codes = self.codes_of(job, owner).await?;
        let mut position = job
            .checkpoint
            .as_ref()
            .and_then(|c| c.0.get("position"))
            .and_then(serde_json::Value::as_u64)
            .map_or(0, |p| p as usize)
            .min(codes.len());
        if position > 0 {
            let _ = repo::log(&self.pool, job.id, "info", &format!("resumed after code {position}"), Utc::now()).await;
        }
        let mut counts = counts_of(job);
        counts.total = Some(codes.len() as i64);
        let run = Run { job, marketplace, config: &config, client: client.as_ref() };
        while position < codes.len() {
            let end = (position + WINDOW).min(codes.len());
            let started = Instant::now();
            let mut window = self.window(&run, position, &codes[position..end]).await?;
            window.processed = end as i64;
            window.duration_ms = started.elapsed().as_millis() as i64;
            let committed = repo::commit_window(&self.pool, job.id, owner, marketplace.code, &window, Utc::now())
                .await
                .map_err(db_error)?;
            if !committed {
                // Paused, cancelled or taken over: what is committed stays, the rest waits for a resume.
                return Ok(());
            }
            add(&mut counts, &window);
            on_progress(&counts);
            position = end;
        }
        let _ = repo::free_dedup_key(&self.pool, job.id).await;
        let summary = format!(
            "finished: {} codes, {} matched, {} for review, {} not found, {} restricted, {} invalid, {} cached, \
             {} calls, {} rate limited",
            codes.len(),
            counts.matched,
            counts.review,
            counts.not_found,
            counts.restricted,
            counts.invalid,
            counts.cached,
            counts.api_calls,
            counts.rate_limited
        );
        let _ = repo::log(&self.pool, job.id, "info", &summary, Utc::now()).await;
        Ok(())
    }

    /// The job's codes: stored in its payload, or (supplier, catalog) read from the catalog on its first run and
    /// stored, so a resumed run sees the same list.
    async fn codes_of(&self, job: &JobRow, owner: &str) -> Result<Vec<String>> {
        if let Some(codes) = job.payload.0.get("codes").and_then(|c| c.as_array()) {
            return Ok(codes.iter().filter_map(|c| c.as_str().map(str::to_string)).collect());
        }
        let gtins = match job.source.as_str() {
            "supplier" => self.asins.gtins_without_asin(job.supplier_id).await?,
            _ => self.asins.gtins_without_asin(None).await?,
        };
        let mut payload = job.payload.0.clone();
        payload["codes"] = serde_json::json!(gtins);
        repo::set_codes(&self.pool, job.id, owner, &payload, gtins.len() as i64, Utc::now()).await.map_err(db_error)?;
        Ok(gtins)
    }

    /// Looks up one window of codes (starting at input position `start`): invalid and restricted codes are
    /// reported, cached answers reused, the rest asked of Amazon in batches; matches judged and written back.
    async fn window(&self, run: &Run<'_>, start: usize, codes: &[String]) -> Result<Window> {
        let mut window = Window::default();
        let mut gtin_of: Vec<Option<String>> = Vec::with_capacity(codes.len());
        let mut early: HashMap<usize, ItemRow> = HashMap::new();
        for (offset, code) in codes.iter().enumerate() {
            let position = (start + offset) as i64;
            let checked = check(code);
            let bare = |outcome: CodeOutcome, reason: Option<String>| ItemRow {
                position,
                code: code.clone(),
                gtin14: checked.gtin14.clone(),
                outcome: outcome.as_str().to_string(),
                cached: false,
                asin: None,
                confidence: None,
                reason,
            };
            if !checked.valid {
                window.invalid += 1;
                early.insert(offset, bare(CodeOutcome::Invalid, checked.reason.clone()));
                gtin_of.push(None);
            } else if checked.restricted {
                window.restricted += 1;
                let reason = checked.reason.clone().unwrap_or_else(|| "restricted prefix".into());
                window.logs.push(("info", Some(code.clone()), format!("not sent to Amazon: {reason}")));
                early.insert(offset, bare(CodeOutcome::Restricted, Some(reason)));
                gtin_of.push(None);
            } else {
                gtin_of.push(checked.gtin14.clone());
            }
        }
        let mut wanted: Vec<String> = gtin_of.iter().flatten().cloned().collect();
        wanted.sort();
        wanted.dedup();
        let since = Utc::now() - chrono::Duration::seconds(self.runtime.settings.cache_ttl_secs as i64);
        let mut answers: HashMap<String, Vec<ResultRow>> = HashMap::new();
        for row in repo::fresh_results(&self.pool, run.marketplace.code, &wanted, since).await.map_err(db_error)? {
            answers.entry(row.gtin14.clone()).or_default().push(row);
        }
        // Answered by another job within the TTL: no call. (Rows of this very job come from an attempt that was
        // interrupted before its window committed: not a cache hit.)
        let cached: HashSet<String> = answers
            .iter()
            .filter(|(_, rows)| rows.iter().all(|r| r.job_id != Some(run.job.id)))
            .map(|(gtin, _)| gtin.clone())
            .collect();
        let products: HashMap<String, GtinProduct> =
            self.asins.products_by_gtin(&wanted).await?.into_iter().map(|p| (p.gtin.clone(), p)).collect();
        let code_of: HashMap<&String, &String> =
            gtin_of.iter().zip(codes).filter_map(|(g, c)| g.as_ref().map(|g| (g, c))).collect();
        let missing: Vec<String> = wanted.iter().filter(|g| !answers.contains_key(*g)).cloned().collect();
        let mut classes: BTreeMap<u8, Vec<String>> = BTreeMap::new();
        for gtin in missing {
            classes.entry(run.client.batch_class(&gtin)).or_default().push(gtin);
        }
        for batch in classes.values().flat_map(|gtins| gtins.chunks(run.client.codes_per_call().max(1))) {
            let answer = self.call(run, batch, &mut window).await?;
            let raw_key = self.keep_raw(Some(run.job.id), &answer.raw).await;
            let items = answer.items;
            window.looked_up += batch.len() as i64;
            let judged: Vec<(String, Vec<Judged>)> = batch
                .iter()
                .map(|gtin| {
                    let candidates: Vec<CatalogItem> =
                        items.iter().filter(|i| i.gtin14s.contains(gtin)).cloned().collect();
                    let product = products.get(gtin);
                    let side = CatalogSide {
                        brand: product.and_then(|p| p.brand.clone()),
                        title: product.map(|p| p.title.clone()),
                    };
                    let (scores, best) = score(gtin, &candidates, &side);
                    let found = candidates
                        .into_iter()
                        .zip(scores)
                        .enumerate()
                        .map(|(i, (item, s))| (item, s, Some(i) == best))
                        .collect();
                    (gtin.clone(), found)
                })
                .collect();
            let to_store: Vec<Answer<'_>> = judged
                .iter()
                .map(|(gtin, found)| Answer {
                    code: code_of.get(gtin).map_or(gtin.as_str(), |c| c.as_str()),
                    gtin14: gtin,
                    product_id: products.get(gtin).map(|p| p.id),
                    found: found
                        .iter()
                        .map(|(item, s, best)| {
                            let review = match (*best, *s >= run.job.confidence_threshold) {
                                (false, _) => None,
                                (true, true) => Some(ReviewState::AutoAccepted.as_str()),
                                (true, false) => Some(ReviewState::Pending.as_str()),
                            };
                            (item, *s, *best, review)
                        })
                        .collect(),
                })
                .collect();
            let call = repo::Call {
                marketplace: run.marketplace.code,
                provider: run.client.kind().as_str(),
                raw_key: raw_key.as_deref(),
            };
            let stored = repo::store_answers(&self.pool, Some(run.job.id), &call, &to_store, Utc::now())
                .await
                .map_err(db_error)?;
            self.forget_lookups(run.marketplace.code, batch).await;
            for row in stored {
                answers.entry(row.gtin14.clone()).or_default().push(row);
            }
        }
        // What each valid code came to (the same for repeated codes), with the catalog updated.
        let mut decided: HashMap<String, ItemRow> = HashMap::new();
        for gtin in &wanted {
            let rows = answers.get(gtin).map(Vec::as_slice).unwrap_or_default();
            let decision = self.decide(run, gtin, rows, products.get(gtin), &mut window).await?;
            decided.insert(gtin.clone(), decision);
        }
        for (offset, code) in codes.iter().enumerate() {
            let position = (start + offset) as i64;
            let item = match (early.remove(&offset), &gtin_of[offset]) {
                (Some(item), _) => item,
                (None, Some(gtin)) => {
                    let mut item = decided.get(gtin).cloned().unwrap_or_else(|| not_found(gtin));
                    item.position = position;
                    item.code = code.clone();
                    item.cached = cached.contains(gtin);
                    match CodeOutcome::parse(&item.outcome) {
                        Some(CodeOutcome::Matched) => window.matched += 1,
                        Some(CodeOutcome::Review) => window.review += 1,
                        _ => window.not_found += 1,
                    }
                    if item.cached {
                        window.cached += 1;
                    }
                    item
                }
                (None, None) => continue,
            };
            window.items.push(item);
        }
        Ok(window)
    }

    /// One call to Amazon for `batch`, waiting for the limiter first; a throttled or failed call is retried with
    /// growing delays (and the limiter lowered when Amazon says a lower rate), up to `code2asin.max_retries`.
    async fn call(&self, run: &Run<'_>, batch: &[String], window: &mut Window) -> Result<Lookup> {
        let limiter = self.runtime.limiter(run.client.kind());
        let mut attempt = 0;
        loop {
            limiter.acquire(run.config.id, run.marketplace.code).await;
            window.api_calls += 1;
            let error = match run.client.lookup(&run.marketplace, batch).await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            *window.errors_by_kind.entry(error.kind().to_string()).or_default() += 1;
            if let LookupError::Throttled { limit } = &error {
                window.rate_limited += 1;
                if let Some(limit) = limit {
                    limiter.observe_limit(
                        run.config.id,
                        run.marketplace.code,
                        limit * self.runtime.settings.rate_margin,
                    );
                }
            }
            if !error.is_transient() || attempt >= self.runtime.settings.max_retries {
                window.logs.push(("error", None, format!("call for {} codes failed: {error}", batch.len())));
                let _ = self.flush_logs(run.job.id, window).await;
                return Err(Code2AsinError::from(error).into());
            }
            let delay = self.runtime.backoff(attempt);
            window.logs.push(("warn", None, format!("call failed ({error}); retry {} in {delay:?}", attempt + 1)));
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Log lines of a window that will not commit (it failed) are written on their own.
    async fn flush_logs(&self, job: Uuid, window: &mut Window) -> Result<()> {
        for (level, _, message) in window.logs.drain(..) {
            repo::log(&self.pool, job, level, &message, Utc::now()).await.map_err(db_error)?;
        }
        Ok(())
    }

    /// The outcome of one valid code from its results: the best match written to the catalog product when it is
    /// confident enough and the product has no other ASIN; otherwise held for review.
    async fn decide(
        &self,
        run: &Run<'_>,
        gtin: &str,
        rows: &[ResultRow],
        product: Option<&GtinProduct>,
        window: &mut Window,
    ) -> Result<ItemRow> {
        let Some(best) = rows.iter().find(|r| r.is_best && r.asin.is_some()) else {
            return Ok(not_found(gtin));
        };
        let asin = best.asin.clone().unwrap_or_default();
        let confidence = best.confidence.unwrap_or(0.0);
        let mut item = ItemRow {
            position: 0,
            code: String::new(),
            gtin14: Some(gtin.to_string()),
            outcome: CodeOutcome::Review.as_str().to_string(),
            cached: false,
            asin: Some(asin.clone()),
            confidence: Some(confidence),
            reason: None,
        };
        let review = best.review_state.as_deref().and_then(ReviewState::parse);
        if review == Some(ReviewState::Rejected) {
            item.reason = Some(format!("{asin} was rejected in review"));
            return Ok(item);
        }
        let reviewed = review == Some(ReviewState::Accepted);
        if !reviewed && confidence < run.job.confidence_threshold {
            item.reason = Some(format!(
                "confidence {confidence:.2} below {:.2}{}",
                run.job.confidence_threshold,
                if rows.iter().filter(|r| r.asin.is_some()).count() > 1 { " (several ASINs)" } else { "" }
            ));
            return Ok(item);
        }
        if let Some(product) = product {
            match product.asin.as_deref() {
                Some(current) if current == asin => {}
                Some(current) => {
                    item.reason = Some(format!("the product already has ASIN {current}"));
                    return Ok(item);
                }
                None => {
                    if let Err(e) = self.write_asin(product.id, Some(&asin)).await {
                        if e.kind() != crate::ErrorKind::Conflict {
                            return Err(e);
                        }
                        item.reason = Some(format!("not written to the product: {e}"));
                        window.logs.push(("warn", Some(gtin.to_string()), format!("{asin}: {e}")));
                        return Ok(item);
                    }
                }
            }
        }
        if review == Some(ReviewState::Pending) {
            repo::promote_pending(&self.pool, best.id, ReviewState::AutoAccepted.as_str(), Utc::now())
                .await
                .map_err(db_error)?;
        }
        item.outcome = CodeOutcome::Matched.as_str().to_string();
        Ok(item)
    }

    /// Sets (or clears) a product's ASIN through the product service; a concurrent edit is retried once.
    async fn write_asin(&self, product: Uuid, asin: Option<&str>) -> Result<()> {
        let asin = asin
            .map(|a| a.parse::<crate::catalog::Asin>())
            .transpose()
            .map_err(|e| Code2AsinError::invalid("asin", e.to_string()))?;
        let patch = || ProductPatch { asin: Some(asin.clone()), ..Default::default() };
        match self.products.patch(product, patch()).await {
            Err(crate::Error::Catalog(crate::catalog::CatalogError::VersionConflict { .. })) => {
                self.products.patch(product, patch()).await.map(|_| ())
            }
            other => other.map(|_| ()),
        }
    }

    /// Keeps Amazon's response body under `code2asin-cache/YYYY/MM/DD/<job or lookup>/<id>.json`; its key, or
    /// `None` (logged) when the store refused it: the results do not depend on it.
    async fn keep_raw(&self, job: Option<Uuid>, raw: &bytes::Bytes) -> Option<String> {
        if raw.is_empty() {
            return None;
        }
        let now = Utc::now();
        let owner = job.map_or_else(|| "lookup".to_string(), |j| j.to_string());
        let key = format!("code2asin-cache/{}/{owner}/{}.json", now.format("%Y/%m/%d"), Uuid::now_v7());
        match self.storage.put(&key, raw.clone()).await {
            Ok(()) => Some(key),
            Err(e) => {
                tracing::warn!(key, error = %e, "Amazon response not kept");
                None
            }
        }
    }

    /// Drops the cached single lookups of these codes (their results just changed).
    async fn forget_lookups(&self, marketplace: &str, gtin14s: &[String]) {
        for gtin in gtin14s {
            self.cache.invalidate(CacheKind::Code2AsinMappings, &format!("{marketplace}:{gtin}")).await;
        }
    }

    /// Amazon's response a result was read from, as received.
    pub async fn raw_response(&self, result: Uuid) -> Result<bytes::Bytes> {
        let row = self.result_row(result).await?;
        let key = row.raw_response_key.ok_or_else(|| Code2AsinError::not_found("raw response of result", result))?;
        Ok(self.storage.get(&key).await?)
    }

    /// The ASINs of one code in one marketplace, best first: from the tiered cache, else from results younger than
    /// the TTL, else asked of Amazon now (at the shared rate) and stored like a job's. A restricted or invalid code
    /// is refused without a call.
    pub async fn lookup(&self, code: &str, marketplace: &str) -> Result<Vec<Code2AsinResult>> {
        let checked = check(code);
        let reason = || checked.reason.clone().unwrap_or_else(|| "not a valid code".into());
        let gtin = match (&checked.gtin14, checked.valid, checked.restricted) {
            (Some(gtin), true, false) => gtin.clone(),
            (_, true, true) => {
                return Err(Code2AsinError::invalid("code", format!("not sent to Amazon: {}", reason())).into());
            }
            _ => return Err(Code2AsinError::invalid("code", reason()).into()),
        };
        let marketplace = find_marketplace(marketplace)?;
        let key = format!("{}:{gtin}", marketplace.code);
        let found = self
            .cache
            .get_or_load(CacheKind::Code2AsinMappings, &key, || self.look_up_now(code, &gtin, marketplace))
            .await?;
        Ok(found.as_ref().clone())
    }

    async fn look_up_now(&self, code: &str, gtin: &str, marketplace: Marketplace) -> Result<Vec<Code2AsinResult>> {
        let since = Utc::now() - chrono::Duration::seconds(self.runtime.settings.cache_ttl_secs as i64);
        let wanted = [gtin.to_string()];
        let fresh = repo::fresh_results(&self.pool, marketplace.code, &wanted, since).await.map_err(db_error)?;
        if !fresh.is_empty() {
            return Ok(fresh.into_iter().map(result_of).collect());
        }
        let configs = repo::active_configs(&self.core, marketplace.code).await.map_err(core_error)?;
        let config = configs.into_iter().next().ok_or_else(|| {
            Code2AsinError::invalid(
                "marketplace",
                format!("no active Amazon API configuration for marketplace {}", marketplace.code),
            )
        })?;
        let client = self.client(&config)?;
        self.runtime.limiter(client.kind()).acquire(config.id, marketplace.code).await;
        let answer = client.lookup(&marketplace, &wanted).await.map_err(Code2AsinError::from)?;
        let raw_key = self.keep_raw(None, &answer.raw).await;
        let product = self.asins.products_by_gtin(&wanted).await?.into_iter().next();
        let side = CatalogSide {
            brand: product.as_ref().and_then(|p| p.brand.clone()),
            title: product.as_ref().map(|p| p.title.clone()),
        };
        let (scores, best) = score(gtin, &answer.items, &side);
        let found: Vec<_> = answer
            .items
            .iter()
            .zip(scores)
            .enumerate()
            .map(|(i, (item, s))| {
                let is_best = Some(i) == best;
                // Nothing is written to the catalog from a single lookup: the best waits for review below the
                // default threshold, and is marked accepted automatically above it.
                let review = match (is_best, s >= 0.85) {
                    (false, _) => None,
                    (true, true) => Some(ReviewState::AutoAccepted.as_str()),
                    (true, false) => Some(ReviewState::Pending.as_str()),
                };
                (item, s, is_best, review)
            })
            .collect();
        let to_store = [Answer { code, gtin14: gtin, product_id: product.map(|p| p.id), found }];
        let call =
            repo::Call { marketplace: marketplace.code, provider: client.kind().as_str(), raw_key: raw_key.as_deref() };
        let stored = repo::store_answers(&self.pool, None, &call, &to_store, Utc::now()).await.map_err(db_error)?;
        let mut results: Vec<Code2AsinResult> = stored.into_iter().map(result_of).collect();
        results.sort_by(|a, b| {
            b.is_best.cmp(&a.is_best).then(b.confidence.unwrap_or(0.0).total_cmp(&a.confidence.unwrap_or(0.0)))
        });
        Ok(results)
    }

    // ---- per-supplier settings ----

    /// Sets how a supplier's codes are looked up in a marketplace (its jobs' configuration, threshold, on/off).
    pub async fn set_supplier_settings(
        &self,
        supplier_id: Uuid,
        marketplace: &str,
        input: NewSupplierSettings,
    ) -> Result<SupplierSettings> {
        let marketplace = find_marketplace(marketplace)?;
        if input.confidence_threshold.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
            return Err(Code2AsinError::invalid("confidence_threshold", "must be between 0 and 1").into());
        }
        let provider = match input.amazon_config_id {
            Some(id) => {
                let config = self.config_row(id).await?;
                if config.marketplace != marketplace.code {
                    return Err(Code2AsinError::invalid(
                        "amazon_config_id",
                        format!("configuration {:?} is for marketplace {}", config.name, config.marketplace),
                    )
                    .into());
                }
                Some(config.provider)
            }
            None => None,
        };
        let row = repo::SupplierSettingsRow {
            supplier_id,
            marketplace: marketplace.code,
            provider: provider.as_deref(),
            amazon_config_id: input.amazon_config_id,
            is_active: input.is_active.unwrap_or(true),
            confidence_threshold: input.confidence_threshold,
            now: Utc::now(),
        };
        Ok(supplier_settings_of(repo::upsert_supplier(&self.pool, row).await.map_err(db_error)?))
    }

    /// A supplier's settings, by marketplace.
    pub async fn supplier_settings(&self, supplier_id: Uuid) -> Result<Vec<SupplierSettings>> {
        let rows = repo::supplier_settings(&self.pool, supplier_id).await.map_err(db_error)?;
        Ok(rows.into_iter().map(supplier_settings_of).collect())
    }

    /// Removes a supplier's settings for a marketplace (its jobs take the marketplace's defaults again).
    pub async fn delete_supplier_settings(&self, supplier_id: Uuid, marketplace: &str) -> Result<()> {
        let marketplace = find_marketplace(marketplace)?;
        if !repo::delete_supplier(&self.pool, supplier_id, marketplace.code).await.map_err(db_error)? {
            return Err(
                Code2AsinError::not_found("supplier settings", format!("{supplier_id} {}", marketplace.code)).into()
            );
        }
        Ok(())
    }

    // ---- results and review ----

    /// A page of found ASINs, newest first: those waiting for review with `review = Some(Pending)`.
    pub async fn results(
        &self,
        review: Option<ReviewState>,
        marketplace: Option<&str>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Code2AsinResult>> {
        let limit = limit.clamp(1, 1000);
        let after = crate::jobs::after_cursor(cursor)?;
        let marketplace = marketplace.map(find_marketplace).transpose()?.map(|m| m.code).unwrap_or_default();
        let review = review.map(ReviewState::as_str).unwrap_or_default();
        let rows =
            repo::results_page(&self.pool, review, marketplace, after, i64::from(limit) + 1).await.map_err(db_error)?;
        let created: HashMap<Uuid, DateTime<Utc>> = rows.iter().map(|r| (r.id, r.created_at)).collect();
        let results = rows.into_iter().map(result_of).collect();
        Ok(Page::from_extra(results, limit as usize, |r: &Code2AsinResult| {
            crate::jobs::cursor(created.get(&r.id).copied().unwrap_or(r.fetched_at), r.id)
        }))
    }

    /// The stored results of a code in a marketplace (best first), whatever their age.
    pub async fn results_of(&self, code: &str, marketplace: &str) -> Result<Vec<Code2AsinResult>> {
        let checked = check(code);
        let gtin = checked.gtin14.filter(|_| checked.valid).ok_or_else(|| {
            Code2AsinError::invalid("code", checked.reason.unwrap_or_else(|| "not a valid code".into()))
        })?;
        let marketplace = find_marketplace(marketplace)?;
        let rows = repo::results_of_gtin(&self.pool, &gtin, marketplace.code).await.map_err(db_error)?;
        Ok(rows.into_iter().map(result_of).collect())
    }

    /// A person confirms a match: its ASIN is written to the catalog product with the code's GTIN (replacing
    /// another ASIN the product had).
    pub async fn accept(&self, result: Uuid, by: Option<Uuid>) -> Result<Code2AsinResult> {
        let row = self.result_row(result).await?;
        let asin =
            row.asin.clone().ok_or_else(|| Code2AsinError::conflict("a not-found result has nothing to accept"))?;
        if let Some(product) = self.asins.products_by_gtin(std::slice::from_ref(&row.gtin14)).await?.into_iter().next()
            && product.asin.as_deref() != Some(asin.as_str())
        {
            self.write_asin(product.id, Some(&asin)).await?;
        }
        let stored = repo::set_review(&self.pool, result, ReviewState::Accepted.as_str(), by, Utc::now())
            .await
            .map_err(db_error)?
            .ok_or_else(|| Code2AsinError::not_found("code2asin result", result))?;
        self.forget_lookups(&stored.marketplace, std::slice::from_ref(&stored.gtin14)).await;
        Ok(result_of(stored))
    }

    /// A person refuses a match: it is never written back, and taken off the product if it was.
    pub async fn reject(&self, result: Uuid, by: Option<Uuid>) -> Result<Code2AsinResult> {
        let row = self.result_row(result).await?;
        let asin =
            row.asin.clone().ok_or_else(|| Code2AsinError::conflict("a not-found result has nothing to reject"))?;
        if let Some(product) = self.asins.products_by_gtin(std::slice::from_ref(&row.gtin14)).await?.into_iter().next()
            && product.asin.as_deref() == Some(asin.as_str())
        {
            self.write_asin(product.id, None).await?;
        }
        let stored = repo::set_review(&self.pool, result, ReviewState::Rejected.as_str(), by, Utc::now())
            .await
            .map_err(db_error)?
            .ok_or_else(|| Code2AsinError::not_found("code2asin result", result))?;
        self.forget_lookups(&stored.marketplace, std::slice::from_ref(&stored.gtin14)).await;
        Ok(result_of(stored))
    }

    async fn result_row(&self, id: Uuid) -> Result<ResultRow> {
        repo::result(&self.pool, id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| Code2AsinError::not_found("code2asin result", id).into())
    }
}

/// A candidate ASIN of a code with its confidence and whether it is the code's best.
type Judged = (CatalogItem, f64, bool);

/// A task stopped when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The parts of a running job every window needs.
struct Run<'a> {
    job: &'a JobRow,
    marketplace: Marketplace,
    config: &'a ConfigRow,
    client: &'a dyn Code2AsinProvider,
}

fn not_found(gtin: &str) -> ItemRow {
    ItemRow {
        position: 0,
        code: String::new(),
        gtin14: Some(gtin.to_string()),
        outcome: CodeOutcome::NotFound.as_str().to_string(),
        cached: false,
        asin: None,
        confidence: None,
        reason: None,
    }
}

fn find_marketplace(code: &str) -> Result<Marketplace> {
    Marketplace::find(code).ok_or_else(|| {
        Code2AsinError::invalid("marketplace", format!("unknown marketplace {code:?}; known: {}", Marketplace::codes()))
            .into()
    })
}

fn config_purpose(id: Uuid) -> String {
    format!("amazon_api_configs:{id}")
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

fn config_of(row: ConfigRow) -> AmazonApiConfig {
    AmazonApiConfig {
        id: row.id,
        name: row.name,
        provider: ProviderKind::parse(&row.provider).unwrap_or(ProviderKind::SpApi),
        marketplace: row.marketplace,
        marketplace_id: row.marketplace_id.unwrap_or_default(),
        endpoint: row.endpoint,
        token_endpoint: row.token_endpoint,
        client_id: row.client_id.unwrap_or_default(),
        partner_tag: row.partner_tag,
        rate_limit_per_second: row.rate_limit_per_second,
        rate_limit_burst: row.rate_limit_burst,
        is_active: row.is_active,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn supplier_settings_of(row: repo::SupplierRow) -> SupplierSettings {
    SupplierSettings {
        supplier_id: row.supplier_id,
        marketplace: row.marketplace,
        provider: row.provider.as_deref().and_then(ProviderKind::parse),
        amazon_config_id: row.amazon_config_id,
        is_active: row.is_active,
        confidence_threshold: row.confidence_threshold,
        updated_at: row.updated_at,
    }
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

fn add(counts: &mut Code2AsinCounts, window: &Window) {
    counts.processed = window.processed;
    counts.matched += window.matched;
    counts.review += window.review;
    counts.not_found += window.not_found;
    counts.restricted += window.restricted;
    counts.invalid += window.invalid;
    counts.cached += window.cached;
    counts.api_calls += window.api_calls;
    counts.rate_limited += window.rate_limited;
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

fn result_of(row: ResultRow) -> Code2AsinResult {
    Code2AsinResult {
        id: row.id,
        job_id: row.job_id,
        code: row.code,
        gtin14: row.gtin14,
        marketplace: row.marketplace,
        provider: ProviderKind::parse(&row.provider).unwrap_or(ProviderKind::SpApi),
        asin: row.asin,
        title: row.title,
        brand: row.brand,
        sales_rank: row.sales_rank,
        image_url: row.image_url,
        confidence: row.confidence,
        is_best: row.is_best,
        review_state: row.review_state.as_deref().and_then(ReviewState::parse),
        reviewed_by: row.reviewed_by,
        reviewed_at: row.reviewed_at,
        product_id: row.product_id,
        fetched_at: row.fetched_at,
        raw_response_key: row.raw_response_key,
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
