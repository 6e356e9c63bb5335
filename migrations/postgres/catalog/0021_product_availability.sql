-- Whether a product can be bought, as its source states it when it keeps no count (issue 26): WooCommerce's
-- `In stock?` without stock management, Shopify's untracked inventory, a feed's `availability`. Null: its stock
-- alone decides. One of in_stock, out_of_stock, backorder, preorder.
alter table products add column availability text
    check (availability in ('in_stock', 'out_of_stock', 'backorder', 'preorder'));
