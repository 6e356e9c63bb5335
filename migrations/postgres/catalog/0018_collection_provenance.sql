-- Who put a product in a category and who gave an image URL (issue 25): a person, a supplier's import (with its
-- job), a platform, Code2ASIN. Null on links and images made before the catalog recorded it (shown as unknown).
-- A product's stock has its source in product_field_sources (field `stock`, `stock:<location>`).
alter table product_categories add column source_kind text
    check (source_kind in ('user', 'supplier', 'platform', 'code2asin'));
alter table product_categories add column source_id uuid; -- the user, supplier or platform
alter table product_categories add column job_id uuid; -- the import job (imports.import_jobs.id)
alter table product_images add column source_kind text
    check (source_kind in ('user', 'supplier', 'platform', 'code2asin'));
alter table product_images add column source_id uuid;
alter table product_images add column job_id uuid;

-- The history records a link or an image URL added or removed (`add`, `remove`; `value`: the category's path or
-- the URL).
alter table product_history drop constraint product_history_change_check;
alter table product_history add constraint product_history_change_check
    check (change in ('set', 'lock', 'unlock', 'follow_suppliers', 'merge', 'unmerge', 'add', 'remove'));
