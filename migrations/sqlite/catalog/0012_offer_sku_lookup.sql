-- A product is found by a supplier's SKU (the SKU of a shop's export, a supplier's reference) whatever the
-- supplier: `products get woo-beanie`. The unique index leads with supplier_id, so it cannot serve that lookup.
create index supplier_products_supplier_sku_idx on supplier_products (supplier_sku);
