//! Provenance SQL, written once for both backends: the products' origin columns, `product_field_sources` and
//! `product_history`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ChangeKind, FieldAction, FieldSource};
use crate::db::{DbPool, rows_by_ids};
use crate::with_pool;

// The upsert of field sources: a new source replaces the old, a lock stays.
macro_rules! upsert_sources_head {
    () => {
        "insert into product_field_sources (product_id, field, source_kind, source_id, job_id, locked, set_at) "
    };
}
macro_rules! upsert_sources_tail {
    () => {
        " on conflict (product_id, field) do update set source_kind = excluded.source_kind, \
         source_id = excluded.source_id, job_id = excluded.job_id, set_at = excluded.set_at"
    };
}

/// Head and tail of the multi-row upsert of field sources (`values (product_id, field, source_kind, source_id,
/// job_id, locked, set_at), …` goes between).
pub(crate) const UPSERT_SOURCES_HEAD: &str = upsert_sources_head!();
pub(crate) const UPSERT_SOURCES_TAIL: &str = upsert_sources_tail!();

/// The upsert of one field source.
pub(crate) const UPSERT_SOURCE: &str =
    concat!(upsert_sources_head!(), "values ($1, $2, $3, $4, $5, false, $6)", upsert_sources_tail!());

// A lock on a field no later source set: the row starts as the product's origin, at its creation.
const SET_LOCK: &str = "insert into product_field_sources (product_id, field, source_kind, source_id, job_id, \
     locked, set_at) select id, $2, coalesce(origin_kind, 'follow_suppliers'), origin_id, origin_job_id, $3, \
     created_at from products where id = $1 on conflict (product_id, field) do update set locked = excluded.locked";

const FOLLOW_SUPPLIERS: &str = "insert into product_field_sources (product_id, field, source_kind, source_id, \
     job_id, locked, set_at) values ($1, $2, 'follow_suppliers', null, null, false, $3) \
     on conflict (product_id, field) do update set source_kind = 'follow_suppliers', source_id = null, \
     job_id = null, set_at = excluded.set_at";

const SOURCES_OF: &str = "select product_id, field, source_kind, source_id, job_id, locked, set_at \
     from product_field_sources where product_id in ";

const ORIGINS_OF: &str = "select origin_kind, origin_id, origin_job_id from products where id in ";

/// A `product_field_sources` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct FieldSourceRow {
    pub product_id: Uuid,
    pub field: String,
    pub source_kind: String,
    pub source_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub locked: bool,
    pub set_at: DateTime<Utc>,
}

impl FieldSourceRow {
    pub(crate) fn source(&self) -> FieldSource {
        FieldSource::from_columns(Some(&self.source_kind), self.source_id, self.job_id)
    }
}

/// A product's origin: who created it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct OriginRow {
    pub origin_kind: Option<String>,
    pub origin_id: Option<Uuid>,
    pub origin_job_id: Option<Uuid>,
}

impl OriginRow {
    pub(crate) fn source(&self) -> FieldSource {
        FieldSource::from_columns(self.origin_kind.as_deref(), self.origin_id, self.origin_job_id)
    }
}

/// The field rows of these products.
pub(crate) async fn sources_of(pool: &DbPool, products: &[Uuid]) -> Result<Vec<FieldSourceRow>, sqlx::Error> {
    let mut rows = Vec::new();
    for chunk in products.chunks(1000) {
        rows.extend(rows_by_ids(pool, SOURCES_OF, chunk, "order by product_id, field").await?);
    }
    Ok(rows)
}

/// The origins of these products.
pub(crate) async fn origins_of(pool: &DbPool, products: &[Uuid]) -> Result<Vec<OriginRow>, sqlx::Error> {
    let mut rows = Vec::new();
    for chunk in products.chunks(1000) {
        rows.extend(rows_by_ids(pool, ORIGINS_OF, chunk, "").await?);
    }
    Ok(rows)
}

/// The insert of one history entry.
pub(crate) const INSERT_HISTORY: &str = "insert into product_history (id, product_id, field, change, value, \
     source_kind, source_id, job_id, changed_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Head of the multi-row insert of history entries (`values (id, product_id, field, change, value, source_kind,
/// source_id, job_id, changed_at), …` follows).
pub(crate) const INSERT_HISTORY_HEAD: &str =
    "insert into product_history (id, product_id, field, change, value, source_kind, source_id, job_id, changed_at) ";

const HISTORY_OF: &str = "select id, product_id, field, change, value, source_kind, source_id, job_id, changed_at \
     from product_history where product_id in ";

/// A `product_history` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct HistoryRow {
    pub id: Uuid,
    pub product_id: Uuid,
    pub field: String,
    pub change: String,
    pub value: Option<String>,
    pub source_kind: String,
    pub source_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub changed_at: DateTime<Utc>,
}

impl HistoryRow {
    pub(crate) fn source(&self) -> FieldSource {
        FieldSource::from_columns(Some(&self.source_kind), self.source_id, self.job_id)
    }
}

/// Appends a history entry of `product` in the caller's transaction.
macro_rules! history_in {
    ($tx:expr, $product:expr, $field:expr, $change:expr, $value:expr, $source:expr, $at:expr) => {{
        let (kind, id, job) = $source.to_columns();
        sqlx::query($crate::catalog::provenance::repo::INSERT_HISTORY)
            .bind(uuid::Uuid::now_v7())
            .bind($product)
            .bind($field)
            .bind($crate::catalog::provenance::ChangeKind::as_str($change))
            .bind($value)
            .bind(kind)
            .bind(id)
            .bind(job)
            .bind($at)
            .execute(&mut *$tx)
            .await?;
    }};
}
pub(crate) use history_in;

/// Records `source` as the setter of each field of `product` and the value it set (`(field, value)`), in the
/// caller's transaction: the field's provenance and an entry in the product's history.
macro_rules! record_in {
    ($tx:expr, $product:expr, $fields:expr, $source:expr, $at:expr) => {{
        let (kind, id, job) = $source.to_columns();
        for (field, value) in $fields {
            sqlx::query($crate::catalog::provenance::repo::UPSERT_SOURCE)
                .bind($product)
                .bind(field.as_str())
                .bind(kind)
                .bind(id)
                .bind(job)
                .bind($at)
                .execute(&mut *$tx)
                .await?;
            $crate::catalog::provenance::repo::history_in!(
                $tx,
                $product,
                field.as_str(),
                $crate::catalog::provenance::ChangeKind::Set,
                value.as_deref(),
                $source,
                $at
            );
        }
    }};
}
pub(crate) use record_in;

/// Records `source` as the setter of `fields` (with the values set) of `product`, in a transaction of its own.
pub(crate) async fn record(
    pool: &DbPool,
    product: Uuid,
    fields: &[(String, Option<String>)],
    source: FieldSource,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if fields.is_empty() {
        return Ok(());
    }
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        record_in!(tx, product, fields, source, at);
        tx.commit().await
    }
    .await)
}

/// Appends one history entry of `product`: `(field, change, value)` made by `source`.
pub(crate) async fn log(
    pool: &DbPool,
    product: Uuid,
    (field, change, value): (&str, ChangeKind, Option<&str>),
    source: FieldSource,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        history_in!(tx, product, field, change, value, source, at);
        tx.commit().await
    }
    .await)
}

/// Before a person, a platform or Code2ASIN replaces values suppliers set (`(field, value before as shown)`), each
/// supplier's value goes to its offers' `not_taken`: the supplier's word is never lost, and a release gives it back
/// at once. Fields no supplier set are left out.
pub(crate) async fn keep_suppliers_word(
    pool: &DbPool,
    product: Uuid,
    replaced: &[(String, String)],
) -> Result<(), sqlx::Error> {
    if replaced.is_empty() {
        return Ok(());
    }
    let ids = [product];
    let (sources, origins) = futures_util::try_join!(sources_of(pool, &ids), origins_of(pool, &ids))?;
    let origin = origins.first().map(OriginRow::source).unwrap_or(FieldSource::Unknown);
    let mut words: std::collections::BTreeMap<Uuid, std::collections::BTreeMap<String, Option<String>>> =
        Default::default();
    for (field, value) in replaced {
        let setter = sources
            .iter()
            .find(|row| &row.field == field)
            .map_or_else(|| super::implicit_source(field, true, origin), FieldSourceRow::source);
        if let FieldSource::Supplier { supplier_id, .. } = setter {
            words.entry(supplier_id).or_default().insert(field.clone(), Some(value.clone()));
        }
    }
    for (supplier, words) in words {
        crate::catalog::offers::keep_words(pool, product, supplier, &words).await?;
    }
    Ok(())
}

/// The history of these products, oldest first.
pub(crate) async fn history_of(pool: &DbPool, products: &[Uuid]) -> Result<Vec<HistoryRow>, sqlx::Error> {
    rows_by_ids(pool, HISTORY_OF, products, "order by id").await
}

/// Applies a person's (`by`) `action` to `field` of `product`, with its history entry.
pub(crate) async fn apply(
    pool: &DbPool,
    product: Uuid,
    field: &str,
    action: FieldAction,
    (by, at): (FieldSource, DateTime<Utc>),
) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| async {
        let mut tx = p.begin().await?;
        match action {
            FieldAction::Lock | FieldAction::Unlock => {
                let locked = action == FieldAction::Lock;
                sqlx::query(SET_LOCK).bind(product).bind(field).bind(locked).execute(&mut *tx).await?;
            }
            FieldAction::FollowSuppliers => {
                sqlx::query(FOLLOW_SUPPLIERS).bind(product).bind(field).bind(at).execute(&mut *tx).await?;
            }
        }
        history_in!(tx, product, field, ChangeKind::from(action), None::<&str>, by, at);
        tx.commit().await
    }
    .await)
}
