-- analytics: daily metrics per product / supplier / import, search events, user activity,
-- performance rollups. Entity ids refer to other databases (no FK across databases).
-- Ids are UUID v7 set by the application, stored as 16-byte blobs; timestamps are RFC 3339 UTC text;
-- JSON is text; booleans are 0/1. STRICT tables reject a value of the wrong storage class
-- (e.g. a UUID bound as text). updated_at is set by the application.
-- Counters are sums (durations as totals) so rollups can be merged with `x = x + excluded.x`.

create table product_metrics (
    id blob primary key,
    product_id blob not null,
    day text not null,
    views integer not null default 0,
    exports integer not null default 0,
    price_changes integer not null default 0,
    stock_outs integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (product_id, day)
) strict;

create index product_metrics_day_idx on product_metrics (day);

create table supplier_metrics (
    id blob primary key,
    supplier_id blob not null,
    day text not null,
    offers integer not null default 0,
    offers_in_stock integer not null default 0,
    price_changes integer not null default 0,
    imports integer not null default 0,
    imports_succeeded integer not null default 0,
    imports_failed integer not null default 0,
    import_duration_ms integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (supplier_id, day)
) strict;

create index supplier_metrics_day_idx on supplier_metrics (day);

-- One row per import job (job_id set) and one per day over all jobs (job_id null).
create table import_metrics (
    id blob primary key,
    job_id blob, -- imports.import_jobs.id
    supplier_id blob,
    day text not null,
    jobs integer not null default 0,
    jobs_failed integer not null default 0,
    rows_processed integer not null default 0,
    rows_failed integer not null default 0,
    duration_ms integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create unique index import_metrics_job_id_key on import_metrics (job_id) where job_id is not null;
create unique index import_metrics_day_key on import_metrics (day) where job_id is null;
create index import_metrics_supplier_id_day_idx on import_metrics (supplier_id, day);

-- One row per search (append-only); top and zero-result queries are read from here.
create table search_analytics (
    id blob primary key,
    query text not null,
    normalized_query text not null,
    filters text,
    result_count integer not null check (result_count >= 0),
    latency_ms real not null check (latency_ms >= 0),
    user_id blob,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index search_analytics_created_at_idx on search_analytics (created_at);
create index search_analytics_normalized_query_idx on search_analytics (normalized_query, created_at);
create index search_analytics_zero_results_idx on search_analytics (created_at) where result_count = 0;

-- Every write through the API or CLI (who, what, when, which entity); append-only.
create table user_activity (
    id blob primary key,
    user_id blob,
    api_key_id blob,
    action text not null, -- e.g. products.update
    method text,
    route text,
    entity_type text,
    entity_id blob,
    status_code integer,
    ip text,
    user_agent text,
    request_id text,
    details text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index user_activity_created_at_idx on user_activity (created_at);
create index user_activity_user_id_idx on user_activity (user_id, created_at);
create index user_activity_entity_idx on user_activity (entity_type, entity_id);

-- Rollups per period: kind http (name = route), db (database), cache (cache kind), queue (queue name).
create table performance_metrics (
    id blob primary key,
    kind text not null check (kind in ('http', 'db', 'cache', 'queue')),
    name text not null,
    period text not null check (period in ('hour', 'day')),
    period_start text not null,
    samples integer not null default 0,
    errors integer not null default 0,
    p50_ms real,
    p95_ms real,
    p99_ms real,
    max_ms real,
    hits integer, -- cache
    misses integer, -- cache
    queue_length integer, -- queue
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (kind, name, period, period_start)
) strict;

create index performance_metrics_period_start_idx on performance_metrics (period_start);
