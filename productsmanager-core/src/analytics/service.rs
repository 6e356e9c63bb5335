//! [`AnalyticsService`]: rollups of raw events and of the other databases into the analytics tables, the catalog
//! snapshot with completeness, and the dashboards' reads.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::events::bucket_limit_ms;
use super::model::{
    CatalogOverview, Completeness, CompletenessRules, ImportDay, ImportJobMetrics, PerformanceRollup, ProductDay,
    ProductFacts, RollupReport, SearchCount, SearchReport, SupplierScorecard,
};
use super::repo::{self, BucketRow, ImportMetricsRead, ImportMetricsRow, SupplierImports};
use crate::Result;
use crate::catalog::{CatalogError, Page};
use crate::db::{Database, DbError, DbPool};

/// Products read per page by the catalog snapshot.
const SNAPSHOT_PAGE: i64 = 2_000;
/// Categories listed in an overview.
const OVERVIEW_CATEGORIES: i64 = 200;

/// Import history: per day, and the latest jobs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportHistory {
    pub days: Vec<ImportDay>,
    /// Newest first.
    pub jobs: Vec<ImportJobMetrics>,
}

/// Analytics: the hourly rollup ([`roll_up`](Self::roll_up)), the catalog snapshot
/// ([`take_catalog_snapshot`](Self::take_catalog_snapshot)) and the dashboards' reads. Raw events come from
/// [`AnalyticsEvents`](super::AnalyticsEvents); figures kept elsewhere (imports, exports, offers, queues) are
/// read from their own databases when rolled up.
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
/// let analytics = sdk.analytics();
/// analytics.roll_up(chrono::Utc::now().date_naive()).await?;
/// let overview = analytics.overview().await?;
/// println!("{} products, {} complete", overview.products, overview.complete);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AnalyticsService {
    analytics: DbPool,
    catalog: DbPool,
    imports: DbPool,
    exports: DbPool,
    media: DbPool,
    jobs: crate::jobs::JobQueues,
    platforms: crate::exports::ExportService,
}

fn db(database: Database) -> impl Fn(sqlx::Error) -> crate::Error {
    move |e| DbError::from_sqlx(database, e).into()
}

fn day_bounds(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
    (start, start + TimeDelta::days(1))
}

/// A period of whole days ending today: 1 to 366, 30 when unset.
fn since_days(days: Option<u32>) -> Result<NaiveDate> {
    let days = days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(CatalogError::invalid("days", "between 1 and 366").into());
    }
    Ok(Utc::now().date_naive() - TimeDelta::days(i64::from(days) - 1))
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl AnalyticsService {
    pub(crate) fn new(
        router: &dyn crate::db::DatabaseRouter,
        jobs: crate::jobs::JobQueues,
        platforms: crate::exports::ExportService,
    ) -> Self {
        AnalyticsService {
            analytics: router.pool(Database::Analytics).clone(),
            catalog: router.pool(Database::Catalog).clone(),
            imports: router.pool(Database::Imports).clone(),
            exports: router.pool(Database::Exports).clone(),
            media: router.pool(Database::Media).clone(),
            jobs,
            platforms,
        }
    }

    /// Rolls up one day (UTC): the import jobs that ended that day (per job, per day, per supplier), the products
    /// sent to platforms, the latency percentiles per hour and for the day; for today also the suppliers' offers
    /// and the queues' lengths as they are now. Recomputes what it owns from the sources, so running it again
    /// gives the same figures (the counters that events add to are left alone).
    pub async fn roll_up(&self, day: NaiveDate) -> Result<RollupReport> {
        let now = Utc::now();
        let (from, to) = day_bounds(day);
        let mut report = RollupReport { day: Some(day), ..RollupReport::default() };

        let finished = repo::finished_imports(&self.imports, from, to).await.map_err(db(Database::Imports))?;
        let mut rows = Vec::with_capacity(finished.len() + 1);
        let mut total = ImportMetricsRow::default();
        let mut suppliers: BTreeMap<Uuid, SupplierImports> = BTreeMap::new();
        for job in &finished {
            let failed = job.failed();
            let duration_ms = match (job.started_at, job.finished_at) {
                (Some(started), Some(finished)) => (finished - started).num_milliseconds().max(0),
                _ => 0,
            };
            let row = ImportMetricsRow {
                job_id: Some(job.id),
                supplier_id: Some(job.supplier_id),
                jobs: 1,
                jobs_failed: i64::from(failed),
                rows_processed: job.rows_read,
                rows_failed: job.rows_failed,
                duration_ms,
            };
            total.jobs += 1;
            total.jobs_failed += row.jobs_failed;
            total.rows_processed += row.rows_processed;
            total.rows_failed += row.rows_failed;
            total.duration_ms += duration_ms;
            let supplier = suppliers.entry(job.supplier_id).or_insert((job.supplier_id, 0, 0, 0, 0));
            supplier.1 += 1;
            supplier.2 += i64::from(!failed);
            supplier.3 += i64::from(failed);
            supplier.4 += duration_ms;
            rows.push(row);
        }
        if total.jobs > 0 {
            rows.push(total);
        }
        repo::replace_import_metrics(&self.analytics, day, &rows, now).await.map_err(db(Database::Analytics))?;
        let suppliers: Vec<SupplierImports> = suppliers.into_values().collect();
        repo::set_supplier_imports(&self.analytics, day, &suppliers, now).await.map_err(db(Database::Analytics))?;
        report.import_jobs = finished.len() as u64;
        report.suppliers = suppliers.len() as u64;

        let exported = repo::exported_products(&self.exports, from, to).await.map_err(db(Database::Exports))?;
        repo::set_product_exports(&self.analytics, day, &exported, now).await.map_err(db(Database::Analytics))?;
        report.products_exported = exported.len() as u64;

        let buckets = repo::buckets(&self.analytics, from, to).await.map_err(db(Database::Analytics))?;
        let mut rollups = performance_rollups(&buckets, from);
        let cache = repo::cache_counts(&self.analytics, from, to).await.map_err(db(Database::Analytics))?;
        rollups.extend(cache_rollups(&cache, from));
        if day == now.date_naive() {
            let offers = repo::supplier_offers(&self.catalog).await.map_err(db(Database::Catalog))?;
            repo::set_supplier_offers(&self.analytics, day, &offers, now).await.map_err(db(Database::Analytics))?;
            report.suppliers = report.suppliers.max(offers.len() as u64);
            let hour = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
            for (queue, _) in crate::Sdk::JOB_QUEUES {
                let stats = self.jobs.stats(queue).await?;
                rollups.push(PerformanceRollup {
                    kind: "queue".into(),
                    name: queue.into(),
                    period: "hour".into(),
                    period_start: hour,
                    samples: 1,
                    errors: i64::try_from(stats.dead).unwrap_or(i64::MAX),
                    p50_ms: None,
                    p95_ms: None,
                    p99_ms: None,
                    max_ms: None,
                    queue_length: Some(i64::try_from(stats.queued).unwrap_or(i64::MAX)),
                    hits: None,
                    misses: None,
                });
            }
        }
        repo::upsert_performance(&self.analytics, &rollups, now).await.map_err(db(Database::Analytics))?;
        report.performance_rows = rollups.len() as u64;
        Ok(report)
    }

    /// The scheduled rollup: yesterday (so the last hour of a day is counted once the day is over) and today.
    pub async fn roll_up_recent(&self) -> Result<Vec<RollupReport>> {
        let today = Utc::now().date_naive();
        Ok(vec![self.roll_up(today - TimeDelta::days(1)).await?, self.roll_up(today).await?])
    }

    /// Removes raw analytics older than `days` days (searches, the activity log, latency buckets, cache counts:
    /// what the rollups were made from); daily figures and rollups stay. Returns how many rows went.
    pub async fn purge_raw(&self, days: u32) -> Result<u64> {
        let before = Utc::now() - TimeDelta::days(i64::from(days.max(1)));
        repo::purge_raw(&self.analytics, before).await.map_err(db(Database::Analytics))
    }

    /// Reads every product's completeness facts (catalog, and uploaded images from the media database), stores
    /// them with their score under the default rules, and keeps the overview computed from them. Takes a while
    /// on a large catalog (it reads every product): the dashboard reads the latest snapshot instead.
    pub async fn take_catalog_snapshot(&self) -> Result<CatalogOverview> {
        let started = Utc::now();
        let clock = std::time::Instant::now();
        let rules = CompletenessRules::default();
        let mut after = Uuid::nil();
        loop {
            let mut page =
                repo::facts_page(&self.catalog, after, SNAPSHOT_PAGE).await.map_err(db(Database::Catalog))?;
            let Some(last) = page.last() else { break };
            after = last.product_id;
            self.add_uploaded_images(&mut page).await?;
            let scored: Vec<(ProductFacts, u8)> =
                page.into_iter().map(|f| (rules.evaluate(&f).0, f)).map(|(s, f)| (f, s)).collect();
            repo::upsert_facts(&self.analytics, &scored, Utc::now()).await.map_err(db(Database::Analytics))?;
            if (scored.len() as i64) < SNAPSHOT_PAGE {
                break;
            }
        }
        repo::delete_stale_facts(&self.analytics, started).await.map_err(db(Database::Analytics))?;
        let mut overview =
            repo::overview(&self.analytics, OVERVIEW_CATEGORIES).await.map_err(db(Database::Analytics))?;
        let ids: Vec<Uuid> = overview.categories.iter().filter_map(|c| c.category_id).collect();
        let names: HashMap<Uuid, String> =
            repo::category_names(&self.catalog, &ids).await.map_err(db(Database::Catalog))?.into_iter().collect();
        for category in &mut overview.categories {
            category.name = category.category_id.and_then(|id| names.get(&id).cloned());
        }
        overview.taken_at = started;
        overview.duration_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
        repo::insert_snapshot(&self.analytics, &overview).await.map_err(db(Database::Analytics))?;
        Ok(overview)
    }

    async fn add_uploaded_images(&self, facts: &mut [ProductFacts]) -> Result<()> {
        let ids: Vec<Uuid> = facts.iter().map(|f| f.product_id).collect();
        let uploaded: HashMap<Uuid, i64> =
            repo::media_counts(&self.media, &ids).await.map_err(db(Database::Media))?.into_iter().collect();
        for f in facts {
            f.image_count += uploaded.get(&f.product_id).copied().unwrap_or(0);
        }
        Ok(())
    }

    /// The latest catalog overview; the first call on a catalog never snapshotted takes one.
    pub async fn overview(&self) -> Result<CatalogOverview> {
        match repo::latest_snapshot(&self.analytics).await.map_err(db(Database::Analytics))? {
            Some(overview) => Ok(overview),
            None => self.take_catalog_snapshot().await,
        }
    }

    /// The completeness rules of an export channel (a platform's id or name; its settings' `completeness`), else
    /// the default ones.
    pub async fn rules_of_channel(&self, platform: Option<&str>) -> Result<CompletenessRules> {
        let Some(platform) = platform else { return Ok(CompletenessRules::default()) };
        let platform = self.platforms.platform(platform).await?;
        Ok(platform.settings.completeness.unwrap_or_default())
    }

    /// One product's completeness now, under `rules`.
    pub async fn completeness(&self, product: Uuid, rules: &CompletenessRules) -> Result<Completeness> {
        let Some(facts) = repo::facts_of(&self.catalog, product).await.map_err(db(Database::Catalog))? else {
            return Err(CatalogError::not_found("product", product).into());
        };
        let mut facts = [facts];
        self.add_uploaded_images(&mut facts).await?;
        let [facts] = facts;
        let mut listed = self.labelled(vec![(facts, Utc::now())], rules).await?;
        listed.pop().ok_or_else(|| CatalogError::not_found("product", product).into())
    }

    /// Products failing at least one of `rules`' checks (as of the last catalog snapshot), in one category
    /// (primary category) or all, a page at a time (`cursor`: the last page's `next_cursor`).
    pub async fn incomplete_products(
        &self,
        rules: &CompletenessRules,
        category: Option<Uuid>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Completeness>> {
        let limit = limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(CatalogError::invalid("limit", "between 1 and 500").into());
        }
        let after = match cursor {
            None => None,
            Some(cursor) => Some(Uuid::parse_str(cursor).map_err(|_| {
                CatalogError::invalid("cursor", "not a cursor of this listing; start again without one")
            })?),
        };
        let mut rows = repo::incomplete(&self.analytics, rules, category, after, i64::from(limit) + 1)
            .await
            .map_err(db(Database::Analytics))?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = more.then(|| rows.last().map(|(f, _)| f.product_id.to_string())).flatten();
        Ok(Page { items: self.labelled(rows, rules).await?, next_cursor })
    }

    async fn labelled(
        &self,
        rows: Vec<(ProductFacts, DateTime<Utc>)>,
        rules: &CompletenessRules,
    ) -> Result<Vec<Completeness>> {
        let ids: Vec<Uuid> = rows.iter().map(|(f, _)| f.product_id).collect();
        let labels: HashMap<Uuid, (Option<String>, String)> = repo::product_labels(&self.catalog, &ids)
            .await
            .map_err(db(Database::Catalog))?
            .into_iter()
            .map(|(id, sku, title)| (id, (sku, title)))
            .collect();
        Ok(rows
            .into_iter()
            .map(|(facts, computed_at)| {
                let (score, missing) = rules.evaluate(&facts);
                let (sku, title) = labels.get(&facts.product_id).cloned().unzip();
                Completeness {
                    product_id: facts.product_id,
                    sku: sku.flatten(),
                    title,
                    score,
                    missing: missing.into_iter().map(String::from).collect(),
                    computed_at,
                }
            })
            .collect())
    }

    /// Every supplier with figures over the last `days` days (30 by default): offers on the latest day, price
    /// changes and imports summed.
    pub async fn supplier_scorecards(&self, days: Option<u32>) -> Result<Vec<SupplierScorecard>> {
        let since = since_days(days)?;
        let rows = repo::supplier_days(&self.analytics, since).await.map_err(db(Database::Analytics))?;
        let mut cards: BTreeMap<Uuid, (SupplierScorecard, i64, NaiveDate)> = BTreeMap::new();
        for row in rows {
            let (card, duration, latest) = cards.entry(row.supplier_id).or_insert_with(|| {
                let card = SupplierScorecard {
                    supplier_id: row.supplier_id,
                    code: None,
                    name: None,
                    offers: 0,
                    offers_in_stock: 0,
                    stock_coverage: None,
                    price_changes: 0,
                    imports: 0,
                    imports_succeeded: 0,
                    imports_failed: 0,
                    import_success_rate: None,
                    mean_import_ms: None,
                };
                (card, 0, NaiveDate::MIN)
            });
            // Offers are a level, not a count of events: the latest day that measured them.
            if row.offers > 0 && row.day >= *latest {
                (card.offers, card.offers_in_stock, *latest) = (row.offers, row.offers_in_stock, row.day);
            }
            card.price_changes += row.price_changes;
            card.imports += row.imports;
            card.imports_succeeded += row.imports_succeeded;
            card.imports_failed += row.imports_failed;
            *duration += row.import_duration_ms;
        }
        let ids: Vec<Uuid> = cards.keys().copied().collect();
        let labels: HashMap<Uuid, (String, String)> = repo::supplier_labels(&self.catalog, &ids)
            .await
            .map_err(db(Database::Catalog))?
            .into_iter()
            .map(|(id, code, name)| (id, (code, name)))
            .collect();
        Ok(cards
            .into_values()
            .map(|(mut card, duration, _)| {
                card.stock_coverage = ratio(card.offers_in_stock, card.offers);
                card.import_success_rate = ratio(card.imports_succeeded, card.imports);
                card.mean_import_ms = ratio(duration, card.imports);
                if let Some((code, name)) = labels.get(&card.supplier_id).cloned() {
                    (card.code, card.name) = (Some(code), Some(name));
                }
                card
            })
            .collect())
    }

    /// Imports per day over the last `days` days (30 by default) and the latest `jobs` jobs (50 by default).
    pub async fn import_history(&self, days: Option<u32>, jobs: Option<u32>) -> Result<ImportHistory> {
        let since = since_days(days)?;
        let jobs = jobs.unwrap_or(50);
        if !(1..=500).contains(&jobs) {
            return Err(CatalogError::invalid("jobs", "between 1 and 500").into());
        }
        let per_sec = |rows: i64, ms: i64| (ms > 0).then(|| rows as f64 * 1000.0 / ms as f64);
        let days = repo::import_days(&self.analytics, since).await.map_err(db(Database::Analytics))?;
        let latest =
            repo::import_jobs(&self.analytics, since, i64::from(jobs)).await.map_err(db(Database::Analytics))?;
        let day = |(_, _, day, jobs, jobs_failed, rows, rows_failed, ms): ImportMetricsRead| ImportDay {
            day,
            jobs,
            jobs_failed,
            rows_processed: rows,
            rows_failed,
            error_rate: ratio(rows_failed, rows),
            duration_ms: ms,
            rows_per_sec: per_sec(rows, ms),
        };
        let job = |(job, supplier, day, _, jobs_failed, rows, rows_failed, ms): ImportMetricsRead| ImportJobMetrics {
            job_id: job.unwrap_or_default(),
            supplier_id: supplier,
            day,
            failed: jobs_failed > 0,
            rows_processed: rows,
            rows_failed,
            duration_ms: ms,
            rows_per_sec: per_sec(rows, ms),
        };
        Ok(ImportHistory { days: days.into_iter().map(day).collect(), jobs: latest.into_iter().map(job).collect() })
    }

    /// The most searched queries and the most searched queries that found nothing, over the last `days` days
    /// (30 by default), `limit` of each (20 by default).
    pub async fn searches(&self, days: Option<u32>, limit: Option<u32>) -> Result<SearchReport> {
        let since = since_days(days)?;
        let limit = limit.unwrap_or(20);
        if !(1..=200).contains(&limit) {
            return Err(CatalogError::invalid("limit", "between 1 and 200").into());
        }
        let from = day_bounds(since).0;
        let counts = |rows: Vec<(String, i64, i64, f64)>| {
            rows.into_iter()
                .map(|(query, searches, zero_result_searches, mean_latency_ms)| SearchCount {
                    query,
                    searches,
                    zero_result_searches,
                    mean_latency_ms,
                })
                .collect()
        };
        let top =
            repo::searches(&self.analytics, from, false, i64::from(limit)).await.map_err(db(Database::Analytics))?;
        let zero =
            repo::searches(&self.analytics, from, true, i64::from(limit)).await.map_err(db(Database::Analytics))?;
        Ok(SearchReport { since, top: counts(top), zero_results: counts(zero) })
    }

    /// A product's figures per day over the last `days` days (30 by default); days without any are left out.
    pub async fn product_days(&self, product: Uuid, days: Option<u32>) -> Result<Vec<ProductDay>> {
        let since = since_days(days)?;
        repo::product_days(&self.analytics, product, since).await.map_err(db(Database::Analytics))
    }

    /// Latency and queue rollups of each `period` (`hour` or `day`) over the last `days` days (1 by default).
    pub async fn performance(&self, period: &str, days: Option<u32>) -> Result<Vec<PerformanceRollup>> {
        if !matches!(period, "hour" | "day") {
            return Err(CatalogError::invalid("period", "hour or day").into());
        }
        let since = day_bounds(since_days(Some(days.unwrap_or(1)))?).0;
        repo::performance(&self.analytics, period, since).await.map_err(db(Database::Analytics))
    }
}

/// Percentiles per hour and for the day, per kind and name, from a day's histogram buckets.
fn performance_rollups(buckets: &[BucketRow], day_start: DateTime<Utc>) -> Vec<PerformanceRollup> {
    type Key = (String, String, String, DateTime<Utc>);
    let mut groups: BTreeMap<Key, BTreeMap<i32, (i64, i64, f64)>> = BTreeMap::new();
    for b in buckets {
        for (period, start) in [("hour", b.hour), ("day", day_start)] {
            let group = groups.entry((b.kind.clone(), b.name.clone(), period.to_string(), start)).or_default();
            let entry = group.entry(b.bucket).or_insert((0, 0, 0.0));
            entry.0 += b.samples;
            entry.1 += b.errors;
            entry.2 = entry.2.max(b.max_ms);
        }
    }
    groups
        .into_iter()
        .map(|((kind, name, period, period_start), histogram)| {
            let samples: i64 = histogram.values().map(|(n, _, _)| n).sum();
            let errors: i64 = histogram.values().map(|(_, e, _)| e).sum();
            let max_ms = histogram.values().map(|(_, _, m)| *m).fold(0.0, f64::max);
            let at = |q: f64| percentile(&histogram, samples, q, max_ms);
            PerformanceRollup {
                kind,
                name,
                period,
                period_start,
                samples,
                errors,
                p50_ms: at(0.50),
                p95_ms: at(0.95),
                p99_ms: at(0.99),
                max_ms: Some(max_ms),
                queue_length: None,
                hits: None,
                misses: None,
            }
        })
        .collect()
}

/// Hits and misses per cache kind, per hour and for the day.
fn cache_rollups(counts: &[(String, DateTime<Utc>, i64, i64)], day_start: DateTime<Utc>) -> Vec<PerformanceRollup> {
    let mut groups: BTreeMap<(String, &'static str, DateTime<Utc>), (i64, i64)> = BTreeMap::new();
    for (kind, hour, hits, misses) in counts {
        for (period, start) in [("hour", *hour), ("day", day_start)] {
            let group = groups.entry((kind.clone(), period, start)).or_default();
            group.0 += hits;
            group.1 += misses;
        }
    }
    groups
        .into_iter()
        .map(|((name, period, period_start), (hits, misses))| PerformanceRollup {
            kind: "cache".into(),
            name,
            period: period.into(),
            period_start,
            samples: hits + misses,
            errors: 0,
            p50_ms: None,
            p95_ms: None,
            p99_ms: None,
            max_ms: None,
            queue_length: None,
            hits: Some(hits),
            misses: Some(misses),
        })
        .collect()
}

/// The `q` quantile: the upper bound of the bucket holding the sample of that rank (never above the largest
/// sample), so at most 5 % above the true value.
fn percentile(histogram: &BTreeMap<i32, (i64, i64, f64)>, samples: i64, q: f64, max_ms: f64) -> Option<f64> {
    if samples == 0 {
        return None;
    }
    let rank = ((q * samples as f64).ceil() as i64).clamp(1, samples);
    let mut seen = 0;
    for (bucket, (count, _, _)) in histogram {
        seen += count;
        if seen >= rank {
            return Some(bucket_limit_ms(*bucket).min(max_ms));
        }
    }
    Some(max_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::events::bucket_of;

    #[test]
    fn percentiles_come_from_buckets_within_five_percent() {
        let hour = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap_or_default();
        // 100 samples: 1 ms × 90, 10 ms × 9, 250 ms × 1.
        let rows: Vec<BucketRow> = [(1.0, 90), (10.0, 9), (250.0, 1)]
            .into_iter()
            .map(|(ms, n)| BucketRow {
                kind: "http".into(),
                name: "/api/v1/products".into(),
                hour,
                bucket: bucket_of(ms),
                samples: n,
                errors: 0,
                max_ms: ms,
            })
            .collect();
        let rollups = performance_rollups(&rows, hour);
        assert_eq!(rollups.len(), 2, "one hour and the day");
        let hourly = &rollups[0];
        let near = |got: Option<f64>, want: f64| got.is_some_and(|g| g >= want * 0.9999 && g <= want * 1.05);
        assert!(near(hourly.p50_ms, 1.0), "{hourly:?}");
        assert!(near(hourly.p95_ms, 10.0), "{hourly:?}");
        assert!(near(hourly.p99_ms, 10.0), "{hourly:?}");
        assert_eq!((hourly.max_ms, hourly.samples), (Some(250.0), 100));
    }
}
