-- code2asin: EAN/UPC/ISBN -> ASIN jobs (the code2asin queue), results (also the 24 h lookup cache),
-- per-supplier settings, statistics and logs. supplier_id/product_id refer to the catalog database,
-- amazon_config_id to core.amazon_api_configs (no FK across databases).
-- Ids are UUID v7 set by the application, stored as 16-byte blobs; timestamps are RFC 3339 UTC text;
-- JSON is text; booleans are 0/1. STRICT tables reject a value of the wrong storage class
-- (e.g. a UUID bound as text). updated_at is set by the application.

-- The code2asin queue. priority: smaller runs first. dedup_key: idempotent enqueue.
create table code2asin_jobs (
    id blob primary key,
    queue text not null default 'code2asin',
    kind text not null default 'code2asin',
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
    payload text not null default '{}', -- the code list, filters
    progress text,
    checkpoint text,
    source text not null check (source in ('codes', 'file', 'supplier', 'catalog_missing_asin')),
    marketplace text not null,
    provider text check (provider in ('sp_api', 'creators')), -- null: the configured default
    amazon_config_id blob,
    supplier_id blob,
    file_object_key text,
    confidence_threshold real not null default 0.85
        check (confidence_threshold >= 0 and confidence_threshold <= 1),
    codes_total integer,
    codes_processed integer not null default 0,
    codes_matched integer not null default 0,
    codes_review integer not null default 0, -- matched below the threshold, waiting for review
    codes_not_found integer not null default 0,
    codes_restricted integer not null default 0,
    codes_invalid integer not null default 0,
    codes_failed integer not null default 0,
    codes_cached integer not null default 0,
    api_calls integer not null default 0,
    rate_limited integer not null default 0,
    created_by blob,
    started_at text,
    finished_at text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index code2asin_jobs_claim_idx on code2asin_jobs (queue, state, priority, run_at);
create index code2asin_jobs_state_run_at_idx on code2asin_jobs (state, run_at);
create index code2asin_jobs_lease_expires_at_idx on code2asin_jobs (lease_expires_at) where state = 'running';
create unique index code2asin_jobs_dedup_key_key on code2asin_jobs (dedup_key) where dedup_key is not null;

-- One row per (code, marketplace, ASIN) found, or one row with asin null when nothing was found.
-- fetched_at drives the 24 h cache; rows outlive the job that fetched them.
create table code2asin_results (
    id blob primary key,
    job_id blob references code2asin_jobs (id) on delete set null,
    code text not null, -- as given
    gtin14 text not null check (length(gtin14) = 14 and gtin14 not glob '*[^0-9]*'),
    marketplace text not null,
    provider text not null check (provider in ('sp_api', 'creators')),
    status text not null check (status in ('matched', 'not_found')),
    asin text check (length(asin) = 10 and asin not glob '*[^A-Z0-9]*'),
    title text,
    brand text,
    sales_rank integer,
    image_url text,
    confidence real check (confidence >= 0 and confidence <= 1),
    is_best integer not null default 0 check (is_best in (0, 1)),
    review_state text check (review_state in ('pending', 'accepted', 'rejected', 'auto_accepted')),
    reviewed_by blob,
    reviewed_at text,
    product_id blob,
    raw_response_key text, -- object key under code2asin-cache/
    fetched_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    check ((status = 'matched') = (asin is not null))
) strict;

create index code2asin_results_gtin14_marketplace_idx on code2asin_results (gtin14, marketplace, fetched_at);
create unique index code2asin_results_asin_key on code2asin_results (gtin14, marketplace, asin)
    where asin is not null;
create unique index code2asin_results_not_found_key on code2asin_results (gtin14, marketplace)
    where asin is null;
create index code2asin_results_job_id_idx on code2asin_results (job_id);
create index code2asin_results_review_idx on code2asin_results (review_state, created_at);
create index code2asin_results_product_id_idx on code2asin_results (product_id);

create table code2asin_suppliers (
    id blob primary key,
    supplier_id blob not null,
    marketplace text not null,
    provider text check (provider in ('sp_api', 'creators')),
    amazon_config_id blob,
    is_active integer not null default 1 check (is_active in (0, 1)),
    confidence_threshold real check (confidence_threshold >= 0 and confidence_threshold <= 1),
    settings text not null default '{}',
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (supplier_id, marketplace)
) strict;

-- One row per job (job_id set) and one per day and marketplace (job_id null).
create table code2asin_statistics (
    id blob primary key,
    job_id blob references code2asin_jobs (id) on delete cascade,
    day text not null,
    marketplace text not null,
    api_calls integer not null default 0,
    codes_looked_up integer not null default 0,
    hits integer not null default 0,
    misses integer not null default 0,
    cache_hits integer not null default 0,
    restricted integer not null default 0,
    rate_limited integer not null default 0,
    errors integer not null default 0,
    errors_by_kind text not null default '{}',
    duration_ms integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create unique index code2asin_statistics_job_id_key on code2asin_statistics (job_id) where job_id is not null;
create unique index code2asin_statistics_day_key on code2asin_statistics (day, marketplace) where job_id is null;

-- Append-only.
create table code2asin_logs (
    id blob primary key,
    job_id blob not null references code2asin_jobs (id) on delete cascade,
    level text not null check (level in ('trace', 'debug', 'info', 'warn', 'error')),
    code text, -- the code concerned, if any (e.g. a restricted prefix)
    message text not null,
    context text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index code2asin_logs_job_id_created_at_idx on code2asin_logs (job_id, created_at);
