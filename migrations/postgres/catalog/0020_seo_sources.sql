-- A product's SEO metadata in a locale is one field with provenance now (`seo:en`, issue 26): imports may set it.
-- Before, only people set it (the API, the command line), and nothing recorded who: it is recorded as a person's,
-- so that no supplier file replaces it.
insert into product_field_sources (product_id, field, source_kind, source_id, job_id, locked, set_at)
select product_id, 'seo:' || locale, 'user', null, null, false, updated_at
from product_seo
where true
on conflict (product_id, field) do nothing;
