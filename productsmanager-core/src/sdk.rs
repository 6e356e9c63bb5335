//! [`Sdk`]: the one entry point. It opens the seven pools, brings their schemas up to date and hands out the
//! services; the HTTP server, the CLI and any embedding Rust service all start here.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::future::join_all;

use crate::Result;
use crate::cache::TieredCache;
use crate::catalog::{
    BrandService, BundleService, CategoryService, OfferService, PriceService, ProductService, SeoService, StockService,
    SupplierService, VariantService,
};
use crate::config::{Config, ConfigError, DatabaseLocation, StorageBackend};
use crate::db::{self, Database, DatabaseRouter, DbError, DbPool, HealthReport, MigrationStatus, PoolRouter};

/// How often a database that was unreachable at start is retried for its migrations.
const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(10);

/// The ProductsManager SDK. Cheap to clone; clones share pools and caches.
///
/// ```no_run
/// # async fn demo() -> productsmanager_core::Result<()> {
/// use productsmanager_core::{Config, Sdk};
///
/// let sdk = Sdk::builder(Config::embedded("/tmp/pm-data")).build().await?;
/// let health = sdk.health().await;
/// assert!(health.is_up());
/// sdk.close().await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Sdk {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    router: Arc<dyn DatabaseRouter>,
    cache: TieredCache,
    storage: crate::storage::ObjectStorage,
    /// Signs and checks access tokens.
    token_key: Arc<crate::auth::TokenKey>,
    /// Seals the credentials the product stores.
    secrets: Arc<crate::auth::SecretBox>,
    /// Wakes this process's job workers when a job is enqueued.
    job_wakes: crate::jobs::JobWakes,
    /// Live events of this process (notifications, job states) for listeners such as the HTTP WebSocket.
    events: crate::notifications::EventHub,
    /// Callers recently authenticated, shared by the auth services.
    callers: crate::auth::CallerCache,
    /// The activity log's queue and writer (analytics database).
    activity: crate::analytics::ActivityLog,
    /// The analytics events' queue and writer (analytics database).
    analytics_events: crate::analytics::AnalyticsEvents,
    /// Code2ASIN's call limiters and API clients, shared by the process's workers.
    code2asin: Arc<crate::code2asin::Code2AsinRuntime>,
    /// Where folder import sources may look (resolved once).
    folder_policy: Arc<crate::imports::sources::FolderPolicy>,
    /// The memory image decodes may take at once, shared by every media service of this SDK.
    decodes: crate::media::DecodeBudget,
    /// Databases whose migrations could not run because they were unreachable.
    pending: Mutex<BTreeSet<Database>>,
    /// Whether the pools were opened from the configuration (then PostgreSQL databases may be created).
    owns_pools: bool,
}

/// A job outcome from a service result: any error is worth another try later (a server down, a database busy).
fn retry_on_error<T>(result: Result<T>) -> crate::jobs::HandlerResult {
    result.map(|_| ()).map_err(|e| crate::jobs::JobFailure::Retryable(with_causes(&e)))
}

/// An error with its causes (`database `catalog`: query failed: database is locked`), for a job's `last_error`,
/// which only operators read: the cause is what tells them what to fix.
fn with_causes(error: &crate::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let said = inner.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        cause = inner.source();
    }
    text
}

/// An import that cannot succeed (unreadable file, header not matching its template, missing template or supplier)
/// fails for good; anything else (a database or the object store down) is retried.
fn import_outcome<T>(result: Result<T>) -> crate::jobs::HandlerResult {
    use crate::ErrorKind;
    match result {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.kind(), ErrorKind::Invalid | ErrorKind::NotFound) => {
            Err(crate::jobs::JobFailure::Permanent(with_causes(&e)))
        }
        Err(e) => Err(crate::jobs::JobFailure::Retryable(with_causes(&e))),
    }
}

/// The background work of a process, started by [`Sdk::start_background`].
#[derive(Debug)]
pub struct Background {
    jobs: crate::jobs::RunningJobs,
    scheduler: crate::jobs::Repeating,
    folders: crate::jobs::Repeating,
}

impl Background {
    /// Stops the scheduler and the folder source, then the workers: running jobs get up to `deadline` to finish
    /// (after that their leases expire and other workers retry them).
    pub async fn shutdown(self, deadline: Duration) {
        self.scheduler.shutdown().await;
        self.folders.shutdown().await;
        self.jobs.shutdown(deadline).await;
    }
}

/// Builds an [`Sdk`]; see [`Sdk::builder`].
#[derive(Debug)]
pub struct SdkBuilder {
    config: Config,
    migrate: Option<bool>,
    router: Option<Arc<dyn DatabaseRouter>>,
    retry_interval: Duration,
}

impl SdkBuilder {
    /// Apply pending migrations at start (default: `database.migrate_on_start`, itself on by default).
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = Some(migrate);
        self
    }

    /// Use these pools instead of opening them from the configuration (databases are then not created).
    pub fn router(mut self, router: Arc<dyn DatabaseRouter>) -> Self {
        self.router = Some(router);
        self
    }

    /// How often a database that was unreachable at start is retried (default 10 s).
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// Opens the pools and migrates. A database that cannot be reached does not fail the start: it is
    /// reported down by [`Sdk::health`] and migrated in the background once it answers. Anything else
    /// (bad configuration, unwritable data folder, a schema newer than this binary) fails here.
    pub async fn build(self) -> Result<Sdk> {
        let config = self.config;
        config.validate()?;
        check_local_folders(&config)?;
        let token_key = crate::auth::TokenKey::from_config(&config)
            .map_err(|e| config.setting_error("auth.jwt_secret", format!("unset, and {e}")))?;
        let secrets = crate::auth::SecretBox::from_config(&config)
            .map_err(|e| config.setting_error("auth.master_key", format!("unset, and {e}")))?;
        let owns_pools = self.router.is_none();
        let router: Arc<dyn DatabaseRouter> = match self.router {
            Some(router) => router,
            None => Arc::new(PoolRouter::open(&config)?),
        };
        let migrate = self.migrate.unwrap_or(config.database.migrate_on_start);
        // Keys and the invalidation channel are namespaced like the databases, so deployments sharing a Redis
        // stay apart.
        let cache = TieredCache::new(&config.cache, &config.database.prefix)?;
        let storage = crate::storage::ObjectStorage::from_config(&config)?;
        let activity = crate::analytics::ActivityLog::start(router.pool(Database::Analytics).clone());
        let analytics_events = crate::analytics::AnalyticsEvents::start(router.pool(Database::Analytics).clone());
        let caller_cache_secs = config.auth.caller_cache_secs;
        let code2asin = crate::code2asin::Code2AsinRuntime::new(
            config.code2asin.clone(),
            config.cache.redis_url.as_deref(),
            &config.database.prefix,
        )
        .map_err(|e| config.setting_error("cache.redis_url", e))?
        .with_outbound(crate::net::OutboundPolicy::from_config(&config));
        let code2asin = Arc::new(code2asin);
        let folder_policy = Arc::new(crate::imports::sources::FolderPolicy::from_config(&config));
        let decodes =
            crate::media::DecodeBudget::new(u32::try_from(config.media.decode_memory_mib).unwrap_or(u32::MAX));
        let sdk = Sdk {
            inner: Arc::new(Inner {
                folder_policy,
                decodes,
                config,
                router,
                cache,
                storage,
                token_key: Arc::new(token_key),
                secrets: Arc::new(secrets),
                job_wakes: crate::jobs::JobWakes::default(),
                events: crate::notifications::EventHub::default(),
                activity,
                analytics_events,
                callers: crate::auth::CallerCache::new(caller_cache_secs),
                code2asin,
                pending: Mutex::new(BTreeSet::new()),
                owns_pools,
            }),
        };
        if migrate {
            let outcomes = join_all(Database::ALL.map(|db| sdk.prepare(db))).await;
            let mut pending = BTreeSet::new();
            for (db, outcome) in Database::ALL.into_iter().zip(outcomes) {
                match outcome {
                    Ok(_) => {}
                    Err(e) if e.is_unreachable() => {
                        tracing::warn!(database = %db, error = %e, "database unreachable at start; will retry");
                        pending.insert(db);
                    }
                    Err(e) => {
                        sdk.close().await;
                        return Err(e.into());
                    }
                }
            }
            if !pending.contains(&Database::Core)
                && let Err(e) = sdk.auth().ensure_builtin_roles().await
            {
                sdk.close().await;
                return Err(e);
            }
            if !pending.is_empty() {
                sdk.set_pending(pending);
                spawn_retry(Arc::downgrade(&sdk.inner), self.retry_interval);
            }
        }
        spawn_cache_sampler(Arc::downgrade(&sdk.inner), CACHE_SAMPLE_INTERVAL);
        Ok(sdk)
    }
}

impl Sdk {
    /// Starts building an SDK from a configuration (see [`Config::load`] and [`Config::embedded`]).
    pub fn builder(config: Config) -> SdkBuilder {
        SdkBuilder { config, migrate: None, router: None, retry_interval: DEFAULT_RETRY_INTERVAL }
    }

    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The database router the services use.
    pub fn router(&self) -> &dyn DatabaseRouter {
        self.inner.router.as_ref()
    }

    /// The pool of one database (shorthand for `router().pool(db)`).
    pub fn pool(&self, db: Database) -> &DbPool {
        self.inner.router.pool(db)
    }

    /// The tiered cache (L1 in process, L2 on Redis when configured).
    pub fn cache(&self) -> &TieredCache {
        &self.inner.cache
    }

    /// Brands.
    pub fn brands(&self) -> BrandService {
        BrandService::new(self.pool(Database::Catalog).clone(), self.cache().clone())
    }

    /// Suppliers.
    pub fn suppliers(&self) -> SupplierService {
        SupplierService::new(self.pool(Database::Catalog).clone(), self.cache().clone())
    }

    /// Products.
    pub fn products(&self) -> ProductService {
        ProductService::new(self.pool(Database::Catalog).clone(), self.cache().clone())
            .with_events(self.inner.analytics_events.clone())
            .with_settings(self.settings())
    }

    /// The duplicates report and merges of duplicate products.
    pub fn merges(&self) -> crate::catalog::MergeService {
        crate::catalog::MergeService::new(self.products(), self.pool(Database::Media).clone())
    }

    /// Supplier offers.
    pub fn offers(&self) -> OfferService {
        OfferService::new(self.pool(Database::Catalog).clone(), self.cache().clone(), self.products(), self.suppliers())
    }

    /// Prices.
    pub fn prices(&self) -> PriceService {
        PriceService::new(self.pool(Database::Catalog).clone(), self.cache().clone(), self.products())
    }

    /// Own stock levels.
    pub fn stock(&self) -> StockService {
        StockService::new(self.pool(Database::Catalog).clone(), self.cache().clone(), self.products())
    }

    /// Categories, taxonomies and product links.
    pub fn categories(&self) -> CategoryService {
        CategoryService::new(self.pool(Database::Catalog).clone(), self.cache().clone(), self.products())
    }

    /// Variants of parent products.
    pub fn variants(&self) -> VariantService {
        VariantService::new(self.pool(Database::Catalog).clone(), self.products())
    }

    /// Bundles.
    pub fn bundles(&self) -> BundleService {
        BundleService::new(self.pool(Database::Catalog).clone(), self.products())
    }

    /// SEO metadata per locale.
    pub fn seo(&self) -> SeoService {
        SeoService::new(self.pool(Database::Catalog).clone(), self.products())
    }

    /// The object store (local folder or S3) holding imported files, exports and images.
    pub fn storage(&self) -> &crate::storage::ObjectStorage {
        &self.inner.storage
    }

    /// Product images: upload, thumbnails, metadata, order, QR codes.
    pub fn media(&self) -> crate::media::MediaService {
        crate::media::MediaService::new(
            self.pool(Database::Media).clone(),
            self.products(),
            crate::catalog::ImageUrlService::new(self.pool(Database::Catalog).clone()),
            self.storage().clone(),
            self.jobs(),
            crate::config::MediaConfig {
                // One outbound policy: the network-wide switch opens image downloads too.
                allow_private_downloads: self.inner.config.media.allow_private_downloads
                    || self.inner.config.network.allow_private,
                ..self.inner.config.media.clone()
            },
        )
        .with_decode_budget(self.inner.decodes.clone())
    }

    /// Code2ASIN: jobs turning product codes into ASINs, results, review, Amazon API configurations.
    pub fn code2asin(&self) -> crate::code2asin::Code2AsinService {
        let deps = crate::code2asin::Code2AsinDeps {
            core: self.pool(Database::Core).clone(),
            asins: crate::catalog::AsinService::new(self.pool(Database::Catalog).clone()),
            // The ASINs it writes are recorded as Code2ASIN's.
            products: self.products().as_source(crate::catalog::FieldSource::Code2Asin { job_id: None }),
            secrets: self.inner.secrets.clone(),
            jobs: self.jobs(),
            runtime: self.inner.code2asin.clone(),
            storage: self.storage().clone(),
            cache: self.cache().clone(),
        };
        crate::code2asin::Code2AsinService::new(self.pool(Database::Code2Asin).clone(), deps)
    }

    /// Exports: feed files, export jobs.
    pub fn exports(&self) -> crate::exports::ExportService {
        crate::exports::ExportService::new(
            self.pool(Database::Exports).clone(),
            self.storage().clone(),
            self.products(),
            self.jobs(),
            self.inner.secrets.clone(),
            self.media(),
        )
        .with_outbound(crate::net::OutboundPolicy::from_config(&self.inner.config))
    }

    /// Import configurations, sources, mapping templates and the import engine.
    pub fn imports(&self) -> crate::imports::ImportService {
        self.imports_on(self.jobs())
    }

    /// Seals and opens the credentials the product stores (AES-256-GCM under the master key).
    pub fn secrets(&self) -> &crate::auth::SecretBox {
        &self.inner.secrets
    }

    /// Application settings (core database): typed values with defaults, changed by admins at run time.
    pub fn settings(&self) -> crate::settings::SettingsService {
        crate::settings::SettingsService::new(self.pool(Database::Core).clone(), Arc::new(crate::jobs::SystemClock))
    }

    /// Notifications of users (core database), pushed live through [`Sdk::events`].
    pub fn notifications(&self) -> crate::notifications::NotificationService {
        crate::notifications::NotificationService::new(
            self.pool(Database::Core).clone(),
            self.inner.events.clone(),
            Arc::new(crate::jobs::SystemClock),
        )
    }

    /// The live events of this process: notifications as they are stored, and the states and progress of the
    /// jobs this process's workers run. Subscribe to hear everything published from then on.
    pub fn events(&self) -> &crate::notifications::EventHub {
        &self.inner.events
    }

    /// The activity log (analytics database): who wrote what, when, through the API or the CLI. Recording never
    /// waits on the database.
    pub fn activity(&self) -> &crate::analytics::ActivityLog {
        &self.inner.activity
    }

    /// The analytics events recorder (product views, price changes, stock-outs, searches, latencies): summed in
    /// memory and written in batches; never waits on the database, drops and counts when it cannot write.
    pub fn analytics_events(&self) -> &crate::analytics::AnalyticsEvents {
        &self.inner.analytics_events
    }

    /// Hands the cache's hits and misses per kind, and the database operations' latencies per database, counted
    /// since the last call to the analytics events (the SDK does it every minute and when closing; the hourly
    /// rollup turns them into hit rates and latency percentiles).
    pub fn record_counters(&self) {
        use crate::analytics::{AnalyticsEvent, EventKind, TimingKind};
        let events = &self.inner.analytics_events;
        for (kind, hits, misses) in self.cache().take_counts_by_kind() {
            events.record(AnalyticsEvent::now(EventKind::CacheCounts { kind: kind.name().to_string(), hits, misses }));
        }
        for (database, buckets) in crate::db::take_latency_buckets() {
            let name = database.to_string();
            events.record(AnalyticsEvent::now(EventKind::LatencyBuckets { kind: TimingKind::Db, name, buckets }));
        }
    }

    /// Analytics: rollups, the catalog snapshot with completeness, and the dashboards' reads.
    pub fn analytics(&self) -> crate::analytics::AnalyticsService {
        crate::analytics::AnalyticsService::new(self.router(), self.jobs(), self.exports())
    }

    /// Users, roles, sign-in and tokens (core database), on the system clock.
    pub fn auth(&self) -> crate::auth::AuthService {
        self.auth_with(Arc::new(crate::jobs::SystemClock))
    }

    /// [`Sdk::auth`] on another clock (tests of lockouts and expiry).
    pub fn auth_with(&self, clock: Arc<dyn crate::jobs::Clock>) -> crate::auth::AuthService {
        crate::auth::AuthService::new(
            self.pool(Database::Core).clone(),
            self.inner.token_key.clone(),
            self.inner.config.auth.clone(),
            clock,
        )
        .with_caller_cache(self.inner.callers.clone())
    }

    /// [`Sdk::imports`] over other job queues (another clock or retry schedule: tests, simulations).
    pub fn imports_on(&self, jobs: crate::jobs::JobQueues) -> crate::imports::ImportService {
        let catalog = crate::imports::CatalogAccess {
            pool: self.pool(Database::Catalog).clone(),
            suppliers: self.suppliers(),
            categories: self.categories(),
            cache: self.cache().clone(),
        };
        let (imports, storage) = (self.pool(Database::Imports).clone(), self.storage().clone());
        let secrets = self.inner.secrets.clone();
        crate::imports::ImportService::new(imports, storage, jobs, catalog, self.settings(), secrets)
            .with_folder_policy(self.inner.folder_policy.clone())
            .with_outbound(crate::net::OutboundPolicy::from_config(&self.inner.config))
    }

    /// The job tables of every domain behind one handle, on the system clock and the seed's retry schedule.
    pub fn jobs(&self) -> crate::jobs::JobQueues {
        self.jobs_with(Arc::new(crate::jobs::SystemClock), crate::jobs::RetryPolicy::default())
    }

    /// [`Sdk::jobs`] on another clock or retry schedule (tests, simulations).
    pub fn jobs_with(
        &self,
        clock: Arc<dyn crate::jobs::Clock>,
        policy: crate::jobs::RetryPolicy,
    ) -> crate::jobs::JobQueues {
        crate::jobs::JobQueues::new(|db| self.pool(db).clone(), clock, policy, self.inner.job_wakes.clone())
    }

    /// The generic `tasks` queue (catalog database): catalog and periodic tasks.
    pub fn tasks(&self) -> crate::jobs::TaskQueue {
        self.jobs().table(crate::jobs::JobTable::Tasks).clone()
    }

    /// The queues and their worker counts (the seed's defaults).
    pub const JOB_QUEUES: [(&'static str, usize); 5] =
        [("imports", 4), ("exports", 2), ("code2asin", 3), ("catalog", 2), ("media", 2)];

    /// The queues whose job kinds this version of the core can run. Workers do not claim from the others, so
    /// their jobs wait (visible as queued) for a worker that can run them rather than failing.
    pub const RUNNABLE_QUEUES: [&'static str; 5] = ["imports", "catalog", "media", "code2asin", "exports"];

    fn ftp_source(&self) -> crate::imports::sources::FtpSource {
        crate::imports::sources::FtpSource::new(self.imports())
    }

    fn email_source(&self) -> crate::imports::sources::EmailSource {
        crate::imports::sources::EmailSource::new(self.imports())
    }

    fn http_source(&self) -> crate::imports::sources::HttpSource {
        crate::imports::sources::HttpSource::new(self.imports())
    }

    /// The seed's periodic tasks: schedule name, cron expression (UTC), job kind (on the catalog queue).
    pub const PERIODIC_TASKS: [(&'static str, &'static str, &'static str); 11] = [
        ("poll-ftp", "0 * * * *", "poll_ftp"),
        ("poll-email", "*/15 * * * *", "poll_email"),
        ("poll-http", "10 * * * *", "poll_http"),
        ("scheduled-imports", "*/5 * * * *", "run_import_schedules"),
        ("clean-export-files", "30 3 * * *", "clean_export_files"),
        ("maintain-import-logs", "10 0 * * *", "ensure_import_log_partitions"),
        ("purge-notifications", "20 3 * * *", "purge_notifications"),
        ("remove-media-orphans", "40 3 * * *", "remove_media_orphans"),
        ("fetch-images", "15 * * * *", "fetch_images"),
        ("analytics-rollup", "5 * * * *", "analytics_rollup"),
        ("catalog-snapshot", "25 * * * *", "catalog_snapshot"),
    ];

    /// A scheduler enqueueing [`Sdk::PERIODIC_TASKS`]; start it with
    /// [`Scheduler::start`](crate::jobs::Scheduler::start).
    pub fn scheduler(&self) -> Result<crate::jobs::Scheduler> {
        let mut scheduler = crate::jobs::Scheduler::new(self.jobs());
        for (name, cron, kind) in Self::PERIODIC_TASKS {
            let job = crate::jobs::NewJob {
                queue: "catalog".into(),
                kind: kind.into(),
                // A periodic task that keeps failing is retried until its next tick, not for hours.
                max_attempts: Some(2),
                ..Default::default()
            };
            scheduler = scheduler.schedule(name, cron, job)?;
        }
        Ok(scheduler)
    }

    /// Everything a worker process runs in the background: the job workers of `queues` (empty: every runnable
    /// queue), the scheduler of periodic tasks and the folder import source (a look every 2 s).
    pub fn start_background(&self, owner: &str, queues: &[String]) -> Result<Background> {
        let jobs = self.job_runner(owner, queues)?.start();
        let scheduler = self.scheduler()?.start(Duration::from_secs(5));
        let folders = crate::imports::sources::FolderSource::new(self.imports()).start(Duration::from_secs(2));
        Ok(Background { jobs, scheduler, folders })
    }

    /// Workers for the core's job kinds — `import` on the imports queue; `reindex`, `poll_ftp`, `poll_email`,
    /// `poll_http`, `run_import_schedules`, `clean_export_files`, `ensure_import_log_partitions`, `purge_notifications`,
    /// `analytics_rollup` and `catalog_snapshot` on the catalog queue — named after `owner`, serving `queues`
    /// (empty: every runnable queue). Start them with [`JobRunner::start`](crate::jobs::JobRunner::start).
    pub fn job_runner(&self, owner: &str, queues: &[String]) -> Result<crate::jobs::JobRunner> {
        if let Some(unknown) = queues.iter().find(|q| !Self::RUNNABLE_QUEUES.contains(&q.as_str())) {
            return Err(crate::catalog::CatalogError::invalid(
                "queue",
                format!(
                    "no workers for queue {unknown:?} in this version; runnable: {}",
                    Self::RUNNABLE_QUEUES.join(", ")
                ),
            )
            .into());
        }
        let (products, ftp, email, imports) = (self.products(), self.ftp_source(), self.email_source(), self.imports());
        let exports = self.exports();
        let notifications = self.notifications();
        let mut runner = crate::jobs::JobRunner::new(self.jobs(), owner)
            .on_change(move |job| {
                let notifications = notifications.clone();
                async move { notifications.job_changed(job).await }
            })
            .handle("reindex", move |_job| {
                let products = products.clone();
                async move { retry_on_error(products.reindex().await) }
            })
            .handle("poll_ftp", move |_job| {
                let ftp = ftp.clone();
                async move { retry_on_error(ftp.poll().await) }
            })
            .handle("poll_email", move |_job| {
                let email = email.clone();
                async move { retry_on_error(email.poll().await) }
            })
            .handle("poll_http", {
                let http = self.http_source();
                move |_job| {
                    let http = http.clone();
                    async move { retry_on_error(http.poll().await) }
                }
            })
            .handle("run_import_schedules", move |_job| {
                let imports = imports.clone();
                async move { retry_on_error(imports.run_due_schedules().await) }
            })
            .handle("ensure_import_log_partitions", {
                let imports = self.imports();
                move |_job| {
                    let imports = imports.clone();
                    async move { retry_on_error(imports.ensure_log_partitions().await) }
                }
            })
            .handle("import", {
                let (imports, notifications, media) = (self.imports(), self.notifications(), self.media());
                move |job| {
                    let (imports, notifications, media) = (imports.clone(), notifications.clone(), media.clone());
                    async move {
                        let progress = |counters: &crate::imports::ImportProgress| {
                            notifications.job_progress(&job, serde_json::to_value(counters).unwrap_or_default());
                        };
                        let outcome = imports.run_job(job.id, progress).await;
                        // The image URLs of the file are fetched on the media queue (the hourly run catches up
                        // if this enqueue fails).
                        if outcome.is_ok()
                            && let Err(e) = media.fetch_later(job.id).await
                        {
                            tracing::warn!(job = %job.id, error = %e, "image fetching not queued after the import");
                        }
                        import_outcome(outcome)
                    }
                }
            })
            .handle("purge_notifications", {
                let (notifications, settings) = (self.notifications(), self.settings());
                move |_job| {
                    let (notifications, settings) = (notifications.clone(), settings.clone());
                    async move {
                        let purged = async {
                            let days = settings.get::<u32>("notifications.retention_days").await?;
                            notifications.purge_read(days).await
                        };
                        retry_on_error(purged.await)
                    }
                }
            })
            .handle("thumbnails", {
                let media = self.media();
                move |job| {
                    let media = media.clone();
                    async move {
                        let id = job
                            .payload
                            .get("media_file_id")
                            .and_then(|v| v.as_str())
                            .and_then(|v| uuid::Uuid::parse_str(v).ok());
                        let Some(id) = id else {
                            return Err(crate::jobs::JobFailure::Permanent("payload has no media_file_id".into()));
                        };
                        // An image deleted meanwhile, or one that no longer decodes, will not do better later.
                        import_outcome(media.make_thumbnails(id).await)
                    }
                }
            })
            .handle("fetch_images", {
                let media = self.media();
                move |_job| {
                    let media = media.clone();
                    async move { retry_on_error(media.fetch_pending().await) }
                }
            })
            .handle("remove_media_orphans", {
                let media = self.media();
                move |_job| {
                    let media = media.clone();
                    // An upload stores its object a moment before its row: only older objects can be orphans.
                    async move { retry_on_error(media.remove_orphans(Duration::from_secs(3600)).await) }
                }
            })
            .handle("code2asin", {
                let (code2asin, notifications) = (self.code2asin(), self.notifications());
                move |job| {
                    let (code2asin, notifications) = (code2asin.clone(), notifications.clone());
                    async move {
                        let progress = |counts: &crate::code2asin::Code2AsinCounts| {
                            notifications.job_progress(&job, serde_json::to_value(counts).unwrap_or_default());
                        };
                        import_outcome(code2asin.run_job(&job, progress).await)
                    }
                }
            })
            .handle("feed", {
                let (exports, notifications) = (self.exports(), self.notifications());
                move |job| {
                    let (exports, notifications) = (exports.clone(), notifications.clone());
                    async move {
                        let progress = |counts: crate::exports::FeedProgress| {
                            notifications.job_progress(&job, serde_json::to_value(counts).unwrap_or_default());
                        };
                        import_outcome(exports.run_feed_job(job.id, progress).await)
                    }
                }
            })
            .handle("platform", {
                let (exports, notifications) = (self.exports(), self.notifications());
                move |job| {
                    let (exports, notifications) = (exports.clone(), notifications.clone());
                    async move {
                        let progress = |counts: crate::exports::PlatformRunCounts| {
                            notifications.job_progress(&job, serde_json::to_value(counts).unwrap_or_default());
                        };
                        import_outcome(exports.run_platform_job(job.id, progress).await)
                    }
                }
            })
            .handle("analytics_rollup", {
                let (analytics, settings) = (self.analytics(), self.settings());
                move |_job| {
                    let (analytics, settings) = (analytics.clone(), settings.clone());
                    async move {
                        // Rolled up first: the raw rows of yesterday are still there when it reads them.
                        let work = async {
                            analytics.roll_up_recent().await?;
                            let days = settings.get::<u32>("analytics.raw_retention_days").await?;
                            analytics.purge_raw(days).await
                        };
                        retry_on_error(work.await)
                    }
                }
            })
            .handle("catalog_snapshot", {
                let analytics = self.analytics();
                move |_job| {
                    let analytics = analytics.clone();
                    async move { retry_on_error(analytics.take_catalog_snapshot().await) }
                }
            })
            .handle("clean_export_files", move |_job| {
                let exports = exports.clone();
                // A file younger than a day may belong to an export still running.
                async move { retry_on_error(exports.clean_orphaned_files(Duration::from_secs(86_400)).await) }
            });
        for (queue, concurrency) in Self::JOB_QUEUES {
            let wanted = if queues.is_empty() {
                Self::RUNNABLE_QUEUES.contains(&queue)
            } else {
                queues.iter().any(|q| q == queue)
            };
            if wanted {
                runner = runner.queue(queue, concurrency);
            }
        }
        Ok(runner)
    }

    fn connect_timeout(&self) -> u64 {
        self.inner.config.database.connect_timeout_secs
    }

    fn pending(&self) -> BTreeSet<Database> {
        self.inner.pending.lock().map(|p| p.clone()).unwrap_or_default()
    }

    fn set_pending(&self, pending: BTreeSet<Database>) {
        if let Ok(mut guard) = self.inner.pending.lock() {
            *guard = pending;
        }
    }

    fn clear_pending(&self, db: Database) {
        if let Ok(mut guard) = self.inner.pending.lock() {
            guard.remove(&db);
        }
    }

    /// Creates (PostgreSQL, when we opened the pools) and migrates one database.
    async fn prepare(&self, db: Database) -> Result<usize, DbError> {
        if self.inner.owns_pools {
            db::ensure_database_exists(&self.inner.config, db).await?;
        }
        let applied = db::migrate_database(self.pool(db), db, self.connect_timeout()).await?;
        self.clear_pending(db);
        Ok(applied)
    }

    /// Each database's status and round-trip latency, checked concurrently; one that is down is named and
    /// does not delay the others beyond `database.connect_timeout_secs`.
    pub async fn health(&self) -> HealthReport {
        let pending = self.pending();
        let seconds = self.connect_timeout();
        let checks = Database::ALL.map(|db| db::check_database(self.pool(db), db, seconds, pending.contains(&db)));
        HealthReport::from_checks(join_all(checks).await)
    }

    /// Whether this instance can take traffic: every database up with its migrations applied. Redis is reported
    /// but does not decide it: without L2 the cache serves from L1 and the databases (`degraded`).
    pub async fn readiness(&self) -> Readiness {
        let (databases, redis) = futures_util::join!(self.health(), self.cache().redis_health());
        let mut degraded = Vec::new();
        let mut essential_down = false;
        for db in &databases.databases {
            if db.status == crate::db::HealthStatus::Up {
                continue;
            }
            essential_down |= Readiness::ESSENTIAL.contains(&db.database);
            degraded.push(format!("database {}: {}", db.database, db.error.as_deref().unwrap_or("down")));
        }
        if redis.status == crate::cache::RedisStatus::Down {
            degraded.push(format!("redis: {}", redis.error.as_deref().unwrap_or("down")));
        }
        let status = match (essential_down, degraded.is_empty()) {
            (true, _) => ReadinessStatus::NotReady,
            (false, false) => ReadinessStatus::Degraded,
            (false, true) => ReadinessStatus::Ready,
        };
        Readiness { status, degraded, databases, redis }
    }

    /// Applies pending migrations to all seven databases; returns how many each got. Idempotent.
    pub async fn migrate(&self) -> Result<Vec<(Database, usize)>> {
        let outcomes = join_all(Database::ALL.map(|db| self.prepare(db))).await;
        let mut applied = Vec::with_capacity(outcomes.len());
        for (db, outcome) in Database::ALL.into_iter().zip(outcomes) {
            applied.push((db, outcome?));
        }
        Ok(applied)
    }

    /// Applied and pending migrations of every database.
    pub async fn migration_status(&self) -> Result<Vec<MigrationStatus>> {
        let seconds = self.connect_timeout();
        let statuses = join_all(Database::ALL.map(|db| db::migration_status(self.pool(db), db, seconds))).await;
        Ok(statuses.into_iter().collect::<Result<Vec<_>, DbError>>()?)
    }

    /// Retries the migrations of databases that were unreachable at start; returns those still pending.
    pub async fn retry_pending_migrations(&self) -> BTreeSet<Database> {
        for db in self.pending() {
            match self.prepare(db).await {
                Ok(_) => tracing::info!(database = %db, "database reachable again and migrated"),
                Err(e) => tracing::debug!(database = %db, error = %e, "database still not ready"),
            }
        }
        self.pending()
    }

    /// Writes what the activity log still holds, then closes every pool. Services fail afterwards; call it before
    /// dropping databases or exiting.
    pub async fn close(&self) {
        // Bounded: with the analytics database down, the log's entries are lost, not the caller's exit.
        if tokio::time::timeout(ACTIVITY_FLUSH, self.inner.activity.flush()).await.is_err() {
            tracing::warn!("activity log not written before closing");
        }
        self.record_counters();
        if tokio::time::timeout(ACTIVITY_FLUSH, self.inner.analytics_events.flush()).await.is_err() {
            tracing::warn!("analytics events not written before closing");
        }
        join_all(Database::ALL.map(|db| self.pool(db).close())).await;
    }
}

/// How long closing waits for the activity log to be written.
const ACTIVITY_FLUSH: Duration = Duration::from_secs(5);

/// How often the cache's counts per kind and the databases' latencies go to the analytics events.
const CACHE_SAMPLE_INTERVAL: Duration = Duration::from_secs(60);

fn spawn_cache_sampler(inner: Weak<Inner>, interval: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            // Stop when the SDK has been dropped.
            let Some(inner) = inner.upgrade() else { break };
            Sdk { inner }.record_counters();
        }
    });
}

fn spawn_retry(inner: Weak<Inner>, interval: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            // Stop when the SDK has been dropped.
            let Some(inner) = inner.upgrade() else { break };
            let sdk = Sdk { inner };
            if sdk.retry_pending_migrations().await.is_empty() {
                break;
            }
        }
    });
}

/// Fails early, naming the setting, when a folder the configuration puts local data in cannot be written.
fn check_local_folders(config: &Config) -> Result<(), ConfigError> {
    // The data folder holds the databases, secrets and (by default) the objects: its owner's only.
    let data = if config.data_dir.as_os_str().is_empty() { Path::new(".") } else { config.data_dir.as_path() };
    if data != Path::new(".") {
        crate::files::private_folder(data, true)
            .map_err(|e| config.setting_error("data_dir", format!("cannot create folder {}: {e}", data.display())))?;
    }
    for db in Database::ALL {
        if let DatabaseLocation::SqliteFile(path) = config.database_location(db) {
            let key = if config.database.settings(db).url.is_some() {
                format!("database.{}.url", db.name())
            } else if config.database.url.is_some() {
                "database.url".to_string()
            } else {
                "data_dir".to_string()
            };
            let folder = path.parent().unwrap_or(Path::new("."));
            check_writable(folder).map_err(|reason| config.setting_error(&key, reason))?;
        }
    }
    if config.storage.backend == StorageBackend::Local {
        let key = if config.storage.local_dir.is_some() { "storage.local_dir" } else { "data_dir" };
        check_writable(&config.storage_dir()).map_err(|reason| config.setting_error(key, reason))?;
    }
    Ok(())
}

fn check_writable(folder: &Path) -> Result<(), String> {
    let folder = if folder.as_os_str().is_empty() { Path::new(".") } else { folder };
    crate::files::private_folder(folder, false)
        .map_err(|e| format!("cannot create folder {}: {e}", folder.display()))?;
    let probe = folder.join(format!(".pm-write-check-{}", uuid::Uuid::new_v4()));
    std::fs::write(&probe, b"ok").map_err(|e| format!("folder {} is not writable: {e}", folder.display()))?;
    // The probe is ours; failing to remove it is harmless.
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn job_errors_carry_their_causes() {
        let query = crate::db::DbError::from_sqlx(
            crate::db::Database::Catalog,
            sqlx::Error::Protocol("database is locked".into()),
        );
        let text = super::with_causes(&query.into());
        assert!(text.starts_with("database `catalog`") && text.ends_with("database is locked"), "{text}");
    }
}

/// What [`Sdk::readiness`] found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Readiness {
    pub status: ReadinessStatus,
    /// What does not work while the rest does: each database down but not essential, and Redis (with why).
    pub degraded: Vec<String>,
    pub databases: HealthReport,
    pub redis: crate::cache::RedisHealth,
}

/// `ready`, `degraded` (ready; Redis or a database other than core and catalog down) or `not_ready` (core or
/// catalog down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessStatus {
    Ready,
    Degraded,
    NotReady,
}

impl Readiness {
    /// The databases without which this process serves nothing: accounts and keys (core) and the catalog. Any
    /// other database down only degrades it (imports, exports, media, Code2ASIN or analytics answer 503 meanwhile).
    pub const ESSENTIAL: [Database; 2] = [Database::Core, Database::Catalog];

    /// Whether a load balancer should send traffic here.
    pub fn is_ready(&self) -> bool {
        self.status != ReadinessStatus::NotReady
    }
}
