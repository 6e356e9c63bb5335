-- Request/operation latencies as histogram buckets per hour (bucket b holds samples up to 0.01 ms x 1.05^b), merged
-- with `samples = samples + excluded.samples` by every process; the hourly rollup turns them into percentiles in
-- performance_metrics.
create table performance_buckets (
    kind text not null check (kind in ('http', 'db', 'cache', 'queue')),
    name text not null,
    hour text not null,
    bucket integer not null check (bucket >= 0),
    samples integer not null default 0,
    errors integer not null default 0,
    max_ms real not null default 0,
    primary key (kind, name, hour, bucket)
) strict;

create index performance_buckets_hour_idx on performance_buckets (hour);

-- What the completeness score of each catalog product is computed from, refreshed by the catalog snapshot job
-- (catalog.products.id; no FK across databases). score: 0-100 under the default rules.
create table product_completeness (
    product_id blob primary key,
    category_id blob, -- the primary (else first) category
    has_gtin integer not null,
    has_asin integer not null,
    has_brand integer not null,
    has_category integer not null,
    has_price integer not null,
    in_stock integer not null,
    image_count integer not null check (image_count >= 0),
    description_chars integer not null check (description_chars >= 0),
    score integer not null check (score between 0 and 100),
    computed_at text not null
) strict;

create index product_completeness_score_idx on product_completeness (score, product_id);
create index product_completeness_category_id_idx on product_completeness (category_id);

-- The catalog overview as of taken_at (counts, completeness by category), read by the dashboard.
create table catalog_snapshots (
    id blob primary key,
    taken_at text not null,
    duration_ms integer not null,
    overview text not null
) strict;

create index catalog_snapshots_taken_at_idx on catalog_snapshots (taken_at);
