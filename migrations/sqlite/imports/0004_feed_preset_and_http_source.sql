-- no-transaction
-- Two more values their checks allow (issue 26): the `google_merchant` preset (Google Merchant Center feeds) for
-- configurations and jobs, and the `http` source kind (a file polled at a URL) for configurations and files.
-- SQLite cannot change a check constraint: the three tables are rebuilt, their rows kept, as SQLite's documented
-- procedure does it — foreign keys off (so that dropping a table does not cascade to the rows that refer to it; the
-- references, by name, then reach the rebuilt table), one transaction, the keys checked before it commits.
PRAGMA foreign_keys = off;
BEGIN;
create table import_configs_new (
    id blob primary key,
    name text not null unique,
    supplier_id blob not null,
    source_kind text not null check (source_kind in ('upload', 'folder', 'ftp', 'ftps', 'email', 'http')),
    source_settings text not null default '{}', -- host, port, path, patterns, mailbox rules, ...
    credentials_encrypted blob,
    mapping_template_id blob references mapping_templates (id) on delete set null,
    preset text check (preset in ('woocommerce', 'shopify', 'prestashop', 'magento', 'akeneo', 'native', 'google_merchant')),
    options text not null default '{}', -- encoding, delimiter, sheet, header row, rows to skip, ...
    is_active integer not null default 1 check (is_active in (0, 1)),
    last_polled_at text,
    created_by blob,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;
insert into import_configs_new select * from import_configs;
drop table import_configs;
alter table import_configs_new rename to import_configs;
create index import_configs_supplier_id_idx on import_configs (supplier_id);

create table import_files_new (
    id blob primary key,
    import_config_id blob references import_configs (id) on delete set null,
    supplier_id blob,
    name text not null,
    size_bytes integer not null check (size_bytes >= 0),
    sha256 text not null check (length(sha256) = 64), -- lowercase hex
    object_key text not null,
    content_type text,
    source_kind text not null default 'upload'
        check (source_kind in ('upload', 'folder', 'ftp', 'ftps', 'email', 'http')),
    source_fingerprint text,
    uploaded_by blob,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;
insert into import_files_new select * from import_files;
drop table import_files;
alter table import_files_new rename to import_files;
create index import_files_supplier_id_sha256_idx on import_files (supplier_id, sha256);
create unique index import_files_source_fingerprint_key on import_files (import_config_id, source_fingerprint)
    where import_config_id is not null and source_fingerprint is not null;

create table import_jobs_new (
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
    preset text check (preset in ('woocommerce', 'shopify', 'prestashop', 'magento', 'akeneo', 'native', 'google_merchant')),
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
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    requested_by blob
) strict;
insert into import_jobs_new select * from import_jobs;
drop table import_jobs;
alter table import_jobs_new rename to import_jobs;
create index import_jobs_claim_idx on import_jobs (queue, state, priority, run_at);
create index import_jobs_state_run_at_idx on import_jobs (state, run_at);
create index import_jobs_lease_expires_at_idx on import_jobs (lease_expires_at) where state = 'running';
create unique index import_jobs_dedup_key_key on import_jobs (dedup_key) where dedup_key is not null;
create index import_jobs_supplier_id_idx on import_jobs (supplier_id, created_at);
create index import_jobs_file_id_idx on import_jobs (file_id);

-- A key left pointing nowhere fails the migration (the check's rows alone would not).
create temp table broken_keys (n integer check (n = 0));
insert into broken_keys select count(*) from pragma_foreign_key_check;
drop table broken_keys;
COMMIT;
PRAGMA foreign_keys = on;
