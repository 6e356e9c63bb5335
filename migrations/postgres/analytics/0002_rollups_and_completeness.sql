-- Request/operation latencies as histogram buckets per hour (bucket b holds samples up to 0.01 ms x 1.05^b), merged
-- with `samples = samples + excluded.samples` by every process; the hourly rollup turns them into percentiles in
-- performance_metrics.
create table performance_buckets (
    kind text not null check (kind in ('http', 'db', 'cache', 'queue')),
    name text not null,
    hour timestamptz not null,
    bucket integer not null check (bucket >= 0),
    samples bigint not null default 0,
    errors bigint not null default 0,
    max_ms double precision not null default 0,
    primary key (kind, name, hour, bucket)
);

create index performance_buckets_hour_idx on performance_buckets (hour);

-- What the completeness score of each catalog product is computed from, refreshed by the catalog snapshot job
-- (catalog.products.id; no FK across databases). score: 0-100 under the default rules.
create table product_completeness (
    product_id uuid primary key,
    category_id uuid, -- the primary (else first) category
    has_gtin boolean not null,
    has_asin boolean not null,
    has_brand boolean not null,
    has_category boolean not null,
    has_price boolean not null,
    in_stock boolean not null,
    image_count integer not null check (image_count >= 0),
    description_chars integer not null check (description_chars >= 0),
    score smallint not null check (score between 0 and 100),
    computed_at timestamptz not null
);

create index product_completeness_score_idx on product_completeness (score, product_id);
create index product_completeness_category_id_idx on product_completeness (category_id);

-- The catalog overview as of taken_at (counts, completeness by category), read by the dashboard.
create table catalog_snapshots (
    id uuid primary key,
    taken_at timestamptz not null,
    duration_ms bigint not null,
    overview jsonb not null
);

create index catalog_snapshots_taken_at_idx on catalog_snapshots (taken_at);
