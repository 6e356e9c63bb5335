-- imports: configs, mapping templates, stored files, jobs (the imports queue), logs, errors,
-- schedules and statistics. supplier_id columns refer to catalog.suppliers.id (no FK across databases).
-- Ids are UUID v7 set by the application, stored as 16-byte blobs; timestamps are RFC 3339 UTC text;
-- JSON is text; booleans are 0/1. STRICT tables reject a value of the wrong storage class
-- (e.g. a UUID bound as text). updated_at is set by the application.

create table mapping_templates (
    id blob primary key,
    name text not null,
    version integer not null default 1 check (version >= 1),
    description text not null default '',
    definition text not null, -- column -> field mappings and transforms
    is_builtin integer not null default 0 check (is_builtin in (0, 1)),
    supplier_id blob,
    created_by blob,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (name, version)
) strict;

-- credentials_encrypted: AES-256-GCM nonce || ciphertext (FTP / IMAP password)
create table import_configs (
    id blob primary key,
    name text not null unique,
    supplier_id blob not null,
    source_kind text not null check (source_kind in ('upload', 'folder', 'ftp', 'ftps', 'email')),
    source_settings text not null default '{}', -- host, port, path, patterns, mailbox rules, ...
    credentials_encrypted blob,
    mapping_template_id blob references mapping_templates (id) on delete set null,
    preset text check (preset in ('woocommerce', 'shopify', 'prestashop', 'magento', 'akeneo', 'native')),
    options text not null default '{}', -- encoding, delimiter, sheet, header row, rows to skip, ...
    is_active integer not null default 1 check (is_active in (0, 1)),
    last_polled_at text,
    created_by blob,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index import_configs_supplier_id_idx on import_configs (supplier_id);

-- source_fingerprint: what identifies a remote file already taken (name+size+mtime, message id+attachment)
create table import_files (
    id blob primary key,
    import_config_id blob references import_configs (id) on delete set null,
    supplier_id blob,
    name text not null,
    size_bytes integer not null check (size_bytes >= 0),
    sha256 text not null check (length(sha256) = 64), -- lowercase hex
    object_key text not null,
    content_type text,
    source_kind text not null default 'upload'
        check (source_kind in ('upload', 'folder', 'ftp', 'ftps', 'email')),
    source_fingerprint text,
    uploaded_by blob,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index import_files_supplier_id_sha256_idx on import_files (supplier_id, sha256);
create unique index import_files_source_fingerprint_key on import_files (import_config_id, source_fingerprint)
    where import_config_id is not null and source_fingerprint is not null;

-- The imports queue. priority: smaller runs first. dedup_key: idempotent enqueue.
create table import_jobs (
    id blob primary key,
    queue text not null default 'imports',
    kind text not null default 'import',
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
    checkpoint text, -- last committed row
    import_config_id blob references import_configs (id) on delete set null,
    supplier_id blob not null,
    file_id blob references import_files (id) on delete set null,
    mapping_template_id blob references mapping_templates (id) on delete set null,
    preset text check (preset in ('woocommerce', 'shopify', 'prestashop', 'magento', 'akeneo', 'native')),
    dry_run integer not null default 0 check (dry_run in (0, 1)),
    force integer not null default 0 check (force in (0, 1)), -- import even if the same file was already imported
    rows_total integer,
    rows_read integer not null default 0,
    rows_written integer not null default 0,
    rows_created integer not null default 0,
    rows_updated integer not null default 0,
    rows_skipped integer not null default 0, -- unchanged
    rows_failed integer not null default 0, -- invalid, see import_errors
    error_report_key text, -- object key of the errors CSV
    summary text,
    created_by blob,
    started_at text,
    finished_at text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index import_jobs_claim_idx on import_jobs (queue, state, priority, run_at);
create index import_jobs_state_run_at_idx on import_jobs (state, run_at);
create index import_jobs_lease_expires_at_idx on import_jobs (lease_expires_at) where state = 'running';
create unique index import_jobs_dedup_key_key on import_jobs (dedup_key) where dedup_key is not null;
create index import_jobs_supplier_id_idx on import_jobs (supplier_id, created_at);
create index import_jobs_file_id_idx on import_jobs (file_id);

-- Append-only. (Partitioned by month on PostgreSQL; an ordinary table here.)
create table import_logs (
    id blob not null,
    job_id blob not null references import_jobs (id) on delete cascade,
    level text not null check (level in ('trace', 'debug', 'info', 'warn', 'error')),
    message text not null,
    line integer,
    context text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    primary key (id, created_at)
) strict;


create index import_logs_job_id_created_at_idx on import_logs (job_id, created_at);

-- One row per bad input row; append-only.
create table import_errors (
    id blob primary key,
    job_id blob not null references import_jobs (id) on delete cascade,
    line integer not null check (line >= 0),
    column_number integer check (column_number >= 1),
    column_name text,
    raw_value text,
    code text, -- machine-readable kind, e.g. invalid_gtin
    reason text not null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index import_errors_job_id_line_idx on import_errors (job_id, line);

create table import_schedules (
    id blob primary key,
    import_config_id blob not null references import_configs (id) on delete cascade,
    cron text not null,
    timezone text not null default 'UTC',
    is_active integer not null default 1 check (is_active in (0, 1)),
    next_run_at text,
    last_run_at text,
    last_job_id blob references import_jobs (id) on delete set null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index import_schedules_import_config_id_idx on import_schedules (import_config_id);
create index import_schedules_next_run_at_idx on import_schedules (is_active, next_run_at);

-- One row per job (job_id set) and one per supplier and day (job_id null).
create table import_statistics (
    id blob primary key,
    job_id blob references import_jobs (id) on delete cascade,
    supplier_id blob not null,
    day text not null,
    jobs integer not null default 0,
    jobs_failed integer not null default 0,
    rows_read integer not null default 0,
    rows_written integer not null default 0,
    rows_created integer not null default 0,
    rows_updated integer not null default 0,
    rows_skipped integer not null default 0,
    rows_failed integer not null default 0,
    bytes_read integer not null default 0,
    duration_ms integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create unique index import_statistics_job_id_key on import_statistics (job_id) where job_id is not null;
create unique index import_statistics_supplier_day_key on import_statistics (supplier_id, day) where job_id is null;
