-- catalog: products, suppliers and offers, categories and taxonomies, brands, prices, stock,
-- attributes, variants, bundles, SEO, and the generic `tasks` queue.
-- Ids are UUID v7 set by the application, stored as 16-byte blobs; timestamps are RFC 3339 UTC text;
-- JSON is text; booleans are 0/1. STRICT tables reject a value of the wrong storage class
-- (e.g. a UUID bound as text). updated_at is set by the application.

create table brands (
    id blob primary key,
    name text not null,
    slug text not null unique,
    description text,
    website_url text,
    logo_url text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create unique index brands_name_lower_key on brands (lower(name));

create table suppliers (
    id blob primary key,
    code text not null unique,
    name text not null,
    email text,
    website_url text,
    country text check (country glob '[A-Z][A-Z]'),
    default_currency text check (default_currency glob '[A-Z][A-Z][A-Z]'),
    is_active integer not null default 1 check (is_active in (0, 1)),
    notes text,
    settings text not null default '{}',
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create table products (
    id blob primary key,
    gtin text check (length(gtin) = 14 and gtin not glob '*[^0-9]*'), -- normalised GTIN-14
    asin text check (length(asin) = 10 and asin not glob '*[^A-Z0-9]*'),
    sku text check (length(sku) > 0),
    title text not null,
    description text,
    brand_id blob references brands (id) on delete set null,
    status text not null default 'draft' check (status in ('draft', 'active', 'archived')),
    version integer not null default 1 check (version >= 1), -- optimistic locking (ETag / If-Match)
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    deleted_at text
) strict;

create unique index products_gtin_key on products (gtin) where deleted_at is null;
create unique index products_sku_key on products (sku) where deleted_at is null;
create unique index products_asin_key on products (asin) where deleted_at is null;
create index products_brand_id_idx on products (brand_id);
create index products_updated_at_id_idx on products (updated_at, id); -- keyset pagination, "updated since"
create index products_deleted_at_idx on products (deleted_at) where deleted_at is not null; -- purge

create table taxonomies (
    id blob primary key,
    code text not null unique,
    name text not null,
    kind text not null check (kind in ('own', 'shop', 'google')),
    locale text,
    platform_id blob, -- exports.export_platforms.id for a shop taxonomy
    version text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

-- path: ancestor ids then own id, as '/<uuid>/<uuid>/'; a subtree is every path starting with the
-- node's path. Query subtrees as a range (path >= $1 and path < $1 with its last '/' replaced by '0'):
-- SQLite's LIKE is case-insensitive and would not use the index.
-- parent_id has no ON DELETE action: only empty categories are deleted, and deleting a taxonomy
-- cascades through the whole tree in one statement.
create table categories (
    id blob primary key,
    taxonomy_id blob not null references taxonomies (id) on delete cascade,
    parent_id blob references categories (id),
    name text not null,
    slug text not null,
    external_id text, -- id in the shop or Google taxonomy
    path text not null unique,
    depth integer not null default 0 check (depth >= 0),
    position integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    check (parent_id is null or parent_id <> id)
) strict;

create index categories_parent_id_idx on categories (parent_id, position);
create index categories_taxonomy_id_idx on categories (taxonomy_id);
create unique index categories_root_slug_key on categories (taxonomy_id, slug) where parent_id is null;
create unique index categories_child_slug_key on categories (parent_id, slug) where parent_id is not null;
create unique index categories_external_id_key on categories (taxonomy_id, external_id) where external_id is not null;

create table product_categories (
    product_id blob not null references products (id) on delete cascade,
    category_id blob not null references categories (id) on delete cascade,
    is_primary integer not null default 0 check (is_primary in (0, 1)),
    position integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    primary key (product_id, category_id)
) strict;

create index product_categories_category_id_idx on product_categories (category_id, product_id);

create table product_prices (
    id blob primary key,
    product_id blob not null references products (id) on delete cascade,
    price_type text not null check (price_type in ('purchase', 'retail', 'sale', 'msrp')),
    amount_minor integer not null check (amount_minor >= 0),
    currency text not null check (currency glob '[A-Z][A-Z][A-Z]'),
    valid_from text,
    valid_to text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    check (valid_from is null or valid_to is null or valid_to > valid_from)
) strict;

create index product_prices_product_id_idx on product_prices (product_id, price_type, currency, valid_from);
-- the open-ended price of a type and currency: the upsert target of imports
create unique index product_prices_open_key on product_prices (product_id, price_type, currency)
    where valid_from is null and valid_to is null;

create table product_stocks (
    id blob primary key,
    product_id blob not null references products (id) on delete cascade,
    location text not null default 'default',
    quantity integer not null default 0,
    reserved integer not null default 0 check (reserved >= 0),
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (product_id, location)
) strict;

create table product_attributes (
    id blob primary key,
    product_id blob not null references products (id) on delete cascade,
    name text not null,
    kind text not null check (kind in ('text', 'number', 'boolean', 'list')),
    value_text text,
    value_number real,
    value_unit text,
    value_bool integer check (value_bool in (0, 1)),
    value_json text, -- list values
    position integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (product_id, name),
    check (
        (kind = 'text' and value_text is not null)
        or (kind = 'number' and value_number is not null)
        or (kind = 'boolean' and value_bool is not null)
        or (kind = 'list' and value_json is not null)
    )
) strict;

create table product_seo (
    id blob primary key,
    product_id blob not null references products (id) on delete cascade,
    locale text not null,
    slug text not null,
    meta_title text,
    meta_description text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (product_id, locale),
    unique (locale, slug)
) strict;

-- A variant is a product whose parent product carries the axes (size, colour, ...).
create table product_variants (
    id blob primary key,
    parent_product_id blob not null references products (id) on delete cascade,
    product_id blob not null unique references products (id) on delete cascade,
    options text not null default '{}', -- axis -> value, e.g. {"size": "M", "colour": "red"}
    position integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    check (parent_product_id <> product_id)
) strict;

create index product_variants_parent_product_id_idx on product_variants (parent_product_id, position);

create table supplier_products (
    id blob primary key,
    product_id blob not null references products (id) on delete cascade,
    supplier_id blob not null references suppliers (id),
    supplier_sku text not null,
    cost_minor integer check (cost_minor >= 0),
    currency text check (currency glob '[A-Z][A-Z][A-Z]'),
    stock integer,
    lead_time_days integer check (lead_time_days >= 0),
    is_available integer not null default 1 check (is_available in (0, 1)), -- false when missing from a full-catalog import
    last_seen_at text,
    row_hash blob, -- hash of the import row: an unchanged row is skipped
    last_import_job_id blob, -- imports.import_jobs.id
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    check ((cost_minor is null) = (currency is null))
) strict;

create unique index supplier_products_supplier_sku_key on supplier_products (supplier_id, supplier_sku);
create index supplier_products_product_id_idx on supplier_products (product_id);

-- The sellable bundle is itself a product; its components are in product_bundle_items.
create table product_bundles (
    id blob primary key,
    product_id blob not null unique references products (id) on delete cascade,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create table product_bundle_items (
    id blob primary key,
    bundle_id blob not null references product_bundles (id) on delete cascade,
    product_id blob not null references products (id), -- a component cannot be purged while bundled
    quantity integer not null default 1 check (quantity > 0),
    position integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (bundle_id, product_id)
) strict;

create index product_bundle_items_product_id_idx on product_bundle_items (product_id);

-- Generic durable queue for catalog tasks and periodic tasks (same queue columns as the job tables).
-- priority: smaller runs first. dedup_key: idempotent enqueue (e.g. one row per schedule tick).
create table tasks (
    id blob primary key,
    queue text not null default 'catalog',
    kind text not null,
    state text not null default 'queued'
        check (state in ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled', 'paused')),
    priority integer not null default 0,
    run_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    attempts integer not null default 0 check (attempts >= 0),
    max_attempts integer not null default 5 check (max_attempts >= 1),
    last_error text,
    lease_owner text,
    lease_expires_at text,
    dedup_key text,
    payload text not null default '{}',
    progress text,
    checkpoint text,
    created_by blob,
    started_at text,
    finished_at text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index tasks_claim_idx on tasks (queue, state, priority, run_at);
create index tasks_state_run_at_idx on tasks (state, run_at);
create index tasks_lease_expires_at_idx on tasks (lease_expires_at) where state = 'running';
create unique index tasks_dedup_key_key on tasks (dedup_key) where dedup_key is not null;
