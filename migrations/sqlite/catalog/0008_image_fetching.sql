-- The media service's download of each image URL found in a supplier file: when it was fetched, into which image
-- (media.media_files.id, another database: no foreign key), how many tries failed and why.
alter table product_images add column media_file_id blob;
alter table product_images add column fetched_at text;
alter table product_images add column fetch_attempts integer not null default 0 check (fetch_attempts >= 0);
alter table product_images add column fetch_error text;

create index product_images_unfetched_idx on product_images (id) where fetched_at is null;
