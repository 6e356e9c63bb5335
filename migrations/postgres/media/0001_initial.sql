-- media: product images, thumbnails, technical/EXIF metadata, media jobs (the media queue), QR codes.
-- product_id columns refer to catalog.products.id (no FK across databases).
-- Ids are UUID v7 set by the application; updated_at is set by the application.

-- object_key: products/{uuid[0:2]}/{product_id}/{sha256}.{ext}
create table media_files (
    id uuid primary key,
    product_id uuid not null,
    sha256 text not null check (length(sha256) = 64), -- lowercase hex
    object_key text not null unique,
    content_type text not null,
    size_bytes bigint not null check (size_bytes > 0),
    width integer check (width > 0),
    height integer check (height > 0),
    original_filename text,
    source_url text,
    alt_text text,
    position integer not null default 0,
    is_main boolean not null default false,
    uploaded_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create unique index media_files_product_id_sha256_key on media_files (product_id, sha256);
create index media_files_product_id_position_idx on media_files (product_id, position);
create unique index media_files_main_key on media_files (product_id) where is_main;

create table media_thumbnails (
    id uuid primary key,
    media_file_id uuid not null references media_files (id) on delete cascade,
    size text not null check (size in ('small', 'medium', 'large')), -- 150, 300, 800 px
    format text not null check (format in ('webp', 'jpeg')),
    width integer not null check (width > 0),
    height integer not null check (height > 0),
    content_type text not null,
    object_key text not null unique,
    size_bytes bigint not null check (size_bytes > 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (media_file_id, size, format)
);

-- Internal only: EXIF (GPS included) is stripped from every public derivative.
create table media_metadata (
    id uuid primary key,
    media_file_id uuid not null unique references media_files (id) on delete cascade,
    width integer,
    height integer,
    format text,
    color_space text,
    bit_depth integer,
    has_alpha boolean,
    orientation integer,
    camera_make text,
    camera_model text,
    lens_model text,
    taken_at timestamptz,
    has_gps boolean not null default false,
    exif jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- The media queue. priority: smaller runs first. dedup_key: idempotent enqueue.
create table media_processing_jobs (
    id uuid primary key,
    queue text not null default 'media',
    kind text not null, -- thumbnails, metadata, download, qrcode, orphan_cleanup, ...
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
    payload jsonb not null default '{}',
    progress jsonb,
    checkpoint jsonb,
    media_file_id uuid references media_files (id) on delete cascade,
    product_id uuid,
    created_by uuid,
    started_at timestamptz,
    finished_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index media_processing_jobs_claim_idx on media_processing_jobs (queue, state, priority, run_at);
create index media_processing_jobs_state_run_at_idx on media_processing_jobs (state, run_at);
create index media_processing_jobs_lease_expires_at_idx on media_processing_jobs (lease_expires_at)
    where state = 'running';
create unique index media_processing_jobs_dedup_key_key on media_processing_jobs (dedup_key)
    where dedup_key is not null;
create index media_processing_jobs_media_file_id_idx on media_processing_jobs (media_file_id);

create table product_qrcodes (
    id uuid primary key,
    product_id uuid not null,
    format text not null check (format in ('png', 'svg')),
    content text not null, -- the encoded URL
    object_key text not null unique,
    size_bytes bigint not null check (size_bytes > 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (product_id, format)
);
