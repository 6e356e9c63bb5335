-- Full-text search over products. The application refreshes a product's document after every write that
-- changes what is searchable (product, brand name, supplier SKUs); `products reindex` rebuilds them all.
-- The documents live in an ordinary table with a stable integer rowid; the FTS5 index is an external-content
-- table over it, kept in step by triggers (the pattern of the SQLite FTS5 documentation).

create table product_search_docs (
    rowid integer primary key,
    product_id blob not null unique,
    brand_id blob, -- copied from products: the commonest search filter is applied inside the full-text query
    title text not null,
    description text,
    brand text,
    identifiers text -- SKU, GTIN (14, 13 and 12 digits), ASIN, supplier SKUs
) strict;

create virtual table product_search using fts5(
    title, description, brand, identifiers,
    content = 'product_search_docs',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

create trigger product_search_docs_ai after insert on product_search_docs begin
    insert into product_search (rowid, title, description, brand, identifiers)
    values (new.rowid, new.title, new.description, new.brand, new.identifiers);
end;

create trigger product_search_docs_ad after delete on product_search_docs begin
    insert into product_search (product_search, rowid, title, description, brand, identifiers)
    values ('delete', old.rowid, old.title, old.description, old.brand, old.identifiers);
end;

create trigger product_search_docs_au after update on product_search_docs begin
    insert into product_search (product_search, rowid, title, description, brand, identifiers)
    values ('delete', old.rowid, old.title, old.description, old.brand, old.identifiers);
    insert into product_search (rowid, title, description, brand, identifiers)
    values (new.rowid, new.title, new.description, new.brand, new.identifiers);
end;
