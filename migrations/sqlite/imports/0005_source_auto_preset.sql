-- no-transaction
-- An import source may read each file with the preset its header shows (`auto`, issue 26): the configuration keeps
-- `auto`, each job the preset detected for its file (jobs never hold `auto`). SQLite cannot change a check
-- constraint: the table is rebuilt, its rows kept, as in 0004 (foreign keys off so that dropping it does not cascade
-- to the files, jobs and schedules that refer to it; the keys checked before the transaction commits).
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
    preset text check (preset in ('woocommerce', 'shopify', 'prestashop', 'magento', 'akeneo', 'native', 'google_merchant',
        'auto')),
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

-- A key left pointing nowhere fails the migration (the check's rows alone would not).
create temp table broken_keys (n integer check (n = 0));
insert into broken_keys select count(*) from pragma_foreign_key_check;
drop table broken_keys;
COMMIT;
PRAGMA foreign_keys = on;
