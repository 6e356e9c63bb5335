-- catalog: products, suppliers and offers, categories and taxonomies, brands, prices, stock,
-- attributes, variants, bundles, SEO, and the generic `tasks` queue.
-- Ids are UUID v7 set by the application; updated_at is set by the application.

create table brands (
    id uuid primary key,
    name text not null,
    slug text not null unique,
    description text,
    website_url text,
    logo_url text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create unique index brands_name_lower_key on brands (lower(name));

create table suppliers (
    id uuid primary key,
    code text not null unique,
    name text not null,
    email text,
    website_url text,
    country text check (country ~ '^[A-Z]{2}$'),
    default_currency text check (default_currency ~ '^[A-Z]{3}$'),
    is_active boolean not null default true,
    notes text,
    settings jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table products (
    id uuid primary key,
    gtin text check (gtin ~ '^[0-9]{14}$'), -- normalised GTIN-14
    asin text check (asin ~ '^[A-Z0-9]{10}$'),
    sku text check (length(sku) > 0),
    title text not null,
    description text,
    brand_id uuid references brands (id) on delete set null,
    status text not null default 'draft' check (status in ('draft', 'active', 'archived')),
    version integer not null default 1 check (version >= 1), -- optimistic locking (ETag / If-Match)
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz
);

create unique index products_gtin_key on products (gtin) where deleted_at is null;
create unique index products_sku_key on products (sku) where deleted_at is null;
create unique index products_asin_key on products (asin) where deleted_at is null;
create index products_brand_id_idx on products (brand_id);
create index products_updated_at_id_idx on products (updated_at, id); -- keyset pagination, "updated since"
create index products_deleted_at_idx on products (deleted_at) where deleted_at is not null; -- purge

create table taxonomies (
    id uuid primary key,
    code text not null unique,
    name text not null,
    kind text not null check (kind in ('own', 'shop', 'google')),
    locale text,
    platform_id uuid, -- exports.export_platforms.id for a shop taxonomy
    version text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- path: ancestor ids then own id, as '/<uuid>/<uuid>/'; a subtree is every path starting with the
-- node's path. Collation "C" so prefix/range scans use the index and order like SQLite's binary.
-- parent_id has no ON DELETE action: only empty categories are deleted, and deleting a taxonomy
-- cascades through the whole tree in one statement.
create table categories (
    id uuid primary key,
    taxonomy_id uuid not null references taxonomies (id) on delete cascade,
    parent_id uuid references categories (id),
    name text not null,
    slug text not null,
    external_id text, -- id in the shop or Google taxonomy
    path text collate "C" not null unique,
    depth integer not null default 0 check (depth >= 0),
    position integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check (parent_id is null or parent_id <> id)
);

create index categories_parent_id_idx on categories (parent_id, position);
create index categories_taxonomy_id_idx on categories (taxonomy_id);
create unique index categories_root_slug_key on categories (taxonomy_id, slug) where parent_id is null;
create unique index categories_child_slug_key on categories (parent_id, slug) where parent_id is not null;
create unique index categories_external_id_key on categories (taxonomy_id, external_id) where external_id is not null;

create table product_categories (
    product_id uuid not null references products (id) on delete cascade,
    category_id uuid not null references categories (id) on delete cascade,
    is_primary boolean not null default false,
    position integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (product_id, category_id)
);

create index product_categories_category_id_idx on product_categories (category_id, product_id);

create table product_prices (
    id uuid primary key,
    product_id uuid not null references products (id) on delete cascade,
    price_type text not null check (price_type in ('purchase', 'retail', 'sale', 'msrp')),
    amount_minor bigint not null check (amount_minor >= 0),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    valid_from timestamptz,
    valid_to timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check (valid_from is null or valid_to is null or valid_to > valid_from)
);

create index product_prices_product_id_idx on product_prices (product_id, price_type, currency, valid_from);
-- the open-ended price of a type and currency: the upsert target of imports
create unique index product_prices_open_key on product_prices (product_id, price_type, currency)
    where valid_from is null and valid_to is null;

create table product_stocks (
    id uuid primary key,
    product_id uuid not null references products (id) on delete cascade,
    location text not null default 'default',
    quantity bigint not null default 0,
    reserved bigint not null default 0 check (reserved >= 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (product_id, location)
);

create table product_attributes (
    id uuid primary key,
    product_id uuid not null references products (id) on delete cascade,
    name text not null,
    kind text not null check (kind in ('text', 'number', 'boolean', 'list')),
    value_text text,
    value_number double precision,
    value_unit text,
    value_bool boolean,
    value_json jsonb, -- list values
    position integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (product_id, name),
    check (
        (kind = 'text' and value_text is not null)
        or (kind = 'number' and value_number is not null)
        or (kind = 'boolean' and value_bool is not null)
        or (kind = 'list' and value_json is not null)
    )
);

create table product_seo (
    id uuid primary key,
    product_id uuid not null references products (id) on delete cascade,
    locale text not null,
    slug text not null,
    meta_title text,
    meta_description text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (product_id, locale),
    unique (locale, slug)
);

-- A variant is a product whose parent product carries the axes (size, colour, ...).
create table product_variants (
    id uuid primary key,
    parent_product_id uuid not null references products (id) on delete cascade,
    product_id uuid not null unique references products (id) on delete cascade,
    options jsonb not null default '{}', -- axis -> value, e.g. {"size": "M", "colour": "red"}
    position integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check (parent_product_id <> product_id)
);

create index product_variants_parent_product_id_idx on product_variants (parent_product_id, position);

create table supplier_products (
    id uuid primary key,
    product_id uuid not null references products (id) on delete cascade,
    supplier_id uuid not null references suppliers (id),
    supplier_sku text not null,
    cost_minor bigint check (cost_minor >= 0),
    currency text check (currency ~ '^[A-Z]{3}$'),
    stock bigint,
    lead_time_days integer check (lead_time_days >= 0),
    is_available boolean not null default true, -- false when missing from a full-catalog import
    last_seen_at timestamptz,
    row_hash bytea, -- hash of the import row: an unchanged row is skipped
    last_import_job_id uuid, -- imports.import_jobs.id
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check ((cost_minor is null) = (currency is null))
);

create unique index supplier_products_supplier_sku_key on supplier_products (supplier_id, supplier_sku);
create index supplier_products_product_id_idx on supplier_products (product_id);

-- The sellable bundle is itself a product; its components are in product_bundle_items.
create table product_bundles (
    id uuid primary key,
    product_id uuid not null unique references products (id) on delete cascade,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table product_bundle_items (
    id uuid primary key,
    bundle_id uuid not null references product_bundles (id) on delete cascade,
    product_id uuid not null references products (id), -- a component cannot be purged while bundled
    quantity integer not null default 1 check (quantity > 0),
    position integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (bundle_id, product_id)
);

create index product_bundle_items_product_id_idx on product_bundle_items (product_id);

-- Generic durable queue for catalog tasks and periodic tasks (same queue columns as the job tables).
-- priority: smaller runs first. dedup_key: idempotent enqueue (e.g. one row per schedule tick).
create table tasks (
    id uuid primary key,
    queue text not null default 'catalog',
    kind text not null,
    state text not null default 'queued'
        check (state in ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled', 'paused')),
    priority integer not null default 0,
    run_at timestamptz not null default now(),
    attempts integer not null default 0 check (attempts >= 0),
    max_attempts integer not null default 5 check (max_attempts >= 1),
    last_error text,
    lease_owner text,
    lease_expires_at timestamptz,
    dedup_key text,
    payload jsonb not null default '{}',
    progress jsonb,
    checkpoint jsonb,
    created_by uuid,
    started_at timestamptz,
    finished_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index tasks_claim_idx on tasks (queue, state, priority, run_at);
create index tasks_state_run_at_idx on tasks (state, run_at);
create index tasks_lease_expires_at_idx on tasks (lease_expires_at) where state = 'running';
create unique index tasks_dedup_key_key on tasks (dedup_key) where dedup_key is not null;
