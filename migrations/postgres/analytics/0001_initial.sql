-- analytics: daily metrics per product / supplier / import, search events, user activity,
-- performance rollups. Entity ids refer to other databases (no FK across databases).
-- Ids are UUID v7 set by the application; updated_at is set by the application.
-- Counters are sums (durations as totals) so rollups can be merged with `x = x + excluded.x`.

create table product_metrics (
    id uuid primary key,
    product_id uuid not null,
    day date not null,
    views bigint not null default 0,
    exports bigint not null default 0,
    price_changes bigint not null default 0,
    stock_outs bigint not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (product_id, day)
);

create index product_metrics_day_idx on product_metrics (day);

create table supplier_metrics (
    id uuid primary key,
    supplier_id uuid not null,
    day date not null,
    offers bigint not null default 0,
    offers_in_stock bigint not null default 0,
    price_changes bigint not null default 0,
    imports bigint not null default 0,
    imports_succeeded bigint not null default 0,
    imports_failed bigint not null default 0,
    import_duration_ms bigint not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (supplier_id, day)
);

create index supplier_metrics_day_idx on supplier_metrics (day);

-- One row per import job (job_id set) and one per day over all jobs (job_id null).
create table import_metrics (
    id uuid primary key,
    job_id uuid, -- imports.import_jobs.id
    supplier_id uuid,
    day date not null,
    jobs bigint not null default 0,
    jobs_failed bigint not null default 0,
    rows_processed bigint not null default 0,
    rows_failed bigint not null default 0,
    duration_ms bigint not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create unique index import_metrics_job_id_key on import_metrics (job_id) where job_id is not null;
create unique index import_metrics_day_key on import_metrics (day) where job_id is null;
create index import_metrics_supplier_id_day_idx on import_metrics (supplier_id, day);

-- One row per search (append-only); top and zero-result queries are read from here.
create table search_analytics (
    id uuid primary key,
    query text not null,
    normalized_query text not null,
    filters jsonb,
    result_count bigint not null check (result_count >= 0),
    latency_ms double precision not null check (latency_ms >= 0),
    user_id uuid,
    created_at timestamptz not null default now()
);

create index search_analytics_created_at_idx on search_analytics (created_at);
create index search_analytics_normalized_query_idx on search_analytics (normalized_query, created_at);
create index search_analytics_zero_results_idx on search_analytics (created_at) where result_count = 0;

-- Every write through the API or CLI (who, what, when, which entity); append-only.
create table user_activity (
    id uuid primary key,
    user_id uuid,
    api_key_id uuid,
    action text not null, -- e.g. products.update
    method text,
    route text,
    entity_type text,
    entity_id uuid,
    status_code integer,
    ip text,
    user_agent text,
    request_id text,
    details jsonb,
    created_at timestamptz not null default now()
);

create index user_activity_created_at_idx on user_activity (created_at);
create index user_activity_user_id_idx on user_activity (user_id, created_at);
create index user_activity_entity_idx on user_activity (entity_type, entity_id);

-- Rollups per period: kind http (name = route), db (database), cache (cache kind), queue (queue name).
create table performance_metrics (
    id uuid primary key,
    kind text not null check (kind in ('http', 'db', 'cache', 'queue')),
    name text not null,
    period text not null check (period in ('hour', 'day')),
    period_start timestamptz not null,
    samples bigint not null default 0,
    errors bigint not null default 0,
    p50_ms double precision,
    p95_ms double precision,
    p99_ms double precision,
    max_ms double precision,
    hits bigint, -- cache
    misses bigint, -- cache
    queue_length bigint, -- queue
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (kind, name, period, period_start)
);

create index performance_metrics_period_start_idx on performance_metrics (period_start);
