-- A product's windowed prices of one type and currency are one field with provenance now
-- (`price_windows:sale:EUR`, issue 26): imports may set them. Before, only people set windows (the API, the console,
-- the command line), and nothing recorded who: they are recorded as a person's, so that no supplier file replaces
-- them.
insert into product_field_sources (product_id, field, source_kind, source_id, job_id, locked, set_at)
select product_id, 'price_windows:' || price_type || ':' || currency, 'user', null, null, 0, max(updated_at)
from product_prices
where valid_from is not null or valid_to is not null
group by product_id, price_type, currency
on conflict (product_id, field) do nothing;
