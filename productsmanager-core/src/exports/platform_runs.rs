//! Sales platforms (credentials sealed) and runs that push the catalog to them: per product a content hash, so a
//! delta run sends only what changed; per product an item in the job; failed products retried on the next runs,
//! spaced out.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::db_error;
use super::feed::Channel;
use super::model::{
    ChannelSettings, ExportFilters, ExportItem, ExportJob, ExportMode, NewPlatform, Platform, PlatformRunCounts,
};
use super::platforms::{
    ExportPlatform, PlatformError, PlatformProduct, PrestaShop, PushOutcome, SHOPIFY_BULK_FROM, Shopify, WooCommerce,
};
use super::repo::{self, Pushed, StateRow};
use super::service::INLINE_LEASE;
use super::{ExportError, ExportService, PlatformCredentials, PlatformKind};
use crate::Result;
use crate::catalog::ProductStatus;
use crate::jobs::JobFailure;
use crate::net::OutboundPolicy;

/// How long one call to a platform may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A product to send: what is sent, its content hash, and how many times in a row it failed before.
type Unsent = (PlatformProduct, Vec<u8>, i32);

/// The stored settings of a platform: which products, and how they are sent.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct StoredSettings {
    #[serde(default)]
    filters: ExportFilters,
    #[serde(default)]
    channel: ChannelSettings,
}

/// The payload of a queued platform run.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct RunPayload {
    platform_id: Uuid,
    mode: ExportMode,
}

fn purpose(id: Uuid) -> String {
    format!("export_platforms:{id}")
}

/// How long a product that failed `failures` times in a row waits before it is sent again: the next run retries it
/// at once, then after 1, 2, 4… minutes, at most a day.
pub(crate) fn retry_delay(failures: i32) -> chrono::Duration {
    if failures <= 1 {
        return chrono::Duration::zero();
    }
    let minutes = 1_i64 << (failures - 2).min(11);
    chrono::Duration::minutes(minutes.min(24 * 60))
}

impl ExportService {
    /// Stores a platform; its credentials are sealed under the master key, bound to the new row.
    pub async fn add_platform(&self, input: NewPlatform) -> Result<Platform> {
        let name = input.name.trim();
        if name.is_empty() {
            return Err(ExportError::invalid("name", "must not be empty").into());
        }
        input.settings.check("settings")?;
        let id = Uuid::now_v7();
        // Refused here rather than at the first run: a wrong URL or missing key is the caller's to fix now.
        connector(input.platform, &input.endpoint, &input.credentials, &input.settings, &self.outbound)?;
        let document =
            serde_json::to_vec(&input.credentials).map_err(|e| ExportError::invalid("credentials", e.to_string()))?;
        let sealed = self
            .secrets
            .seal(&purpose(id), &document)
            .map_err(|e| ExportError::invalid("credentials", e.to_string()))?;
        let settings = serde_json::to_value(StoredSettings { filters: input.filters, channel: input.settings })
            .unwrap_or_default();
        let row = repo::NewPlatformRow {
            id,
            name,
            platform: input.platform.as_str(),
            endpoint: input.endpoint.trim(),
            sealed,
            settings,
            created_by: input.created_by,
            now: Utc::now(),
        };
        repo::insert_platform(&self.pool, &row).await.map_err(|e| {
            if matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation()) {
                ExportError::Conflict { reason: format!("a platform named {name:?} exists") }.into()
            } else {
                db_error(e)
            }
        })?;
        self.platform(&id.to_string()).await
    }

    /// Every platform, by name.
    pub async fn platforms(&self) -> Result<Vec<Platform>> {
        repo::platforms(&self.pool).await.map_err(db_error)?.into_iter().map(platform_of).collect()
    }

    /// A platform by id or name.
    pub async fn platform(&self, key: &str) -> Result<Platform> {
        platform_of(self.platform_row(key).await?)
    }

    async fn platform_row(&self, key: &str) -> Result<repo::PlatformRow> {
        let row = match Uuid::parse_str(key.trim()) {
            Ok(id) => repo::platform(&self.pool, id).await,
            Err(_) => repo::platform_named(&self.pool, key.trim()).await,
        }
        .map_err(db_error)?;
        row.ok_or_else(|| ExportError::NotFound { entity: "export platform", id: key.to_string() }.into())
    }

    /// Removes a platform, its jobs and what is known of its products there (the products stay on the platform).
    pub async fn delete_platform(&self, key: &str) -> Result<()> {
        let row = self.platform_row(key).await?;
        repo::delete_platform(&self.pool, row.id).await.map_err(db_error)?;
        Ok(())
    }

    /// Queues a run to a platform (the `exports` queue, kind `platform`).
    pub async fn enqueue_platform_run(
        &self,
        platform: &str,
        mode: ExportMode,
        requested_by: Option<Uuid>,
    ) -> Result<ExportJob> {
        let row = self.platform_row(platform).await?;
        let payload = serde_json::to_value(RunPayload { platform_id: row.id, mode }).unwrap_or_default();
        // max 5 attempts: a shop down for a while is waited out (the queue's growing delays).
        self.enqueue("platform", payload, 5, requested_by).await
    }

    /// Runs a queued platform run (the worker's handler for kind `platform`).
    pub async fn run_platform_job(
        &self,
        id: Uuid,
        on_progress: impl Fn(PlatformRunCounts) + Send + Sync,
    ) -> Result<PlatformRunCounts> {
        let payload: RunPayload = self.payload_of(id, "a platform run").await?;
        self.run_platform(id, payload.platform_id, payload.mode, &on_progress).await
    }

    /// Runs an export to a platform now, in this process, recorded as an export job that no worker takes
    /// meanwhile. A call failing as a whole (the platform down, credentials refused) fails the job; what went
    /// through before is kept, so running again sends only the rest.
    pub async fn run_platform_now(
        &self,
        platform: &str,
        mode: ExportMode,
        requested_by: Option<Uuid>,
        on_progress: impl Fn(PlatformRunCounts) + Send + Sync,
    ) -> Result<ExportJob> {
        let row = self.platform_row(platform).await?;
        let owner = format!("inline-{}", Uuid::now_v7());
        let id = Uuid::now_v7();
        let now = self.jobs.now();
        let payload = serde_json::to_value(RunPayload { platform_id: row.id, mode }).unwrap_or_default();
        let job = repo::RunningJob {
            id,
            kind: "platform",
            payload: &payload,
            format: None,
            platform_id: Some(row.id),
            mode: mode.as_str(),
            owner: &owner,
            lease_until: now + chrono::Duration::from_std(INLINE_LEASE).unwrap_or_default(),
            requested_by,
            now,
        };
        repo::insert_running(&self.pool, &job).await.map_err(db_error)?;
        let outcome = self.inline(id, &owner, self.run_platform(id, row.id, mode, &on_progress)).await;
        outcome?;
        self.job(id).await
    }

    async fn run_platform(
        &self,
        job: Uuid,
        platform_id: Uuid,
        mode: ExportMode,
        on_progress: &(impl Fn(PlatformRunCounts) + Send + Sync),
    ) -> Result<PlatformRunCounts> {
        let row = self.platform_row(&platform_id.to_string()).await?;
        let platform = platform_of_row(&row)?;
        let credentials: PlatformCredentials = match &row.credentials_encrypted {
            Some(sealed) => {
                let plain = self
                    .secrets
                    .open(&purpose(row.id), sealed)
                    .map_err(|e| ExportError::invalid("credentials", e.to_string()))?;
                serde_json::from_slice(&plain).map_err(|e| ExportError::invalid("credentials", e.to_string()))?
            }
            None => PlatformCredentials::default(),
        };
        let connector =
            connector(platform.platform, &platform.endpoint, &credentials, &platform.settings, &self.outbound)?;
        repo::start_platform_run(&self.pool, job, platform_id, mode.as_str(), self.jobs.now())
            .await
            .map_err(db_error)?;
        let mut reader = self.products.records(platform.filters.query()).await?;
        let mut channel = Channel::new(platform.settings.clone());
        let mut counts = PlatformRunCounts::default();
        let batch_size = connector.max_batch().max(1);
        let mut pending: Vec<Unsent> = Vec::new();
        while let Some(mut page) = reader.next_page().await? {
            self.with_stored_images(&mut page).await?;
            let mut units: Vec<PlatformProduct> = Vec::new();
            for record in &page {
                let item = channel.item(record);
                match (&record.variant_of, units.last_mut()) {
                    (Some(of), Some(parent)) if parent.product_id == of.parent_id => parent.add_variant(&item),
                    (Some(_), _) => {} // its parent is not exported (filtered out)
                    (None, _) => units.push(PlatformProduct::of(&item)),
                }
            }
            let ids: Vec<Uuid> = units
                .iter()
                .flat_map(|u| std::iter::once(u.product_id).chain(u.variants.iter().map(|v| v.product_id)))
                .collect();
            let states: HashMap<Uuid, StateRow> = repo::states_of(&self.pool, platform_id, &ids, false)
                .await
                .map_err(db_error)?
                .into_iter()
                .map(|s| (s.product_id, s))
                .collect();
            let parents: Vec<Uuid> = units.iter().map(|u| u.product_id).collect();
            let mut children: HashMap<Uuid, Vec<StateRow>> = HashMap::new();
            for state in repo::states_of(&self.pool, platform_id, &parents, true).await.map_err(db_error)? {
                if let Some(parent) = state.parent_product_id {
                    children.entry(parent).or_default().push(state);
                }
            }
            let now = self.jobs.now();
            let mut settled: Vec<Pushed> = Vec::new();
            let mut to_send: Vec<Unsent> = Vec::new();
            for mut unit in units {
                // A product's own state (a state with a parent is of the variant it was: its id is a variant's).
                let state = states.get(&unit.product_id).filter(|s| s.parent_product_id.is_none());
                unit.remote_id = state.and_then(|s| s.remote_id.clone());
                let parent = unit.product_id;
                for variant in &mut unit.variants {
                    variant.remote_id = states
                        .get(&variant.product_id)
                        .filter(|s| s.parent_product_id == Some(parent))
                        .and_then(|s| s.remote_id.clone());
                }
                unit.removed_variants = children
                    .remove(&parent)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|s| !unit.variants.iter().any(|v| v.product_id == s.product_id))
                    .filter_map(|s| Some((s.product_id, s.remote_id?)))
                    .collect();
                let hash = unit.content_hash();
                let failed_before = state.filter(|s| s.last_status.as_deref() == Some("failed"));
                let keep = |status: &'static str, error: Option<String>| Pushed {
                    product_id: unit.product_id,
                    status,
                    remote_id: unit.remote_id.clone(),
                    content_hash: state.and_then(|s| s.content_hash.clone()),
                    error,
                    failed_attempts: state.map(|s| s.failed_attempts).unwrap_or(0),
                    retry_after: state.and_then(|s| s.retry_after),
                    write_state: false,
                };
                if unit.status != ProductStatus::Active && unit.remote_id.is_none() {
                    // Never on the platform and not for sale: nothing to create.
                    settled.push(keep("skipped", Some(format!("{} and not on the platform", unit.status))));
                } else if let Some(until) = failed_before.and_then(|s| s.retry_after).filter(|until| *until > now) {
                    settled.push(keep("skipped", Some(format!("failed before; retried after {until}"))));
                } else if mode == ExportMode::Delta
                    && failed_before.is_none()
                    && state.and_then(|s| s.content_hash.as_deref()) == Some(hash.as_slice())
                {
                    settled.push(keep("unchanged", None));
                } else {
                    let failures = failed_before.map(|s| s.failed_attempts).unwrap_or(0);
                    to_send.push((unit, hash, failures));
                }
            }
            if !settled.is_empty() {
                repo::record_pushes(&self.pool, platform_id, job, &settled, &[], now).await.map_err(db_error)?;
                add(&mut counts, &settled);
            }
            // Batches fill across pages: a platform taking large batches (a Shopify bulk operation) gets them full.
            pending.extend(to_send);
            while pending.len() >= batch_size {
                let batch: Vec<Unsent> = pending.drain(..batch_size).collect();
                self.push_batch(connector.as_ref(), platform_id, job, &batch, &mut counts).await?;
                on_progress(counts);
            }
            on_progress(counts);
        }
        if !pending.is_empty() {
            self.push_batch(connector.as_ref(), platform_id, job, &pending, &mut counts).await?;
            on_progress(counts);
        }
        let now = self.jobs.now();
        let summary = serde_json::to_value(counts).unwrap_or_default();
        repo::finish_platform_run(&self.pool, job, &summary, now).await.map_err(db_error)?;
        repo::platform_succeeded(&self.pool, platform_id, now).await.map_err(db_error)?;
        Ok(counts)
    }

    /// Pushes one batch and records what became of each product.
    async fn push_batch(
        &self,
        connector: &dyn ExportPlatform,
        platform_id: Uuid,
        job: Uuid,
        batch: &[Unsent],
        counts: &mut PlatformRunCounts,
    ) -> Result<()> {
        let products: Vec<PlatformProduct> = batch.iter().map(|(u, _, _)| u.clone()).collect();
        let outcomes = connector.push(&products).await.map_err(|e| platform_failure(&e))?;
        let now = self.jobs.now();
        let mut pushed = Vec::with_capacity(batch.len());
        let mut variant_states = Vec::new();
        for ((unit, hash, failures), outcome) in batch.iter().zip(outcomes) {
            variant_states.extend(outcome.variant_ids.iter().map(|(id, remote)| repo::VariantState {
                product_id: *id,
                parent_id: unit.product_id,
                remote_id: Some(remote.clone()),
            }));
            if outcome.error.is_none() {
                variant_states.extend(unit.removed_variants.iter().map(|(id, _)| repo::VariantState {
                    product_id: *id,
                    parent_id: unit.product_id,
                    remote_id: None,
                }));
            }
            pushed.push(pushed_of(unit, hash, *failures, outcome, now));
        }
        repo::record_pushes(&self.pool, platform_id, job, &pushed, &variant_states, now).await.map_err(db_error)?;
        add(counts, &pushed);
        Ok(())
    }

    /// Items of a platform run after `after` (in product id order), of one status or all.
    pub async fn items(
        &self,
        job: Uuid,
        status: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<ExportItem>> {
        const STATUSES: [&str; 5] = ["created", "updated", "unchanged", "failed", "skipped"];
        if let Some(status) = status
            && !STATUSES.contains(&status)
        {
            let reason = format!("{status:?} is not one of {}", STATUSES.join(", "));
            return Err(ExportError::invalid("status", reason).into());
        }
        self.job(job).await?;
        let rows = repo::items(&self.pool, job, status, after.unwrap_or_default(), i64::from(limit.clamp(1, 1000)))
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| ExportItem {
                product_id: r.product_id,
                status: r.status,
                remote_id: r.remote_id,
                error: r.error,
                attempts: r.attempts,
                updated_at: r.updated_at,
            })
            .collect())
    }

    /// Runs `work` as the in-process job `id` held by `owner`: its lease renewed meanwhile, completed or failed
    /// after.
    pub(super) async fn inline<T>(&self, id: Uuid, owner: &str, work: impl Future<Output = Result<T>>) -> Result<T> {
        let queue = self.jobs.for_queue("exports").clone();
        let heartbeat = {
            let (queue, owner) = (queue.clone(), owner.to_string());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(INLINE_LEASE / 3).await;
                    if !matches!(queue.heartbeat(id, &owner, INLINE_LEASE).await, Ok(true)) {
                        return;
                    }
                }
            })
        };
        let outcome = work.await;
        heartbeat.abort();
        match &outcome {
            Ok(_) => {
                queue.complete(id, owner).await?;
            }
            Err(e) => {
                let job = queue.get(id).await?;
                queue.fail(&job, owner, JobFailure::Permanent(e.to_string())).await?;
            }
        }
        outcome
    }
}

fn add(counts: &mut PlatformRunCounts, pushed: &[Pushed]) {
    for push in pushed {
        counts.processed += 1;
        match push.status {
            "created" => counts.created += 1,
            "updated" => counts.updated += 1,
            "unchanged" => counts.unchanged += 1,
            "failed" => counts.failed += 1,
            _ => counts.skipped += 1,
        }
    }
}

/// The state and item of a product after its push.
fn pushed_of(unit: &PlatformProduct, hash: &[u8], failures: i32, outcome: PushOutcome, now: DateTime<Utc>) -> Pushed {
    match outcome.error {
        None => Pushed {
            product_id: unit.product_id,
            status: if outcome.created { "created" } else { "updated" },
            remote_id: outcome.remote_id,
            content_hash: Some(hash.to_vec()),
            error: None,
            failed_attempts: 0,
            retry_after: None,
            write_state: true,
        },
        Some(error) => {
            let failures = failures + 1;
            Pushed {
                product_id: unit.product_id,
                status: "failed",
                remote_id: outcome.remote_id.or_else(|| unit.remote_id.clone()),
                // Nothing counts as sent: the next run sends it again whatever changed.
                content_hash: None,
                error: Some(error),
                failed_attempts: failures,
                retry_after: Some(now + retry_delay(failures)),
                write_state: true,
            }
        }
    }
}

/// A failed call: the job is retried later (down, throttled) or fails (credentials, settings).
fn platform_failure(error: &PlatformError) -> crate::Error {
    match error {
        PlatformError::Unavailable { .. } => ExportError::Unavailable { reason: error.to_string() }.into(),
        PlatformError::Refused { .. } => ExportError::invalid("platform", error.to_string()).into(),
    }
}

/// The connector of a platform.
fn connector(
    kind: PlatformKind,
    endpoint: &str,
    credentials: &PlatformCredentials,
    settings: &ChannelSettings,
    policy: &OutboundPolicy,
) -> Result<Box<dyn ExportPlatform>, ExportError> {
    match kind {
        PlatformKind::Woocommerce => Ok(Box::new(WooCommerce::new(
            endpoint,
            credentials.key.as_deref().unwrap_or_default(),
            credentials.secret.as_deref().unwrap_or_default(),
            REQUEST_TIMEOUT,
            policy,
        )?)),
        PlatformKind::Prestashop => {
            let key = credentials.key.as_deref().unwrap_or_default();
            Ok(Box::new(PrestaShop::new(endpoint, key, REQUEST_TIMEOUT, policy)?))
        }
        PlatformKind::Shopify => Ok(Box::new(Shopify::new(
            endpoint,
            credentials.access_token.as_deref().unwrap_or_default(),
            REQUEST_TIMEOUT,
            settings.bulk_from.map_or(SHOPIFY_BULK_FROM, |n| n as usize),
            policy,
        )?)),
    }
}

fn platform_of_row(row: &repo::PlatformRow) -> Result<Platform> {
    let settings: StoredSettings = serde_json::from_value(row.settings.0.clone()).unwrap_or_default();
    Ok(Platform {
        id: row.id,
        name: row.name.clone(),
        platform: row.platform.parse()?,
        endpoint: row.endpoint.clone().unwrap_or_default(),
        filters: settings.filters,
        settings: settings.channel,
        is_active: row.is_active,
        last_success_at: row.last_success_at,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn platform_of(row: repo::PlatformRow) -> Result<Platform> {
    platform_of_row(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_products_wait_longer_each_time() {
        assert_eq!(retry_delay(1), chrono::Duration::zero());
        assert_eq!(retry_delay(2), chrono::Duration::minutes(1));
        assert_eq!(retry_delay(4), chrono::Duration::minutes(4));
        assert_eq!(retry_delay(40), chrono::Duration::minutes(24 * 60));
    }
}
