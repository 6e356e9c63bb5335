//! Full-text search SQL: the one place where SQLite (FTS5) and PostgreSQL (tsvector) really differ, so every
//! function has one branch per backend (`// dialect:`). The filters are shared with listing.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::model::ProductRow;
use super::query::ProductQuery;
use super::repo::{IN_STOCK, push_filters};
use crate::catalog::PriceType;
use crate::db::DbPool;
use crate::with_pool;

/// `order by <exact match first>`.
macro_rules! push_exact_order {
    ($sql:expr, $exact:expr) => {{
        $sql.push(" order by case when p.gtin = ")
            .push_bind($exact.gtin.clone().unwrap_or_default())
            .push(" or p.sku = ")
            .push_bind($exact.code.clone())
            .push(" or exists (select 1 from supplier_products e where e.product_id = p.id and e.supplier_sku = ")
            .push_bind($exact.code.clone())
            .push(") then 0 else 1 end");
    }};
}

/// The searchable document of live products, built from the source tables in one statement. `$agg` is the
/// backend's string aggregation, `$where` picks the products.
macro_rules! document_select {
    ($agg:literal, $where:literal) => {
        concat!(
            "select p.id, p.brand_id, p.title, p.description, b.name, concat_ws(' ', p.sku, p.gtin, substr(p.gtin, 2), \
             substr(p.gtin, 3), p.asin, (select ",
            $agg,
            " from supplier_products o where o.product_id = p.id)) \
             from products p left join brands b on b.id = p.brand_id where p.deleted_at is null and ",
            $where
        )
    };
}

macro_rules! refresh_sql {
    (sqlite, $where:literal) => {
        concat!(
            "insert into product_search_docs (product_id, brand_id, title, description, brand, identifiers) ",
            document_select!("group_concat(o.supplier_sku, ' ')", $where),
            " on conflict (product_id) do update set brand_id = excluded.brand_id, title = excluded.title, \
             description = excluded.description, brand = excluded.brand, identifiers = excluded.identifiers"
        )
    };
    (postgres, $where:literal) => {
        concat!(
            "insert into product_search (product_id, brand_id, title, description, brand, identifiers) ",
            document_select!("string_agg(o.supplier_sku, ' ')", $where),
            " on conflict (product_id) do update set brand_id = excluded.brand_id, title = excluded.title, \
             description = excluded.description, brand = excluded.brand, identifiers = excluded.identifiers"
        )
    };
}

// dialect: the document table is `product_search_docs` (feeding the FTS5 index) on SQLite, `product_search` on
// PostgreSQL.
const SQLITE_DROP_ONE: &str = "delete from product_search_docs where product_id = $1";
const POSTGRES_DROP_ONE: &str = "delete from product_search where product_id = $1";
const SQLITE_REFRESH_ONE: &str = refresh_sql!(sqlite, "p.id = $1");
const POSTGRES_REFRESH_ONE: &str = refresh_sql!(postgres, "p.id = $1");
const SQLITE_REFRESH_BRAND: &str = refresh_sql!(sqlite, "p.brand_id = $1");
const POSTGRES_REFRESH_BRAND: &str = refresh_sql!(postgres, "p.brand_id = $1");
const SQLITE_REFRESH_OF_IMPORT: &str =
    refresh_sql!(sqlite, "p.id in (select product_id from supplier_products where last_import_job_id = $1)");
const POSTGRES_REFRESH_OF_IMPORT: &str =
    refresh_sql!(postgres, "p.id in (select product_id from supplier_products where last_import_job_id = $1)");
const SQLITE_REFRESH_ALL: &str = refresh_sql!(sqlite, "p.id is not null");
const POSTGRES_REFRESH_ALL: &str = refresh_sql!(postgres, "p.id is not null");
const SQLITE_DROP_ALL: &str = "delete from product_search_docs";
const POSTGRES_DROP_ALL: &str = "delete from product_search";

/// Rewrites the search document of one product (removes it when the product is deleted).
pub(super) async fn refresh(pool: &DbPool, id: Uuid) -> Result<(), sqlx::Error> {
    with_pool!(
        pool,
        sqlite
            | p
            | async {
                let mut tx = p.begin().await?;
                sqlx::query(SQLITE_DROP_ONE).bind(id).execute(&mut *tx).await?;
                sqlx::query(SQLITE_REFRESH_ONE).bind(id).execute(&mut *tx).await?;
                tx.commit().await
            }
            .await,
        postgres
            | p
            | async {
                let mut tx = p.begin().await?;
                sqlx::query(POSTGRES_DROP_ONE).bind(id).execute(&mut *tx).await?;
                sqlx::query(POSTGRES_REFRESH_ONE).bind(id).execute(&mut *tx).await?;
                tx.commit().await
            }
            .await,
    )
}

/// Rewrites the documents of a brand's products (after a rename).
pub(crate) async fn refresh_brand(pool: &DbPool, brand_id: Uuid) -> Result<(), sqlx::Error> {
    with_pool!(
        pool,
        sqlite | p | sqlx::query(SQLITE_REFRESH_BRAND).bind(brand_id).execute(p).await.map(|_| ()),
        postgres | p | sqlx::query(POSTGRES_REFRESH_BRAND).bind(brand_id).execute(p).await.map(|_| ()),
    )
}

/// Rewrites the documents of the products whose offers an import job wrote (`supplier_products.last_import_job_id`),
/// in one statement when the import ends: one large insert into the full-text index costs far less than one per
/// batch. Returns how many were written.
pub(crate) async fn refresh_of_import(pool: &DbPool, job: Uuid) -> Result<u64, sqlx::Error> {
    with_pool!(
        pool,
        sqlite | p | sqlx::query(SQLITE_REFRESH_OF_IMPORT).bind(job).execute(p).await.map(|r| r.rows_affected()),
        postgres | p | sqlx::query(POSTGRES_REFRESH_OF_IMPORT).bind(job).execute(p).await.map(|r| r.rows_affected()),
    )
}

/// Rebuilds every document; returns how many live products were indexed.
pub(super) async fn rebuild(pool: &DbPool) -> Result<u64, sqlx::Error> {
    with_pool!(
        pool,
        sqlite
            | p
            | async {
                let mut tx = p.begin().await?;
                sqlx::query(SQLITE_DROP_ALL).execute(&mut *tx).await?;
                let indexed = sqlx::query(SQLITE_REFRESH_ALL).execute(&mut *tx).await?.rows_affected();
                tx.commit().await?;
                Ok(indexed)
            }
            .await,
        postgres
            | p
            | async {
                let mut tx = p.begin().await?;
                sqlx::query(POSTGRES_DROP_ALL).execute(&mut *tx).await?;
                let indexed = sqlx::query(POSTGRES_REFRESH_ALL).execute(&mut *tx).await?.rows_affected();
                tx.commit().await?;
                Ok(indexed)
            }
            .await,
    )
}

/// Live products matching every term (the last as a word prefix) and `query`'s filters, best first: an exact GTIN, SKU or
/// supplier SKU match before everything, then by relevance (title and identifiers weigh most).
pub(super) async fn search(
    pool: &DbPool,
    terms: &[String],
    exact: &Exact,
    query: &ProductQuery,
    limit: u32,
    offset: u32,
    at: DateTime<Utc>,
) -> Result<Vec<ProductRow>, sqlx::Error> {
    with_pool!(
        pool,
        sqlite | p | {
            // dialect: FTS5 match syntax, `"term"*` is a prefix; bm25 is lower for better matches.
            let expression = match_expression(terms, |t| format!("\"{t}\""), |t| format!("\"{t}\"*"), " AND ");
            // The matches are computed once, first (materialized), then joined to the filters: left to itself
            // the planner may walk the filtered products and run the full-text query for each.
            let mut sql = QueryBuilder::new(
                "with r as materialized (select d.product_id, bm25(product_search, 10.0, 2.0, 5.0, 10.0) as rank \
                 from product_search join product_search_docs d on d.rowid = product_search.rowid \
                 where product_search match ",
            );
            sql.push_bind(expression);
            if let Some(brand_id) = query.brand_id {
                sql.push(" and d.brand_id = ").push_bind(brand_id);
            }
            sql.push(
                ") select p.id, p.gtin, p.asin, p.sku, p.title, p.description, p.brand_id, p.status, \
                 p.availability, p.version, p.created_at, p.updated_at, p.deleted_at \
                 from r join products p on p.id = r.product_id \
                 where p.deleted_at is null",
            );
            push_filters!(sql, query, at);
            push_exact_order!(sql, exact);
            sql.push(", r.rank asc, p.id limit ")
                .push_bind(i64::from(limit))
                .push(" offset ")
                .push_bind(i64::from(offset));
            sql.build_query_as().fetch_all(p).await
        },
        postgres | p | {
            // dialect: tsquery, `term:*` is a prefix; ts_rank_cd is higher for better matches. PostgreSQL's
            // planner, unlike SQLite's, combines the full-text index with the filters' indexes well: no fence.
            let expression = match_expression(terms, str::to_string, |t| format!("{t}:*"), " & ");
            let mut sql = QueryBuilder::new(
                "with r as (select s.product_id, ts_rank_cd(s.tsv, q.query) as rank \
                 from product_search s, to_tsquery('simple', ",
            );
            sql.push_bind(expression).push(") q(query) where s.tsv @@ q.query");
            if let Some(brand_id) = query.brand_id {
                // With the brand in the search table, the full-text and brand indexes combine (bitmap and).
                sql.push(" and s.brand_id = ").push_bind(brand_id);
            }
            sql.push(
                ") select p.id, p.gtin, p.asin, p.sku, p.title, p.description, p.brand_id, p.status, \
                 p.availability, p.version, p.created_at, p.updated_at, p.deleted_at \
                 from r join products p on p.id = r.product_id \
                 where p.deleted_at is null",
            );
            push_filters!(sql, query, at);
            push_exact_order!(sql, exact);
            sql.push(", r.rank desc, p.id limit ")
                .push_bind(i64::from(limit))
                .push(" offset ")
                .push_bind(i64::from(offset));
            sql.build_query_as().fetch_all(p).await
        },
    )
}

/// The full-text expression for `terms`: every word but the last must match whole, the last as a prefix (it may
/// still be being typed). Treating every word as a prefix would let a short finished word ("pro") match every
/// word that starts with it ("product", "professional").
fn match_expression(
    terms: &[String],
    whole: impl Fn(&str) -> String,
    prefix: impl Fn(&str) -> String,
    and: &str,
) -> String {
    let last = terms.len().saturating_sub(1);
    terms.iter().enumerate().map(|(i, t)| if i == last { prefix(t) } else { whole(t) }).collect::<Vec<_>>().join(and)
}

/// The identifiers an exact match is tested against.
#[derive(Debug, Clone, Default)]
pub(super) struct Exact {
    /// The query as a GTIN-14, when it is one.
    pub gtin: Option<String>,
    /// The query as typed (SKU, supplier SKU).
    pub code: String,
}
