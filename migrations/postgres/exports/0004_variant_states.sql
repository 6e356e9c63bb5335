-- The state of a variant on a platform names its parent: a variant's remote id (a WooCommerce variation, a Shopify
-- variant) is never taken for a product's, and the variants a parent had there can be found (to remove them).
alter table export_product_states add column parent_product_id uuid;

create index export_product_states_parent_idx on export_product_states (platform_id, parent_product_id)
    where parent_product_id is not null;
