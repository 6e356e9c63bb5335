-- Full-text search over products. The application refreshes a product's document after every write that
-- changes what is searchable (product, brand name, supplier SKUs); `products reindex` rebuilds them all.
-- 'simple' configuration: no stemming, as catalogs mix languages; identifiers and titles weigh most.
-- Punctuation is turned into spaces first, as the application splits search words: otherwise the parser reads
-- "SUP-777" as the word "sup" and the number "-777", which a search for "777" would miss.

create table product_search (
    product_id uuid primary key,
    brand_id uuid, -- copied from products: the commonest search filter is applied inside the full-text query
    title text not null,
    description text,
    brand text,
    identifiers text, -- SKU, GTIN (14, 13 and 12 digits), ASIN, supplier SKUs
    tsv tsvector generated always as (
        setweight(to_tsvector('simple', regexp_replace(coalesce(title, ''), '[^[:alnum:]]+', ' ', 'g')), 'A')
        || setweight(to_tsvector('simple', regexp_replace(coalesce(identifiers, ''), '[^[:alnum:]]+', ' ', 'g')), 'A')
        || setweight(to_tsvector('simple', regexp_replace(coalesce(brand, ''), '[^[:alnum:]]+', ' ', 'g')), 'B')
        || setweight(to_tsvector('simple', regexp_replace(coalesce(description, ''), '[^[:alnum:]]+', ' ', 'g')), 'C')
    ) stored
);

create index product_search_tsv_idx on product_search using gin (tsv);
create index product_search_brand_id_idx on product_search (brand_id);
