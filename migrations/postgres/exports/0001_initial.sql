-- exports: platforms, export jobs (the exports queue), per-product items, and per-platform product
-- state for delta exports. product_id columns refer to catalog.products.id (no FK across databases).
-- Ids are UUID v7 set by the application; updated_at is set by the application.

-- credentials_encrypted: AES-256-GCM nonce || ciphertext (API token, consumer key/secret, ...)
create table export_platforms (
    id uuid primary key,
    name text not null unique,
    platform text not null check (platform in (
        'shopify', 'woocommerce', 'prestashop',
        'csv', 'xlsx', 'shopify_csv', 'woocommerce_csv', 'google_merchant_xml', 'google_merchant_tsv'
    )),
    endpoint text,
    credentials_encrypted bytea,
    settings jsonb not null default '{}', -- product selection, price type/currency, price rules, category and field mapping
    is_active boolean not null default true,
    last_success_at timestamptz,
    created_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- The exports queue. priority: smaller runs first. dedup_key: idempotent enqueue.
create table export_jobs (
    id uuid primary key,
    queue text not null default 'exports',
    kind text not null default 'export',
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
    payload jsonb not null default '{}', -- filters
    progress jsonb,
    checkpoint jsonb,
    platform_id uuid references export_platforms (id) on delete cascade, -- null: a file export without a platform
    mode text not null default 'delta' check (mode in ('full', 'delta')),
    format text check (format in (
        'csv', 'xlsx', 'shopify_csv', 'woocommerce_csv', 'google_merchant_xml', 'google_merchant_tsv'
    )),
    output_object_key text,
    items_total bigint,
    items_processed bigint not null default 0,
    items_created bigint not null default 0,
    items_updated bigint not null default 0,
    items_unchanged bigint not null default 0,
    items_failed bigint not null default 0,
    items_skipped bigint not null default 0,
    created_by uuid,
    started_at timestamptz,
    finished_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index export_jobs_claim_idx on export_jobs (queue, state, priority, run_at);
create index export_jobs_state_run_at_idx on export_jobs (state, run_at);
create index export_jobs_lease_expires_at_idx on export_jobs (lease_expires_at) where state = 'running';
create unique index export_jobs_dedup_key_key on export_jobs (dedup_key) where dedup_key is not null;
create index export_jobs_platform_id_idx on export_jobs (platform_id, created_at);

create table export_job_items (
    id uuid primary key,
    job_id uuid not null references export_jobs (id) on delete cascade,
    product_id uuid not null,
    status text not null default 'pending'
        check (status in ('pending', 'created', 'updated', 'unchanged', 'failed', 'skipped')),
    remote_id text,
    content_hash bytea, -- hash of what was sent
    error text,
    attempts integer not null default 0 check (attempts >= 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (job_id, product_id)
);

create index export_job_items_job_id_status_idx on export_job_items (job_id, status);
create index export_job_items_product_id_idx on export_job_items (product_id);

-- Last known state of each product on each platform: remote id, hash of what was last sent
-- (a delta export sends only products whose hash changed), and retry of failed items on the next run.
create table export_product_states (
    id uuid primary key,
    platform_id uuid not null references export_platforms (id) on delete cascade,
    product_id uuid not null,
    remote_id text,
    content_hash bytea,
    last_status text check (last_status in ('created', 'updated', 'unchanged', 'failed', 'skipped')),
    last_error text,
    failed_attempts integer not null default 0 check (failed_attempts >= 0),
    retry_after timestamptz,
    last_exported_at timestamptz,
    last_job_id uuid references export_jobs (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (platform_id, product_id)
);

create index export_product_states_remote_id_idx on export_product_states (platform_id, remote_id);
create index export_product_states_last_job_id_idx on export_product_states (last_job_id);
