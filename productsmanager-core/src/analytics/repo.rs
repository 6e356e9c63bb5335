//! SQL of the analytics service: reads of the catalog, imports, exports and media databases (each on its own pool;
//! nothing joins across databases) and the analytics tables it writes.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use super::model::{
    CatalogOverview, CategoryCompleteness, CompletenessRules, PerformanceRollup, ProductDay, ProductFacts, SupplierDay,
};
use crate::db::{DbPool, rows_by_ids};
use crate::with_pool;

type Sql<T> = Result<T, sqlx::Error>;

/// Rows per multi-row statement (at most 12 parameters each).
const ROWS: usize = 500;

/// An import job that ended (succeeded, failed or dead) within a day; dry runs are not imports.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct FinishedImport {
    pub id: Uuid,
    pub supplier_id: Uuid,
    pub state: String,
    pub rows_read: i64,
    pub rows_failed: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The import's summary, which holds its outcome (a job that ran to its end refusing most rows failed).
    pub summary: Option<sqlx::types::Json<serde_json::Value>>,
}

impl FinishedImport {
    /// Whether the import failed: it did not run to its end, or its outcome says it refused too many rows.
    pub(super) fn failed(&self) -> bool {
        let outcome = self.summary.as_ref().and_then(|s| s.0.get("outcome")).and_then(|o| o.as_str());
        self.state != "succeeded" || outcome == Some("failed")
    }
}

const FINISHED_IMPORTS: &str = "select id, supplier_id, state, rows_read, rows_failed, started_at, finished_at, summary \
     from import_jobs where dry_run = false and state in ('succeeded', 'failed', 'dead') \
     and finished_at >= $1 and finished_at < $2 order by finished_at, id";

pub(super) async fn finished_imports(
    imports: &DbPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Sql<Vec<FinishedImport>> {
    with_pool!(imports, |p| sqlx::query_as(FINISHED_IMPORTS).bind(from).bind(to).fetch_all(p).await)
}

/// One `import_metrics` row: a job's (`job_id` set) or the day's over all jobs.
#[derive(Debug, Clone, Default)]
pub(super) struct ImportMetricsRow {
    pub job_id: Option<Uuid>,
    pub supplier_id: Option<Uuid>,
    pub jobs: i64,
    pub jobs_failed: i64,
    pub rows_processed: i64,
    pub rows_failed: i64,
    pub duration_ms: i64,
}

/// Replaces a day's import metrics (a rollup recomputes the whole day, so running it twice changes nothing).
pub(super) async fn replace_import_metrics(
    analytics: &DbPool,
    day: NaiveDate,
    rows: &[ImportMetricsRow],
    now: DateTime<Utc>,
) -> Sql<()> {
    with_pool!(analytics, |p| {
        let mut tx = p.begin().await?;
        sqlx::query("delete from import_metrics where day = $1").bind(day).execute(&mut *tx).await?;
        for chunk in rows.chunks(ROWS) {
            let mut sql = QueryBuilder::new(
                "insert into import_metrics (id, job_id, supplier_id, day, jobs, jobs_failed, rows_processed, \
                 rows_failed, duration_ms, created_at, updated_at) ",
            );
            sql.push_values(chunk, |mut row, m| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(m.job_id)
                    .push_bind(m.supplier_id)
                    .push_bind(day)
                    .push_bind(m.jobs)
                    .push_bind(m.jobs_failed)
                    .push_bind(m.rows_processed)
                    .push_bind(m.rows_failed)
                    .push_bind(m.duration_ms)
                    .push_bind(now)
                    .push_bind(now);
            });
            sql.build().execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

/// A supplier's imports of one day: (supplier, imports, succeeded, failed, duration ms).
pub(super) type SupplierImports = (Uuid, i64, i64, i64, i64);

/// Sets the import columns of the suppliers' rows of a day (other columns are left as they are).
pub(super) async fn set_supplier_imports(
    analytics: &DbPool,
    day: NaiveDate,
    rows: &[SupplierImports],
    now: DateTime<Utc>,
) -> Sql<()> {
    with_pool!(analytics, |p| {
        let mut tx = p.begin().await?;
        // Suppliers whose imports of the day are no longer there (a job deleted since) go back to none.
        sqlx::query(
            "update supplier_metrics set imports = 0, imports_succeeded = 0, imports_failed = 0, \
             import_duration_ms = 0, updated_at = $2 where day = $1",
        )
        .bind(day)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for chunk in rows.chunks(ROWS) {
            let mut sql = QueryBuilder::new(
                "insert into supplier_metrics (id, supplier_id, day, imports, imports_succeeded, imports_failed, \
                 import_duration_ms, created_at, updated_at) ",
            );
            sql.push_values(chunk, |mut row, (supplier, imports, succeeded, failed, duration)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(*supplier)
                    .push_bind(day)
                    .push_bind(*imports)
                    .push_bind(*succeeded)
                    .push_bind(*failed)
                    .push_bind(*duration)
                    .push_bind(now)
                    .push_bind(now);
            });
            sql.push(
                " on conflict (supplier_id, day) do update set imports = excluded.imports, \
                 imports_succeeded = excluded.imports_succeeded, imports_failed = excluded.imports_failed, \
                 import_duration_ms = excluded.import_duration_ms, updated_at = excluded.updated_at",
            );
            sql.build().execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

const SUPPLIER_OFFERS: &str = "select supplier_id, count(*), \
     sum(case when is_available and coalesce(stock, 0) > 0 then 1 else 0 end) \
     from supplier_products group by supplier_id";

/// Offers and offers in stock per supplier, now (catalog database).
pub(super) async fn supplier_offers(catalog: &DbPool) -> Sql<Vec<(Uuid, i64, i64)>> {
    with_pool!(catalog, |p| sqlx::query_as(SUPPLIER_OFFERS).fetch_all(p).await)
}

/// Sets the offer columns of the suppliers' rows of a day.
pub(super) async fn set_supplier_offers(
    analytics: &DbPool,
    day: NaiveDate,
    rows: &[(Uuid, i64, i64)],
    now: DateTime<Utc>,
) -> Sql<()> {
    with_pool!(analytics, |p| {
        let mut tx = p.begin().await?;
        for chunk in rows.chunks(ROWS) {
            let mut sql = QueryBuilder::new(
                "insert into supplier_metrics (id, supplier_id, day, offers, offers_in_stock, created_at, updated_at) ",
            );
            sql.push_values(chunk, |mut row, (supplier, offers, in_stock)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(*supplier)
                    .push_bind(day)
                    .push_bind(*offers)
                    .push_bind(*in_stock)
                    .push_bind(now)
                    .push_bind(now);
            });
            sql.push(
                " on conflict (supplier_id, day) do update set offers = excluded.offers, \
                 offers_in_stock = excluded.offers_in_stock, updated_at = excluded.updated_at",
            );
            sql.build().execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

const EXPORTED_PRODUCTS: &str = "select product_id, count(*) from export_job_items \
     where status in ('created', 'updated') and updated_at >= $1 and updated_at < $2 group by product_id";

/// Products sent to a platform within a day, with how many times (exports database).
pub(super) async fn exported_products(
    exports: &DbPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Sql<Vec<(Uuid, i64)>> {
    with_pool!(exports, |p| sqlx::query_as(EXPORTED_PRODUCTS).bind(from).bind(to).fetch_all(p).await)
}

/// Sets the export counts of the products' rows of a day.
pub(super) async fn set_product_exports(
    analytics: &DbPool,
    day: NaiveDate,
    rows: &[(Uuid, i64)],
    now: DateTime<Utc>,
) -> Sql<()> {
    with_pool!(analytics, |p| {
        let mut tx = p.begin().await?;
        sqlx::query("update product_metrics set exports = 0 where day = $1 and exports <> 0")
            .bind(day)
            .execute(&mut *tx)
            .await?;
        for chunk in rows.chunks(ROWS) {
            let mut sql = QueryBuilder::new(
                "insert into product_metrics (id, product_id, day, exports, created_at, updated_at) ",
            );
            sql.push_values(chunk, |mut row, (product, exports)| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(*product)
                    .push_bind(day)
                    .push_bind(*exports)
                    .push_bind(now)
                    .push_bind(now);
            });
            sql.push(
                " on conflict (product_id, day) do update set exports = excluded.exports, \
                 updated_at = excluded.updated_at",
            );
            sql.build().execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

/// One histogram bucket of `performance_buckets`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct BucketRow {
    pub kind: String,
    pub name: String,
    pub hour: DateTime<Utc>,
    pub bucket: i32,
    pub samples: i64,
    pub errors: i64,
    pub max_ms: f64,
}

const BUCKETS: &str = "select kind, name, hour, bucket, samples, errors, max_ms from performance_buckets \
     where hour >= $1 and hour < $2 order by kind, name, hour, bucket";

pub(super) async fn buckets(analytics: &DbPool, from: DateTime<Utc>, to: DateTime<Utc>) -> Sql<Vec<BucketRow>> {
    with_pool!(analytics, |p| sqlx::query_as(BUCKETS).bind(from).bind(to).fetch_all(p).await)
}

/// Writes rollups (a rollup of the same kind, name and period replaces the earlier one).
pub(super) async fn upsert_performance(analytics: &DbPool, rows: &[PerformanceRollup], now: DateTime<Utc>) -> Sql<()> {
    with_pool!(analytics, |p| {
        let mut tx = p.begin().await?;
        for chunk in rows.chunks(ROWS) {
            let mut sql = QueryBuilder::new(
                "insert into performance_metrics (id, kind, name, period, period_start, samples, errors, p50_ms, \
                 p95_ms, p99_ms, max_ms, queue_length, hits, misses, created_at, updated_at) ",
            );
            sql.push_values(chunk, |mut row, r| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(r.kind.clone())
                    .push_bind(r.name.clone())
                    .push_bind(r.period.clone())
                    .push_bind(r.period_start)
                    .push_bind(r.samples)
                    .push_bind(r.errors)
                    .push_bind(r.p50_ms)
                    .push_bind(r.p95_ms)
                    .push_bind(r.p99_ms)
                    .push_bind(r.max_ms)
                    .push_bind(r.queue_length)
                    .push_bind(r.hits)
                    .push_bind(r.misses)
                    .push_bind(now)
                    .push_bind(now);
            });
            sql.push(
                " on conflict (kind, name, period, period_start) do update set samples = excluded.samples, \
                 errors = excluded.errors, p50_ms = excluded.p50_ms, p95_ms = excluded.p95_ms, \
                 p99_ms = excluded.p99_ms, max_ms = excluded.max_ms, queue_length = excluded.queue_length, \
                 hits = excluded.hits, misses = excluded.misses, updated_at = excluded.updated_at",
            );
            sql.build().execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

const PERFORMANCE: &str = "select kind, name, period, period_start, samples, errors, p50_ms, p95_ms, p99_ms, max_ms, \
     queue_length, hits, misses from performance_metrics where period = $1 and period_start >= $2 \
     order by kind, name, period_start";

const CACHE_COUNTS: &str =
    "select kind, hour, hits, misses from cache_counts where hour >= $1 and hour < $2 order by kind, hour";

/// (cache kind, hour, hits, misses) of the hours in [from, to).
pub(super) async fn cache_counts(
    analytics: &DbPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Sql<Vec<(String, DateTime<Utc>, i64, i64)>> {
    with_pool!(analytics, |p| sqlx::query_as(CACHE_COUNTS).bind(from).bind(to).fetch_all(p).await)
}

pub(super) async fn performance(analytics: &DbPool, period: &str, since: DateTime<Utc>) -> Sql<Vec<PerformanceRollup>> {
    with_pool!(analytics, |p| sqlx::query_as(PERFORMANCE).bind(period).bind(since).fetch_all(p).await)
}

// The facts of completeness (`$tail`: which products). The primary category, else the first by position.
macro_rules! facts_sql {
    ($tail:literal) => {
        concat!(
            "select p.id as product_id, \
     (select pc.category_id from product_categories pc where pc.product_id = p.id \
      order by pc.is_primary desc, pc.position, pc.category_id limit 1) as category_id, \
     p.gtin is not null as has_gtin, p.asin is not null as has_asin, p.brand_id is not null as has_brand, \
     exists (select 1 from product_categories pc where pc.product_id = p.id) as has_category, \
     exists (select 1 from product_prices pp where pp.product_id = p.id) as has_price, \
     (exists (select 1 from product_stocks s where s.product_id = p.id and s.quantity - s.reserved > 0) \
      or exists (select 1 from supplier_products sp where sp.product_id = p.id and sp.is_available \
                 and coalesce(sp.stock, 0) > 0) \
      or (coalesce(p.availability, '') = 'in_stock' \
          and not exists (select 1 from product_stocks s where s.product_id = p.id))) as in_stock, \
     (select count(*) from product_images i where i.product_id = p.id) as image_count, \
     cast(length(coalesce(p.description, '')) as bigint) as description_chars \
     from products p where p.deleted_at is null",
            $tail
        )
    };
}

/// A page of products' facts after `after` in id order (catalog database; images of the catalog only).
pub(super) async fn facts_page(catalog: &DbPool, after: Uuid, limit: i64) -> Sql<Vec<ProductFacts>> {
    with_pool!(catalog, |p| sqlx::query_as(facts_sql!(" and p.id > $1 order by p.id limit $2"))
        .bind(after)
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// One product's facts (catalog database).
pub(super) async fn facts_of(catalog: &DbPool, product: Uuid) -> Sql<Option<ProductFacts>> {
    with_pool!(catalog, |p| sqlx::query_as(facts_sql!(" and p.id = $1")).bind(product).fetch_optional(p).await)
}

/// Uploaded images per product (media database).
pub(super) async fn media_counts(media: &DbPool, ids: &[Uuid]) -> Sql<Vec<(Uuid, i64)>> {
    const COUNTS: &str = "select product_id, count(*) from media_files where product_id in ";
    match media {
        // dialect: one array parameter instead of a list of thousands.
        DbPool::Postgres(p) => {
            sqlx::query_as(
                "select product_id, count(*) from media_files where product_id = any($1) group by product_id",
            )
            .bind(ids)
            .fetch_all(p)
            .await
        }
        DbPool::Sqlite(_) => rows_by_ids(media, COUNTS, ids, "group by product_id").await,
    }
}

/// SKU and title of products (catalog database).
pub(super) async fn product_labels(catalog: &DbPool, ids: &[Uuid]) -> Sql<Vec<(Uuid, Option<String>, String)>> {
    rows_by_ids(catalog, "select id, sku, title from products where id in ", ids, "").await
}

/// Names of categories (catalog database).
pub(super) async fn category_names(catalog: &DbPool, ids: &[Uuid]) -> Sql<Vec<(Uuid, String)>> {
    rows_by_ids(catalog, "select id, name from categories where id in ", ids, "").await
}

/// Code and name of suppliers (catalog database).
pub(super) async fn supplier_labels(catalog: &DbPool, ids: &[Uuid]) -> Sql<Vec<(Uuid, String, String)>> {
    rows_by_ids(catalog, "select id, code, name from suppliers where id in ", ids, "").await
}

macro_rules! facts_columns {
    () => {
        "(product_id, category_id, has_gtin, has_asin, has_brand, has_category, has_price, in_stock, image_count, \
         description_chars, score, computed_at)"
    };
}

macro_rules! upsert_facts_sql {
    () => {
        " on conflict (product_id) do update set category_id = excluded.category_id, \
         has_gtin = excluded.has_gtin, has_asin = excluded.has_asin, has_brand = excluded.has_brand, \
         has_category = excluded.has_category, has_price = excluded.has_price, in_stock = excluded.in_stock, \
         image_count = excluded.image_count, description_chars = excluded.description_chars, \
         score = excluded.score, computed_at = excluded.computed_at"
    };
}

const UPSERT_FACTS: &str = upsert_facts_sql!();

/// Stores facts with their default-rules score.
pub(super) async fn upsert_facts(analytics: &DbPool, facts: &[(ProductFacts, u8)], at: DateTime<Utc>) -> Sql<()> {
    let count = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
    with_pool!(
        analytics,
        // dialect: multi-row VALUES, 500 rows a statement (SQLite's bind limit).
        sqlite | p | {
            let mut tx = p.begin().await?;
            for chunk in facts.chunks(ROWS) {
                let mut sql = QueryBuilder::new(concat!("insert into product_completeness ", facts_columns!(), " "));
                sql.push_values(chunk, |mut row, (f, score)| {
                    row.push_bind(f.product_id)
                        .push_bind(f.category_id)
                        .push_bind(f.has_gtin)
                        .push_bind(f.has_asin)
                        .push_bind(f.has_brand)
                        .push_bind(f.has_category)
                        .push_bind(f.has_price)
                        .push_bind(f.in_stock)
                        .push_bind(count(f.image_count))
                        .push_bind(count(f.description_chars))
                        .push_bind(i16::from(*score))
                        .push_bind(at);
                });
                sql.push(UPSERT_FACTS);
                sql.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        },
        // dialect: one statement for the whole page, its columns as arrays (UNNEST).
        postgres | p | {
            let column = |pick: fn(&ProductFacts) -> bool| facts.iter().map(|(f, _)| pick(f)).collect::<Vec<bool>>();
            sqlx::query(concat!(
                "insert into product_completeness ",
                facts_columns!(),
                " select t.product_id, t.category_id, t.has_gtin, t.has_asin, t.has_brand, t.has_category, \
                 t.has_price, t.in_stock, t.image_count, t.description_chars, t.score, $12 \
                 from unnest($1::uuid[], $2::uuid[], $3::bool[], $4::bool[], $5::bool[], $6::bool[], $7::bool[], \
                 $8::bool[], $9::int4[], $10::int4[], $11::int2[]) as t (product_id, category_id, has_gtin, has_asin, \
                 has_brand, has_category, has_price, in_stock, image_count, description_chars, score)",
                upsert_facts_sql!()
            ))
            .bind(facts.iter().map(|(f, _)| f.product_id).collect::<Vec<_>>())
            .bind(facts.iter().map(|(f, _)| f.category_id).collect::<Vec<_>>())
            .bind(column(|f| f.has_gtin))
            .bind(column(|f| f.has_asin))
            .bind(column(|f| f.has_brand))
            .bind(column(|f| f.has_category))
            .bind(column(|f| f.has_price))
            .bind(column(|f| f.in_stock))
            .bind(facts.iter().map(|(f, _)| count(f.image_count)).collect::<Vec<_>>())
            .bind(facts.iter().map(|(f, _)| count(f.description_chars)).collect::<Vec<_>>())
            .bind(facts.iter().map(|(_, score)| i16::from(*score)).collect::<Vec<_>>())
            .bind(at)
            .execute(p)
            .await
            .map(|_| ())
        }
    )
}

/// Forgets the facts of products not seen by the refresh that started at `started` (deleted since).
pub(super) async fn delete_stale_facts(analytics: &DbPool, started: DateTime<Utc>) -> Sql<u64> {
    with_pool!(analytics, |p| sqlx::query("delete from product_completeness where computed_at < $1")
        .bind(started)
        .execute(p)
        .await
        .map(|d| d.rows_affected()))
}

const OVERVIEW: &str = "select count(*), coalesce(sum(case when has_gtin then 1 else 0 end), 0), \
     coalesce(sum(case when has_asin then 1 else 0 end), 0), coalesce(sum(case when image_count > 0 then 1 else 0 end), 0), \
     coalesce(sum(case when in_stock then 1 else 0 end), 0), coalesce(sum(case when score = 100 then 1 else 0 end), 0), \
     cast(coalesce(avg(score), 0) as double precision) from product_completeness";

const BY_CATEGORY: &str = "select category_id, count(*), sum(case when score = 100 then 1 else 0 end), \
     cast(avg(score) as double precision) from product_completeness group by category_id \
     order by count(*) desc, category_id limit $1";

/// The overview's figures from the stored facts (names of categories not filled in).
pub(super) async fn overview(analytics: &DbPool, categories: i64) -> Sql<CatalogOverview> {
    type Counts = (i64, i64, i64, i64, i64, i64, f64);
    type ByCategory = Vec<(Option<Uuid>, i64, i64, f64)>;
    let (counts, by_category): (Counts, ByCategory) = with_pool!(analytics, |p| {
        let counts = sqlx::query_as(OVERVIEW).fetch_one(p).await?;
        let by_category = sqlx::query_as(BY_CATEGORY).bind(categories).fetch_all(p).await?;
        Ok::<_, sqlx::Error>((counts, by_category))
    })?;
    let (products, with_gtin, with_asin, with_images, in_stock, complete, mean_score) = counts;
    Ok(CatalogOverview {
        taken_at: Utc::now(),
        duration_ms: 0,
        products,
        with_gtin,
        with_asin,
        with_images,
        in_stock,
        complete,
        mean_score,
        categories: by_category
            .into_iter()
            .map(|(category_id, products, complete, mean_score)| CategoryCompleteness {
                category_id,
                name: None,
                products,
                complete,
                mean_score,
            })
            .collect(),
    })
}

/// Keeps an overview (and forgets those older than 30 days).
pub(super) async fn insert_snapshot(analytics: &DbPool, overview: &CatalogOverview) -> Sql<()> {
    let forget = overview.taken_at - chrono::Duration::days(30);
    with_pool!(analytics, |p| {
        sqlx::query("insert into catalog_snapshots (id, taken_at, duration_ms, overview) values ($1, $2, $3, $4)")
            .bind(Uuid::now_v7())
            .bind(overview.taken_at)
            .bind(overview.duration_ms)
            .bind(Json(overview))
            .execute(p)
            .await?;
        sqlx::query("delete from catalog_snapshots where taken_at < $1").bind(forget).execute(p).await.map(|_| ())
    })
}

pub(super) async fn latest_snapshot(analytics: &DbPool) -> Sql<Option<CatalogOverview>> {
    let row: Option<(Json<CatalogOverview>,)> = with_pool!(analytics, |p| sqlx::query_as(
        "select overview from catalog_snapshots order by taken_at desc limit 1"
    )
    .fetch_optional(p)
    .await)?;
    Ok(row.map(|(overview,)| overview.0))
}

/// Stored facts failing at least one check of `rules`, in product id order after `after`.
pub(super) async fn incomplete(
    analytics: &DbPool,
    rules: &CompletenessRules,
    category: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> Sql<Vec<(ProductFacts, DateTime<Utc>)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        facts: ProductFacts,
        computed_at: DateTime<Utc>,
    }
    with_pool!(analytics, |p| {
        let mut sql = QueryBuilder::new(
            "select product_id, category_id, has_gtin, has_asin, has_brand, has_category, has_price, in_stock, \
             cast(image_count as bigint) as image_count, cast(description_chars as bigint) as description_chars, \
             computed_at from product_completeness where (",
        );
        let mut failing = sql.separated(" or ");
        let flags = [
            (rules.require_gtin, "not has_gtin"),
            (rules.require_brand, "not has_brand"),
            (rules.require_category, "not has_category"),
            (rules.require_asin, "not has_asin"),
            (rules.require_price, "not has_price"),
            (rules.require_stock, "not in_stock"),
        ];
        failing.push("1 = 0");
        for (_, condition) in flags.iter().filter(|(on, _)| *on) {
            failing.push(*condition);
        }
        if rules.min_images > 0 {
            failing.push("image_count < ").push_bind_unseparated(i64::from(rules.min_images));
        }
        if rules.min_description_chars > 0 {
            failing.push("description_chars < ").push_bind_unseparated(i64::from(rules.min_description_chars));
        }
        sql.push(")");
        if let Some(category) = category {
            sql.push(" and category_id = ").push_bind(category);
        }
        if let Some(after) = after {
            sql.push(" and product_id > ").push_bind(after);
        }
        sql.push(" order by product_id limit ").push_bind(limit);
        let rows: Vec<Row> = sql.build_query_as().fetch_all(p).await?;
        Ok(rows.into_iter().map(|r| (r.facts, r.computed_at)).collect())
    })
}

/// Removes raw analytics older than `before`: searches, activity, latency buckets, cache counts; returns how many
/// rows went.
pub(super) async fn purge_raw(analytics: &DbPool, before: DateTime<Utc>) -> Sql<u64> {
    with_pool!(analytics, |p| {
        let mut removed = 0;
        for sql in [
            "delete from search_analytics where created_at < $1",
            "delete from user_activity where created_at < $1",
            "delete from performance_buckets where hour < $1",
            "delete from cache_counts where hour < $1",
        ] {
            removed += sqlx::query(sql).bind(before).execute(p).await?.rows_affected();
        }
        Ok(removed)
    })
}

const SUPPLIER_DAYS: &str = "select supplier_id, day, offers, offers_in_stock, price_changes, imports, \
     imports_succeeded, imports_failed, import_duration_ms from supplier_metrics where day >= $1 \
     order by supplier_id, day";

pub(super) async fn supplier_days(analytics: &DbPool, since: NaiveDate) -> Sql<Vec<SupplierDay>> {
    with_pool!(analytics, |p| sqlx::query_as(SUPPLIER_DAYS).bind(since).fetch_all(p).await)
}

/// `import_metrics` rows since a day: (job_id, supplier_id, day, jobs, jobs_failed, rows, rows_failed, ms).
pub(super) type ImportMetricsRead = (Option<Uuid>, Option<Uuid>, NaiveDate, i64, i64, i64, i64, i64);

const IMPORT_DAYS: &str = "select job_id, supplier_id, day, jobs, jobs_failed, rows_processed, rows_failed, \
     duration_ms from import_metrics where day >= $1 and job_id is null order by day";

const IMPORT_JOBS: &str = "select job_id, supplier_id, day, jobs, jobs_failed, rows_processed, rows_failed, \
     duration_ms from import_metrics where day >= $1 and job_id is not null order by day desc, job_id desc limit $2";

pub(super) async fn import_days(analytics: &DbPool, since: NaiveDate) -> Sql<Vec<ImportMetricsRead>> {
    with_pool!(analytics, |p| sqlx::query_as(IMPORT_DAYS).bind(since).fetch_all(p).await)
}

pub(super) async fn import_jobs(analytics: &DbPool, since: NaiveDate, limit: i64) -> Sql<Vec<ImportMetricsRead>> {
    with_pool!(analytics, |p| sqlx::query_as(IMPORT_JOBS).bind(since).bind(limit).fetch_all(p).await)
}

const TOP_SEARCHES: &str = "select normalized_query, count(*), sum(case when result_count = 0 then 1 else 0 end), \
     cast(avg(latency_ms) as double precision) from search_analytics where created_at >= $1 \
     group by normalized_query order by count(*) desc, normalized_query limit $2";

const ZERO_RESULT_SEARCHES: &str = "select normalized_query, count(*), count(*), \
     cast(avg(latency_ms) as double precision) from search_analytics where created_at >= $1 and result_count = 0 \
     group by normalized_query order by count(*) desc, normalized_query limit $2";

/// (query, searches, zero-result searches, mean latency) since an instant, most searched first.
pub(super) async fn searches(
    analytics: &DbPool,
    since: DateTime<Utc>,
    zero_only: bool,
    limit: i64,
) -> Sql<Vec<(String, i64, i64, f64)>> {
    let sql = if zero_only { ZERO_RESULT_SEARCHES } else { TOP_SEARCHES };
    with_pool!(analytics, |p| sqlx::query_as(sql).bind(since).bind(limit).fetch_all(p).await)
}

const PRODUCT_DAYS: &str = "select day, views, exports, price_changes, stock_outs from product_metrics \
     where product_id = $1 and day >= $2 order by day";

pub(super) async fn product_days(analytics: &DbPool, product: Uuid, since: NaiveDate) -> Sql<Vec<ProductDay>> {
    with_pool!(analytics, |p| sqlx::query_as(PRODUCT_DAYS).bind(product).bind(since).fetch_all(p).await)
}
