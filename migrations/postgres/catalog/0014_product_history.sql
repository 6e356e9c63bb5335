-- A product's history (issue 25): each change of a field with the source that made it — a person's edit, a
-- supplier's import (with its job), Code2ASIN, a lock or release, a merge. `value` is the value set (a price in minor
-- units, a brand by id); the value before is the field's previous entry. The values a product was created with are
-- its origin's (products.origin_*) and have no entry: an import that creates a million products writes no history.
create table product_history (
    id uuid primary key, -- UUID v7: in the order the changes were made
    product_id uuid not null references products (id) on delete cascade,
    field text not null check (length(field) > 0), -- title, brand, price:retail:EUR, … (`product` for a merge)
    change text not null check (change in ('set', 'lock', 'unlock', 'follow_suppliers', 'merge', 'unmerge')),
    value text,
    source_kind text not null check (source_kind in ('user', 'supplier', 'platform', 'code2asin', 'unknown')),
    source_id uuid,
    job_id uuid,
    changed_at timestamptz not null
);

create index product_history_product_id_idx on product_history (product_id, id);
