//! [`MergeService`].

use std::collections::HashMap;

use chrono::Duration;
use uuid::Uuid;

use super::model::{DuplicateCandidate, DuplicateQuery, DuplicateSide, ProductMerge};
use super::repo::{self, Fill, MergeRow, MergeWrite, SourceWrite, Stale};
use super::similarity::{Candidate, similar_pairs};
use crate::Result;
use crate::catalog::common::{catalog_changed, db_error, now};
use crate::catalog::provenance::{self, FieldSource, price_field};
use crate::catalog::{AttributeValue, CatalogError, Product, ProductService};
use crate::db::DbPool;

const ENTITY: &str = "product merge";
/// How long a merge can be undone.
pub const UNDO_DAYS: i64 = 30;
/// Most pairs one duplicates report lists.
pub const MAX_DUPLICATES: usize = 1_000;

/// Finds products that are probably one (the duplicates report) and merges them: the merged product's offers,
/// prices, attributes, category links, image URLs and images, stock levels, SEO, variants and bundle places move to
/// the survivor (where the survivor has its own, the survivor's stays), its empty fields take the merged product's
/// value with its provenance, and the merged product is deleted softly — its id, GTIN, SKU and ASIN answer with the
/// survivor from then on. A merge is undone within [`UNDO_DAYS`] days.
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
/// use productsmanager_core::catalog::DuplicateQuery;
///
/// for pair in sdk.merges().duplicates(DuplicateQuery::default()).await? {
///     println!("{:.2} {} = {}", pair.score, pair.survivor.title, pair.duplicate.title);
/// }
/// let merge = sdk.merges().merge("4006381333931", "ACME-8812").await?;
/// sdk.merges().undo(merge.id).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MergeService {
    products: ProductService,
    /// The media database (its images move with the product).
    media: DbPool,
    /// The person merging (none: the command line or an embedding program).
    user: Option<Uuid>,
}

impl MergeService {
    pub(crate) fn new(products: ProductService, media: DbPool) -> Self {
        MergeService { products, media, user: None }
    }

    /// The same service, its merges recorded as made by `user`.
    pub fn on_behalf_of(mut self, user: Uuid) -> Self {
        self.user = Some(user);
        self.products = self.products.on_behalf_of(user);
        self
    }

    fn pool(&self) -> &DbPool {
        self.products.catalog_pool()
    }

    /// Pairs of live products (variants aside) that are probably one: at least one of the two has no GTIN, their
    /// brands agree (or one has none), their titles share most words — [`DuplicateCandidate::score`] — and no
    /// attribute both have differs (`Color: red` and `Color: blue` are two products). Best first. Reads every
    /// product's title once: a report, not a lookup.
    pub async fn duplicates(&self, query: DuplicateQuery) -> Result<Vec<DuplicateCandidate>> {
        if !(0.0..=1.0).contains(&query.min_score) || query.min_score.is_nan() {
            return Err(CatalogError::invalid("min_score", "must be between 0 and 1").into());
        }
        if query.limit == 0 || query.limit > MAX_DUPLICATES {
            return Err(CatalogError::invalid("limit", format!("must be between 1 and {MAX_DUPLICATES}")).into());
        }
        let mut rows = Vec::new();
        let mut candidates = Vec::new();
        repo::scan(self.pool(), |row| {
            candidates.push(Candidate::new(&row.title, row.brand.as_deref(), row.gtin.is_some()));
            rows.push((row.id, row.brand));
        })
        .await
        .map_err(db_error)?;
        let pairs = similar_pairs(&candidates, query.min_score);
        drop(candidates);
        // Attributes tell apart what titles do not: read for the best pairs only, a few more than asked for.
        let mut report = Vec::with_capacity(query.limit);
        for chunk in pairs.chunks(query.limit.max(50)) {
            let mut ids: Vec<Uuid> = chunk.iter().flat_map(|&(a, b, _)| [rows[a].0, rows[b].0]).collect();
            ids.sort_unstable();
            ids.dedup();
            let mut products: HashMap<Uuid, Product> = HashMap::with_capacity(ids.len());
            for part in ids.chunks(crate::catalog::products::MAX_BULK) {
                products.extend(self.products.get_many(part).await?.into_iter().map(|p| (p.id, p)));
            }
            for &(a, b, score) in chunk {
                let (Some(first), Some(second)) = (products.get(&rows[a].0), products.get(&rows[b].0)) else {
                    continue;
                };
                if attributes_differ(first, second) {
                    continue;
                }
                // The one with a GTIN survives, else the older.
                let (survivor, duplicate, survivor_brand, duplicate_brand) =
                    if second.gtin.is_some() || (first.gtin.is_none() && second.created_at < first.created_at) {
                        (second, first, &rows[b].1, &rows[a].1)
                    } else {
                        (first, second, &rows[a].1, &rows[b].1)
                    };
                report.push(DuplicateCandidate {
                    score: (score * 100.0).round() / 100.0,
                    survivor: side(survivor, survivor_brand),
                    duplicate: side(duplicate, duplicate_brand),
                });
                if report.len() == query.limit {
                    return Ok(report);
                }
            }
        }
        Ok(report)
    }

    /// Merges the product `merged` names into the one `survivor` names (each an id, GTIN, SKU, ASIN or supplier
    /// SKU). Refused for one product named twice, and for a variant (merge its parent, or detach it first).
    pub async fn merge(&self, survivor: &str, merged: &str) -> Result<ProductMerge> {
        let (survivor, merged) = (self.products.find(survivor).await?, self.products.find(merged).await?);
        if survivor.id == merged.id {
            return Err(CatalogError::invalid("merged", "names the survivor: they are one product already").into());
        }
        let variants = repo::variants_among(self.pool(), survivor.id, merged.id).await.map_err(db_error)?;
        if let Some(variant) = variants.first() {
            let which = if *variant == survivor.id { "survivor" } else { "merged" };
            return Err(CatalogError::invalid(
                which,
                "is a variant: merge the parent products, or detach the variant from its parent first",
            )
            .into());
        }
        let ids = [merged.id, survivor.id];
        let (origins, rows, merged_prices, seo) = futures_util::try_join!(
            provenance::repo::origins_of(self.pool(), &ids[..1]),
            provenance::repo::sources_of(self.pool(), &ids),
            crate::catalog::prices::prices_for_products(self.pool(), &ids[..1]),
            crate::catalog::variants::seo_of_products(self.pool(), &ids),
        )
        .map_err(db_error)?;
        let origin = origins.first().map(|o| o.source()).unwrap_or(FieldSource::Unknown);
        let locked_on_survivor =
            |field: &str| rows.iter().any(|r| r.product_id == survivor.id && r.field == field && r.locked);
        // The survivor's empty fields take the merged product's value, unless a person locked them empty.
        let mut fill = Fill::default();
        let mut filled = Vec::new();
        let mut take = |field: &str, empty: bool, given: bool| {
            let taken = empty && given && !locked_on_survivor(field);
            if taken {
                filled.push(field.to_string());
            }
            taken
        };
        if take("description", survivor.description.is_none(), merged.description.is_some()) {
            fill.description.clone_from(&merged.description);
        }
        if take("brand", survivor.brand_id.is_none(), merged.brand_id.is_some()) {
            fill.brand_id = merged.brand_id;
        }
        if take("gtin", survivor.gtin.is_none(), merged.gtin.is_some()) {
            fill.gtin = merged.gtin.map(|g| g.as_gtin14());
        }
        if take("sku", survivor.sku.is_none(), merged.sku.is_some()) {
            fill.sku = merged.sku.as_ref().map(|s| s.as_str().to_string());
        }
        if take("asin", survivor.asin.is_none(), merged.asin.is_some()) {
            fill.asin = merged.asin.as_ref().map(|a| a.as_str().to_string());
        }
        if take("availability", survivor.availability.is_none(), merged.availability.is_some()) {
            fill.availability = merged.availability.map(|a| a.as_str().to_string());
        }
        // Fields both have, with different values: the survivor's stays, and the merge says so.
        let kept_fields: Vec<String> = [
            ("title", Some(survivor.title.clone()), Some(merged.title.clone())),
            ("description", survivor.description.clone(), merged.description.clone()),
            ("brand", survivor.brand_id.map(|b| b.to_string()), merged.brand_id.map(|b| b.to_string())),
            ("gtin", survivor.gtin.map(|g| g.as_gtin14()), merged.gtin.map(|g| g.as_gtin14())),
            ("sku", survivor.sku.as_ref().map(ToString::to_string), merged.sku.as_ref().map(ToString::to_string)),
            ("asin", survivor.asin.as_ref().map(ToString::to_string), merged.asin.as_ref().map(ToString::to_string)),
            ("availability", survivor.availability.map(|a| a.to_string()), merged.availability.map(|a| a.to_string())),
        ]
        .into_iter()
        .filter(|(_, ours, theirs)| ours.is_some() && theirs.is_some() && ours != theirs)
        .map(|(field, _, _)| field.to_string())
        .collect();
        // Where those fields and the merged product's prices came from: its own row, else its origin.
        let mut fields = filled.clone();
        fields.extend(
            merged
                .prices
                .iter()
                .filter(|p| p.is_open_ended())
                .map(|p| price_field(p.price_type.as_str(), p.amount.currency.as_str())),
        );
        // The merged product's windows move to the survivor with their setter, unless a person set the survivor's
        // windows of that pair (theirs stay theirs).
        let person_owns = |field: &str| {
            rows.iter().any(|r| {
                r.product_id == survivor.id && r.field == field && matches!(r.source(), FieldSource::User { .. })
            })
        };
        for price in merged_prices.iter().filter(|p| p.valid_from.is_some() || p.valid_to.is_some()) {
            let field = provenance::price_windows_field(&price.price_type, &price.currency);
            if !person_owns(&field) && !fields.contains(&field) {
                fields.push(field);
            }
        }
        // SEO metadata in a locale the survivor has none in moves with its setter.
        for moved in seo.iter().filter(|s| s.product_id == merged.id) {
            if !seo.iter().any(|s| s.product_id == survivor.id && s.locale == moved.locale) {
                fields.push(provenance::seo_field(&moved.locale));
            }
        }
        let sources = fields
            .into_iter()
            .filter_map(|field| {
                let row = rows.iter().find(|r| r.product_id == merged.id && r.field == field);
                let source = row.map(|r| r.source()).filter(|s| *s != FieldSource::FollowSuppliers).unwrap_or(origin);
                let (kind, id, job) = source.to_columns();
                let valid = !matches!(source, FieldSource::Unknown | FieldSource::FollowSuppliers);
                valid.then(|| SourceWrite {
                    field,
                    kind,
                    source_id: id,
                    job_id: job,
                    set_at: row.map_or(merged.created_at, |r| r.set_at),
                })
            })
            .collect();
        let at = now();
        let media = crate::media::repo::move_files(&self.media, survivor.id, merged.id, at).await.map_err(db_error)?;
        let write = MergeWrite {
            id: Uuid::now_v7(),
            survivor: survivor.id,
            survivor_version: survivor.version,
            merged: merged.id,
            merged_version: merged.version,
            merged_identifiers: [
                merged.gtin.map(|g| g.as_gtin14()),
                merged.sku.as_ref().map(|s| s.as_str().to_string()),
                merged.asin.as_ref().map(|a| a.as_str().to_string()),
            ],
            merged_title: &merged.title,
            fill,
            sources,
            filled,
            kept_fields,
            media,
            merged_by: self.user,
            at,
        };
        let written = repo::merge(self.pool(), &write).await;
        if !matches!(written, Ok(Ok(_))) {
            // The images go back: the catalog wrote nothing.
            if let Err(e) =
                crate::media::repo::move_files_back(&self.media, &write.media, merged.id, survivor.id, at).await
            {
                tracing::error!(error = %e, merged = %merged.id, "images of a refused merge not moved back");
            }
        }
        match written.map_err(db_error)? {
            Ok(_) => {}
            Err(_) => {
                return Err(CatalogError::Conflict {
                    entity: "product",
                    key: format!("{} or {}", survivor.id, merged.id),
                    reason: "changed while the merge was prepared; try again".into(),
                }
                .into());
            }
        }
        self.products.forget(survivor.id, &[&survivor, &merged]).await;
        self.products.forget(merged.id, &[]).await;
        self.products.refresh_search(survivor.id).await;
        self.products.refresh_search(merged.id).await;
        self.get(write.id).await
    }

    /// Undoes a merge: what moved goes back to the merged product (whatever is still on the survivor), the fields
    /// it filled are emptied where they still hold the merged product's value, and the merged product is live
    /// again. Refused after [`UNDO_DAYS`] days, once undone, when the survivor was itself merged or deleted since
    /// (undo that first), and when a live product took one of the merged product's identifiers meanwhile.
    pub async fn undo(&self, id: Uuid) -> Result<ProductMerge> {
        let merge = repo::by_id(self.pool(), id).await.map_err(db_error)?.ok_or(CatalogError::not_found(ENTITY, id))?;
        let refuse = |reason: String| -> crate::Error {
            CatalogError::Conflict { entity: ENTITY, key: id.to_string(), reason }.into()
        };
        if merge.undone_at.is_some() {
            return Err(refuse("was undone already".into()));
        }
        if now() - merge.created_at > Duration::days(UNDO_DAYS) {
            return Err(refuse(format!("is older than {UNDO_DAYS} days: it can no longer be undone")));
        }
        let survivor = match self.products.get(merge.survivor_id).await {
            Ok(product) if product.id == merge.survivor_id => product,
            Ok(product) => {
                return Err(refuse(format!(
                    "its survivor {} was merged into {} since: undo that merge first",
                    merge.survivor_id, product.id
                )));
            }
            Err(e) if e.kind() == crate::ErrorKind::NotFound => {
                return Err(refuse(format!("its survivor {} was deleted since", merge.survivor_id)));
            }
            Err(e) => return Err(e),
        };
        let at = now();
        match repo::undo(self.pool(), &merge, (FieldSource::User { user_id: self.user }, at)).await {
            Ok(Ok(())) => {}
            Ok(Err(Stale::Undone)) => return Err(refuse("was undone already".into())),
            Ok(Err(Stale::Changed)) => return Err(refuse("its merged product was purged since".into())),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(refuse(
                    "a live product took the merged product's GTIN, SKU or ASIN since: change that product first"
                        .into(),
                ));
            }
            Err(e) => return Err(db_error(e)),
        }
        crate::media::repo::move_files_back(&self.media, &merge.moved.media, merge.merged_id, merge.survivor_id, at)
            .await
            .map_err(db_error)?;
        self.products.forget(survivor.id, &[&survivor]).await;
        // Its identifiers led to the survivor while it was merged.
        let merged = self.products.get(merge.merged_id).await?;
        self.products.forget(merged.id, &[&merged]).await;
        self.products.refresh_search(survivor.id).await;
        self.products.refresh_search(merge.merged_id).await;
        catalog_changed(self.products.cache()).await;
        self.get(id).await
    }

    /// One merge.
    pub async fn get(&self, id: Uuid) -> Result<ProductMerge> {
        let row = repo::by_id(self.pool(), id).await.map_err(db_error)?;
        Ok(merge_of(row.ok_or(CatalogError::not_found(ENTITY, id))?))
    }

    /// The merges into or of the product a key names (a merged product's key names its survivor), newest first;
    /// without a key, the latest merges of the catalog (at most `limit`, 1 to 1,000).
    pub async fn list(&self, product: Option<&str>, limit: u32) -> Result<Vec<ProductMerge>> {
        if !(1..=1_000).contains(&limit) {
            return Err(CatalogError::invalid("limit", "must be between 1 and 1000").into());
        }
        let rows = match product {
            Some(key) => {
                let product = self.products.find(key).await?;
                let mut rows = repo::of_product(self.pool(), product.id).await.map_err(db_error)?;
                rows.truncate(limit as usize);
                rows
            }
            None => repo::recent(self.pool(), i64::from(limit)).await.map_err(db_error)?,
        };
        Ok(rows.into_iter().map(merge_of).collect())
    }
}

/// Whether two products name the same attribute with different values.
fn attributes_differ(a: &Product, b: &Product) -> bool {
    a.attributes
        .iter()
        .any(|x| b.attributes.iter().any(|y| x.name.eq_ignore_ascii_case(&y.name) && !same_value(&x.value, &y.value)))
}

fn same_value(a: &AttributeValue, b: &AttributeValue) -> bool {
    match (a, b) {
        (AttributeValue::Text { value: x }, AttributeValue::Text { value: y }) => {
            super::similarity::words(x) == super::similarity::words(y)
        }
        _ => a == b,
    }
}

fn side(product: &Product, brand: &Option<String>) -> DuplicateSide {
    DuplicateSide {
        id: product.id,
        title: product.title.clone(),
        brand: brand.clone(),
        gtin: product.gtin.map(|g| g.to_string()),
        sku: product.sku.as_ref().map(ToString::to_string),
        created_at: product.created_at,
    }
}

fn merge_of(row: MergeRow) -> ProductMerge {
    let moved = row.moved.0;
    ProductMerge {
        id: row.id,
        survivor_id: row.survivor_id,
        merged_id: row.merged_id,
        merged_title: row.merged_title,
        merged_gtin: row.merged_gtin,
        merged_sku: row.merged_sku,
        merged_asin: row.merged_asin,
        moved: moved.counts(),
        filled: moved.filled,
        kept_by_survivor: moved.kept_by_survivor,
        merged_by: row.merged_by,
        created_at: row.created_at,
        undone_at: row.undone_at,
    }
}
