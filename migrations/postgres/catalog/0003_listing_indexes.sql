-- Listing by brand in update order (the default listing with a brand filter) reads the index in order and stops
-- after a page, instead of walking every product in update order to find that brand's.
drop index products_brand_id_idx;
create index products_brand_id_updated_at_idx on products (brand_id, updated_at, id);
