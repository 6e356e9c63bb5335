-- code2asin: EAN/UPC/ISBN -> ASIN jobs (the code2asin queue), results (also the 24 h lookup cache),
-- per-supplier settings, statistics and logs. supplier_id/product_id refer to the catalog database,
-- amazon_config_id to core.amazon_api_configs (no FK across databases).
-- Ids are UUID v7 set by the application; updated_at is set by the application.

-- The code2asin queue. priority: smaller runs first. dedup_key: idempotent enqueue.
create table code2asin_jobs (
    id uuid primary key,
    queue text not null default 'code2asin',
    kind text not null default 'code2asin',
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
    payload jsonb not null default '{}', -- the code list, filters
    progress jsonb,
    checkpoint jsonb,
    source text not null check (source in ('codes', 'file', 'supplier', 'catalog_missing_asin')),
    marketplace text not null,
    provider text check (provider in ('sp_api', 'creators')), -- null: the configured default
    amazon_config_id uuid,
    supplier_id uuid,
    file_object_key text,
    confidence_threshold double precision not null default 0.85
        check (confidence_threshold >= 0 and confidence_threshold <= 1),
    codes_total bigint,
    codes_processed bigint not null default 0,
    codes_matched bigint not null default 0,
    codes_review bigint not null default 0, -- matched below the threshold, waiting for review
    codes_not_found bigint not null default 0,
    codes_restricted bigint not null default 0,
    codes_invalid bigint not null default 0,
    codes_failed bigint not null default 0,
    codes_cached bigint not null default 0,
    api_calls bigint not null default 0,
    rate_limited bigint not null default 0,
    created_by uuid,
    started_at timestamptz,
    finished_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index code2asin_jobs_claim_idx on code2asin_jobs (queue, state, priority, run_at);
create index code2asin_jobs_state_run_at_idx on code2asin_jobs (state, run_at);
create index code2asin_jobs_lease_expires_at_idx on code2asin_jobs (lease_expires_at) where state = 'running';
create unique index code2asin_jobs_dedup_key_key on code2asin_jobs (dedup_key) where dedup_key is not null;

-- One row per (code, marketplace, ASIN) found, or one row with asin null when nothing was found.
-- fetched_at drives the 24 h cache; rows outlive the job that fetched them.
create table code2asin_results (
    id uuid primary key,
    job_id uuid references code2asin_jobs (id) on delete set null,
    code text not null, -- as given
    gtin14 text not null check (gtin14 ~ '^[0-9]{14}$'),
    marketplace text not null,
    provider text not null check (provider in ('sp_api', 'creators')),
    status text not null check (status in ('matched', 'not_found')),
    asin text check (asin ~ '^[A-Z0-9]{10}$'),
    title text,
    brand text,
    sales_rank bigint,
    image_url text,
    confidence double precision check (confidence >= 0 and confidence <= 1),
    is_best boolean not null default false,
    review_state text check (review_state in ('pending', 'accepted', 'rejected', 'auto_accepted')),
    reviewed_by uuid,
    reviewed_at timestamptz,
    product_id uuid,
    raw_response_key text, -- object key under code2asin-cache/
    fetched_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check ((status = 'matched') = (asin is not null))
);

create index code2asin_results_gtin14_marketplace_idx on code2asin_results (gtin14, marketplace, fetched_at);
create unique index code2asin_results_asin_key on code2asin_results (gtin14, marketplace, asin)
    where asin is not null;
create unique index code2asin_results_not_found_key on code2asin_results (gtin14, marketplace)
    where asin is null;
create index code2asin_results_job_id_idx on code2asin_results (job_id);
create index code2asin_results_review_idx on code2asin_results (review_state, created_at);
create index code2asin_results_product_id_idx on code2asin_results (product_id);

create table code2asin_suppliers (
    id uuid primary key,
    supplier_id uuid not null,
    marketplace text not null,
    provider text check (provider in ('sp_api', 'creators')),
    amazon_config_id uuid,
    is_active boolean not null default true,
    confidence_threshold double precision check (confidence_threshold >= 0 and confidence_threshold <= 1),
    settings jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (supplier_id, marketplace)
);

-- One row per job (job_id set) and one per day and marketplace (job_id null).
create table code2asin_statistics (
    id uuid primary key,
    job_id uuid references code2asin_jobs (id) on delete cascade,
    day date not null,
    marketplace text not null,
    api_calls bigint not null default 0,
    codes_looked_up bigint not null default 0,
    hits bigint not null default 0,
    misses bigint not null default 0,
    cache_hits bigint not null default 0,
    restricted bigint not null default 0,
    rate_limited bigint not null default 0,
    errors bigint not null default 0,
    errors_by_kind jsonb not null default '{}',
    duration_ms bigint not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create unique index code2asin_statistics_job_id_key on code2asin_statistics (job_id) where job_id is not null;
create unique index code2asin_statistics_day_key on code2asin_statistics (day, marketplace) where job_id is null;

-- Append-only.
create table code2asin_logs (
    id uuid primary key,
    job_id uuid not null references code2asin_jobs (id) on delete cascade,
    level text not null check (level in ('trace', 'debug', 'info', 'warn', 'error')),
    code text, -- the code concerned, if any (e.g. a restricted prefix)
    message text not null,
    context jsonb,
    created_at timestamptz not null default now()
);

create index code2asin_logs_job_id_created_at_idx on code2asin_logs (job_id, created_at);
