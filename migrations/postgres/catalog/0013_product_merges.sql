-- Merges of duplicate products (issue 25): the merged product is soft-deleted, what it had moves to the survivor,
-- and its id and identifiers keep answering with the survivor. `moved` records each row that moved (and each field
-- of the survivor filled from the merged product), so the merge can be undone while the merged product exists.
create table product_merges (
    id uuid primary key,
    survivor_id uuid not null, -- no foreign key: the redirect outlives a purge of either side's history
    merged_id uuid not null,
    -- the merged product's identifiers when it was merged: they lead to the survivor even after a purge
    merged_gtin text,
    merged_sku text,
    merged_asin text,
    merged_title text not null,
    moved jsonb not null default '{}',
    merged_by uuid, -- the person (none: the command line or an embedding program)
    created_at timestamptz not null,
    undone_at timestamptz,
    check (survivor_id <> merged_id)
);

-- One standing merge per merged product: a redirect names one survivor.
create unique index product_merges_merged_id_key on product_merges (merged_id) where undone_at is null;
create index product_merges_survivor_id_idx on product_merges (survivor_id, created_at);
create index product_merges_merged_gtin_idx on product_merges (merged_gtin) where merged_gtin is not null;
create index product_merges_merged_sku_idx on product_merges (merged_sku) where merged_sku is not null;
create index product_merges_merged_asin_idx on product_merges (merged_asin) where merged_asin is not null;
