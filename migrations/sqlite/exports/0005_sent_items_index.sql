-- The analytics rollup counts, per day, the products sent to platforms (items created or updated that day).
create index export_job_items_sent_updated_at_idx on export_job_items (updated_at) where status in ('created', 'updated');
