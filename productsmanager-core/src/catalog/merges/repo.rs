//! Merge SQL, written once for both backends. A merge and its undo are one transaction each over the catalog's
//! tables that hang on a product: rows move by id (`update … set product_id`), so undoing moves the same rows back.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::model::Moved;
use crate::catalog::provenance::repo::history_in;
use crate::catalog::provenance::{ChangeKind, FieldSource};
use crate::db::{DbPool, rows_by_ids};
use crate::with_pool;

/// The columns of a merge row, then `$rest`.
macro_rules! merge_select {
    ($rest:literal) => {
        concat!(
            "select id, survivor_id, merged_id, merged_gtin, merged_sku, merged_asin, merged_title, moved, merged_by, \
             created_at, undone_at from product_merges ",
            $rest
        )
    };
}

const MERGE_BY_ID: &str = merge_select!("where id = $1");
const MERGES_OF: &str = merge_select!("where survivor_id = $1 or merged_id = $1 order by created_at desc, id desc");
const RECENT_MERGES: &str = merge_select!("order by created_at desc, id desc limit $1");

/// The standing merge of a product, if it was merged.
const SURVIVOR_OF: &str = "select survivor_id from product_merges where merged_id = $1 and undone_at is null";

/// The standing merge of a product that had this identifier (newest first: a GTIN can have been merged away,
/// undone, and merged again).
const SURVIVOR_BY_GTIN: &str = "select survivor_id from product_merges where merged_gtin = $1 and undone_at is null \
     order by created_at desc limit 1";
const SURVIVOR_BY_SKU: &str = "select survivor_id from product_merges where merged_sku = $1 and undone_at is null \
     order by created_at desc limit 1";
const SURVIVOR_BY_ASIN: &str = "select survivor_id from product_merges where merged_asin = $1 and undone_at is null \
     order by created_at desc limit 1";

/// Live products that are variants (a variant is merged through its parent).
const VARIANTS_AMONG: &str = "select product_id from product_variants where product_id = $1 or product_id = $2";

/// Every live product that is not a variant, with its brand's name: what the duplicates report compares.
const SCAN: &str = "select p.id, p.gtin, p.title, b.name as brand from products p \
     left join brands b on b.id = p.brand_id \
     where p.deleted_at is null and not exists (select 1 from product_variants v where v.product_id = p.id)";

const SOFT_DELETE: &str = "update products set deleted_at = $2, updated_at = $2, version = version + 1 \
     where id = $1 and version = $3 and deleted_at is null";

const UNDELETE: &str = "update products set deleted_at = null, updated_at = $2, version = version + 1 \
     where id = $1 and deleted_at is not null";

/// The survivor takes the merged product's description, brand, identifiers and availability where it has none
/// ($2…$6, $9 null where a field is not to be filled).
const FILL: &str = "update products set description = coalesce(description, $2), brand_id = coalesce(brand_id, $3), \
     gtin = coalesce(gtin, $4), sku = coalesce(sku, $5), asin = coalesce(asin, $6), \
     availability = coalesce(availability, $9), version = version + 1, \
     updated_at = $7 where id = $1 and version = $8 and deleted_at is null";

const TOUCH: &str = "update products set version = version + 1, updated_at = $2 where id = $1";

const INSERT_MERGE: &str = "insert into product_merges (id, survivor_id, merged_id, merged_gtin, merged_sku, \
     merged_asin, merged_title, moved, merged_by, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

const MARK_UNDONE: &str = "update product_merges set undone_at = $2 where id = $1 and undone_at is null";

// What hangs on the merged product ($2), each row with what names it and whether the survivor ($1) already has
// its own (`kept`: 1, the row stays with the merged product).
const PRICES: &str = "select id, price_type || ':' || currency as label, case when m.valid_from is null and \
     m.valid_to is null and exists (select 1 from product_prices s where s.product_id = $1 and \
     s.price_type = m.price_type and s.currency = m.currency and s.valid_from is null and s.valid_to is null) \
     then 1 else 0 end as kept from product_prices m where m.product_id = $2";
const ATTRIBUTES: &str = "select id, name as label, case when exists (select 1 from product_attributes s \
     where s.product_id = $1 and lower(s.name) = lower(m.name)) then 1 else 0 end as kept \
     from product_attributes m where m.product_id = $2";
const IMAGE_URLS: &str = "select id, url as label, case when exists (select 1 from product_images s \
     where s.product_id = $1 and s.url = m.url) then 1 else 0 end as kept from product_images m where m.product_id = $2";
const STOCK: &str = "select id, location as label, case when exists (select 1 from product_stocks s \
     where s.product_id = $1 and s.location = m.location) then 1 else 0 end as kept \
     from product_stocks m where m.product_id = $2";
const SEO: &str = "select id, locale as label, case when exists (select 1 from product_seo s \
     where s.product_id = $1 and s.locale = m.locale) then 1 else 0 end as kept from product_seo m where m.product_id = $2";
// A bundle of the survivor's that holds the merged product keeps it (it cannot hold itself), and so does a
// bundle that already holds the survivor.
const BUNDLE_ITEMS: &str = "select id, cast(bundle_id as text) as label, case when exists (select 1 from \
     product_bundle_items s where s.bundle_id = m.bundle_id and s.product_id = $1) or exists (select 1 from \
     product_bundles b where b.id = m.bundle_id and b.product_id = $1) then 1 else 0 end as kept \
     from product_bundle_items m where m.product_id = $2";
const BUNDLES: &str = "select id, 'bundle' as label, case when exists (select 1 from product_bundles s \
     where s.product_id = $1) then 1 else 0 end as kept from product_bundles m where m.product_id = $2";
const CATEGORIES: &str = "select category_id, is_primary, case when exists (select 1 from product_categories s \
     where s.product_id = $1 and s.category_id = m.category_id) then 1 else 0 end as kept \
     from product_categories m where m.product_id = $2";
const OFFERS: &str = "select id from supplier_products where product_id = $1";
const VARIANTS: &str = "select id from product_variants where parent_product_id = $1";

/// A moved category link is the survivor's primary only if the survivor has none.
const MOVE_CATEGORY: &str = "update product_categories set product_id = $1, updated_at = $4, is_primary = case \
     when exists (select 1 from product_categories x where x.product_id = $1 and x.is_primary = true) then false \
     else is_primary end where product_id = $2 and category_id = $3";
const MOVE_CATEGORY_BACK: &str = "update product_categories set product_id = $1, updated_at = $4, is_primary = $5 \
     where product_id = $2 and category_id = $3";

/// A `product_merges` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct MergeRow {
    pub id: Uuid,
    pub survivor_id: Uuid,
    pub merged_id: Uuid,
    pub merged_gtin: Option<String>,
    pub merged_sku: Option<String>,
    pub merged_asin: Option<String>,
    pub merged_title: String,
    pub moved: Json<Moved>,
    pub merged_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub undone_at: Option<DateTime<Utc>>,
}

/// A product as the duplicates report reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct ScanRow {
    pub id: Uuid,
    pub gtin: Option<String>,
    pub title: String,
    pub brand: Option<String>,
}

/// The merged product's values the survivor takes where it has none (`None`: not taken).
#[derive(Debug, Clone, Default)]
pub(super) struct Fill {
    pub description: Option<String>,
    pub brand_id: Option<Uuid>,
    pub gtin: Option<String>,
    pub sku: Option<String>,
    pub asin: Option<String>,
    pub availability: Option<String>,
}

/// Where a field that comes with the merged product got its value (a `product_field_sources` row of the survivor).
#[derive(Debug)]
pub(super) struct SourceWrite {
    pub field: String,
    pub kind: &'static str,
    pub source_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub set_at: DateTime<Utc>,
}

/// One merge to write.
#[derive(Debug)]
pub(super) struct MergeWrite<'a> {
    pub id: Uuid,
    pub survivor: Uuid,
    pub survivor_version: i32,
    pub merged: Uuid,
    pub merged_version: i32,
    pub merged_identifiers: [Option<String>; 3],
    pub merged_title: &'a str,
    pub fill: Fill,
    /// Field sources to write on the survivor.
    pub sources: Vec<SourceWrite>,
    /// Fields the merge fills (`description`, `brand`, …), recorded for undo.
    pub filled: Vec<String>,
    /// Fields both products have with different values: the survivor's stays (listed in the merge).
    pub kept_fields: Vec<String>,
    pub media: Vec<super::model::MovedFile>,
    pub merged_by: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// Why a merge or an undo wrote nothing.
#[derive(Debug)]
pub(super) enum Stale {
    /// A product changed (or was deleted) since it was read.
    Changed,
    /// The merge was undone meanwhile.
    Undone,
}

/// Rows of a kind that the merged product has: `(id, label, kept)`.
macro_rules! hanging {
    ($tx:expr, $sql:expr, $survivor:expr, $merged:expr) => {
        sqlx::query_as::<_, (Uuid, String, i32)>($sql).bind($survivor).bind($merged).fetch_all(&mut *$tx).await?
    };
}

/// Moves the rows of each `(table, column, ids)` from one product to another (`column` names the product).
macro_rules! move_rows {
    ($tx:expr, $tables:expr, $from:expr, $to:expr, $at:expr) => {{
        for (table, column, ids) in $tables {
            if ids.is_empty() {
                continue;
            }
            // Table and column come from `moved_rows`, never from input.
            let mut sql = sqlx::QueryBuilder::new("update ");
            sql.push(table).push(" set ").push(column).push(" = ").push_bind($to);
            sql.push(", updated_at = ").push_bind($at).push(" where ").push(column).push(" = ").push_bind($from);
            sql.push(" and id in (");
            let mut list = sql.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            sql.push(")");
            sql.build().execute(&mut *$tx).await?;
        }
    }};
}

/// The rows a merge moves by id, table by table: the table, the column naming the product, the ids.
fn moved_rows(moved: &Moved) -> [(&'static str, &'static str, &[Uuid]); 9] {
    [
        ("supplier_products", "product_id", &moved.offers),
        ("product_prices", "product_id", &moved.prices),
        ("product_attributes", "product_id", &moved.attributes),
        ("product_images", "product_id", &moved.image_urls),
        ("product_stocks", "product_id", &moved.stock_levels),
        ("product_seo", "product_id", &moved.seo),
        ("product_bundle_items", "product_id", &moved.bundle_items),
        ("product_bundles", "product_id", &moved.bundles),
        ("product_variants", "parent_product_id", &moved.variants),
    ]
}

/// Splits hanging rows into those that move (ids) and the labels of those the survivor keeps its own of.
fn split(rows: Vec<(Uuid, String, i32)>, kind: &str, kept: &mut Vec<String>) -> Vec<Uuid> {
    let mut moving = Vec::with_capacity(rows.len());
    for (id, label, is_kept) in rows {
        if is_kept == 0 {
            moving.push(id);
        } else {
            kept.push(format!("{kind}:{label}"));
        }
    }
    moving
}

/// Writes a merge: the merged product is deleted softly, what hangs on it and does not clash with the survivor's
/// own moves to the survivor, the survivor's empty fields are filled, and the merge is recorded with every row that
/// moved. `Err(Stale)` inside `Ok` when either product changed since it was read (nothing written).
pub(super) async fn merge(pool: &DbPool, write: &MergeWrite<'_>) -> Result<Result<Moved, Stale>, sqlx::Error> {
    let (s, m, at) = (write.survivor, write.merged, write.at);
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        // First the merged product goes: its GTIN, SKU and ASIN are free for the survivor.
        let deleted = sqlx::query(SOFT_DELETE).bind(m).bind(at).bind(write.merged_version).execute(&mut *tx).await?;
        if deleted.rows_affected() != 1 {
            return Ok(Err(Stale::Changed));
        }
        let mut moved = Moved {
            media: write.media.clone(),
            filled: write.filled.clone(),
            kept_by_survivor: write.kept_fields.clone(),
            ..Moved::default()
        };
        let kept = &mut moved.kept_by_survivor;
        moved.prices = split(hanging!(tx, PRICES, s, m), "price", kept);
        moved.attributes = split(hanging!(tx, ATTRIBUTES, s, m), "attribute", kept);
        // The same image URL or category link on both is one value: nothing of the merged product's is set aside.
        moved.image_urls = split(hanging!(tx, IMAGE_URLS, s, m), "image", &mut Vec::new());
        moved.stock_levels = split(hanging!(tx, STOCK, s, m), "stock", kept);
        moved.seo = split(hanging!(tx, SEO, s, m), "seo", kept);
        moved.bundle_items = split(hanging!(tx, BUNDLE_ITEMS, s, m), "bundle_item", kept);
        moved.bundles = split(hanging!(tx, BUNDLES, s, m), "bundle", kept);
        let links: Vec<(Uuid, bool, i32)> = sqlx::query_as(CATEGORIES).bind(s).bind(m).fetch_all(&mut *tx).await?;
        for (category, primary, is_kept) in links {
            if is_kept == 0 {
                sqlx::query(MOVE_CATEGORY).bind(s).bind(m).bind(category).bind(at).execute(&mut *tx).await?;
                moved.categories.push((category, primary));
            }
        }
        moved.offers = sqlx::query_scalar(OFFERS).bind(m).fetch_all(&mut *tx).await?;
        moved.variants = sqlx::query_scalar(VARIANTS).bind(m).fetch_all(&mut *tx).await?;
        move_rows!(tx, moved_rows(&moved), m, s, at);
        let fill = &write.fill;
        let filled = sqlx::query(FILL)
            .bind(s)
            .bind(&fill.description)
            .bind(fill.brand_id)
            .bind(&fill.gtin)
            .bind(&fill.sku)
            .bind(&fill.asin)
            .bind(at)
            .bind(write.survivor_version)
            .bind(&fill.availability)
            .execute(&mut *tx)
            .await?;
        if filled.rows_affected() != 1 {
            return Ok(Err(Stale::Changed));
        }
        // The fields that came with the merged product keep their source: the prices that moved (a kept price is
        // labelled with its field name), the fields filled.
        for SourceWrite { field, kind, source_id, job_id, set_at } in &write.sources {
            if moved.kept_by_survivor.contains(field) {
                continue;
            }
            let written = sqlx::query(
                "insert into product_field_sources (product_id, field, source_kind, source_id, job_id, locked, \
                 set_at) values ($1, $2, $3, $4, $5, false, $6) on conflict (product_id, field) do nothing",
            )
            .bind(s)
            .bind(field)
            .bind(*kind)
            .bind(*source_id)
            .bind(*job_id)
            .bind(*set_at)
            .execute(&mut *tx)
            .await?;
            if written.rows_affected() == 1 {
                moved.field_sources.push(field.clone());
            }
        }
        // The survivor's history: the merge, and each field it filled with the value and where the value came from.
        let by = FieldSource::User { user_id: write.merged_by };
        let merged_label = format!("{} ({m})", write.merged_title);
        history_in!(tx, s, "product", ChangeKind::Merge, Some(merged_label.as_str()), by, at);
        for field in &moved.filled {
            let value = match field.as_str() {
                "description" => write.fill.description.clone(),
                "brand" => write.fill.brand_id.map(|b| b.to_string()),
                "gtin" => write.fill.gtin.clone(),
                "sku" => write.fill.sku.clone(),
                "asin" => write.fill.asin.clone(),
                "availability" => write.fill.availability.clone(),
                _ => None,
            };
            let source = write
                .sources
                .iter()
                .find(|w| &w.field == field)
                .map_or(by, |w| FieldSource::from_columns(Some(w.kind), w.source_id, w.job_id));
            history_in!(tx, s, field.as_str(), ChangeKind::Set, value.as_deref(), source, at);
        }
        let [gtin, sku, asin] = &write.merged_identifiers;
        sqlx::query(INSERT_MERGE)
            .bind(write.id)
            .bind(s)
            .bind(m)
            .bind(gtin)
            .bind(sku)
            .bind(asin)
            .bind(write.merged_title)
            .bind(Json(&moved))
            .bind(write.merged_by)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(moved))
    }
    .await)
}

/// Undoes a merge: the rows it moved go back to the merged product (those still on the survivor), the fields it
/// filled are emptied again where they still hold the merged product's value, and the merged product is live
/// again. A live product that took one of its identifiers meanwhile makes the undelete fail (unique violation):
/// nothing is written then.
pub(super) async fn undo(
    pool: &DbPool,
    merge: &MergeRow,
    (by, at): (FieldSource, DateTime<Utc>),
) -> Result<Result<(), Stale>, sqlx::Error> {
    let (s, m, moved) = (merge.survivor_id, merge.merged_id, &merge.moved.0);
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        let marked = sqlx::query(MARK_UNDONE).bind(merge.id).bind(at).execute(&mut *tx).await?;
        if marked.rows_affected() != 1 {
            return Ok(Err(Stale::Undone));
        }
        let mut forget: Vec<String> = Vec::new();
        for field in &moved.filled {
            // The column comes from this fixed list, never from input; a value changed since the merge stays.
            let sql = match field.as_str() {
                "description" => {
                    "update products set description = null where id = $1 \
                     and description = (select description from products where id = $2)"
                }
                "brand" => {
                    "update products set brand_id = null where id = $1 \
                     and brand_id = (select brand_id from products where id = $2)"
                }
                "gtin" => {
                    "update products set gtin = null where id = $1 and gtin = (select gtin from products where id = $2)"
                }
                "sku" => {
                    "update products set sku = null where id = $1 and sku = (select sku from products where id = $2)"
                }
                "asin" => {
                    "update products set asin = null where id = $1 and asin = (select asin from products where id = $2)"
                }
                "availability" => {
                    "update products set availability = null where id = $1 \
                     and availability = (select availability from products where id = $2)"
                }
                _ => continue,
            };
            if sqlx::query(sql).bind(s).bind(m).execute(&mut *tx).await?.rows_affected() == 1 {
                forget.push(field.clone());
            }
        }
        forget.extend(
            moved
                .field_sources
                .iter()
                .filter(|f| ["price:", "price_windows:", "seo:"].iter().any(|prefix| f.starts_with(prefix)))
                .cloned(),
        );
        for field in forget.iter().filter(|f| moved.field_sources.contains(f)) {
            sqlx::query("delete from product_field_sources where product_id = $1 and field = $2")
                .bind(s)
                .bind(field)
                .execute(&mut *tx)
                .await?;
        }
        move_rows!(tx, moved_rows(moved), s, m, at);
        for (category, primary) in &moved.categories {
            sqlx::query(MOVE_CATEGORY_BACK)
                .bind(m)
                .bind(s)
                .bind(*category)
                .bind(at)
                .bind(*primary)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(TOUCH).bind(s).bind(at).execute(&mut *tx).await?;
        let live = sqlx::query(UNDELETE).bind(m).bind(at).execute(&mut *tx).await?;
        if live.rows_affected() != 1 {
            return Ok(Err(Stale::Changed));
        }
        let merged_label = format!("{} ({m})", merge.merged_title);
        history_in!(tx, s, "product", ChangeKind::Unmerge, Some(merged_label.as_str()), by, at);
        let survivor_label = s.to_string();
        history_in!(tx, m, "product", ChangeKind::Unmerge, Some(survivor_label.as_str()), by, at);
        tx.commit().await?;
        Ok(Ok(()))
    }
    .await)
}

/// The product a merged product was merged into (one step), if it was.
pub(crate) async fn survivor_of(pool: &DbPool, merged: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(SURVIVOR_OF).bind(merged).fetch_optional(p).await)
}

/// The product that a merged product with this stored identifier was merged into (one step).
pub(crate) async fn survivor_by_identifier(
    pool: &DbPool,
    field: crate::catalog::products::Identifier,
    value: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    use crate::catalog::products::Identifier;
    let sql = match field {
        Identifier::Gtin => SURVIVOR_BY_GTIN,
        Identifier::Sku => SURVIVOR_BY_SKU,
        Identifier::Asin => SURVIVOR_BY_ASIN,
    };
    with_pool!(pool, |p| sqlx::query_scalar(sql).bind(value).fetch_optional(p).await)
}

const MERGED_INTO: &str = "select merged_id from product_merges where undone_at is null and survivor_id in ";

/// Every product merged into `survivor` and not undone, through merges of merges.
pub(crate) async fn merged_into(pool: &DbPool, survivor: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    let (mut all, mut level) = (Vec::new(), vec![survivor]);
    // A chain of merges is short; a bound keeps a corrupt loop from spinning.
    for _ in 0..16 {
        let next: Vec<(Uuid,)> = rows_by_ids(pool, MERGED_INTO, &level, "").await?;
        if next.is_empty() {
            break;
        }
        level = next.into_iter().map(|(id,)| id).filter(|id| !all.contains(id) && *id != survivor).collect();
        all.extend(level.iter().copied());
    }
    Ok(all)
}

/// Which of the two products are variants.
pub(super) async fn variants_among(pool: &DbPool, a: Uuid, b: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar(VARIANTS_AMONG).bind(a).bind(b).fetch_all(p).await)
}

/// One merge by id.
pub(super) async fn by_id(pool: &DbPool, id: Uuid) -> Result<Option<MergeRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(MERGE_BY_ID).bind(id).fetch_optional(p).await)
}

/// The merges into or of a product, newest first.
pub(super) async fn of_product(pool: &DbPool, product: Uuid) -> Result<Vec<MergeRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(MERGES_OF).bind(product).fetch_all(p).await)
}

/// The latest merges, newest first.
pub(super) async fn recent(pool: &DbPool, limit: i64) -> Result<Vec<MergeRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(RECENT_MERGES).bind(limit).fetch_all(p).await)
}

/// Every live product that is not a variant, read as a stream into `each`.
pub(super) async fn scan(pool: &DbPool, mut each: impl FnMut(ScanRow) + Send) -> Result<(), sqlx::Error> {
    use futures_util::TryStreamExt;
    with_pool!(pool, |p| async {
        let mut rows = sqlx::query_as::<_, ScanRow>(SCAN).fetch(p);
        while let Some(row) = rows.try_next().await? {
            each(row);
        }
        Ok(())
    }
    .await)
}
