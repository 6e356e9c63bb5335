-- media: product images, thumbnails, technical/EXIF metadata, media jobs (the media queue), QR codes.
-- product_id columns refer to catalog.products.id (no FK across databases).
-- Ids are UUID v7 set by the application, stored as 16-byte blobs; timestamps are RFC 3339 UTC text;
-- JSON is text; booleans are 0/1. STRICT tables reject a value of the wrong storage class
-- (e.g. a UUID bound as text). updated_at is set by the application.

-- object_key: products/{uuid[0:2]}/{product_id}/{sha256}.{ext}
create table media_files (
    id blob primary key,
    product_id blob not null,
    sha256 text not null check (length(sha256) = 64), -- lowercase hex
    object_key text not null unique,
    content_type text not null,
    size_bytes integer not null check (size_bytes > 0),
    width integer check (width > 0),
    height integer check (height > 0),
    original_filename text,
    source_url text,
    alt_text text,
    position integer not null default 0,
    is_main integer not null default 0 check (is_main in (0, 1)),
    uploaded_by blob,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create unique index media_files_product_id_sha256_key on media_files (product_id, sha256);
create index media_files_product_id_position_idx on media_files (product_id, position);
create unique index media_files_main_key on media_files (product_id) where is_main = 1;

create table media_thumbnails (
    id blob primary key,
    media_file_id blob not null references media_files (id) on delete cascade,
    size text not null check (size in ('small', 'medium', 'large')), -- 150, 300, 800 px
    format text not null check (format in ('webp', 'jpeg')),
    width integer not null check (width > 0),
    height integer not null check (height > 0),
    content_type text not null,
    object_key text not null unique,
    size_bytes integer not null check (size_bytes > 0),
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (media_file_id, size, format)
) strict;

-- Internal only: EXIF (GPS included) is stripped from every public derivative.
create table media_metadata (
    id blob primary key,
    media_file_id blob not null unique references media_files (id) on delete cascade,
    width integer,
    height integer,
    format text,
    color_space text,
    bit_depth integer,
    has_alpha integer check (has_alpha in (0, 1)),
    orientation integer,
    camera_make text,
    camera_model text,
    lens_model text,
    taken_at text,
    has_gps integer not null default 0 check (has_gps in (0, 1)),
    exif text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

-- The media queue. priority: smaller runs first. dedup_key: idempotent enqueue.
create table media_processing_jobs (
    id blob primary key,
    queue text not null default 'media',
    kind text not null, -- thumbnails, metadata, download, qrcode, orphan_cleanup, ...
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
    checkpoint text,
    media_file_id blob references media_files (id) on delete cascade,
    product_id blob,
    created_by blob,
    started_at text,
    finished_at text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
) strict;

create index media_processing_jobs_claim_idx on media_processing_jobs (queue, state, priority, run_at);
create index media_processing_jobs_state_run_at_idx on media_processing_jobs (state, run_at);
create index media_processing_jobs_lease_expires_at_idx on media_processing_jobs (lease_expires_at)
    where state = 'running';
create unique index media_processing_jobs_dedup_key_key on media_processing_jobs (dedup_key)
    where dedup_key is not null;
create index media_processing_jobs_media_file_id_idx on media_processing_jobs (media_file_id);

create table product_qrcodes (
    id blob primary key,
    product_id blob not null,
    format text not null check (format in ('png', 'svg')),
    content text not null, -- the encoded URL
    object_key text not null unique,
    size_bytes integer not null check (size_bytes > 0),
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    unique (product_id, format)
) strict;
