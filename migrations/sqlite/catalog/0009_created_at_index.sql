-- Listing in creation order (`sort=created_at`, and the catalog read page by page for feeds and platforms) walks this
-- index from the cursor on; without it every page sorted the whole table.
create index products_created_at_id_idx on products (created_at, id);
