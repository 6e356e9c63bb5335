//! Running an import job: [`ImportService::run_job`] (a worker, or in-process through
//! [`ImportService::import_file`]), and uploads.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Deserialize;
use uuid::Uuid;

use super::catalog_repo;
use super::load::Loader;
use super::reader::{self, Message, ReadJob, TemplateSource};
use super::repo::{self, Counters, ImportJobRow, ImportStatistics, NewUploadJob};
use super::{DEFAULT_FAILED_ABOVE_PERCENT, ImportOptions, ImportOutcome, ImportProgress, ImportSummary, RowError};
use crate::Result;
use crate::imports::error::{catalog_db_error, db_error};
use crate::imports::mapping::{HeaderText, Preset};
use crate::imports::{ImportError, ImportFile, ImportJob, ImportService, SourceKind};
use crate::jobs::{JobFailure, JobState};

/// A file to import.
#[derive(Debug, Clone, Deserialize)]
pub struct NewImport {
    pub supplier_id: Uuid,
    /// The file's name as sent (shown in errors and reports).
    pub name: String,
    /// Where the file is now; it is copied into the object store.
    pub path: PathBuf,
    /// A stored mapping template (its id)…
    #[serde(default)]
    pub template: Option<Uuid>,
    /// …or a preset; neither: the supplier's configuration's, else the `imports.default_preset` setting
    /// (`native`).
    #[serde(default)]
    pub preset: Option<Preset>,
    /// Read, map, check and compare, writing nothing to the catalog.
    #[serde(default)]
    pub dry_run: bool,
    /// Import even when the same content was imported before.
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub options: ImportOptions,
    /// The user asking, told when the import ends (set by the adapter from the credentials).
    #[serde(skip)]
    pub requested_by: Option<Uuid>,
}

/// How long an in-process import's lease lasts; renewed at a third of it.
const INLINE_LEASE: Duration = Duration::from_secs(60);

/// The lease owner of an in-process import: `inline:{boot}:{pid namespace}:{uid}:{pid}:{start}:{unique}`, so that a
/// rerun on the same machine (same boot, same process namespace, same user) can tell its process is gone without
/// waiting for the lease to expire. Anywhere else (another machine or container, another user whose processes
/// `/proc` may hide, not Linux) the lease decides.
struct InlineOwner;

impl InlineOwner {
    fn this_process() -> String {
        let pid = std::process::id();
        let start = process_start(pid).unwrap_or_default();
        format!("inline:{}:{pid}:{start}:{}", Self::place().unwrap_or_default(), Uuid::now_v7())
    }

    /// This boot, process namespace and user, when they can be read (Linux).
    fn place() -> Option<String> {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let namespace = std::fs::read_link("/proc/self/ns/pid").ok()?;
        let uid = std::fs::read_to_string("/proc/self/status").ok()?.lines().find_map(|line| {
            line.strip_prefix("Uid:").map(|ids| ids.split_whitespace().next().unwrap_or("").to_string())
        })?;
        let namespace = namespace.to_string_lossy().replace(':', "_");
        Some(format!("{}:{namespace}:{uid}", boot.trim()))
    }

    /// Whether `owner` is an in-process import of this boot, namespace and user whose process no longer runs (no
    /// such process, or another one since started under its number).
    fn is_gone(owner: &str) -> bool {
        let Some(here) = Self::place() else { return false };
        let Some(rest) = owner.strip_prefix("inline:").and_then(|rest| rest.strip_prefix(here.as_str())) else {
            return false;
        };
        let mut parts = rest.trim_start_matches(':').split(':');
        let (Some(pid), Some(start)) = (parts.next(), parts.next()) else { return false };
        let Ok(pid) = pid.parse::<u32>() else { return false };
        pid != std::process::id() && process_start(pid).is_none_or(|now| now != start)
    }
}

/// When process `pid` started, in clock ticks since boot (`/proc/{pid}/stat`, field 22), if it runs.
fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after its closing one.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19).map(str::to_string)
}

impl ImportService {
    /// Stores a file and queues its import for a worker (the `imports` queue).
    pub async fn upload(&self, input: NewImport) -> Result<ImportJob> {
        let id = self.store_upload(&input, None).await?;
        self.jobs.for_queue("imports").notify("imports");
        self.job(id).await
    }

    /// Stores a file and imports it now, in this process: `on_progress` hears after each batch. The job is
    /// recorded like any other (status, errors, statistics) and no worker takes it meanwhile.
    ///
    /// ```no_run
    /// # async fn demo(sdk: &productsmanager_core::Sdk, supplier: uuid::Uuid) -> productsmanager_core::Result<()> {
    /// use productsmanager_core::imports::{NewImport, mapping::Preset};
    ///
    /// let summary = sdk.imports().import_file(NewImport {
    ///     supplier_id: supplier,
    ///     name: "catalog.csv".into(),
    ///     path: "/srv/drop/catalog.csv".into(),
    ///     template: None,
    ///     preset: Some(Preset::Native),
    ///     dry_run: false,
    ///     force: false,
    ///     options: Default::default(),
    ///     requested_by: None,
    /// }, |progress| println!("{} rows", progress.rows_read)).await?;
    /// println!("{} created, {} invalid", summary.created, summary.invalid);
    /// # Ok(()) }
    /// ```
    pub async fn import_file(
        &self,
        input: NewImport,
        on_progress: impl Fn(&ImportProgress) + Send + Sync,
    ) -> Result<ImportSummary> {
        let owner = InlineOwner::this_process();
        let queue = self.jobs.for_queue("imports").clone();
        // The same file of the same supplier, run the same way by a process that was stopped: taken over, and
        // resumed after its checkpoint, rather than imported again from the top beside a dead job.
        let id = match self.abandoned_inline(&input).await? {
            Some((id, gone)) if queue.take_over(id, &owner, INLINE_LEASE, gone.as_deref()).await? => id,
            _ => self.store_upload(&input, Some(&owner)).await?,
        };
        let heartbeat = {
            let (queue, owner) = (queue.clone(), owner.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(INLINE_LEASE / 3).await;
                    // Stops when the job is no longer ours; a failed renewal (the database busy) is tried again.
                    if let Ok(false) = queue.heartbeat(id, &owner, INLINE_LEASE).await {
                        return;
                    }
                }
            })
        };
        let outcome = self.run_job(id, on_progress).await;
        heartbeat.abort();
        match &outcome {
            Ok(_) => {
                queue.complete(id, &owner).await?;
            }
            Err(e) => {
                let job = queue.get(id).await?;
                queue.fail(&job, &owner, JobFailure::Permanent(e.to_string())).await?;
            }
        }
        outcome
    }

    /// The newest in-process import of this very file (same supplier, name, size and content) run the same way
    /// (template or preset, options, dry or not) whose process stopped before it ended: its job, and its owner
    /// when that is known to be gone although its lease runs on (a process of this machine that no longer runs).
    async fn abandoned_inline(&self, input: &NewImport) -> Result<Option<(Uuid, Option<String>)>> {
        let Ok(metadata) = tokio::fs::metadata(&input.path).await else { return Ok(None) };
        let size = i64::try_from(metadata.len()).unwrap_or(i64::MAX);
        let (name, now) = (input.name.trim(), self.jobs.now());
        let candidates = repo::unfinished_inline(&self.pool, input.supplier_id, name, size, input.dry_run)
            .await
            .map_err(db_error)?;
        let options = serde_json::to_value(&input.options).unwrap_or_default();
        let wanted_preset = input.preset.filter(|p| *p != Preset::Auto).map(Preset::as_str);
        let same_run = |(_, _, preset, template, payload, ..): &repo::UnfinishedImport| {
            *template == input.template
                && payload.0 == options
                && (input.preset == Some(Preset::Auto) || preset.as_deref() == wanted_preset)
        };
        // Running: abandoned when its lease expired, or when its owner is a process of this machine that is gone.
        let abandoned = |(_, _, _, _, _, owner, until): &repo::UnfinishedImport| match (owner, until) {
            (Some(owner), Some(until)) => *until < now || InlineOwner::is_gone(owner),
            _ => true,
        };
        let candidates: Vec<_> = candidates.into_iter().filter(|c| same_run(c) && abandoned(c)).collect();
        if candidates.is_empty() {
            return Ok(None);
        }
        let path = input.path.clone();
        let digest = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            use sha2::Digest;
            let mut hasher = sha2::Sha256::new();
            std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
            Ok(format!("{:x}", hasher.finalize()))
        })
        .await
        .ok()
        .and_then(Result::ok);
        Ok(digest.and_then(|digest| candidates.into_iter().find(|c| c.1 == digest).map(|c| (c.0, c.5))))
    }

    async fn store_upload(&self, input: &NewImport, running_as: Option<&str>) -> Result<Uuid> {
        if input.template.is_some() && input.preset.is_some() {
            return Err(ImportError::invalid("template", "give a template or a preset, not both").into());
        }
        let name = input.name.trim();
        if name.is_empty() {
            return Err(ImportError::invalid("name", "must not be empty").into());
        }
        input.options.check()?;
        readable_file(&input.path).await?;
        self.suppliers.get(input.supplier_id).await?;
        if let Some(template) = input.template {
            self.template(template).await?;
        }
        // `auto`: the preset is chosen now, from the header, and the job names it.
        let preset = match input.preset {
            Some(Preset::Auto) => {
                let (path, name, options) = (input.path.clone(), name.to_string(), input.options.clone());
                let detect = move || reader::detect_preset(&path, &name, &options);
                Some(tokio::task::spawn_blocking(detect).await.unwrap_or(Preset::Native))
            }
            other => other,
        };
        let file_id = Uuid::now_v7();
        let object_key =
            format!("imports/{}/{file_id}/{}", input.supplier_id, super::super::service::storage_name(name));
        let (size, sha256) = self.storage.put_file(&object_key, &input.path).await.map_err(ImportError::from)?;
        let now = self.jobs.now();
        let file = ImportFile {
            id: file_id,
            import_config_id: None,
            supplier_id: Some(input.supplier_id),
            name: name.to_string(),
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
            sha256,
            object_key: object_key.clone(),
            source_kind: "upload".into(),
            source_fingerprint: None,
            created_at: now,
        };
        let payload = serde_json::to_value(&input.options).unwrap_or_default();
        let lease_until = now + chrono::Duration::from_std(INLINE_LEASE).unwrap_or_default();
        let job = NewUploadJob {
            id: Uuid::now_v7(),
            supplier_id: input.supplier_id,
            file_id,
            mapping_template_id: input.template,
            preset: preset.map(Preset::as_str),
            dry_run: input.dry_run,
            force: input.force,
            payload: &payload,
            running: running_as.map(|owner| (owner, lease_until)),
            requested_by: input.requested_by,
            now,
        };
        if let Err(e) = repo::insert_upload(&self.pool, &file, &job).await {
            if let Err(cleanup) = self.storage.delete(&object_key).await {
                tracing::warn!(key = %object_key, error = %cleanup, "stored file left behind");
            }
            return Err(db_error(e));
        }
        Ok(job.id)
    }

    /// An import job: state, counters (readable while it runs), summary.
    pub async fn job(&self, id: Uuid) -> Result<ImportJob> {
        let row = repo::job(&self.pool, id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| ImportError::NotFound { entity: "import job", id: id.to_string() })?;
        Ok(into_job(row))
    }

    /// The latest import jobs, of one supplier or of all, newest first.
    pub async fn jobs(&self, supplier: Option<Uuid>, limit: u32) -> Result<Vec<ImportJob>> {
        Ok(self.jobs_page(supplier, limit, None).await?.items)
    }

    /// A page of import jobs, of one supplier or of all, newest first; `cursor` is the previous page's
    /// `next_cursor`.
    pub async fn jobs_page(
        &self,
        supplier: Option<Uuid>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<crate::catalog::Page<ImportJob>> {
        let limit = limit.clamp(1, 1000);
        let after = crate::jobs::after_cursor(cursor)?;
        let fetch = i64::from(limit) + 1;
        let rows = match supplier {
            Some(supplier) => repo::jobs_of_supplier(&self.pool, supplier, fetch, after).await,
            None => repo::recent_jobs(&self.pool, fetch, after).await,
        }
        .map_err(db_error)?;
        let jobs = rows.into_iter().map(into_job).collect();
        Ok(crate::catalog::Page::from_extra(jobs, limit as usize, |j| crate::jobs::cursor(j.created_at, j.id)))
    }

    /// The refused rows of a job as CSV (`line,column,column_name,value,code,reason`), in file order; also while
    /// it runs.
    pub async fn errors_csv(&self, id: Uuid) -> Result<Bytes> {
        let job = self.job(id).await?;
        if let Some(key) = &job.error_report_key {
            return Ok(self.storage.get(key).await.map_err(ImportError::from)?);
        }
        let mut out = csv::Writer::from_writer(Vec::new());
        self.write_errors(id, &mut out).await?;
        let bytes = out.into_inner().map_err(|e| ImportError::invalid("errors", e.to_string()))?;
        Ok(Bytes::from(bytes))
    }

    async fn write_errors<W: std::io::Write>(&self, id: Uuid, out: &mut csv::Writer<W>) -> Result<u64> {
        let write_failed = |e: csv::Error| crate::Error::from(ImportError::invalid("errors", e.to_string()));
        out.write_record(["line", "column", "column_name", "value", "code", "reason"]).map_err(write_failed)?;
        let mut after = (-1_i64, Uuid::nil());
        let mut written = 0;
        loop {
            let page = repo::errors_page(&self.pool, id, after, 1000).await.map_err(db_error)?;
            let Some(last) = page.last() else { break };
            after = (last.0, last.6);
            for (line, column, column_name, value, code, reason, _) in &page {
                let column = column.map(|c| c.to_string()).unwrap_or_default();
                // A value starting with = + - @ is written as text (no spreadsheet formula runs on opening).
                let value = value.as_deref().map(defuse).unwrap_or_default();
                out.write_record([
                    line.to_string().as_str(),
                    &column,
                    column_name.as_deref().unwrap_or(""),
                    &value,
                    code.as_deref().unwrap_or(""),
                    reason,
                ])
                .map_err(write_failed)?;
                written += 1;
            }
        }
        out.flush().map_err(|e| ImportError::invalid("errors", e.to_string()))?;
        Ok(written)
    }

    /// A supplier's import figures per day since `from`.
    pub async fn statistics(&self, supplier: Uuid, from: chrono::NaiveDate) -> Result<Vec<ImportStatistics>> {
        repo::supplier_days(&self.pool, supplier, from).await.map_err(db_error)
    }

    /// Runs an import job to its end (a worker calls this for queued jobs; [`ImportService::import_file`] for an
    /// upload it imports now). Resumes after the job's checkpoint when an earlier attempt was interrupted. A file
    /// that cannot be imported (unreadable, header not matching) fails before any row is written.
    pub async fn run_job(
        &self,
        id: Uuid,
        on_progress: impl Fn(&ImportProgress) + Send + Sync,
    ) -> Result<ImportSummary> {
        let started = Instant::now();
        let job = repo::job(&self.pool, id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| ImportError::NotFound { entity: "import job", id: id.to_string() })?;
        let outcome = self.run_loaded(&job, started, &on_progress).await;
        let now = self.jobs.now();
        match &outcome {
            Ok(summary) => {
                let message = if summary.identical_to.is_some() { "skipped: same file as before" } else { "finished" };
                let context = serde_json::to_value(summary).unwrap_or_default();
                let _ = repo::log(&self.pool, id, "info", message, context, now).await;
            }
            Err(e) => {
                let context = serde_json::json!({ "error": e.to_string() });
                let _ = repo::log(&self.pool, id, "error", "failed", context, now).await;
                let figures = ImportStatistics {
                    day: now.date_naive(),
                    jobs: 1,
                    jobs_failed: 1,
                    duration_ms: started.elapsed().as_millis() as i64,
                    ..Default::default()
                };
                let _ = repo::record_statistics(&self.pool, id, job.supplier_id, &figures, now).await;
            }
        }
        outcome
    }

    async fn template_source(&self, job: &ImportJobRow) -> Result<TemplateSource> {
        if let Some(template) = job.mapping_template_id {
            return Ok(TemplateSource::Stored(self.template(template).await?.definition));
        }
        if let Some(preset) = &job.preset {
            return Ok(TemplateSource::Preset(Preset::parse(preset)?));
        }
        if let Some(config) = job.import_config_id {
            let config = self.config(config).await?;
            if let Some(template) = config.mapping_template_id {
                return Ok(TemplateSource::Stored(self.template(template).await?.definition));
            }
            if let Some(preset) = &config.preset {
                return Ok(TemplateSource::Preset(Preset::parse(preset)?));
            }
        }
        // Neither: the application's default (`native` unless an admin changed it).
        let preset: String = self.settings.get("imports.default_preset").await?;
        Ok(TemplateSource::Preset(Preset::parse(&preset)?))
    }

    async fn run_loaded(
        &self,
        job: &ImportJobRow,
        started: Instant,
        on_progress: &(impl Fn(&ImportProgress) + Send + Sync),
    ) -> Result<ImportSummary> {
        let file_id = job.file_id.ok_or_else(|| ImportError::invalid("file_id", "the job has no file"))?;
        let file = self.file(file_id).await?;
        let supplier = self.suppliers.get(job.supplier_id).await?;
        let mut options: ImportOptions = serde_json::from_value(job.payload.0.clone())
            .map_err(|e| ImportError::invalid("options", e.to_string()))?;
        if options.seo_locale.is_none() {
            options.seo_locale = Some(self.settings.get::<String>("imports.seo_locale").await?);
        }
        let mut summary = ImportSummary {
            job_id: job.id,
            file: file.name.clone(),
            format: String::new(),
            dry_run: job.dry_run,
            outcome: ImportOutcome::Succeeded,
            rows: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            invalid: 0,
            marked_unavailable: 0,
            skipped: 0,
            skipped_by: Default::default(),
            columns_not_imported: Vec::new(),
            gtins_dropped: 0,
            images_dropped: 0,
            fields_kept: 0,
            merged: 0,
            suppliers_created: Vec::new(),
            codes_learned: Default::default(),
            products_created: 0,
            products_updated: 0,
            variants_created: 0,
            identical_to: None,
            resumed_after_line: None,
            error_report_key: None,
            duration_ms: 0,
            rows_per_second: 0.0,
            diffs: Vec::new(),
        };
        if !job.force && !job.dry_run {
            let previous =
                repo::previous_identical(&self.pool, job.supplier_id, &file.sha256, job).await.map_err(db_error)?;
            // A file taken before is skipped, unless offers of the supplier lost their row hash since (a person
            // released a field: the rows are to be applied again). Asked only of a file taken before.
            let skip = match previous {
                Some(_) => !catalog_repo::has_unhashed_offers(&self.catalog, job.supplier_id)
                    .await
                    .map_err(catalog_db_error)?,
                None => false,
            };
            if let Some(previous) = previous.filter(|_| skip) {
                summary.identical_to = Some(previous);
                summary.duration_ms = started.elapsed().as_millis() as u64;
                let (value, now) = (serde_json::to_value(&summary).unwrap_or_default(), self.jobs.now());
                // Its outcome in its last progress: what the generic jobs list shows of it.
                let progress = ImportProgress { outcome: Some(summary.outcome), ..ImportProgress::default() };
                let progress = serde_json::to_value(progress).unwrap_or_default();
                repo::set_report(&self.pool, job.id, &value, None, now, &progress).await.map_err(db_error)?;
                let figures = ImportStatistics {
                    day: now.date_naive(),
                    jobs: 1,
                    duration_ms: summary.duration_ms as i64,
                    ..Default::default()
                };
                repo::record_statistics(&self.pool, job.id, job.supplier_id, &figures, now).await.map_err(db_error)?;
                return Ok(summary);
            }
        }
        let source = self.template_source(job).await?;
        let changes_only = match &source {
            TemplateSource::Stored(template) => template.changes_only.clone(),
            _ => None,
        };
        let checkpoint = if job.dry_run {
            None
        } else {
            catalog_repo::checkpoint(&self.catalog, job.id).await.map_err(catalog_db_error)?
        };
        let mut counters = checkpoint
            .map(|c| Counters {
                line: c.line,
                read: c.rows_read,
                created: c.rows_created,
                updated: c.rows_updated,
                unchanged: c.rows_unchanged,
                invalid: c.rows_invalid,
                gtins_dropped: c.gtins_dropped,
                fields_kept: c.fields_kept,
                merged: c.rows_merged,
                products_created: c.products_created,
                products_updated: c.products_updated,
                variants_created: c.variants_created,
                images_dropped: c.images_dropped,
            })
            .unwrap_or_default();
        // Errors of a batch that did not reach the catalog are recorded again.
        repo::delete_errors_after(&self.pool, job.id, if checkpoint.is_some() { counters.line } else { -1 })
            .await
            .map_err(db_error)?;
        summary.resumed_after_line = checkpoint.map(|c| c.line as u64);
        let copy = self.storage.local_copy(&file.object_key).await.map_err(ImportError::from)?;
        let default_currency = supplier.default_currency.as_deref().and_then(|code| code.parse().ok());
        let vocabulary = match &source {
            TemplateSource::Preset(Preset::Akeneo | Preset::Auto) => {
                repo::vocabulary(&self.pool, job.supplier_id).await.map_err(db_error)?
            }
            _ => Default::default(),
        };
        let (sender, mut receiver) = tokio::sync::mpsc::channel(2);
        let read_job = ReadJob {
            vocabulary,
            file: copy.file.try_clone().map_err(|e| ImportError::invalid("file", e.to_string()))?,
            name: file.name.clone(),
            options: options.clone(),
            source,
            default_currency,
            resume_after: counters.line.max(0) as u64,
            header_text: if file.source_kind == SourceKind::Upload.as_str() {
                HeaderText::Quoted
            } else {
                HeaderText::Withheld
            },
        };
        let reading = tokio::task::spawn_blocking(move || reader::read(read_job, sender));
        let unranked = match self.settings.get::<String>("imports.unranked_suppliers").await?.as_str() {
            "latest_file" => crate::catalog::provenance::Unranked::LatestFile,
            _ => crate::catalog::provenance::Unranked::CreatorFirst,
        };
        let mut loader = Loader::new(
            self.catalog.clone(),
            self.categories.clone(),
            self.cache.clone(),
            job.supplier_id,
            job.id,
            options.mark_missing_unavailable,
            job.dry_run,
        )
        .with_rules(unranked, changes_only);
        if let Some(checkpoint) = checkpoint {
            loader.resumed_from(checkpoint);
        }
        let mut progress = ImportProgress::default();
        let mut read_structure = false;
        let outcome: Result<()> = async {
            while let Some(message) = receiver.recv().await {
                match message {
                    Message::Started { total, format, not_imported, structure } => {
                        read_structure = structure;
                        summary.format = format;
                        summary.columns_not_imported = not_imported;
                        progress.rows_total = total;
                        if let Some(total) = total {
                            repo::set_total(&self.pool, job.id, total as i64).await.map_err(db_error)?;
                        }
                    }
                    Message::Failed(error) => return Err(error.into()),
                    Message::Skipped(by) => {
                        summary.skipped = by.values().sum();
                        // What the progress counts up to: the file's rows less those set aside.
                        if let Some(total) = progress.rows_total {
                            let total = total.saturating_sub(summary.skipped);
                            progress.rows_total = Some(total);
                            repo::set_total(&self.pool, job.id, total as i64).await.map_err(db_error)?;
                        }
                        summary.skipped_by = by.into_iter().map(|(why, rows)| (why.to_string(), rows)).collect();
                    }
                    Message::Learned(entries) => {
                        for entry in &entries {
                            *summary.codes_learned.entry(entry.counted_as().to_string()).or_default() += 1;
                        }
                        if !job.dry_run {
                            repo::learn(&self.pool, job.supplier_id, job.id, &entries, self.jobs.now())
                                .await
                                .map_err(db_error)?;
                        }
                    }
                    Message::Batch(batch) => {
                        let mut plan = loader.plan(batch.rows).await?;
                        let mut errors: Vec<RowError> = batch.errors;
                        errors.append(&mut plan.errors);
                        errors.sort_by_key(|e| e.line);
                        counters.line = batch.last_line as i64;
                        counters.read += batch.read as i64;
                        counters.created += plan.created as i64;
                        counters.updated += plan.updated as i64;
                        counters.unchanged += plan.unchanged as i64;
                        counters.invalid += errors.len() as i64;
                        counters.gtins_dropped += batch.gtins_dropped as i64;
                        counters.images_dropped += batch.images_dropped as i64;
                        counters.fields_kept += plan.fields_kept as i64;
                        counters.merged += plan.merged as i64;
                        counters.products_created += plan.products_created as i64;
                        counters.products_updated += plan.products_updated as i64;
                        counters.variants_created += plan.variants_created as i64;
                        let now = self.jobs.now();
                        if !errors.is_empty() {
                            repo::insert_errors(&self.pool, job.id, &errors, now).await.map_err(db_error)?;
                        }
                        if job.dry_run {
                            loader.describe(&plan).await?;
                        } else {
                            let checkpoint = catalog_repo::Checkpoint {
                                line: counters.line,
                                rows_read: counters.read,
                                rows_created: counters.created,
                                rows_updated: counters.updated,
                                rows_unchanged: counters.unchanged,
                                rows_invalid: counters.invalid,
                                gtins_dropped: counters.gtins_dropped,
                                fields_kept: counters.fields_kept,
                                rows_merged: counters.merged,
                                products_created: counters.products_created,
                                products_updated: counters.products_updated,
                                variants_created: counters.variants_created,
                                images_dropped: counters.images_dropped,
                            };
                            loader.write(&plan, checkpoint).await?;
                            // The file's new costs: price changes of those products and of the supplier.
                            if !plan.price_changes.is_empty() {
                                self.categories.products().record(crate::analytics::EventKind::OffersRepriced {
                                    supplier_id: job.supplier_id,
                                    product_ids: std::mem::take(&mut plan.price_changes),
                                });
                            }
                        }
                        progress = ImportProgress {
                            rows_total: progress.rows_total,
                            rows_read: counters.read as u64,
                            created: counters.created as u64,
                            updated: counters.updated as u64,
                            unchanged: counters.unchanged as u64,
                            invalid: counters.invalid as u64,
                            merged: counters.merged as u64,
                            products_created: counters.products_created as u64,
                            products_updated: counters.products_updated as u64,
                            outcome: None,
                        };
                        repo::set_counters(&self.pool, job.id, &counters, &progress, now).await.map_err(db_error)?;
                        on_progress(&progress);
                    }
                }
            }
            Ok(())
        }
        .await;
        drop(receiver);
        let _ = reading.await;
        drop(copy);
        outcome?;

        if !job.dry_run {
            crate::catalog::products::search::refresh_of_import(&self.catalog, job.id)
                .await
                .map_err(catalog_db_error)?;
        }
        // A structure file names no offers: none of them is missing from it.
        if options.mark_missing_unavailable && !job.dry_run && !read_structure {
            summary.marked_unavailable =
                catalog_repo::mark_missing_unavailable(&self.catalog, job.supplier_id, job.id, self.jobs.now())
                    .await
                    .map_err(catalog_db_error)?;
        }
        if counters.invalid > 0 {
            let key = format!("imports/{}/{}/errors-{}.csv", job.supplier_id, file.id, job.id);
            self.store_error_report(job.id, &key).await?;
            summary.error_report_key = Some(key);
        }
        summary.rows = counters.read as u64;
        summary.created = counters.created as u64;
        summary.updated = counters.updated as u64;
        summary.unchanged = counters.unchanged as u64;
        summary.invalid = counters.invalid as u64;
        summary.gtins_dropped = counters.gtins_dropped as u64;
        summary.images_dropped = counters.images_dropped as u64;
        summary.fields_kept = counters.fields_kept as u64;
        summary.merged = counters.merged as u64;
        summary.products_created = counters.products_created as u64;
        summary.products_updated = counters.products_updated as u64;
        summary.variants_created = counters.variants_created as u64;
        let failed_above: i64 = self.settings.get("imports.failed_above_refused_percent").await?;
        summary.outcome = ImportOutcome::of_rows(summary.invalid, summary.rows, failed_above.clamp(0, 100) as u8);
        summary.diffs = std::mem::take(&mut loader.diffs);
        summary.suppliers_created = std::mem::take(&mut loader.suppliers_created);
        let elapsed = started.elapsed();
        summary.duration_ms = elapsed.as_millis() as u64;
        summary.rows_per_second = summary.rows as f64 / elapsed.as_secs_f64().max(1e-9);
        let now = self.jobs.now();
        let value = serde_json::to_value(&summary).unwrap_or_default();
        let progress =
            serde_json::to_value(ImportProgress { outcome: Some(summary.outcome), ..progress }).unwrap_or_default();
        repo::set_report(&self.pool, job.id, &value, summary.error_report_key.as_deref(), now, &progress)
            .await
            .map_err(db_error)?;
        let figures = ImportStatistics {
            day: now.date_naive(),
            jobs: 1,
            // Ran to its end, but refused more rows than the setting allows: a failed import, as its outcome says.
            jobs_failed: i32::from(summary.outcome == ImportOutcome::Failed),
            rows_read: counters.read,
            rows_written: if job.dry_run { 0 } else { counters.created + counters.updated },
            rows_created: counters.created,
            rows_updated: counters.updated,
            rows_skipped: counters.unchanged,
            rows_failed: counters.invalid,
            bytes_read: file.size_bytes,
            duration_ms: summary.duration_ms as i64,
        };
        repo::record_statistics(&self.pool, job.id, job.supplier_id, &figures, now).await.map_err(db_error)?;
        Ok(summary)
    }

    async fn store_error_report(&self, job: Uuid, key: &str) -> Result<()> {
        let temporary = tempfile::NamedTempFile::new()
            .map_err(|e| ImportError::invalid("errors", format!("cannot write the error report: {e}")))?;
        let mut out = csv::Writer::from_writer(std::io::BufWriter::new(temporary.as_file()));
        self.write_errors(job, &mut out).await?;
        drop(out);
        self.storage.put_file(key, temporary.path()).await.map_err(ImportError::from)?;
        Ok(())
    }
}

/// A cell value a spreadsheet would run as a formula, prefixed so it stays text.
fn defuse(value: &str) -> String {
    if value.starts_with(crate::input::FORMULA_LEADS) { format!("'{value}") } else { value.to_string() }
}

fn into_job(row: ImportJobRow) -> ImportJob {
    // Counters without a column of their own are in the checkpoint, written after each batch.
    let counters: Counters =
        row.checkpoint.as_ref().and_then(|c| serde_json::from_value(c.0.clone()).ok()).unwrap_or_default();
    let state = JobState::parse(&row.state).unwrap_or(JobState::Queued);
    let progress = ImportProgress {
        rows_total: row.rows_total.map(|t| t as u64),
        rows_read: row.rows_read as u64,
        created: row.rows_created as u64,
        updated: row.rows_updated as u64,
        unchanged: row.rows_skipped as u64,
        invalid: row.rows_failed as u64,
        merged: counters.merged as u64,
        products_created: counters.products_created as u64,
        products_updated: counters.products_updated as u64,
        outcome: None,
    };
    let mut summary: Option<ImportSummary> = row.summary.and_then(|s| serde_json::from_value(s.0).ok());
    if let Some(summary) = summary.as_mut().filter(|s| s.outcome == ImportOutcome::Pending) {
        // Stored before summaries had an outcome: judged by the default threshold.
        summary.outcome = ImportOutcome::of_rows(summary.invalid, summary.rows, DEFAULT_FAILED_ABOVE_PERCENT);
    }
    let outcome = match (state, &summary) {
        // As judged when it ended (by the threshold of that day).
        (JobState::Succeeded, Some(summary)) => summary.outcome,
        _ => ImportOutcome::of(state, &progress, DEFAULT_FAILED_ABOVE_PERCENT),
    };
    ImportJob {
        id: row.id,
        state,
        outcome,
        supplier_id: row.supplier_id,
        import_config_id: row.import_config_id,
        file_id: row.file_id,
        mapping_template_id: row.mapping_template_id,
        preset: row.preset,
        dry_run: row.dry_run,
        force: row.force,
        options: row.payload.0,
        progress,
        error_report_key: row.error_report_key,
        summary,
        last_error: row.last_error,
        attempts: row.attempts,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
        requested_by: row.requested_by,
    }
}

/// The file to import is there and is a file: a missing one is "not found" (not the object store being
/// unavailable), a folder or an unreadable file is refused, each naming the path.
async fn readable_file(path: &std::path::Path) -> Result<()> {
    let shown = path.display().to_string();
    match tokio::fs::metadata(path).await {
        Ok(metadata) if metadata.is_dir() => {
            Err(ImportError::invalid("file", format!("{shown} is a folder, not a file")).into())
        }
        Ok(_) => match tokio::fs::File::open(path).await {
            Ok(_) => Ok(()),
            Err(e) => Err(ImportError::invalid("file", format!("cannot read {shown}: {e}")).into()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(ImportError::NotFound { entity: "file", id: shown }.into())
        }
        Err(e) => Err(ImportError::invalid("file", format!("cannot read {shown}: {e}")).into()),
    }
}
