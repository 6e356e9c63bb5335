-- What the import engine writes besides products and offers.

-- The checkpoint of a running import (imports.import_jobs.id): written in the same transaction as each batch of
-- rows, so a resumed import starts exactly after the last batch that reached the catalog, with exact counters.
create table import_progress (
    job_id blob primary key,
    line integer not null check (line >= 0), -- last physical line of the last committed batch
    rows_read integer not null default 0,
    rows_created integer not null default 0,
    rows_updated integer not null default 0,
    rows_unchanged integer not null default 0,
    rows_invalid integer not null default 0,
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

-- Image URLs found in supplier files, in the file's order; the media service downloads them.
create table product_images (
    id blob primary key,
    product_id blob not null references products (id) on delete cascade,
    url text not null,
    position integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (product_id, url)
) strict;

-- The offers an import wrote: their products' search documents are refreshed when it ends.
create index supplier_products_last_import_job_id_idx on supplier_products (last_import_job_id);
