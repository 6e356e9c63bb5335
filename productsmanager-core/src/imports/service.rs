//! [`ImportService`].

use std::sync::Arc;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::db_error;
use super::model::ConfigRow;
use super::repo::{self, NewConfigRow};
use super::{
    Credentials, ImportConfig, ImportError, ImportFile, ImportSchedule, MappingTemplate, NewImportConfig,
    NewMappingTemplate, ScheduleRun, SourceKind, TakenFile, secrets,
};
use crate::Result;
use crate::auth::SecretBox;
use crate::cache::TieredCache;
use crate::catalog::{CategoryService, SupplierService};
use crate::db::{DbError, DbPool};
use crate::jobs::{JobQueues, JobRow};
use crate::settings::SettingsService;
use crate::storage::ObjectStorage;

/// What imports need of the catalog.
#[derive(Debug, Clone)]
pub struct CatalogAccess {
    /// The catalog database.
    pub pool: DbPool,
    pub suppliers: SupplierService,
    pub categories: CategoryService,
    pub cache: TieredCache,
}

/// Import configurations, the files their sources take, mapping templates, and the import engine.
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk, supplier: uuid::Uuid) -> productsmanager_core::Result<()> {
/// use productsmanager_core::imports::{NewImportConfig, SourceKind};
///
/// let config = sdk.imports().create_config(NewImportConfig {
///     name: "Acme drop folder".into(),
///     supplier_id: supplier,
///     source_kind: SourceKind::Folder,
///     source_settings: serde_json::json!({ "path": "/srv/drop/acme" }),
///     credentials: None,
///     mapping_template_id: None,
///     preset: None,
///     options: serde_json::json!({}),
/// }).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ImportService {
    pub(in crate::imports) pool: DbPool,
    pub(in crate::imports) storage: ObjectStorage,
    pub(in crate::imports) jobs: JobQueues,
    pub(in crate::imports) suppliers: SupplierService,
    /// Where imports write: the catalog database, its categories and cache.
    pub(in crate::imports) catalog: DbPool,
    pub(in crate::imports) categories: CategoryService,
    pub(in crate::imports) cache: TieredCache,
    /// Application settings (the default preset).
    pub(in crate::imports) settings: SettingsService,
    /// Seals the credentials of sources.
    pub(in crate::imports) secrets: Arc<SecretBox>,
    /// Where folder sources may look (nowhere unless set).
    pub(in crate::imports) folder_policy: Arc<super::sources::FolderPolicy>,
    /// What FTP and IMAP hosts may be reached ([`crate::net`]).
    pub(in crate::imports) outbound: crate::net::OutboundPolicy,
}

impl ImportService {
    /// The service over the imports database `pool`, storing files in `storage`, importing into the catalog.
    pub fn new(
        pool: DbPool,
        storage: ObjectStorage,
        jobs: JobQueues,
        catalog: CatalogAccess,
        settings: SettingsService,
        secrets: Arc<SecretBox>,
    ) -> Self {
        let CatalogAccess { pool: catalog, suppliers, categories, cache } = catalog;
        let folder_policy = Arc::default();
        let outbound = crate::net::OutboundPolicy::default();
        ImportService {
            pool,
            storage,
            jobs,
            suppliers,
            catalog,
            categories,
            cache,
            settings,
            secrets,
            folder_policy,
            outbound,
        }
    }

    /// The same service reaching FTP and IMAP hosts under `policy` (public addresses only by default).
    pub fn with_outbound(mut self, policy: crate::net::OutboundPolicy) -> Self {
        self.outbound = policy;
        self
    }

    /// The service with folder sources allowed where `policy` says (with none given, folder sources are off).
    pub fn with_folder_policy(mut self, policy: Arc<super::sources::FolderPolicy>) -> Self {
        self.folder_policy = policy;
        self
    }

    /// Where folder sources may look.
    pub fn folder_policy(&self) -> &super::sources::FolderPolicy {
        &self.folder_policy
    }

    /// Creates an import configuration; its source settings are checked for its kind and its credentials sealed.
    pub async fn create_config(&self, input: NewImportConfig) -> Result<ImportConfig> {
        let name = input.name.trim();
        if name.is_empty() {
            return Err(ImportError::invalid("name", "must not be empty").into());
        }
        super::sources::check_settings(input.source_kind, &input.source_settings, &self.folder_policy)?;
        self.suppliers.get(input.supplier_id).await?;
        if input.mapping_template_id.is_some() && input.preset.is_some() {
            return Err(ImportError::invalid("preset", "give a mapping template or a preset, not both").into());
        }
        if let Some(template) = input.mapping_template_id {
            self.template(template)
                .await
                .map_err(|_| ImportError::invalid("mapping_template_id", format!("no mapping template {template}")))?;
        }
        let id = Uuid::now_v7();
        let credentials = input.credentials.as_ref().map(|c| secrets::seal(&self.secrets, id, c)).transpose()?;
        let options = if input.options.is_null() { serde_json::json!({}) } else { input.options.clone() };
        serde_json::from_value::<super::ImportOptions>(options.clone())
            .map_err(|e| ImportError::invalid("options", e.to_string()))?
            .check()?;
        let row = NewConfigRow {
            id,
            name,
            supplier_id: input.supplier_id,
            source_kind: input.source_kind.as_str(),
            source_settings: &input.source_settings,
            credentials,
            options: &options,
            mapping_template_id: input.mapping_template_id,
            preset: input.preset.map(super::mapping::Preset::as_str),
            now: self.jobs.now(),
        };
        let stored = repo::insert_config(&self.pool, row).await.map_err(|e| match DbError::unique_violation(&e) {
            Some(_) => crate::Error::from(ImportError::Duplicate { field: "name", value: name.to_string() }),
            None => db_error(e),
        })?;
        Ok(stored.into_config())
    }

    async fn row(&self, id: Uuid) -> Result<ConfigRow> {
        repo::config_by_id(&self.pool, id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| ImportError::NotFound { entity: "import configuration", id: id.to_string() }.into())
    }

    /// An import configuration by id.
    pub async fn config(&self, id: Uuid) -> Result<ImportConfig> {
        Ok(self.row(id).await?.into_config())
    }

    /// The import configuration a person names: its id or its (unique) name.
    pub async fn find_config(&self, key: &str) -> Result<ImportConfig> {
        let key = key.trim();
        if let Ok(id) = Uuid::parse_str(key) {
            return self.config(id).await;
        }
        self.configs()
            .await?
            .into_iter()
            .find(|c| c.name == key)
            .ok_or_else(|| ImportError::NotFound { entity: "import configuration", id: key.to_string() }.into())
    }

    /// Creates the monthly partitions of `import_logs` for this month and the next two where missing (PostgreSQL;
    /// nothing on SQLite), so log rows never pile up in the default partition. Run daily by the scheduler
    /// (`maintain-import-logs`). Returns the partitions made.
    pub async fn ensure_log_partitions(&self) -> Result<Vec<String>> {
        use chrono::Datelike;
        let today = self.jobs.now().date_naive();
        let first = today.with_day(1).unwrap_or(today);
        let months: Vec<chrono::NaiveDate> =
            (0..3).filter_map(|n| first.checked_add_months(chrono::Months::new(n))).collect();
        repo::ensure_log_partitions(&self.pool, &months).await.map_err(db_error)
    }

    /// Deletes a configuration and its schedules; the files it took and their jobs stay (history).
    pub async fn delete_config(&self, id: Uuid) -> Result<()> {
        if repo::delete_config(&self.pool, id).await.map_err(db_error)? {
            Ok(())
        } else {
            Err(ImportError::NotFound { entity: "import configuration", id: id.to_string() }.into())
        }
    }

    /// The stored login of a configuration, opened.
    pub(crate) async fn credentials(&self, id: Uuid) -> Result<Option<Credentials>> {
        let row = self.row(id).await?;
        Ok(row.credentials_encrypted.as_deref().map(|sealed| secrets::open(&self.secrets, id, sealed)).transpose()?)
    }

    /// Every import configuration, by name.
    pub async fn configs(&self) -> Result<Vec<ImportConfig>> {
        let rows = repo::all_configs(&self.pool).await.map_err(db_error)?;
        Ok(rows.into_iter().map(ConfigRow::into_config).collect())
    }

    /// Active configurations taking files from `kind` sources.
    pub async fn active_configs(&self, kind: SourceKind) -> Result<Vec<ImportConfig>> {
        let rows = repo::active_configs_of_kind(&self.pool, kind.as_str()).await.map_err(db_error)?;
        Ok(rows.into_iter().map(ConfigRow::into_config).collect())
    }

    /// A stored file by id.
    pub async fn file(&self, id: Uuid) -> Result<ImportFile> {
        repo::file_by_id(&self.pool, id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| ImportError::NotFound { entity: "import file", id: id.to_string() }.into())
    }

    /// Saves a mapping template: version 1 of a new name, the next version of an existing one. The definition
    /// is checked first (transforms compile, each single field fed once, the supplier SKU mapped).
    pub async fn save_template(&self, input: NewMappingTemplate) -> Result<MappingTemplate> {
        if input.name.trim().is_empty() {
            return Err(ImportError::invalid("name", "must not be empty").into());
        }
        input.definition.check().map_err(|e| match e {
            ImportError::Invalid { field, reason } => {
                ImportError::Invalid { field: format!("definition.{field}"), reason }
            }
            other => other,
        })?;
        if let Some(supplier) = input.supplier_id {
            self.suppliers.get(supplier).await?;
        }
        let definition =
            serde_json::to_value(&input.definition).map_err(|e| ImportError::invalid("definition", e.to_string()))?;
        let stored = repo::insert_template(&self.pool, Uuid::now_v7(), &input, &definition, self.jobs.now())
            .await
            .map_err(|e| match DbError::unique_violation(&e) {
                Some(_) => crate::Error::from(ImportError::Duplicate { field: "name", value: input.name.clone() }),
                None => db_error(e),
            })?;
        Ok(stored.into_template()?)
    }

    /// A mapping template (one version) by id.
    pub async fn template(&self, id: Uuid) -> Result<MappingTemplate> {
        let row = repo::template_by_id(&self.pool, id).await.map_err(db_error)?;
        let row = row.ok_or_else(|| ImportError::NotFound { entity: "mapping template", id: id.to_string() })?;
        Ok(row.into_template()?)
    }

    /// A mapping template by name: the given version, else the latest.
    pub async fn template_named(&self, name: &str, version: Option<i32>) -> Result<MappingTemplate> {
        let row = repo::template_by_name(&self.pool, name.trim(), version).await.map_err(db_error)?;
        let shown = match version {
            Some(v) => format!("{name} v{v}"),
            None => name.to_string(),
        };
        let row = row.ok_or(ImportError::NotFound { entity: "mapping template", id: shown })?;
        Ok(row.into_template()?)
    }

    /// A mapping template by any key a person types: its id, its name (the latest version) or `name@version`.
    pub async fn find_template(&self, key: &str) -> Result<MappingTemplate> {
        let key = key.trim();
        if let Ok(id) = Uuid::parse_str(key) {
            return self.template(id).await;
        }
        match key.rsplit_once('@') {
            Some((name, version)) => {
                let version = version.parse::<i32>().map_err(|_| {
                    ImportError::invalid("template", format!("{version:?} is not a version number (name@2)"))
                })?;
                self.template_named(name, Some(version)).await
            }
            None => self.template_named(key, None).await,
        }
    }

    /// The latest version of every mapping template, by name.
    pub async fn templates(&self) -> Result<Vec<MappingTemplate>> {
        let rows = repo::latest_templates(&self.pool).await.map_err(db_error)?;
        Ok(rows.into_iter().map(|r| r.into_template()).collect::<Result<_, _>>()?)
    }

    /// Every version of a mapping template, oldest first.
    pub async fn template_versions(&self, name: &str) -> Result<Vec<MappingTemplate>> {
        let rows = repo::template_versions(&self.pool, name.trim()).await.map_err(db_error)?;
        Ok(rows.into_iter().map(|r| r.into_template()).collect::<Result<_, _>>()?)
    }

    /// Deletes one version of a mapping template (jobs and configurations that used it keep their history; a
    /// configuration using it falls back to the `native` preset).
    pub async fn delete_template(&self, id: Uuid) -> Result<()> {
        if repo::delete_template(&self.pool, id).await.map_err(db_error)? {
            Ok(())
        } else {
            Err(ImportError::NotFound { entity: "mapping template", id: id.to_string() }.into())
        }
    }

    /// Files a configuration took, oldest first.
    pub async fn files(&self, config: Uuid) -> Result<Vec<ImportFile>> {
        repo::files_of_config(&self.pool, config).await.map_err(db_error)
    }

    /// Whether the configuration already took the file with this fingerprint (to skip a download).
    pub async fn already_taken(&self, config: Uuid, fingerprint: &str) -> Result<bool> {
        Ok(repo::file_by_fingerprint(&self.pool, config, fingerprint).await.map_err(db_error)?.is_some())
    }

    /// The last file a configuration's source took, if any (an HTTP source asks for the next one conditionally).
    pub(crate) async fn last_file_of(&self, config: Uuid) -> Result<Option<ImportFile>> {
        repo::last_file_of_config(&self.pool, config).await.map_err(db_error)
    }

    /// Records that a source was polled now.
    pub(crate) async fn mark_polled(&self, config: Uuid) -> Result<()> {
        repo::mark_polled(&self.pool, config, self.jobs.now()).await.map_err(db_error)
    }

    /// Adds a cron schedule (UTC) to an FTP(S), e-mail or HTTP configuration: its source is polled at each tick
    /// (checked every 5 minutes, as the seed did), besides the hourly / quarter-hourly periodic polls.
    pub async fn create_schedule(&self, config: Uuid, cron: &str, timezone: &str) -> Result<ImportSchedule> {
        let config = self.config(config).await?;
        if !matches!(config.source_kind, SourceKind::Ftp | SourceKind::Ftps | SourceKind::Email | SourceKind::Http) {
            return Err(ImportError::invalid(
                "import_config_id",
                format!(
                    "{} sources are not polled on a schedule (only ftp, ftps, email and http)",
                    config.source_kind.as_str()
                ),
            )
            .into());
        }
        if timezone != "UTC" {
            return Err(ImportError::invalid("timezone", "only UTC is supported so far").into());
        }
        let parsed = parse_cron(cron)?;
        let now = self.jobs.now();
        let schedule = ImportSchedule {
            id: Uuid::now_v7(),
            import_config_id: config.id,
            cron: cron.trim().to_string(),
            timezone: timezone.to_string(),
            is_active: true,
            next_run_at: Some(next_tick(&parsed, now)?),
            last_run_at: None,
            created_at: now,
        };
        repo::insert_schedule(&self.pool, &schedule).await.map_err(db_error)
    }

    /// The schedules of a configuration.
    pub async fn schedules(&self, config: Uuid) -> Result<Vec<ImportSchedule>> {
        repo::schedules_of_config(&self.pool, config).await.map_err(db_error)
    }

    /// Polls the source of every schedule whose tick has come, once per schedule even when ticks were missed and
    /// even with several processes running this (each schedule moves on by compare-and-set; the winner runs it).
    /// Returns the runs this call made; a source that fails is retried at the schedule's next tick, and named in
    /// the error.
    pub async fn run_due_schedules(&self) -> Result<Vec<ScheduleRun>> {
        let now = self.jobs.now();
        let mut runs = Vec::new();
        let mut failed = Vec::new();
        for schedule in repo::due_schedules(&self.pool, now).await.map_err(db_error)? {
            let Some(due) = schedule.next_run_at else { continue };
            let next = match parse_cron(&schedule.cron).and_then(|cron| next_tick(&cron, now)) {
                Ok(next) => next,
                Err(e) => {
                    failed.push(format!("schedule {}: {e}", schedule.id));
                    continue;
                }
            };
            if !repo::advance_schedule(&self.pool, schedule.id, due, next, now).await.map_err(db_error)? {
                continue; // another process runs this tick
            }
            let config = self.config(schedule.import_config_id).await?;
            let polled = match config.source_kind {
                SourceKind::Ftp | SourceKind::Ftps => {
                    super::sources::FtpSource::new(self.clone()).poll_config(&config).await
                }
                SourceKind::Email => super::sources::EmailSource::new(self.clone()).poll_config(&config).await,
                SourceKind::Http => super::sources::HttpSource::new(self.clone()).poll_config(&config).await,
                _ => Ok(Vec::new()),
            };
            match polled {
                Ok(taken) => runs.push(ScheduleRun { schedule: schedule.id, tick: due, taken }),
                Err(e) => failed.push(e.to_string()),
            }
        }
        if failed.is_empty() {
            Ok(runs)
        } else {
            Err(ImportError::Source { config: "schedules".into(), reason: failed.join("; ") }.into())
        }
    }

    /// Keeps a file a source found and queues its import job, once per `(configuration, fingerprint)`: `None` when
    /// the file was taken before (by this process or another one watching the same source).
    pub async fn take_file(
        &self,
        config: &ImportConfig,
        name: &str,
        bytes: Bytes,
        fingerprint: &str,
    ) -> Result<Option<TakenFile>> {
        if self.already_taken(config.id, fingerprint).await? {
            return Ok(None);
        }
        let file_id = Uuid::now_v7();
        let object_key = format!("imports/{}/{file_id}/{}", config.supplier_id, storage_name(name));
        let file = ImportFile {
            id: file_id,
            import_config_id: Some(config.id),
            supplier_id: Some(config.supplier_id),
            name: name.to_string(),
            size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            sha256: format!("{:x}", Sha256::digest(&bytes)),
            object_key: object_key.clone(),
            source_kind: config.source_kind.as_str().to_string(),
            source_fingerprint: Some(fingerprint.to_string()),
            created_at: self.jobs.now(),
        };
        // A source reading each file with the preset its header shows: the job names the one detected.
        let auto = config.preset.as_deref() == Some(super::mapping::Preset::Auto.as_str());
        let detected = if auto { Some(detect_preset_of(config, name, &bytes).await?.as_str()) } else { None };
        // The bytes first: a row never points at a missing object. A lost race leaves an object to remove.
        self.storage.put(&object_key, bytes).await.map_err(ImportError::from)?;
        let stored = repo::insert_file_and_job(&self.pool, &file, Uuid::now_v7(), detected).await;
        match stored {
            Ok(Some((file, job))) => {
                self.jobs.for_queue("imports").notify("imports");
                tracing::info!(config = %config.name, file = %file.name, job = %job.id, "file taken for import");
                Ok(Some(TakenFile { file, job: JobRow::into_job(job) }))
            }
            Ok(None) => {
                self.storage.delete(&object_key).await.map_err(ImportError::from)?;
                Ok(None)
            }
            Err(e) => {
                if let Err(cleanup) = self.storage.delete(&object_key).await {
                    tracing::warn!(key = %object_key, error = %cleanup, "stored file left behind");
                }
                Err(db_error(e))
            }
        }
    }
}

/// The preset a file's header shows (the `native` layout when none stands out), read from a temporary copy.
async fn detect_preset_of(config: &ImportConfig, name: &str, bytes: &Bytes) -> Result<super::mapping::Preset> {
    let options: super::ImportOptions = serde_json::from_value(config.options.clone()).unwrap_or_default();
    let (name, bytes) = (name.to_string(), bytes.clone());
    let detect = move || -> std::io::Result<super::mapping::Preset> {
        let mut copy = tempfile::NamedTempFile::new()?;
        std::io::Write::write_all(&mut copy, &bytes)?;
        Ok(super::engine::detect_preset(copy.path(), &name, &options))
    };
    let failed = |reason: String| ImportError::Source { config: config.name.clone(), reason };
    let detected = tokio::task::spawn_blocking(detect).await.map_err(|e| failed(e.to_string()))?;
    Ok(detected.map_err(|e| failed(format!("a temporary copy to read the header from: {e}")))?)
}

fn parse_cron(cron: &str) -> Result<croner::Cron> {
    use std::str::FromStr;
    croner::Cron::from_str(cron.trim())
        .map_err(|e| ImportError::invalid("cron", format!("{cron:?} is not a cron expression ({e})")).into())
}

/// The first tick of `cron` after `now`.
fn next_tick(cron: &croner::Cron, now: chrono::DateTime<chrono::Utc>) -> Result<chrono::DateTime<chrono::Utc>> {
    cron.find_next_occurrence(&now, false)
        .map_err(|e| ImportError::invalid("cron", format!("{} never fires ({e})", cron.pattern)).into())
}

/// A file name safe as the last segment of a storage key.
pub(in crate::imports) fn storage_name(name: &str) -> String {
    let cleaned: String =
        name.chars().map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    if cleaned.trim_matches('.').is_empty() { "file".to_string() } else { cleaned }
}
