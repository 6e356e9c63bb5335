-- The codes a supplier's files use and what they stand for (issue 26), learned from its structure files and read
-- by its next product files: Akeneo's family variants (the variant axes), product models (their family variant
-- and parent), attributes, attribute options and categories (their labels). One row per supplier, kind and code; `value` is
-- the kind's JSON.
create table supplier_vocabulary (
    supplier_id blob not null,
    kind text not null check (kind in ('family_variant', 'product_model', 'attribute', 'attribute_option', 'category')),
    code text not null,
    value text not null,
    import_job_id blob,
    updated_at text not null,
    primary key (supplier_id, kind, code)
) strict;
