-- Where each product field's current value came from (issue 25): the product's origin (who created it) on the
-- product, and one row per field whose value a later source set, or that a person locked or released. A field
-- without a row was set by the origin, when the product was created.
alter table products add column origin_kind text
    check (origin_kind in ('user', 'supplier', 'platform', 'code2asin'));
alter table products add column origin_id blob; -- the user, supplier or platform
alter table products add column origin_job_id blob; -- the import job (imports.import_jobs.id) that created it

create table product_field_sources (
    product_id blob not null references products (id) on delete cascade,
    field text not null check (length(field) > 0), -- title, brand, price:retail:EUR, …
    -- follow_suppliers: a person released the field; the next supplier that gives it takes it
    source_kind text not null check (source_kind in ('user', 'supplier', 'platform', 'code2asin', 'follow_suppliers')),
    source_id blob,
    job_id blob,
    locked integer not null default 0 check (locked in (0, 1)), -- no source changes it until unlocked
    set_at text not null,
    primary key (product_id, field)
) strict, without rowid;

-- Fields a supplier's row gave that the survivorship rules kept, counted in the import's checkpoint.
alter table import_progress add column fields_kept integer not null default 0;
-- Rows merged into the product another row of the supplier named under another supplier SKU.
alter table import_progress add column rows_merged integer not null default 0;
-- Where a supplier's values come among suppliers (1 first); unset: after every ranked supplier.
alter table suppliers add column priority integer check (priority >= 1);
