-- Who put a product in a category and who gave an image URL (issue 25): a person, a supplier's import (with its
-- job), a platform, Code2ASIN. Null on links and images made before the catalog recorded it (shown as unknown).
-- A product's stock has its source in product_field_sources (field `stock`, `stock:<location>`).
alter table product_categories add column source_kind text
    check (source_kind in ('user', 'supplier', 'platform', 'code2asin'));
alter table product_categories add column source_id blob; -- the user, supplier or platform
alter table product_categories add column job_id blob; -- the import job (imports.import_jobs.id)
alter table product_images add column source_kind text
    check (source_kind in ('user', 'supplier', 'platform', 'code2asin'));
alter table product_images add column source_id blob;
alter table product_images add column job_id blob;

-- The history records a link or an image URL added or removed (`add`, `remove`; `value`: the category's path or
-- the URL). SQLite cannot change a check constraint: the table is rebuilt, its rows kept.
create table product_history_new (
    id blob primary key, -- UUID v7: in the order the changes were made
    product_id blob not null references products (id) on delete cascade,
    field text not null check (length(field) > 0), -- title, brand, price:retail:EUR, categories, … (`product` for a merge)
    change text not null
        check (change in ('set', 'lock', 'unlock', 'follow_suppliers', 'merge', 'unmerge', 'add', 'remove')),
    value text,
    source_kind text not null check (source_kind in ('user', 'supplier', 'platform', 'code2asin', 'unknown')),
    source_id blob,
    job_id blob,
    changed_at text not null
) strict;
insert into product_history_new select * from product_history;
drop table product_history;
alter table product_history_new rename to product_history;
create index product_history_product_id_idx on product_history (product_id, id);
